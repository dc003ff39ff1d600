// Port maps from real recordings (read as data files) and from the inventory's overrides.
#include <gtest/gtest.h>

#include "tests/support/shared_data.hpp"

#include "fake_snmp.hpp"
#include "switchctl/profile.hpp"

namespace picluster::switchctl {
namespace {

using testing::FakeSnmp;

const std::filesystem::path kRecordings = picluster::testing::snmp_recordings_dir();

// Reads "OID|type|value" lines under prefix straight from the file: index -> value text.
std::map<int, std::string> column(const std::filesystem::path& file, const std::string& prefix) {
  std::map<int, std::string> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix + ".", 0) != 0) continue;
    const auto a = line.find('|'), b = line.find('|', a + 1);
    const std::string index = line.substr(prefix.size() + 1, a - prefix.size() - 1);
    if (index.find('.') != std::string::npos) continue;
    out[std::stoi(index)] = line.substr(b + 1);
  }
  return out;
}

TEST(TrailingNumber, ParsesCommonInterfaceNames) {
  EXPECT_EQ(trailing_number("gi5"), 5);
  EXPECT_EQ(trailing_number("1/5"), 5);
  EXPECT_EQ(trailing_number("1/0/17"), 17);
  EXPECT_EQ(trailing_number("Port 5"), 5);
  EXPECT_EQ(trailing_number("24"), 24);
  EXPECT_EQ(trailing_number("GigabitEthernet0/12"), 12);
  EXPECT_EQ(trailing_number("CPU"), std::nullopt);
}

TEST(PortMap, LinksysBridgePortsAreNotFrontPanelNumbers) {
  const auto file = kRecordings / "librenms_linksys-ss_lgs318p.snmprec";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << file << " missing";
  FakeSnmp fake = FakeSnmp::from_snmprec(file);
  auto state = read_common(fake, {});
  ASSERT_TRUE(state) << state.error().message;
  const auto if_index = column(file, "1.3.6.1.2.1.17.1.4.1.2");
  const auto if_name = column(file, "1.3.6.1.2.1.31.1.1.1.1");
  int physical = 0;
  for (const auto& [bridge_port, ifi] : if_index) {
    const std::string name = if_name.at(std::stoi(ifi));
    if (name.rfind("gi", 0) != 0) continue;  // Po1..Po4 are LAGs
    ++physical;
    const PortEntry* p = state->map.by_bridge_port(bridge_port);
    ASSERT_NE(p, nullptr) << "bridge port " << bridge_port;
    EXPECT_EQ(p->port, std::stoi(name.substr(2)));
    EXPECT_EQ(p->if_name, name);
  }
  EXPECT_EQ(static_cast<int>(state->map.ports.size()), physical);
  // PoE rows are indexed 1.<ifIndex> in this recording; every physical port has one.
  const PortEntry* first = state->map.by_port(1);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->poe_group, 1);
  EXPECT_EQ(first->poe_port, first->if_index);
  EXPECT_NE(first->bridge_port, 1);
}

TEST(PortMap, EdgeSwitchLeavesOutLagsNamedLikePorts) {
  const auto file = kRecordings / "librenms_edgeswitch_us-8-v2.snmprec";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << file << " missing";
  FakeSnmp fake = FakeSnmp::from_snmprec(file);
  auto state = read_common(fake, {});
  ASSERT_TRUE(state) << state.error().message;
  const auto types = column(file, "1.3.6.1.2.1.2.2.1.3");
  const auto if_index = column(file, "1.3.6.1.2.1.17.1.4.1.2");
  int ethernet = 0;
  for (const auto& [bp, ifi] : if_index) ethernet += types.at(std::stoi(ifi)) == "6" ? 1 : 0;
  EXPECT_EQ(static_cast<int>(state->map.ports.size()), ethernet);
  EXPECT_EQ(state->map.poe_indexing, "");
}

TEST(PortMap, OddNumberingAndOverrides) {
  FakeSnmp fake = testing::fresh_qbridge(8, 100);
  std::map<int, inventory::PortMapOverride> overrides;
  overrides[3].bridge_port = 7;
  overrides[3].poe_port = 42;
  auto state = read_common(fake, overrides);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->map.by_port(5)->bridge_port, 105);
  EXPECT_EQ(state->map.by_port(5)->if_index, 105);
  EXPECT_EQ(state->map.poe_indexing, "front-panel port");
  EXPECT_EQ(state->map.by_port(3)->bridge_port, 7);
  EXPECT_EQ(state->map.by_port(3)->poe_port, 42);
  EXPECT_EQ(state->map.by_port(3)->if_index, 103);
}

TEST(PortMap, TwoPortsWithTheSameNumberIsAnErrorNamingBoth) {
  PortMapTables t;
  t.base_port_if_index = {{1, 1}, {2, 2}};
  t.if_name = {{1, "1/1"}, {2, "2/1"}};
  auto map = build_port_map(t, {});
  ASSERT_FALSE(map);
  EXPECT_NE(map.error().message.find("bridge ports 1 and 2 both look like front-panel port 1"), std::string::npos)
      << map.error().message;
  EXPECT_NE(map.error().message.find("switch.port_map"), std::string::npos);
}

TEST(PortMap, ProcurveModulePortsGiveWayToTheFrontPanelPortNamedByNumber) {
  const auto file = kRecordings / "librenms_procurve.snmprec";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << file << " missing";
  FakeSnmp fake = FakeSnmp::from_snmprec(file);
  auto state = read_common(fake, {});
  ASSERT_TRUE(state) << state.error().message;
  // Bridge ports 1-48 are ifName "1".."48"; 57 and 58 are module ports "A3", "A4"; 962 is a LAG.
  ASSERT_EQ(state->map.ports.size(), 48u);
  const PortEntry* three = state->map.by_port(3);
  ASSERT_NE(three, nullptr);
  EXPECT_EQ(three->bridge_port, 3);
  EXPECT_EQ(three->if_name, "3");
  EXPECT_EQ(state->map.by_bridge_port(57), nullptr);
  EXPECT_EQ(state->map.by_bridge_port(962), nullptr);
}

TEST(PortMap, AnOverrideSettlesAClashBeforeNumbering) {
  PortMapTables t;
  t.base_port_if_index = {{1, 11}, {2, 12}};
  t.if_name = {{11, "1/1"}, {12, "2/1"}};
  std::map<int, inventory::PortMapOverride> overrides;
  overrides[1].bridge_port = 2;
  auto map = build_port_map(t, overrides);
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_EQ(map->ports.size(), 1u);
  EXPECT_EQ(map->ports[0].port, 1);
  EXPECT_EQ(map->ports[0].bridge_port, 2);
  EXPECT_EQ(map->ports[0].if_index, 12);
  EXPECT_EQ(map->ports[0].if_name, "2/1");
}

TEST(PortMap, AnOverrideCanMoveAModulePortToItsOwnNumber) {
  PortMapTables t;
  t.base_port_if_index = {{3, 3}, {57, 57}};
  t.if_name = {{3, "3"}, {57, "A3"}};
  std::map<int, inventory::PortMapOverride> overrides;
  overrides[51].bridge_port = 57;
  auto map = build_port_map(t, overrides);
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_EQ(map->ports.size(), 2u);
  EXPECT_EQ(map->by_port(3)->bridge_port, 3);
  EXPECT_EQ(map->by_port(51)->bridge_port, 57);
  EXPECT_EQ(map->by_port(51)->if_name, "A3");
}

// swp00..swp11: the names start at 0, the front panel at 1 (issue 12).
TEST(PortMap, NamesFromZeroAreShiftedToTheFrontPanel) {
  PortMapTables t;
  for (int i = 0; i < 12; ++i) {
    t.base_port_if_index[i + 1] = 100 + i;
    t.if_name[100 + i] = (i < 10 ? "swp0" : "swp") + std::to_string(i);
  }
  auto map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_EQ(map->ports.size(), 12u);
  EXPECT_EQ(map->by_port(0), nullptr);
  EXPECT_EQ(map->by_port(1)->if_name, "swp00");
  EXPECT_EQ(map->by_port(1)->bridge_port, 1);
  EXPECT_EQ(map->by_port(12)->if_name, "swp11");
  EXPECT_EQ(map->by_port(1)->numbering, "ifName 'swp00' + 1 (names start at 0)");
  ASSERT_FALSE(map->notes.empty());
  EXPECT_NE(map->notes[0].find("'swp0' is front-panel port 1"), std::string::npos) << map->notes[0];
}

// gi1/0/N front ports, te1/0/1-2 module ports and a phantom unit 2: no clash, unit 1 numbered,
// the rest left out and still addressable by name in switch.port_map.
TEST(PortMap, StackUnitsAndModulePortsAreLeftOutButAddressableByName) {
  PortMapTables t;
  for (int f = 1; f <= 8; ++f) {
    t.base_port_if_index[f] = f;
    t.if_name[f] = "gi1/0/" + std::to_string(f);
    t.base_port_if_index[100 + f] = 100 + f;
    t.if_name[100 + f] = "gi2/0/" + std::to_string(f);
  }
  t.base_port_if_index[9] = 51;
  t.if_name[51] = "te1/0/1";
  t.base_port_if_index[10] = 52;
  t.if_name[52] = "te1/0/2";
  auto map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_EQ(map->ports.size(), 8u);
  EXPECT_EQ(map->by_port(2)->if_name, "gi1/0/2");
  EXPECT_EQ(map->left_out.size(), 10u);
  std::map<int, inventory::PortMapOverride> overrides;
  overrides[9].extra["if_name"] = "te1/0/1";
  map = build_port_map(t, overrides);
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_NE(map->by_port(9), nullptr);
  EXPECT_EQ(map->by_port(9)->if_name, "te1/0/1");
  EXPECT_EQ(map->by_port(9)->bridge_port, 9);
  EXPECT_EQ(map->by_port(9)->numbering, "switch.port_map in the inventory");
  EXPECT_EQ(map->left_out.size(), 9u);
  // switch.stack_member picks the other unit.
  t.stack_member = 2;
  map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_EQ(map->by_port(2)->if_name, "gi2/0/2");
  EXPECT_EQ(map->by_port(2)->bridge_port, 102);
}

// fileserver.trunk_port given as an interface name: the trunk sits at port_count + 1 on the module
// port of that name; a name the switch does not list is an inventory error naming the field.
TEST(PortMap, ATrunkPortNamedByInterfaceIsMappedOrNamedAsMissing) {
  PortMapTables t;
  for (int f = 1; f <= 8; ++f) {
    t.base_port_if_index[f] = f;
    t.if_name[f] = "gi1/0/" + std::to_string(f);
  }
  t.base_port_if_index[9] = 51;
  t.if_name[51] = "te1/0/1";
  inventory::Shelf shelf = inventory::make_default("shelf1").shelves.at(0);
  shelf.switch_.port_count = 8;
  shelf.fileserver.trunk_port_name = "te1/0/1";
  shelf.fileserver.trunk_port = 9;
  auto map = build_port_map(t, port_overrides(shelf));
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_NE(map->by_port(9), nullptr);
  EXPECT_EQ(map->by_port(9)->if_name, "te1/0/1");
  EXPECT_EQ(map->by_port(9)->bridge_port, 9);
  EXPECT_EQ(map->by_port(9)->numbering, "fileserver.trunk_port 'te1/0/1' in the inventory");
  EXPECT_EQ(map->by_port(8)->if_name, "gi1/0/8");
  shelf.fileserver.trunk_port_name = "te1/0/9";
  map = build_port_map(t, port_overrides(shelf));
  ASSERT_FALSE(map);
  EXPECT_EQ(map.error().code, ErrorCode::invalid_inventory);
  EXPECT_EQ(map.error().message,
            "fileserver: trunk_port: 'te1/0/9' is not an interface of the switch (no ifName is 'te1/0/9'; "
            "interfaces kept out of the front-panel numbering: te1/0/1)");
  // The same for a port_map entry naming an interface.
  shelf.fileserver.trunk_port_name.clear();
  shelf.switch_.port_map[7].extra["if_name"] = "gi9/9/9";
  map = build_port_map(t, port_overrides(shelf));
  ASSERT_FALSE(map);
  EXPECT_NE(map.error().message.find("switch.port_map: 7: if_name: 'gi9/9/9' is not an interface of the switch"),
            std::string::npos)
      << map.error().message;
}

// LLDP-MIB's local port table names ge-0/0/00 as lldpLocPortNum 1: the switch's own numbering
// wins over the name heuristics (which would take "0/0/00" for stack unit 0 and leave it out);
// an interface the table does not name is left out.
TEST(PortMap, TheLldpLocalPortTableNumbersThePorts) {
  PortMapTables t;
  for (int f = 1; f <= 8; ++f) {
    t.base_port_if_index[f] = 500 + f;
    t.if_name[500 + f] = "ge-0/0/0" + std::to_string(f - 1);
    t.lldp_ports[f] = LldpLocalPort{5, "ge-0/0/0" + std::to_string(f - 1), "ge-0/0/0" + std::to_string(f - 1)};
  }
  t.base_port_if_index[9] = 600;
  t.if_name[600] = "em0";  // management, not in the LLDP table
  auto map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_EQ(map->ports.size(), 8u);
  EXPECT_EQ(map->by_port(1)->if_name, "ge-0/0/00");
  EXPECT_EQ(map->by_port(1)->bridge_port, 1);
  EXPECT_EQ(map->by_port(8)->if_name, "ge-0/0/07");
  EXPECT_EQ(map->by_port(1)->numbering, "LLDP-MIB lldpLocPortNum 1 ('ge-0/0/00')");
  ASSERT_EQ(map->left_out.size(), 1u);
  EXPECT_EQ(map->left_out[0].if_name, "em0");
  // Without the table the same names are all taken for another stack unit: nothing is numbered.
  t.lldp_ports.clear();
  t.base_port_if_index.erase(9);
  t.if_name.erase(600);
  map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_EQ(map->by_port(1), nullptr);
}

// lldpLocPortNum that are ifIndexes (Linksys: 49..) are no front-panel numbers: ignored, noted.
TEST(PortMap, LldpNumbersThatDoNotStartAtOneAreIgnored) {
  PortMapTables t;
  for (int f = 1; f <= 4; ++f) {
    t.base_port_if_index[f] = 48 + f;
    t.if_name[48 + f] = "gi" + std::to_string(f);
    t.lldp_ports[48 + f] = LldpLocalPort{7, "gi" + std::to_string(f), ""};
  }
  auto map = build_port_map(t, {});
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_EQ(map->by_port(3)->if_name, "gi3");
  EXPECT_EQ(map->by_port(3)->numbering, "ifName 'gi3'");
  ASSERT_FALSE(map->notes.empty());
  EXPECT_EQ(map->notes[0], "LLDP-MIB local port numbers (lldpLocPortNum 49-52) do not start at 1: not front-panel "
                           "numbers; numbered by ifName");
}

}  // namespace
}  // namespace picluster::switchctl
