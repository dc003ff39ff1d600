// Planners for both profiles: desired (inventory) vs actual (fake switch) -> varbinds.
#include <gtest/gtest.h>

#include "fake_snmp.hpp"
#include "shelf_fixture.hpp"
#include "switchctl/mib.hpp"
#include "switchctl/profile.hpp"

namespace picluster::switchctl {
namespace {

using testing::FakeSnmp;

SwitchState read(FakeSnmp& fake, const VendorProfile& profile) {
  auto state = read_common(fake, {});
  EXPECT_TRUE(state) << state.error().message;
  auto r = profile.read(fake, *state);
  EXPECT_TRUE(r) << r.error().message;
  return *state;
}

Plan plan_for(FakeSnmp& fake, const VendorProfile& profile, const inventory::Shelf& shelf) {
  auto plan = profile.plan(desired_state(shelf), read(fake, profile));
  EXPECT_TRUE(plan) << plan.error().message;
  return plan ? *plan : Plan{};
}

TEST(QBridgePlanner, FreshSwitchOnePduPerPiPortAndNothingElse) {
  FakeSnmp fake = testing::fresh_qbridge(24);
  const auto shelf = testing::shelf_with(8);
  auto profile = make_profile("qbridge");
  const Plan plan = plan_for(fake, *profile, shelf);
  EXPECT_TRUE(plan.prelude.empty());
  ASSERT_EQ(plan.ports.size(), 8u);  // the trunk rides along in each Pi's PDU
  for (std::size_t i = 0; i < 8; ++i) {
    const auto& c = plan.ports[i];
    const auto& pi = shelf.pis[i];
    EXPECT_EQ(c.port, pi.port);
    const auto pvid = std::find_if(c.atomic.varbinds.begin(), c.atomic.varbinds.end(),
                                   [](const VarBind& vb) { return oid_starts_with(vb.oid, mib::dot1qPvid); });
    ASSERT_NE(pvid, c.atomic.varbinds.end());
    EXPECT_EQ(pvid->oid, oid_cat(mib::dot1qPvid, {static_cast<std::uint32_t>(pi.port)}));
    EXPECT_EQ(pvid->value.number, pi.vlan);
    const VarBind create{oid_cat(mib::dot1qVlanStaticRowStatus, {static_cast<std::uint32_t>(pi.vlan)}), Value::integer(4)};
    EXPECT_NE(std::find(c.atomic.varbinds.begin(), c.atomic.varbinds.end(), create), c.atomic.varbinds.end());
  }
  // The public VLAN is created once, by the first port that needs it.
  const VarBind create_public{oid_cat(mib::dot1qVlanStaticRowStatus, {131}), Value::integer(4)};
  int creations = 0;
  for (const auto& c : plan.ports) creations += static_cast<int>(std::count(c.atomic.varbinds.begin(), c.atomic.varbinds.end(), create_public));
  EXPECT_EQ(creations, 1);
}

TEST(QBridgePlanner, AppliedPlanGivesTheInventoryAndTouchesNoOtherPort) {
  FakeSnmp fake = testing::fresh_qbridge(24, 100);  // bridge port = front + 100
  const auto shelf = testing::shelf_with(8);
  auto profile = make_profile("qbridge");
  const Plan plan = plan_for(fake, *profile, shelf);
  for (const auto& c : plan.ports) ASSERT_TRUE(fake.set(c.atomic.varbinds)->ok());
  const SwitchState after = read(fake, *profile);
  for (const auto& pi : shelf.pis) {
    const PortView v = profile->view(after, *after.map.by_port(pi.port));
    EXPECT_EQ(v.pvid, pi.vlan) << pi.name;
    EXPECT_EQ(v.untagged, (PortSet{pi.vlan})) << pi.name;
    EXPECT_EQ(v.tagged, (PortSet{131})) << pi.name;
  }
  const PortView trunk = profile->view(after, *after.map.by_port(24));
  for (const auto& pi : shelf.pis) EXPECT_TRUE(trunk.tagged.contains(pi.vlan));
  EXPECT_TRUE(trunk.tagged.contains(131));
  EXPECT_EQ(trunk.untagged, (PortSet{1}));  // the trunk's own untagged VLAN is not ours to change
  for (int port = 9; port <= 23; ++port) {
    const PortView v = profile->view(after, *after.map.by_port(port));
    EXPECT_EQ(v.pvid, 1) << port;
    EXPECT_EQ(v.untagged, (PortSet{1})) << port;
    EXPECT_TRUE(v.tagged.empty()) << port;
  }
  EXPECT_TRUE(plan_for(fake, *profile, shelf).empty());
}

TEST(QBridgePlanner, StepsAddBeforePvidAndRemoveAfter) {
  FakeSnmp fake = testing::fresh_qbridge(24);
  auto profile = make_profile("qbridge");
  const Plan plan = plan_for(fake, *profile, testing::shelf_with(1));
  ASSERT_EQ(plan.ports.size(), 1u);
  const auto& steps = plan.ports[0].steps;
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_NE(steps[0].description.find("create VLANs"), std::string::npos);
  EXPECT_NE(steps[1].description.find("add memberships"), std::string::npos);
  EXPECT_NE(steps[2].description.find("set PVID"), std::string::npos);
  EXPECT_NE(steps[3].description.find("remove memberships"), std::string::npos);
  // Undo of the PVID step puts the old PVID back; undo of creation destroys the rows.
  EXPECT_EQ(steps[2].undo.at(0).value.number, 1);
  EXPECT_EQ(steps[0].undo.at(0).value.number, mib::kDestroy);
}

TEST(QBridgePlanner, PortMissingFromTheSwitchIsNamed) {
  FakeSnmp fake = testing::fresh_qbridge(16);
  auto profile = make_profile("qbridge");
  auto plan = profile->plan(desired_state(testing::shelf_with(2)), read(fake, *profile));
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message, "port 24 (trunk): not in the switch's port map; check switch.port_map in the inventory");
}

using testing::fresh_cisco;

TEST(CiscoPlanner, CreatesVlansThroughVtpThenOnePduPerPort) {
  FakeSnmp fake = fresh_cisco(24);
  const auto shelf = testing::shelf_with(8);
  auto profile = make_profile("cisco");
  const Plan plan = plan_for(fake, *profile, shelf);
  ASSERT_GE(plan.prelude.size(), 4u);
  EXPECT_EQ(plan.prelude.front().varbinds.front(), (VarBind{oid_cat(mib::vtpVlanEditOperation, {1}), Value::integer(2)}));
  EXPECT_EQ(plan.prelude.back().varbinds.front(), (VarBind{oid_cat(mib::vtpVlanEditOperation, {1}), Value::integer(4)}));
  ASSERT_EQ(plan.ports.size(), 9u);  // 8 Pis and the trunk
  const auto& c = plan.ports[0];
  const VarBind native{oid_cat(mib::vlanTrunkPortNativeVlan, {101}), Value::integer(shelf.pis[0].vlan)};
  EXPECT_NE(std::find(c.atomic.varbinds.begin(), c.atomic.varbinds.end(), native), c.atomic.varbinds.end());
  const VarBind allowed{oid_cat(mib::vlanTrunkPortVlansEnabled, {101}),
                        Value::octets(encode_bits({shelf.pis[0].vlan, 131}, 128, 0))};
  EXPECT_NE(std::find(c.atomic.varbinds.begin(), c.atomic.varbinds.end(), allowed), c.atomic.varbinds.end());

  // Apply: the fake does not run VTP, so the created VLANs are added by hand.
  for (const auto& [v, name] : desired_state(shelf).vlan_names) {
    fake.put(oid_cat(mib::vtpVlanState, {1, static_cast<std::uint32_t>(v)}), Value::integer(1));
  }
  for (const auto& p : plan.ports) ASSERT_TRUE(fake.set(p.atomic.varbinds)->ok());
  const SwitchState after = read(fake, *profile);
  const PortView v = profile->view(after, *after.map.by_port(1));
  EXPECT_EQ(v.pvid, shelf.pis[0].vlan);
  EXPECT_EQ(v.untagged, (PortSet{shelf.pis[0].vlan}));
  EXPECT_EQ(v.tagged, (PortSet{131}));
  const PortView other = profile->view(after, *after.map.by_port(12));
  EXPECT_EQ(other.untagged, (PortSet{1}));
  EXPECT_TRUE(plan_for(fake, *profile, shelf).empty());
}

}  // namespace
}  // namespace picluster::switchctl
