// ENTITY-MIB front-panel numbering (issue 12): entPhysicalParentRelPos of the ports on the shelf's
// stack member, module ports and other members left out, inconsistent data not used (noted, naming
// the object), a contradiction with LLDP-MIB refused naming both, and the real recordings.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/shared_data.hpp"

#include "fake_snmp.hpp"
#include "switchctl/mib.hpp"
#include "switchctl/profile.hpp"

namespace picluster::switchctl {
namespace {

using testing::FakeSnmp;

const std::filesystem::path kRecordings = picluster::testing::snmp_recordings_dir();

std::string all_notes(const PortMap& map) {
  std::string out;
  for (const auto& n : map.notes) out += n + "\n";
  return out;
}

const PortEntry* left_out(const PortMap& map, int if_index) {
  for (const auto& p : map.left_out) if (p.if_index == if_index) return &p;
  return nullptr;
}

// A stack of two members (chassis 2 and 3 in stack 1), 8 ports each, member 1 with an uplink
// module (4) of 2 ports. ifNames say nothing useful: "Port 49".."Port 56" (ifIndex-like) on every
// member, so only ENTITY-MIB knows which is front-panel port 1. Bridge port = 10 + ifIndex.
PortMapTables stack_of_two() {
  PortMapTables t;
  t.entities[1] = {11, 0, -1, "stack"};
  t.entities[2] = {3, 1, 1, "member 1"};
  t.entities[3] = {3, 1, 2, "member 2"};
  t.entities[4] = {9, 2, 1, "uplink module"};
  auto port = [&](int entity, int in, int pos, int if_index, const std::string& name) {
    t.entities[entity] = {10, in, pos, name};
    t.entity_if_index[entity] = if_index;
    t.base_port_if_index[10 + if_index] = if_index;
    t.if_name[if_index] = name;
    t.if_type[if_index] = 6;
  };
  for (int f = 1; f <= 8; ++f) {
    port(1000 + f, 2, f, 100 + f, "Port " + std::to_string(48 + f));
    port(3000 + f, 3, f, 300 + f, "Port " + std::to_string(48 + f) + " ");
  }
  port(2001, 4, 1, 201, "Uplink 1");
  port(2002, 4, 2, 202, "Uplink 2");
  return t;
}

// The same stack with the names a Cisco stack gives (gi1/0/F, te1/0/k, gi2/0/F): what numbering
// falls back to when ENTITY-MIB is not used.
PortMapTables stack_with_names() {
  PortMapTables t = stack_of_two();
  for (int f = 1; f <= 8; ++f) {
    t.if_name[100 + f] = "gi1/0/" + std::to_string(f);
    t.if_name[300 + f] = "gi2/0/" + std::to_string(f);
  }
  t.if_name[201] = "te1/0/1";
  t.if_name[202] = "te1/0/2";
  return t;
}

TEST(EntityNumbering, ParentRelPosOfTheShelfsMemberNumbersThePorts) {
  PortMapTables t = stack_of_two();
  auto map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_EQ(map->ports.size(), 8u) << all_notes(*map);
  EXPECT_EQ(map->by_port(1)->if_index, 101);
  EXPECT_EQ(map->by_port(1)->bridge_port, 111);
  EXPECT_EQ(map->by_port(8)->if_index, 108);
  EXPECT_EQ(map->by_port(1)->numbering, "ENTITY-MIB entPhysicalParentRelPos 1, member 1 ('Port 49')");
  // Module ports and member 2 are left out, saying why; the module ports stay addressable.
  ASSERT_NE(left_out(*map, 201), nullptr);
  EXPECT_EQ(left_out(*map, 201)->numbering,
            "left out: module port on 'uplink module' (ENTITY-MIB; name it with if_name in switch.port_map)");
  ASSERT_NE(left_out(*map, 301), nullptr);
  EXPECT_EQ(left_out(*map, 301)->numbering, "left out: stack member 2 (ENTITY-MIB), not switch.stack_member 1");
  const std::string notes = all_notes(*map);
  EXPECT_NE(notes.find("front-panel numbers from ENTITY-MIB (entPhysicalParentRelPos of the ports on 'member 1', "
                       "stack member 1 of 2) for 8 interface(s)"),
            std::string::npos)
      << notes;
  EXPECT_NE(notes.find("ENTITY-MIB numbers 8 interface(s) otherwise than their names ('Port 49' is port 1)"),
            std::string::npos)
      << notes;
  // The same names without ENTITY-MIB: numbered 49..56, so there is no port 1 to misconfigure.
  PortMapTables names = stack_of_two();
  names.entities.clear();
  names.entity_if_index.clear();
  names.base_port_if_index.erase(211);
  names.base_port_if_index.erase(212);
  for (int f = 1; f <= 8; ++f) names.base_port_if_index.erase(310 + f);
  map = build_port_map(names, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_EQ(map->by_port(1), nullptr);
}

TEST(EntityNumbering, StackMemberTwoIsChosenBySwitchStackMember) {
  PortMapTables t = stack_of_two();
  t.stack_member = 2;
  auto map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_EQ(map->ports.size(), 8u);
  EXPECT_EQ(map->by_port(1)->if_index, 301);
  EXPECT_EQ(map->by_port(1)->numbering, "ENTITY-MIB entPhysicalParentRelPos 1, member 2 ('Port 49 ')");
  ASSERT_NE(left_out(*map, 101), nullptr);
  ASSERT_NE(left_out(*map, 201), nullptr);  // member 1's module
  // A member ENTITY-MIB does not list numbers nothing, and says so.
  t.stack_member = 3;
  map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_TRUE(map->ports.empty());
  EXPECT_NE(all_notes(*map).find("switch.stack_member 3 is not a member ENTITY-MIB lists (members 1, 2)"),
            std::string::npos);
}

TEST(EntityNumbering, AModulePortCanBeNamedAsTheTrunk) {
  std::map<int, inventory::PortMapOverride> overrides;
  overrides[9].extra["if_name"] = "Uplink 1";
  auto map = build_port_map(stack_of_two(), overrides);
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_NE(map->by_port(9), nullptr);
  EXPECT_EQ(map->by_port(9)->if_index, 201);
  EXPECT_EQ(map->by_port(9)->numbering, "switch.port_map in the inventory");
  EXPECT_EQ(left_out(*map, 201), nullptr);
}

// Inconsistent data is not used: the note names the object, and numbering falls back to the names.
TEST(EntityNumbering, RepeatedPositionsFallBackToTheNamesNamingTheObject) {
  PortMapTables t = stack_with_names();
  t.entities[1003].rel_pos = 2;
  auto map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_NE(all_notes(*map).find("ENTITY-MIB not used for front-panel numbers: entPhysicalParentRelPos.1003 = 2 "
                                 "repeats entPhysicalParentRelPos.1002"),
            std::string::npos)
      << all_notes(*map);
  ASSERT_NE(map->by_port(3), nullptr);
  EXPECT_EQ(map->by_port(3)->if_name, "gi1/0/3");
  EXPECT_EQ(map->by_port(3)->numbering, "ifName 'gi1/0/3': stack unit 1");
}

TEST(EntityNumbering, PortsInNoChassisOrPositionsFromZeroAreNotUsed) {
  PortMapTables t = stack_with_names();
  t.entities[1005].contained_in = 0;  // Linksys: ports contained in nothing
  auto map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_NE(all_notes(*map).find("entPhysicalContainedIn.1005 = 0: port 'Port 53' (ifIndex 105) is in no chassis"),
            std::string::npos)
      << all_notes(*map);
  EXPECT_EQ(map->by_port(5)->if_name, "gi1/0/5");
  t = stack_with_names();
  for (int f = 1; f <= 8; ++f) t.entities[1000 + f].rel_pos = f - 1;
  map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_NE(all_notes(*map).find("entPhysicalParentRelPos.1001 = 0: port 'Port 49' has no front-panel position"),
            std::string::npos)
      << all_notes(*map);
  // Two members claiming the same number.
  t = stack_with_names();
  t.entities[3].rel_pos = 1;
  map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_NE(all_notes(*map).find("chassis 'member 1' and 'member 2' are both stack member 1"), std::string::npos)
      << all_notes(*map);
  // Forced with switch.numbering "entity", inconsistent data is an error naming the object.
  t.numbering = "entity";
  map = build_port_map(t, {});
  ASSERT_FALSE(map);
  EXPECT_NE(map.error().message.find("switch.numbering is \"entity\" but ENTITY-MIB cannot number the ports"),
            std::string::npos)
      << map.error().message;
  EXPECT_NE(map.error().message.find("entPhysicalParentRelPos.2, entPhysicalParentRelPos.3"), std::string::npos)
      << map.error().message;
  t.numbering = "sideways";
  map = build_port_map(t, {});
  ASSERT_FALSE(map);
  EXPECT_EQ(map.error().message, "switch.numbering: 'sideways' is not one of auto, entity, lldp, names");
}

// Positions that shuffle the names' numbers (a Linksys: gi1, gi9, gi2, gi10 at 1, 2, 3, 4) are
// the physical layout, not the labels: not used, unless switch.numbering says "entity".
TEST(EntityNumbering, PositionsThatShuffleTheNamesNumbersAreTheLayoutNotTheLabels) {
  PortMapTables t = stack_with_names();
  for (int f = 1; f <= 8; ++f) t.entities[1000 + f].rel_pos = f <= 4 ? 2 * f - 1 : 2 * (f - 4);  // 1,3,5,7,2,4,6,8
  auto map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_NE(all_notes(*map).find("ENTITY-MIB not used for front-panel numbers: its port positions are the interface "
                                 "names' numbers in another order ('gi1/0/2' at entPhysicalParentRelPos.1002 = 3)"),
            std::string::npos)
      << all_notes(*map);
  EXPECT_EQ(map->by_port(2)->if_name, "gi1/0/2");
  t.numbering = "entity";
  map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_EQ(map->by_port(3)->if_name, "gi1/0/2");
}

// Two modules of similar size (ProCurve: '1-24,A' and '25-48,A', positions 1..24 on each): the
// positions restart per module and are no front-panel numbers.
TEST(EntityNumbering, ModulesOfSimilarSizeAreNotNumberedByPosition) {
  PortMapTables t = stack_with_names();
  for (int f = 1; f <= 8; ++f) t.entities[3000 + f].contained_in = 4;  // member 2's ports onto member 1's module
  auto map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_NE(all_notes(*map).find("the ports of member 1 sit on carriers of similar size"), std::string::npos)
      << all_notes(*map);
}

TEST(EntityNumbering, ContradictingLldpIsRefusedNamingBothAndAgreeingLldpIsNoted) {
  PortMapTables t = stack_of_two();
  for (int f = 1; f <= 8; ++f) t.lldp_ports[f] = LldpLocalPort{5, "Port " + std::to_string(48 + f), ""};
  auto map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_EQ(map->by_port(1)->if_index, 101);
  EXPECT_NE(all_notes(*map).find("LLDP-MIB's local port table agrees with ENTITY-MIB"), std::string::npos);
  std::swap(t.lldp_ports[1], t.lldp_ports[2]);
  map = build_port_map(t, {});
  ASSERT_FALSE(map);
  EXPECT_EQ(map.error().code, ErrorCode::conflict);
  EXPECT_EQ(map.error().message,
            "front-panel numbering: the switch contradicts itself: ENTITY-MIB puts 'Port 49' at port 1 (ENTITY-MIB "
            "entPhysicalParentRelPos 1, member 1 ('Port 49')) but LLDP-MIB puts it at port 2 (LLDP-MIB "
            "lldpLocPortNum 2 ('Port 49')); check the front panel and set switch.numbering to \"entity\", \"lldp\" "
            "or \"names\" in the inventory");
  // The operator decides: LLDP-MIB's numbering, forced.
  t.numbering = "lldp";
  map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_EQ(map->by_port(1)->if_index, 102);
  t.numbering = "entity";
  map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_EQ(map->by_port(1)->if_index, 101);
}

// A session that records every OID asked for, to see what a read costs.
class Recorder final : public SnmpSession {
 public:
  explicit Recorder(SnmpSession& inner) : m_inner(inner) {}
  std::vector<Oid> asked;
  [[nodiscard]] std::string endpoint() const override { return m_inner.endpoint(); }
  Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) override { return note(oids), m_inner.get(oids); }
  Result<std::vector<VarBind>> get_next(const std::vector<Oid>& oids) override {
    return note(oids), m_inner.get_next(oids);
  }
  Result<std::vector<VarBind>> get_bulk(const std::vector<Oid>& oids, int n, int r) override {
    return note(oids), m_inner.get_bulk(oids, n, r);
  }
  Result<PduStatus> set(const std::vector<VarBind>& v) override { return m_inner.set(v); }
  [[nodiscard]] SessionStats stats() const override { return m_inner.stats(); }
  [[nodiscard]] bool asked_under(const Oid& prefix) const {
    return std::any_of(asked.begin(), asked.end(), [&](const Oid& o) { return oid_starts_with(o, prefix); });
  }

 private:
  void note(const std::vector<Oid>& oids) { asked.insert(asked.end(), oids.begin(), oids.end()); }
  SnmpSession& m_inner;
};

// Served as in the simulator: ifIndex 100 + F, generic names, one chassis. Read through the fake.
TEST(EntityNumbering, ReadThroughTheSessionAndAbsentEntityMibCostsNoWalk) {
  FakeSnmp fake = testing::fresh_qbridge(8);
  const long bare_pdus = [&] {
    FakeSnmp bare = testing::fresh_qbridge(8);
    Recorder rec(bare);
    auto state = read_common(rec, {});
    EXPECT_TRUE(state) << state.error().message;
    // ENTITY-MIB absent: entPhysicalClass was asked in the parallel walk; nothing else of it.
    EXPECT_TRUE(rec.asked_under(mib::entPhysicalClass));
    EXPECT_FALSE(rec.asked_under(mib::entPhysicalParentRelPos));
    EXPECT_FALSE(rec.asked_under(mib::entAliasMappingIdentifier));
    return bare.counters.pdus;
  }();
  fake.put(oid_cat(mib::entPhysicalClass, {1}), Value::integer(3));
  fake.put(oid_cat(mib::entPhysicalContainedIn, {1}), Value::integer(0));
  fake.put(oid_cat(mib::entPhysicalParentRelPos, {1}), Value::integer(-1));
  for (std::uint32_t f = 1; f <= 8; ++f) {
    fake.put(oid_cat(mib::ifName, {100 + f}), Value::octets("Ethernet Interface"));
    // Ports in reverse ifIndex order: front port f is ifIndex 109 - f.
    fake.put(oid_cat(mib::entPhysicalClass, {1000 + f}), Value::integer(10));
    fake.put(oid_cat(mib::entPhysicalContainedIn, {1000 + f}), Value::integer(1));
    fake.put(oid_cat(mib::entPhysicalParentRelPos, {1000 + f}), Value::integer(f));
    fake.put(oid_cat(mib::entPhysicalName, {1000 + f}), Value::octets("port " + std::to_string(f)));
    fake.put(oid_cat(mib::entAliasMappingIdentifier, {1000 + f, 0}),
             Value{ValueType::object_id, 0, {}, oid_cat(mib::ifIndex, {109 - f})});
  }
  Recorder rec(fake);
  auto state = read_common(rec, {});
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_TRUE(rec.asked_under(mib::entAliasMappingIdentifier));
  ASSERT_EQ(state->map.ports.size(), 8u) << all_notes(state->map);
  EXPECT_EQ(state->map.by_port(1)->if_index, 108);
  EXPECT_EQ(state->map.by_port(1)->bridge_port, 8);
  EXPECT_EQ(state->map.by_port(8)->if_index, 101);
  EXPECT_EQ(state->map.by_port(1)->numbering, "ENTITY-MIB entPhysicalParentRelPos 1, member 1 ('Ethernet Interface')");
  EXPECT_GT(fake.counters.pdus, bare_pdus);  // the ENTITY walk only when it is served
  // A value of the wrong type: ENTITY-MIB is not used, the note names the object.
  fake.put(oid_cat(mib::entPhysicalParentRelPos, {1003}), Value::octets("3"));
  state = read_common(fake, {});
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_NE(all_notes(state->map).find("ENTITY-MIB not used for front-panel numbers: entPhysicalParentRelPos.1003: "
                                       "OCTET STRING \"3\" where an integer was expected"),
            std::string::npos)
      << all_notes(state->map);
}

// The shared recordings all serve ENTITY-MIB; none of them consistently enough to number by it.
// What each says is checked against the data (see the comments): their ifName numbering stays.
TEST(EntityNumbering, SharedRecordingsAreNumberedByNameWithTheReasonNoted) {
  const std::pair<std::string, std::string> cases[] = {
      // Ports contained in nothing (entPhysicalContainedIn 0), positions in a zig-zag (gi9 at 2).
      {"librenms_linksys-ss_lgs318p", "entPhysicalContainedIn.68424769 = 0: port 'gi1' (ifIndex 49) is in no chassis"},
      // Two fixed modules '1-24,A' and '25-48,A', positions 1..24 on each.
      {"librenms_procurve", "the ports of member 1 sit on carriers of similar size"},
      // The ports' container (entPhysicalIndex 13) has no row: the tree is broken.
      {"snmpsimdata_hpe-procurve-516733-b21", "entPhysicalContainedIn.14 = 13: port 'Port 1' (ifIndex 1) is in no chassis"},
      // No entAliasMappingTable at all.
      {"librenms_edgeswitch_us-8-v2", "entAliasMappingTable maps no entity to an ifIndex"},
  };
  for (const auto& [name, why] : cases) {
    const auto file = kRecordings / (name + ".snmprec");
    if (!std::filesystem::exists(file)) GTEST_SKIP() << file << " missing";
    FakeSnmp fake = FakeSnmp::from_snmprec(file);
    auto state = read_common(fake, {});
    ASSERT_TRUE(state) << name << ": " << state.error().message;
    EXPECT_NE(all_notes(state->map).find("ENTITY-MIB not used for front-panel numbers: " + why), std::string::npos)
        << name << ":\n" << all_notes(state->map);
    for (const auto& p : state->map.ports) EXPECT_EQ(p.numbering.find("ENTITY-MIB"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace picluster::switchctl
