// Issue 12 over the fake: VLAN ownership (collisions, foreign memberships, full read-back),
// PortLists that are not bitmaps, missing tables, the Cisco trunk's native VLAN, power for several
// Pis all-or-nothing, and discovery listing each MAC once per port with its VLANs.
#include "switchctl/ownership.hpp"

#include <gtest/gtest.h>

#include "fake_snmp.hpp"
#include "inventory/vlans.hpp"
#include "shelf_fixture.hpp"
#include "switchctl/controller.hpp"
#include "switchctl/mib.hpp"

namespace picluster::switchctl {
namespace {

using testing::Rig;

std::uint32_t u32(int v) { return static_cast<std::uint32_t>(v); }

// A VLAN row on the fake: name, egress and untagged bridge ports (3 octets: 24 ports).
void put_vlan(testing::FakeSnmp& f, int vlan, const std::string& name, const PortSet& egress,
              const PortSet& untagged) {
  f.put(oid_cat(mib::dot1qVlanStaticName, {u32(vlan)}), Value::octets(name));
  f.put(oid_cat(mib::dot1qVlanStaticEgressPorts, {u32(vlan)}),
        Value::octets(encode_bits(egress, 3)));
  f.put(oid_cat(mib::dot1qVlanStaticUntaggedPorts, {u32(vlan)}),
        Value::octets(encode_bits(untagged, 3)));
  f.put(oid_cat(mib::dot1qVlanStaticRowStatus, {u32(vlan)}), Value::integer(1));
}

void learn(testing::FakeSnmp& f, std::uint32_t fdb_id, const char* mac, int bridge_port) {
  Oid o = oid_cat(mib::dot1qTpFdbPort, {fdb_id});
  for (auto b : inventory::Mac::parse(mac)->bytes) o.push_back(b);
  f.put(o, Value::integer(bridge_port));
}

// The fake as a Cisco agent after a SET: VTP apply makes the created edit rows VLANs.
void vtp_apply(std::map<Oid, Value>& data) {
  std::vector<std::pair<Oid, Value>> add;
  for (const auto& [o, v] : data) {
    if (oid_starts_with(o, mib::vtpVlanEditName)) {
      add.push_back({oid_cat(mib::vtpVlanState, {1, o.back()}), Value::integer(1)});
      add.push_back({oid_cat(mib::vtpVlanName, {1, o.back()}), v});
    }
  }
  for (auto& [o, v] : add) data[o] = v;
}

TEST(Ownership, AStorageVlanThatIsAnotherNetworkIsAnErrorNamingItAndTheFix) {
  Rig rig;  // pi01..pi08 on ports 1..8 with VLANs 10..17
  put_vlan(rig.fake, 11, "cameras", {20, 21}, {20, 21});
  auto c = rig.make();
  auto plan = c.plan();
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, ErrorCode::conflict);
  const std::string& m = plan.error().message;
  EXPECT_NE(m.find("VLAN 11 (pi02's storage VLAN) already exists on the switch as 'cameras' with "
                   "member port(s) 20, 21"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("storage.reserved_vlans"), std::string::npos) << m;
  EXPECT_NE(m.find("storage.vlan_range"), std::string::npos) << m;
  // show says so (and exits 1 in the CLI); nothing is sent.
  auto st = c.status();
  ASSERT_TRUE(st) << st.error().message;
  ASSERT_EQ(st->problems.size(), 1u);
  EXPECT_NE(st->problems[0].find("'cameras'"), std::string::npos);
  EXPECT_TRUE(rig.fake.sets.empty());
}

// `picluster plan` and `picluster apply` plan through plan_for (scoped to some Pis): the same
// refusals as `switch apply`, for a collision and for a Pi port in a foreign VLAN.
TEST(Ownership, TheScopedPlanOfPicklusterApplyRefusesForeignVlansToo) {
  Rig rig;
  put_vlan(rig.fake, 11, "cameras", {20, 21}, {20, 21});
  auto c = rig.make();
  auto plan = c.plan_for([](const std::string&) { return true; });
  ASSERT_FALSE(plan) << render_plan(*plan);
  EXPECT_EQ(plan.error().code, ErrorCode::conflict);
  EXPECT_NE(plan.error().message.find("VLAN 11 (pi02's storage VLAN) already exists on the switch as 'cameras'"),
            std::string::npos)
      << plan.error().message;
  Rig other;
  put_vlan(other.fake, 300, "voice", {3}, {});
  auto scoped = other.make().plan_for([](const std::string& pi) { return pi == "pi03"; });
  ASSERT_FALSE(scoped);
  EXPECT_NE(scoped.error().message.find("pi03 (port 3) is a member of VLAN(s) 300 'voice'"), std::string::npos)
      << scoped.error().message;
  EXPECT_TRUE(rig.fake.sets.empty());
}

// The old public VLAN after public.vlan changed (131 -> 77): picluster created and named it
// 'public', so a Pi's port may leave it; a VLAN someone else named stays refused.
TEST(Ownership, APiPortLeavesAVlanPicklusterNamedAfterTheInventoryMovedOn) {
  Rig rig(2);
  rig.shelf.public_net.vlan = 77;
  put_vlan(rig.fake, 131, "public", {1, 2, 24}, {});
  auto plan = rig.make().plan_for([](const std::string&) { return true; });
  ASSERT_TRUE(plan) << plan.error().message;
  const PortChange* one = plan->find(1);
  ASSERT_NE(one, nullptr);
  std::string changes;
  for (const auto& ch : one->changes) changes += ch + "; ";
  EXPECT_NE(changes.find("VLAN 131"), std::string::npos) << changes;
  Rig other(2);
  other.shelf.public_net.vlan = 77;
  put_vlan(other.fake, 131, "guests", {1, 2, 24}, {});
  auto refused = other.make().plan_for([](const std::string&) { return true; });
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("pi01 (port 1) is a member of VLAN(s) 131 'guests'"), std::string::npos)
      << refused.error().message;
}

TEST(Ownership, AnUnnamedEmptyVlanOrOnePicklusterNamedIsNotACollision) {
  Rig rig;
  put_vlan(rig.fake, 10, "VLAN0010", {}, {});
  put_vlan(rig.fake, 11, "pi02", {2, 24}, {2});
  auto c = rig.make();
  auto plan = c.plan();
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(default_vlan_name("VLAN0010", 10));
  EXPECT_TRUE(default_vlan_name("vlan 10", 10));
  EXPECT_FALSE(default_vlan_name("VLAN0011", 10));
}

TEST(Ownership, APiPortInAForeignVlanIsNotTakenOutOfIt) {
  Rig rig;
  put_vlan(rig.fake, 300, "voice", {3, 20}, {20});  // port 3 (pi03) tagged in someone's VLAN
  auto c = rig.make();
  auto plan = c.plan();
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find(
                "pi03 (port 3) is a member of VLAN(s) 300 'voice', which picluster does not own"),
            std::string::npos)
      << plan.error().message;
}

// After `picluster renumber`, the Pi's old VLAN is its previous_vlan: no longer owned, but apply
// takes the Pi's port out of it (and only that port: the VLAN's other members stay).
TEST(Ownership, APiPortIsTakenOutOfItsPreviousVlanOnly) {
  Rig rig;
  put_vlan(rig.fake, 11, "cameras", {2, 20, 21}, {2, 20, 21});  // pi02 was on VLAN 11
  rig.shelf.pis[1].vlan = 36;
  rig.shelf.pis[1].extra["previous_vlan"] = 11;
  auto c = rig.make();
  auto plan = c.plan();
  ASSERT_TRUE(plan) << plan.error().message;
  auto report = c.apply(*plan, {});
  ASSERT_TRUE(report) << report.error().message;
  const auto eleven = rig.fake.data.at(oid_cat(mib::dot1qVlanStaticEgressPorts, {11})).bytes;
  EXPECT_EQ(decode_bits(eleven), (PortSet{20, 21}));
  // Without previous_vlan the same switch is refused (the port is in another network's VLAN).
  Rig plain;
  put_vlan(plain.fake, 11, "cameras", {2, 20, 21}, {2, 20, 21});
  plain.shelf.pis[1].vlan = 36;
  auto refused = plain.make().plan();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("pi02 (port 2) is a member of VLAN(s) 11 'cameras'"), std::string::npos)
      << refused.error().message;
}

// renumber's choice: the port's natural VLAN is taken, so the first free VLAN past the switch's
// ports that is no other network's, not reserved and no other Pi's; --vlan is checked.
TEST(Ownership, RenumberPicksAFreeVlanAndChecksAWantedOne) {
  Rig rig;
  rig.shelf.storage.extra["reserved_vlans"] = inventory::Json::array({35});
  auto picked = inventory::pick_new_vlan(rig.shelf, "pi02", std::nullopt, {11, 34});
  ASSERT_TRUE(picked) << picked.error().message;
  EXPECT_EQ(*picked, 36);
  auto same = inventory::pick_new_vlan(rig.shelf, "pi02", 11, {});
  ASSERT_FALSE(same);
  EXPECT_NE(same.error().message.find("VLAN 11 cannot be used: it is pi02's VLAN now"), std::string::npos);
  EXPECT_EQ(inventory::pick_new_vlan(rig.shelf, "pi02", 131, {}).error().message.find("it is the public VLAN") !=
                std::string::npos,
            true);
  EXPECT_EQ(*inventory::pick_new_vlan(rig.shelf, "pi02", 500, {}), 500);
  EXPECT_FALSE(inventory::pick_new_vlan(rig.shelf, "nosuchpi", std::nullopt, {}));
}

TEST(Ownership, ForeignVlansAreThoseTheInventoryDoesNotListExceptVlan1) {
  Rig rig;
  put_vlan(rig.fake, 10, "pi01", {}, {});
  put_vlan(rig.fake, 131, "public", {24}, {});
  put_vlan(rig.fake, 300, "voice", {20}, {20});
  auto c = rig.make();
  auto state = c.read_state();
  ASSERT_TRUE(state);
  const auto foreign = foreign_vlans(rig.shelf, *state);
  ASSERT_EQ(foreign.size(), 1u);
  EXPECT_EQ(foreign.at(300), "voice");
}

TEST(Ownership, AllocationAvoidsTheSwitchsVlansAndReservedVlans) {
  inventory::Shelf shelf = testing::shelf_with(0);
  shelf.storage.extra["reserved_vlans"] = inventory::Json::array({11});
  inventory::PiRequest r{"pi01", 1, inventory::PiModel::pi4, std::nullopt, std::nullopt};
  auto a = inventory::add_pi_avoiding(shelf, r, {10});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_NE(a->vlan, 10);
  EXPECT_NE(a->vlan, 11);
  auto b =
      inventory::add_pi(shelf, {"pi02", 2, inventory::PiModel::pi4, std::nullopt, std::nullopt});
  ASSERT_TRUE(b);
  EXPECT_NE(b->vlan, 11);
  // The inventory keeps the list.
  inventory::Inventory inv;
  inv.shelves.push_back(shelf);
  auto back = inventory::parse(inventory::serialize(inv), "x.json");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*inventory::reserved_vlans(back->shelves[0]), std::vector<int>{11});
}

TEST(Ownership, ReservedVlansMustBeVlanIds) {
  inventory::Inventory inv = inventory::make_default("s");
  std::string text = inventory::serialize(inv);
  const auto at = text.find("\"vlan_range\"");
  ASSERT_NE(at, std::string::npos);
  text.insert(at, "\"reserved_vlans\": [11, 5000],\n");
  auto parsed = inventory::parse(text, "x.json");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("reserved_vlans"), std::string::npos)
      << parsed.error().message;
  EXPECT_NE(parsed.error().message.find("5000"), std::string::npos) << parsed.error().message;
}

// A switch that, on every SET, also drops port 20 into VLAN 10: the Pi's and the trunk's ports are
// right, but the storage VLAN is shared. The read-back looks at every port of every VLAN it
// touched.
TEST(Ownership, ReadBackChecksEveryPortOfEveryTouchedVlan) {
  Rig rig(1);
  rig.fake.after_set = [](std::map<Oid, Value>& data) {
    auto it = data.find(oid_cat(mib::dot1qVlanStaticEgressPorts, {10}));
    if (it == data.end()) return;
    PortSet e = decode_bits(it->second.bytes);
    e.insert(20);
    it->second = Value::octets(encode_bits(e, it->second.bytes.size()));
  };
  auto c = rig.make();
  auto plan = c.plan();
  ASSERT_TRUE(plan) << plan.error().message;
  auto report = c.apply(*plan, {});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("VLAN 10: port 20 tagged (expected: not a member)"),
            std::string::npos)
      << report.error().message;
  // The same through `picluster apply` (plan_for, scoped to pi01), on a fresh switch.
  Rig again(1);
  again.fake.after_set = rig.fake.after_set;
  auto c2 = again.make();
  auto scoped = c2.plan_for([](const std::string& pi) { return pi == "pi01"; });
  ASSERT_TRUE(scoped) << scoped.error().message;
  report = c2.apply(*scoped, {});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("VLAN 10: port 20 tagged (expected: not a member)"),
            std::string::npos)
      << report.error().message;
}

TEST(PortLists, CommaListsAreDecodedForShowAndNeverWritten) {
  Rig rig(2);
  auto text = [](const std::string& s) { return Value::octets(s); };
  // Juniper style: every PortList is ASCII bridge port numbers.
  std::string all;
  for (int p = 1; p <= 24; ++p) all += (p > 1 ? "," : "") + std::to_string(p);
  rig.fake.put(oid_cat(mib::dot1qVlanStaticEgressPorts, {1}), text(all));
  rig.fake.put(oid_cat(mib::dot1qVlanStaticUntaggedPorts, {1}), text(all));
  rig.fake.put(oid_cat(mib::dot1qVlanStaticName, {20}), text("office"));
  rig.fake.put(oid_cat(mib::dot1qVlanStaticEgressPorts, {20}), text("3,4,24"));
  rig.fake.put(oid_cat(mib::dot1qVlanStaticUntaggedPorts, {20}), text(""));
  rig.fake.put(oid_cat(mib::dot1qVlanStaticRowStatus, {20}), Value::integer(1));
  auto c = rig.make();
  auto state = c.read_state();
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->portlist_form, PortListForm::comma_list);
  EXPECT_EQ(state->vlans.at(20).egress, (PortSet{3, 4, 24}));
  EXPECT_EQ(state->vlans.at(1).untagged.size(), 24u);
  auto plan = c.plan();
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, ErrorCode::refused);
  EXPECT_NE(plan.error().message.find("comma-separated bridge port numbers"), std::string::npos)
      << plan.error().message;
  EXPECT_TRUE(rig.fake.sets.empty());
}

TEST(PortLists, StrayBitsBeyondTheLastBridgePortAreNamedAndTheListIsNotWritten) {
  Rig rig(2);
  PortSet all;
  for (int p = 1; p <= 24; ++p) all.insert(p);
  std::string list = encode_bits(all, 3) + std::string("\xff", 1);  // a 4th octet: ports 25-32
  rig.fake.put(oid_cat(mib::dot1qVlanStaticEgressPorts, {1}), Value::octets(list));
  auto c = rig.make();
  auto state = c.read_state();
  ASSERT_TRUE(state);
  EXPECT_EQ(state->portlist_form, PortListForm::bitmap);
  EXPECT_EQ(state->vlans.at(1).egress, all);  // show still sees ports 1-24
  auto plan = c.plan();
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("dot1qVlanStaticEgressPorts.1"), std::string::npos)
      << plan.error().message;
  EXPECT_NE(
      plan.error().message.find("bits for bridge ports 25-32, which the switch does not list"),
      std::string::npos)
      << plan.error().message;
}

TEST(PortLists, StrayZeroOctetsAreHarmless) {
  Rig rig(2);
  PortSet all;
  for (int p = 1; p <= 24; ++p) all.insert(p);
  rig.fake.put(oid_cat(mib::dot1qVlanStaticEgressPorts, {1}), Value::octets(encode_bits(all, 64)));
  auto c = rig.make();
  auto plan = c.plan();
  ASSERT_TRUE(plan) << plan.error().message;
  auto report = c.apply(*plan, {});
  ASSERT_TRUE(report) << report.error().message;
}

TEST(MissingTables, NoBridgePortTableIsNamedAndCiscoStillMapsByIfIndex) {
  Rig rig(2);
  rig.fake = testing::fresh_cisco(24);
  std::erase_if(rig.fake.data, [](const auto& kv) {
    return oid_starts_with(kv.first, mib::dot1dBasePortIfIndex);
  });
  rig.shelf.switch_.profile = "cisco";
  auto c = rig.make();
  auto state = c.read_state();
  ASSERT_TRUE(state) << state.error().message;
  ASSERT_EQ(state->map.ports.size(), 24u);
  EXPECT_EQ(state->map.by_port(5)->if_index, 105);
  ASSERT_EQ(state->map.notes.size(), 1u);
  EXPECT_NE(state->map.notes[0].find("dot1dBasePortIfIndex"), std::string::npos);
  auto plan = c.plan();
  ASSERT_TRUE(plan) << plan.error().message;
  // The Q-BRIDGE profile needs the bridge port numbers and says which table is missing.
  Rig q(2);
  std::erase_if(q.fake.data, [](const auto& kv) {
    return oid_starts_with(kv.first, mib::dot1dBasePortIfIndex);
  });
  auto qc = q.make();
  auto qplan = qc.plan();
  ASSERT_FALSE(qplan);
  EXPECT_NE(
      qplan.error().message.find("dot1dBasePortIfIndex (BRIDGE-MIB port table) is not served"),
      std::string::npos)
      << qplan.error().message;
}

TEST(CiscoTrunk, AnAccessPortBecomesATrunkWhoseNativeVlanIsItsAccessVlan) {
  Rig rig(2);
  rig.fake = testing::fresh_cisco(24);
  rig.shelf.switch_.profile = "cisco";
  rig.fake.put(oid_cat(mib::vtpVlanState, {1, 3}), Value::integer(1));
  rig.fake.put(oid_cat(mib::vtpVlanName, {1, 3}), Value::octets("fileserver"));
  rig.fake.put(oid_cat(mib::vmVlan, {124}),
               Value::integer(3));  // the trunk port is an access port in VLAN 3
  rig.shelf.public_net.vlan = 131;
  // VLAN 3 is not the inventory's: the trunk keeps it as its native VLAN, a Pi port never joins it.
  auto c = rig.make();
  auto plan = c.plan();
  ASSERT_TRUE(plan) << plan.error().message;
  const PortChange* trunk = plan->find(24);
  ASSERT_NE(trunk, nullptr);
  std::string changes;
  for (const auto& ch : trunk->changes) changes += ch + "; ";
  EXPECT_NE(changes.find("native VLAN 1 -> 3 (its access VLAN)"), std::string::npos) << changes;
  EXPECT_NE(changes.find("allowed VLANs 0-1023 -> 3,10-11,131"), std::string::npos) << changes;
  // Run it through a fake that behaves like the agent: the trunk's view keeps VLAN 3 untagged.
  rig.fake.after_set = vtp_apply;
  auto report = c.apply(*plan, {});
  ASSERT_TRUE(report) << report.error().message;
  auto state = c.read_state();
  ASSERT_TRUE(state);
  auto st = c.status();
  ASSERT_TRUE(st);
  const auto& row = st->ports[23];
  EXPECT_EQ(row.view.pvid, 3);
  EXPECT_EQ(row.view.untagged, PortSet{3});
  EXPECT_EQ(row.view.tagged, (PortSet{10, 11, 131}));
}

// fileserver.trunk_native_vlan: the inventory chooses the trunk's native VLAN (here 5, not the
// port's access VLAN 3); it is set, read back and verified, and VLAN 3 stays on the trunk tagged.
TEST(CiscoTrunk, TheInventoryChoosesTheTrunksNativeVlan) {
  Rig rig(2);
  rig.fake = testing::fresh_cisco(24);
  rig.shelf.switch_.profile = "cisco";
  rig.shelf.public_net.vlan = 131;
  for (const std::uint32_t v : {3U, 5U}) {
    rig.fake.put(oid_cat(mib::vtpVlanState, {1, v}), Value::integer(1));
    rig.fake.put(oid_cat(mib::vtpVlanName, {1, v}), Value::octets(v == 3 ? "fileserver" : "servers"));
  }
  rig.fake.put(oid_cat(mib::vmVlan, {124}), Value::integer(3));
  rig.shelf.fileserver.extra["trunk_native_vlan"] = 5;
  auto c = rig.make();
  auto plan = c.plan();
  ASSERT_TRUE(plan) << plan.error().message;
  const PortChange* trunk = plan->find(24);
  ASSERT_NE(trunk, nullptr);
  std::string changes;
  for (const auto& ch : trunk->changes) changes += ch + "; ";
  EXPECT_NE(changes.find("native VLAN 1 -> 5 (fileserver.trunk_native_vlan)"), std::string::npos) << changes;
  EXPECT_NE(changes.find("allowed VLANs 0-1023 -> 3,5,10-11,131"), std::string::npos) << changes;
  rig.fake.after_set = vtp_apply;
  auto report = c.apply(*plan, {});
  ASSERT_TRUE(report) << report.error().message;  // includes the read-back of VLANs 3 and 5
  EXPECT_EQ(rig.fake.data.at(oid_cat(mib::vlanTrunkPortNativeVlan, {124})), Value::integer(5));
  auto st = c.status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->ports[23].view.untagged, PortSet{5});
  EXPECT_EQ(st->ports[23].view.tagged, (PortSet{3, 10, 11, 131}));
  // A VLAN the switch does not have, a value that is no VLAN id, the qbridge profile: refused.
  rig.shelf.fileserver.extra["trunk_native_vlan"] = 7;
  auto missing = rig.make().plan();
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("shelf 'shelf1': fileserver: trunk_native_vlan: VLAN 7 does not exist on the switch"),
            std::string::npos)
      << missing.error().message;
  rig.shelf.fileserver.extra["trunk_native_vlan"] = "5";
  auto text = rig.make().plan();
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message.find("trunk_native_vlan: \"5\" is not a VLAN id (1-4094)"), std::string::npos)
      << text.error().message;
  Rig q(2);
  q.shelf.fileserver.extra["trunk_native_vlan"] = 5;
  auto qplan = q.make().plan();
  ASSERT_FALSE(qplan);
  EXPECT_NE(qplan.error().message.find("only the cisco profile sets the trunk's native VLAN"), std::string::npos)
      << qplan.error().message;
}

TEST(PowerSeveral, SeveralPisAreCheckedBeforeAnySetAndEveryProblemIsNamed) {
  Rig rig;
  learn(rig.fake, 10, "b8:27:eb:00:00:01", 1);
  learn(rig.fake, 11, "b8:27:eb:00:00:02", 2);
  learn(rig.fake, 12, "b8:27:eb:00:00:99", 3);  // pi03's cable was moved
  learn(rig.fake, 14, "b8:27:eb:00:00:05", 6);  // pi05's MAC on pi06's port
  auto c = rig.make();
  auto ok = c.check_power_targets({"pi01", "pi02", "pi03", "pi05"}, PowerAction::off, false);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().code, ErrorCode::refused);
  EXPECT_NE(ok.error().message.find("pi03: port 3 has learned b8:27:eb:00:00:99"),
            std::string::npos)
      << ok.error().message;
  EXPECT_NE(ok.error().message.find("pi05: pi05's MAC b8:27:eb:00:00:05 is learned on port 6"),
            std::string::npos)
      << ok.error().message;
  EXPECT_TRUE(rig.fake.sets.empty());
  EXPECT_TRUE(c.check_power_targets({"pi01", "pi02", "pi03", "pi05"}, PowerAction::off, true));
  EXPECT_TRUE(c.check_power_targets({"pi01", "pi03"}, PowerAction::on, false));  // on cuts nothing
}

TEST(PowerSeveral, APoeRowThatDoesNotAnswerFailsTheCheck) {
  Rig rig;
  rig.fake.data.erase(oid_cat(mib::pethPsePortDetectionStatus, {1, 4}));
  auto c = rig.make();
  auto ok = c.check_power_targets({"pi01", "pi04"}, PowerAction::cycle, false);
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("pi04: read PoE of port 4"), std::string::npos)
      << ok.error().message;
  EXPECT_TRUE(rig.fake.sets.empty());
}

TEST(DiscoverOnce, EachMacOncePerPortWithItsVlans) {
  Rig rig;
  for (std::uint32_t fdb : {1u, 10u, 131u}) learn(rig.fake, fdb, "dc:a6:32:00:00:14", 20);
  auto c = rig.make();
  auto d = c.discover();
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->learned.size(), 1u);
  EXPECT_EQ(d->learned[0].vlans, (std::set<int>{1, 10, 131}));
  ASSERT_EQ(d->unknown_pis.size(), 1u);
}

// Neither FDB table implemented (noSuchObject): an error naming both tables and what was tried.
TEST(DiscoverOnce, NoForwardingTableIsAnError) {
  Rig rig;
  rig.fake.unimplemented = {mib::dot1qTpFdbPort, mib::dot1dTpFdbPort};
  auto c = rig.make();
  auto d = c.discover();
  ASSERT_FALSE(d);
  const std::string& m = d.error().message;
  EXPECT_NE(m.find("no forwarding table could be read: neither dot1qTpFdbTable (Q-BRIDGE-MIB) nor "
                   "dot1dTpFdbTable (BRIDGE-MIB) is served"), std::string::npos) << m;
  EXPECT_NE(m.find("walked dot1qTpFdbPort and dot1dTpFdbPort: no rows"), std::string::npos) << m;
  EXPECT_NE(m.find("GET dot1qTpFdbPort.0.0.0.0.0.0.0: noSuchObject"), std::string::npos) << m;
  EXPECT_NE(m.find("GET dot1dTpFdbPort.0.0.0.0.0.0: noSuchObject"), std::string::npos) << m;
}

// A served table without rows (noSuchInstance for a row that is not there): nothing learned yet,
// an empty list and no error.
TEST(DiscoverOnce, AServedEmptyForwardingTableIsAnEmptyList) {
  Rig rig;
  rig.fake.unimplemented = {mib::dot1qTpFdbPort};  // only BRIDGE-MIB's table, and it is empty
  auto c = rig.make();
  auto d = c.discover();
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->learned.empty());
  EXPECT_TRUE(d->unknown_pis.empty());
}

}  // namespace
}  // namespace picluster::switchctl
