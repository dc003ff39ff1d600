#include "lab/switchsim/simulator.hpp"

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace picluster::switchsim {
namespace {

using namespace testing;

// Records calls and fails the n-th apply_port (1-based), like a flaky vde_switch.
class FakeDataPlane : public DataPlane {
 public:
  explicit FakeDataPlane(int fail_on_call) : m_fail_on(fail_on_call) {}
  Result<void> apply_port(int front, int pvid, std::vector<int> untagged, std::vector<int> tagged) override {
    ++calls;
    if (calls == m_fail_on) return fail(ErrorCode::io, "vde_switch: 1006 no such port");
    ports[front] = {pvid, untagged, tagged};
    return {};
  }
  Result<void> set_power(int front, bool on) override {
    power[front] = on;
    return {};
  }
  std::vector<FdbEntry> learned() override { return {}; }

  int calls = 0;
  std::map<int, PortMembership> ports;
  std::map<int, bool> power;

 private:
  int m_fail_on;
};

TEST(Simulator, CommittedSetReachesTheDataPlane) {
  auto dp = std::make_unique<FakeDataPlane>(0);
  FakeDataPlane* fake = dp.get();
  Simulator sim({Mode::qbridge, Knobs{}, {}}, SwitchState::make_default(4), std::move(dp));
  ASSERT_TRUE(sim.sync_dataplane());
  EXPECT_EQ(fake->calls, 4);
  const auto failure = sim.set({vb(static_col(5, 10), Value::integer(4)), vb(static_col(2, 10), bytes({0x60})),
                                vb(static_col(4, 10), bytes({0x40})), vb(pvid_oid(2), Value::gauge(10)),
                                vb(poe_admin_oid(3), Value::integer(2))});
  ASSERT_FALSE(failure) << failure->why;
  EXPECT_EQ(fake->ports[2], (PortMembership{10, {1, 10}, {}}));
  EXPECT_EQ(fake->ports[3], (PortMembership{1, {1}, {10}}));
  EXPECT_FALSE(fake->power[3]);
  EXPECT_EQ(fake->calls, 6);  // only the two changed ports
}

TEST(Simulator, DataPlaneFailureIsCommitFailedAndLeavesStateAlone) {
  auto dp = std::make_unique<FakeDataPlane>(6);  // 4 at sync, then the second changed port fails
  FakeDataPlane* fake = dp.get();
  Simulator sim({Mode::qbridge, Knobs{}, {}}, SwitchState::make_default(4), std::move(dp));
  ASSERT_TRUE(sim.sync_dataplane());
  const auto failure = sim.set({vb(static_col(5, 10), Value::integer(4)), vb(static_col(2, 10), bytes({0x60}))});
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->status, SnmpStatus::commit_failed);
  EXPECT_EQ(sim.state(), SwitchState::make_default(4));
  EXPECT_EQ(fake->ports[2], (PortMembership{1, {1}, {}}));  // rolled back
}

TEST(Simulator, CommitPhaseKnobFailsWithoutTouchingAnything) {
  Knobs knobs;
  knobs.fail_set.push_back({O("1.3.6.1.2.1.105"), SnmpStatus::commit_failed});
  Simulator sim({Mode::qbridge, knobs, {}}, SwitchState::make_default(4), std::make_unique<FakeDataPlane>(0));
  const auto failure = sim.set({vb(pvid_oid(1), Value::gauge(1)), vb(poe_admin_oid(1), Value::integer(2))});
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->status, SnmpStatus::commit_failed);
  EXPECT_EQ(failure->index, 1U);
  EXPECT_TRUE(sim.state().port(1).poe_enabled);
}

TEST(Simulator, GetNextWalksInOrderAndFillsUptime) {
  Simulator sim({Mode::qbridge, Knobs{}, {}}, SwitchState::make_default(2), std::make_unique<FakeDataPlane>(0));
  auto first = sim.get_next(O("1.3.6.1"), 0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->first, O("1.3.6.1.2.1.1.1.0"));
  auto uptime = sim.get(O("1.3.6.1.2.1.1.3.0"), 4242);
  ASSERT_TRUE(uptime);
  EXPECT_EQ(uptime->second, Value::ticks(4242));
  EXPECT_FALSE(sim.get(O("1.3.6.1.2.1.1.3"), 0));
  EXPECT_TRUE(sim.serves_under(O("1.3.6.1.2.1.17.7.1.4.5.1.1")));
}

// A forwarding table without rows is still implemented (noSuchInstance for a missing row); with
// fdb_tables false it is not (noSuchObject).
TEST(Simulator, EmptyForwardingTablesAreImplementedUnlessTheKnobDropsThem) {
  Simulator sim({Mode::qbridge, Knobs{}, {}}, SwitchState::make_default(2), std::make_unique<FakeDataPlane>(0));
  EXPECT_TRUE(sim.implements(O("1.3.6.1.2.1.17.7.1.2.2.1.2.0.0.0.0.0.0.0")));
  EXPECT_TRUE(sim.implements(O("1.3.6.1.2.1.17.4.3.1.2.0.0.0.0.0.0")));
  EXPECT_FALSE(sim.implements(O("1.3.6.1.2.1.17.99.1.0")));
  Knobs no_fdb;
  no_fdb.fdb_tables = false;
  Simulator without({Mode::qbridge, no_fdb, {}}, SwitchState::make_default(2), std::make_unique<FakeDataPlane>(0));
  EXPECT_FALSE(without.implements(O("1.3.6.1.2.1.17.7.1.2.2.1.2.0.0.0.0.0.0.0")));
  EXPECT_FALSE(without.implements(O("1.3.6.1.2.1.17.4.3.1.2.0.0.0.0.0.0")));
}

}  // namespace
}  // namespace picluster::switchsim
