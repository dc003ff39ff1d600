// SwitchController::release over the fake: a Pi's port back to the switch default and its VLAN
// dropped (both profiles), idempotence, strict-PVID ordering, refusals, a VLAN still in use, a
// dry run, and an interrupted release finished by a second one.
#include <gtest/gtest.h>

#include "fake_snmp.hpp"
#include "shelf_fixture.hpp"
#include "switchctl/controller.hpp"
#include "switchctl/mib.hpp"

namespace picluster::switchctl {
namespace {

using testing::FakeClock;
using testing::FakeSnmp;

std::uint32_t u32(int v) { return static_cast<std::uint32_t>(v); }

// Three Pis on ports 1..3 applied to a fresh switch, then pi02 removed from the inventory.
struct Rig : testing::Rig {
  int vlan = 0;  // pi02's storage VLAN
  Rig() : testing::Rig(3) {}
  void apply_then_remove_pi02() {
    auto c = make();
    auto applied = c.apply(*c.plan(), {});
    ASSERT_TRUE(applied) << applied.error().message;
    auto removed = inventory::remove_pi(shelf, "pi02");
    ASSERT_TRUE(removed) << removed.error().message;
    vlan = removed->vlan;
    fake.sets.clear();
  }
  [[nodiscard]] PortView view(SwitchController& c, int port) {
    auto state = c.read_state();
    EXPECT_TRUE(state) << state.error().message;
    return make_profile(shelf.switch_.profile)->view(*state, *state->map.by_port(port));
  }
  [[nodiscard]] PortSet bits(const Oid& column, int vlan_id) const {
    auto it = fake.data.find(oid_cat(column, {u32(vlan_id)}));
    return it == fake.data.end() ? PortSet{} : decode_bits(it->second.bytes);
  }
};

// A strict vendor: a PVID may only change to a VLAN the port is already an untagged member of.
PduStatus strict_pvid(const std::vector<VarBind>& vbs, const std::map<Oid, Value>& before) {
  for (std::size_t i = 0; i < vbs.size(); ++i) {
    if (!oid_starts_with(vbs[i].oid, mib::dot1qPvid)) continue;
    auto u = before.find(oid_cat(mib::dot1qVlanStaticUntaggedPorts, {u32(static_cast<int>(vbs[i].value.number))}));
    if (u == before.end() || !decode_bits(u->second.bytes).contains(static_cast<int>(vbs[i].oid.back()))) {
      return PduStatus{ErrorStatus::inconsistent_value, static_cast<int>(i) + 1};
    }
  }
  return PduStatus{};
}

TEST(Release, QBridgePortBackToDefaultVlanDroppedOthersUntouched) {
  Rig rig;
  rig.apply_then_remove_pi02();
  auto c = rig.make();
  const PortView pi01 = rig.view(c, 1), pi03 = rig.view(c, 3);
  std::vector<std::string> progress;
  auto r = c.release(2, rig.vlan, [&](std::string_view l) { progress.emplace_back(l); });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->ports_changed, 1);
  EXPECT_EQ(r->pdus, 2);  // the port's change in one PDU, then the VLAN row
  EXPECT_FALSE(r->used_ordered_steps);
  EXPECT_EQ(progress, r->lines);
  ASSERT_EQ(r->lines.size(), 2u);
  EXPECT_EQ(r->lines[0], "port 2: VLAN 1: untagged member; VLAN " + std::to_string(rig.vlan) +
                             ": leave; VLAN 131: leave; PVID " + std::to_string(rig.vlan) + " -> 1");
  EXPECT_EQ(r->lines[1], "VLAN " + std::to_string(rig.vlan) + ": destroy (no Pi port left in it)");
  // The port as a fresh switch has it.
  const PortView port2 = rig.view(c, 2);
  EXPECT_EQ(port2.pvid, 1);
  EXPECT_EQ(port2.untagged, (PortSet{1}));
  EXPECT_TRUE(port2.tagged.empty());
  // The row is gone (all its columns), the public VLAN keeps the others and the trunk.
  EXPECT_FALSE(rig.fake.data.contains(oid_cat(mib::dot1qVlanStaticRowStatus, {u32(rig.vlan)})));
  EXPECT_FALSE(rig.fake.data.contains(oid_cat(mib::dot1qVlanStaticEgressPorts, {u32(rig.vlan)})));
  EXPECT_EQ(rig.bits(mib::dot1qVlanStaticEgressPorts, 131), (PortSet{1, 3, 24}));
  EXPECT_EQ(rig.view(c, 1).pvid, pi01.pvid);
  EXPECT_EQ(rig.view(c, 1).untagged, pi01.untagged);
  EXPECT_EQ(rig.view(c, 3).tagged, pi03.tagged);
  const PortView trunk = rig.view(c, 24);
  EXPECT_EQ(trunk.tagged, (PortSet{rig.shelf.pis[0].vlan, rig.shelf.pis[1].vlan, 131}));
  // The inventory (now pi01, pi03) is still exactly what the switch has.
  EXPECT_TRUE(c.verify()) << c.verify().error().message;
}

TEST(Release, SecondReleaseSendsNothing) {
  Rig rig;
  rig.apply_then_remove_pi02();
  auto c = rig.make();
  ASSERT_TRUE(c.release(2, rig.vlan, {}));
  const auto state = rig.fake.data;
  rig.fake.sets.clear();
  auto again = c.release(2, rig.vlan, {});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(rig.fake.sets.empty());
  EXPECT_EQ(again->pdus, 0);
  EXPECT_EQ(again->ports_changed, 0);
  EXPECT_EQ(again->lines, std::vector<std::string>{"port 2: already released, nothing to change"});
  EXPECT_EQ(rig.fake.data, state);
  auto plan = c.plan_release(2, rig.vlan);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->empty());
}

TEST(Release, StrictPvidSwitchGetsMembershipBeforePvid) {
  Rig rig;
  rig.apply_then_remove_pi02();
  rig.fake.validate = [](const auto& vbs, const auto& before, const auto&) { return strict_pvid(vbs, before); };
  auto c = rig.make();
  auto plan = c.plan_release(2, rig.vlan);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->ports.size(), 1u);
  const auto& steps = plan->ports[0].steps;
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].description, "port 2 (release): add memberships");
  EXPECT_EQ(steps[1].description, "port 2 (release): set PVID");
  EXPECT_EQ(steps[2].description, "port 2 (release): remove memberships");
  auto r = c.release(2, rig.vlan, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->used_ordered_steps);
  EXPECT_EQ(r->pdus, 1 + 3 + 1);  // refused PDU, three steps, the VLAN row
  EXPECT_EQ(rig.view(c, 2).pvid, 1);
  EXPECT_FALSE(rig.fake.data.contains(oid_cat(mib::dot1qVlanStaticRowStatus, {u32(rig.vlan)})));
}

TEST(Release, Refusals) {
  Rig rig;
  rig.apply_then_remove_pi02();
  auto c = rig.make();
  const std::string v = std::to_string(rig.vlan);
  const struct {
    int port, vlan;
    ErrorCode code;
    std::string message;
  } cases[] = {
      {24, rig.vlan, ErrorCode::refused, "release port 24 (VLAN " + v + "): port 24 is the fileserver's trunk port"},
      {3, rig.vlan, ErrorCode::refused, "release port 3 (VLAN " + v + "): pi03 of the inventory is on port 3; remove it from the inventory first"},
      {2, 1, ErrorCode::refused, "release port 2 (VLAN 1): VLAN 1 is the switch's default VLAN"},
      {2, 131, ErrorCode::refused, "release port 2 (VLAN 131): VLAN 131 is the shelf's public VLAN"},
      {2, rig.shelf.pis[0].vlan, ErrorCode::refused,
       "release port 2 (VLAN " + std::to_string(rig.shelf.pis[0].vlan) + "): VLAN " +
           std::to_string(rig.shelf.pis[0].vlan) + " is pi01's storage VLAN in the inventory"},
      {2, 4095, ErrorCode::invalid_argument, "release port 2 (VLAN 4095): VLAN must be 1..4094"},
      {0, rig.vlan, ErrorCode::invalid_argument, "release port 0 (VLAN " + v + "): port must be 1 or more"},
  };
  for (const auto& k : cases) {
    auto r = c.release(k.port, k.vlan, {});
    ASSERT_FALSE(r) << k.message;
    EXPECT_EQ(r.error().code, k.code) << k.message;
    EXPECT_EQ(r.error().message, "switch 127.0.0.1:16161: " + k.message);
    EXPECT_FALSE(c.plan_release(k.port, k.vlan));
  }
  EXPECT_TRUE(rig.fake.sets.empty());
  auto missing = c.release(30, rig.vlan, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_NE(missing.error().message.find("port 30 (release): not in the switch's port map"), std::string::npos);
}

TEST(Release, VlanStillUsedByAnotherPortIsKept) {
  Rig rig;
  rig.apply_then_remove_pi02();
  // Someone put port 7 in the VLAN by hand: it must keep working.
  const Oid egress = oid_cat(mib::dot1qVlanStaticEgressPorts, {u32(rig.vlan)});
  PortSet members = decode_bits(rig.fake.data.at(egress).bytes);
  members.insert(7);
  rig.fake.put(egress, Value::octets(encode_bits(members, 3)));
  auto c = rig.make();
  auto r = c.release(2, rig.vlan, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->pdus, 1);
  EXPECT_EQ(r->lines.back(), "VLAN " + std::to_string(rig.vlan) + " kept: port(s) 7 still use it");
  EXPECT_EQ(rig.bits(mib::dot1qVlanStaticEgressPorts, rig.vlan), (PortSet{7, 24}));
  EXPECT_EQ(rig.view(c, 2).untagged, (PortSet{1}));
}

TEST(Release, DryRunSendsNothingAndSaysWhatItWouldDo) {
  Rig rig;
  rig.apply_then_remove_pi02();
  auto c = rig.make();
  const auto before = rig.fake.data;
  auto r = c.release(2, rig.vlan, {}, true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(rig.fake.sets.empty());
  EXPECT_EQ(rig.fake.data, before);
  EXPECT_EQ(r->pdus, 0);
  ASSERT_EQ(r->lines.size(), 2u);
  EXPECT_EQ(r->lines[1], "VLAN " + std::to_string(rig.vlan) + ": destroy (no Pi port left in it)");
  const std::string text = render_plan(*c.plan_release(2, rig.vlan));
  EXPECT_NE(text.find("dot1qPvid.2 = 1"), std::string::npos) << text;
  EXPECT_NE(text.find("dot1qVlanStaticRowStatus." + std::to_string(rig.vlan) + " = 6"), std::string::npos) << text;
}

TEST(Release, InterruptedBeforeTheVlanRowIsFinishedByTheNextRelease) {
  Rig rig;
  rig.apply_then_remove_pi02();
  const Oid row = oid_cat(mib::dot1qVlanStaticRowStatus, {u32(rig.vlan)});
  rig.fake.validate = [&](const std::vector<VarBind>& vbs, const auto&, const auto&) {
    for (std::size_t i = 0; i < vbs.size(); ++i) {
      if (vbs[i].oid == row) return PduStatus{ErrorStatus::gen_err, static_cast<int>(i) + 1};
    }
    return PduStatus{};
  };
  auto c = rig.make();
  auto r = c.release(2, rig.vlan, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "switch 127.0.0.1:16161: VLAN " + std::to_string(rig.vlan) +
                                   ": destroy (no Pi port left in it): set dot1qVlanStaticRowStatus." +
                                   std::to_string(rig.vlan) + " (port 2): genErr");
  EXPECT_EQ(rig.view(c, 2).pvid, 1);
  rig.fake.validate = nullptr;
  rig.fake.sets.clear();
  auto again = c.release(2, rig.vlan, {});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->pdus, 1);
  EXPECT_EQ(again->ports_changed, 0);
  EXPECT_FALSE(rig.fake.data.contains(row));
}

// A fresh IOS switch on the fake (the fake does not run VTP: see Cisco.vtp below), with every
// trunk VLAN column (1k-4k) enabled.
FakeSnmp fresh_cisco(int n) {
  FakeSnmp f = testing::fresh_cisco(n);
  for (int p = 1; p <= n; ++p) {
    for (const Oid* col : {&mib::vlanTrunkPortVlansEnabled2k, &mib::vlanTrunkPortVlansEnabled3k,
                           &mib::vlanTrunkPortVlansEnabled4k}) {
      f.put(oid_cat(*col, {u32(p + 100)}), Value::octets(std::string(128, '\xff')));
    }
  }
  return f;
}

class Cisco : public ::testing::Test {
 protected:
  Rig rig;
  std::set<int> created, destroyed;  // edit-buffer rows since the last copy
  // What VTP does on the switch: rows created or destroyed in the edit buffer take effect on apply.
  void vtp() {
    rig.fake.after_set = [this](std::map<Oid, Value>& data) {
      for (const auto& vb : rig.fake.sets.back()) {
        if (oid_starts_with(vb.oid, mib::vtpVlanEditRowStatus)) {
          (vb.value.number == mib::kDestroy ? destroyed : created).insert(static_cast<int>(vb.oid.back()));
        }
        if (vb.oid == oid_cat(mib::vtpVlanEditOperation, {1}) && vb.value.number == 3) {
          for (const int v : created) data[oid_cat(mib::vtpVlanState, {1, u32(v)})] = Value::integer(1);
          for (const int v : destroyed) {
            data.erase(oid_cat(mib::vtpVlanState, {1, u32(v)}));
            data.erase(oid_cat(mib::vtpVlanName, {1, u32(v)}));
          }
          created.clear();
          destroyed.clear();
        }
      }
    };
  }
  void SetUp() override {
    rig.fake = fresh_cisco(24);
    rig.shelf.switch_.profile = "cisco";
    vtp();
    rig.apply_then_remove_pi02();
  }
  [[nodiscard]] const Value& at(const Oid& column, int port) const {
    return rig.fake.data.at(oid_cat(column, {u32(port + 100)}));
  }
};

TEST_F(Cisco, PortBackToAccessModeInVlan1AndVlanDeletedThroughVtp) {
  auto c = rig.make();
  EXPECT_EQ(at(mib::vlanTrunkPortDynamicState, 2).number, 1);  // a trunk after apply
  ASSERT_TRUE(rig.fake.data.contains(oid_cat(mib::vtpVlanState, {1, u32(rig.vlan)})));
  auto r = c.release(2, rig.vlan, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->ports_changed, 1);
  EXPECT_EQ(r->pdus, 1 + 4);  // the port, then copy, delete, apply, release
  EXPECT_EQ(at(mib::vlanTrunkPortDynamicState, 2).number, 2);
  EXPECT_EQ(at(mib::vlanTrunkPortNativeVlan, 2).number, 1);
  EXPECT_EQ(at(mib::vmVlan, 2).number, 1);
  PortSet all;
  for (int v = 1; v <= 4094; ++v) all.insert(v);
  PortSet enabled;
  int k = 0;
  for (const Oid* col : {&mib::vlanTrunkPortVlansEnabled, &mib::vlanTrunkPortVlansEnabled2k,
                         &mib::vlanTrunkPortVlansEnabled3k, &mib::vlanTrunkPortVlansEnabled4k}) {
    const PortSet bits = decode_bits(at(*col, 2).bytes, 1024 * k++);
    enabled.insert(bits.begin(), bits.end());
  }
  EXPECT_TRUE(std::includes(enabled.begin(), enabled.end(), all.begin(), all.end()));
  EXPECT_FALSE(rig.fake.data.contains(oid_cat(mib::vtpVlanState, {1, u32(rig.vlan)})));
  const PortView port2 = rig.view(c, 2);
  EXPECT_EQ(port2.pvid, 1);
  EXPECT_EQ(port2.untagged, (PortSet{1}));
  EXPECT_TRUE(port2.tagged.empty());
  // pi01 and pi03 are untouched and still what the inventory asks.
  EXPECT_EQ(at(mib::vlanTrunkPortNativeVlan, 1).number, rig.shelf.pis[0].vlan);
  EXPECT_EQ(at(mib::vlanTrunkPortNativeVlan, 3).number, rig.shelf.pis[1].vlan);
  EXPECT_TRUE(c.verify()) << c.verify().error().message;

  rig.fake.sets.clear();
  auto again = c.release(2, rig.vlan, {});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(rig.fake.sets.empty());
}

TEST_F(Cisco, OrderedStepsPutTheAccessVlanFirst) {
  auto c = rig.make();
  auto plan = c.plan_release(2, rig.vlan);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->ports.size(), 1u);
  const auto& steps = plan->ports[0].steps;
  ASSERT_EQ(steps.size(), 3u);  // vmVlan is still 1: access mode, native VLAN, allowed VLANs
  EXPECT_EQ(steps[0].description, "port 2 (release): access mode");
  EXPECT_EQ(steps[1].description, "port 2 (release): native VLAN");
  EXPECT_EQ(steps[2].description, "port 2 (release): allowed VLANs");
  ASSERT_EQ(plan->postlude.size(), 4u);
  EXPECT_EQ(plan->postlude[1].varbinds.at(0),
            (VarBind{oid_cat(mib::vtpVlanEditRowStatus, {1, u32(rig.vlan)}), Value::integer(mib::kDestroy)}));
}

}  // namespace
}  // namespace picluster::switchctl
