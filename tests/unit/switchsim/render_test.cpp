#include "lab/switchsim/mib_render.hpp"

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace picluster::switchsim {
namespace {

using testing::O;

TEST(Render, OidsSortNumericallyColumnByColumn) {
  const SwitchState s = SwitchState::make_default(12);
  const MibMap m = render_mib(s, Knobs{}, Mode::qbridge, {});
  std::vector<Oid> order;
  for (const auto& [oid, value] : m) {
    if (has_prefix(oid, O("1.3.6.1.2.1.2.2.1"))) order.push_back(oid);
  }
  // ifIndex.1 .. ifIndex.12 (9 before 10: numeric, not text order), then ifDescr.1 ...
  ASSERT_GE(order.size(), 13U);
  EXPECT_EQ(order[8], O("1.3.6.1.2.1.2.2.1.1.9"));
  EXPECT_EQ(order[9], O("1.3.6.1.2.1.2.2.1.1.10"));
  EXPECT_EQ(order[12], O("1.3.6.1.2.1.2.2.1.2.1"));
  // A prefix sorts before its extensions, and the system group comes first.
  EXPECT_EQ(m.begin()->first, O("1.3.6.1.2.1.1.1.0"));
}

TEST(Render, NumberingKnobsShowInTheIndexes) {
  Knobs k;
  k.bridge_port_offset = 48;
  k.ifindex_offset = 100;
  k.poe_index = PoeIndex::bridge;
  const MibMap m = render_mib(SwitchState::make_default(2), k, Mode::qbridge, {});
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.17.1.4.1.2.49")), Value::integer(101));  // dot1dBasePortIfIndex
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.31.1.1.1.1.102")), Value::octets("gi2"));
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.17.7.1.4.5.1.1.50")), Value::gauge(1));  // dot1qPvid
  EXPECT_TRUE(m.contains(O("1.3.6.1.2.1.105.1.1.1.3.1.50")));
  // PortLists are in bridge port numbering: ports 49 and 50 are bits 49 and 50.
  const std::string egress = m.at(O("1.3.6.1.2.1.17.7.1.4.3.1.2.1")).bytes;
  ASSERT_EQ(egress.size(), 7U);
  EXPECT_EQ(static_cast<unsigned char>(egress[6]), 0xC0);
}

TEST(Render, PoeFollowsAdminStateAndWhatIsPluggedIn) {
  Knobs k;
  k.ports[1] = PortKnobs{.mac = std::nullopt, .device = true, .external_power = false, .power_mw = 5000, .power_class = 0};
  k.ports[3] = PortKnobs{.mac = std::nullopt, .device = true, .external_power = false, .power_mw = 4000, .power_class = 3};
  SwitchState s = SwitchState::make_default(3);
  s.port(3).poe_enabled = false;
  const MibMap m = render_mib(s, k, Mode::qbridge, {});
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.105.1.1.1.6.1.1")), Value::integer(3));  // deliveringPower
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.105.1.1.1.6.1.2")), Value::integer(2));  // searching
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.105.1.1.1.6.1.3")), Value::integer(1));  // disabled
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.105.1.1.1.10.1.3")), Value::integer(4));  // class3
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.105.1.3.1.1.4.1")), Value::gauge(5));  // 5000 mW total
  EXPECT_EQ(m.at(O("1.3.6.1.4.1.8072.9999.9999.105.1.1.1.1")), Value::gauge(5000));
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.2.2.1.8.1")), Value::integer(1));  // link up
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.2.2.1.8.3")), Value::integer(2));  // unpowered Pi: down
}

TEST(Render, FdbIsIndexedByVlanThenMac) {
  const Mac mac{0xb8, 0x27, 0xeb, 0x01, 0x02, 0x03};
  Knobs k;
  k.bridge_port_offset = 10;
  const MibMap m = render_mib(SwitchState::make_default(4), k, Mode::qbridge, {{2, 1, mac}});
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.17.7.1.2.2.1.2.1.184.39.235.1.2.3")), Value::integer(12));
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.17.4.3.1.2.184.39.235.1.2.3")), Value::integer(12));
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.17.4.3.1.1.184.39.235.1.2.3")).bytes.size(), 6U);
}

// Cisco IOS's per-VLAN BRIDGE-MIB: nothing in the default context, VLAN 10's context lists its
// member ports (same bridge port numbers) and only the MACs learned in VLAN 10.
TEST(Render, BridgeTablesPerVlanServeEachVlansPortsAndMacs) {
  SwitchState s = SwitchState::make_default(4);
  s.vlans[10] = Vlan{"pi01", {1, 4}, {1}, {}, RowStatus::active};
  s.port(1).pvid = 10;
  s.vlans[1].egress.erase(1);
  s.vlans[1].untagged.erase(1);
  Knobs k;
  k.bridge_tables_per_vlan = true;
  k.bridge_port_offset = 10;
  const Mac in10{0xb8, 0x27, 0xeb, 0, 0, 1}, in1{0xdc, 0xa6, 0x32, 0, 0, 2};
  const std::vector<FdbEntry> fdb{{1, 10, in10}, {2, 1, in1}};
  const MibMap m = render_mib(s, k, Mode::qbridge, fdb);
  EXPECT_FALSE(m.contains(O("1.3.6.1.2.1.17.1.4.1.2.11")));
  EXPECT_FALSE(m.contains(O("1.3.6.1.2.1.17.4.3.1.2.184.39.235.0.0.1")));
  const MibMap v10 = render_vlan_bridge(s, k, Mode::qbridge, fdb, 10);
  EXPECT_EQ(v10.at(O("1.3.6.1.2.1.17.1.4.1.2.11")), Value::integer(1));   // port 1: bridge port 11
  EXPECT_EQ(v10.at(O("1.3.6.1.2.1.17.1.4.1.2.14")), Value::integer(4));   // tagged member
  EXPECT_FALSE(v10.contains(O("1.3.6.1.2.1.17.1.4.1.2.12")));
  EXPECT_EQ(v10.at(O("1.3.6.1.2.1.17.4.3.1.2.184.39.235.0.0.1")), Value::integer(11));
  EXPECT_FALSE(v10.contains(O("1.3.6.1.2.1.17.4.3.1.2.220.166.50.0.0.2")));
  const MibMap v1 = render_vlan_bridge(s, k, Mode::qbridge, fdb, 1);
  EXPECT_FALSE(v1.contains(O("1.3.6.1.2.1.17.1.4.1.2.11")));
  EXPECT_EQ(v1.at(O("1.3.6.1.2.1.17.4.3.1.2.220.166.50.0.0.2")), Value::integer(12));
}

TEST(Render, ModesServeTheirOwnMibs) {
  const SwitchState s = SwitchState::make_default(2);
  const MibMap q = render_mib(s, Knobs{}, Mode::qbridge, {});
  const MibMap c = render_mib(s, Knobs{}, Mode::cisco, {});
  EXPECT_TRUE(q.contains(O("1.3.6.1.2.1.17.7.1.4.5.1.1.1")));
  EXPECT_FALSE(c.contains(O("1.3.6.1.2.1.17.7.1.4.5.1.1.1")));
  EXPECT_EQ(c.at(O("1.3.6.1.4.1.9.9.46.1.3.1.1.2.1.1")), Value::integer(1));  // vtpVlanState
  EXPECT_EQ(c.at(O("1.3.6.1.4.1.9.9.68.1.2.2.1.2.2")), Value::integer(1));    // vmVlan
  EXPECT_EQ(c.at(O("1.3.6.1.4.1.9.9.46.1.6.1.1.14.1")), Value::integer(2));   // notTrunking
  EXPECT_FALSE(q.contains(O("1.3.6.1.4.1.9.9.68.1.2.2.1.2.2")));
}

}  // namespace
}  // namespace picluster::switchsim

namespace picluster::switchsim {
namespace {

using testing::O;

// entity_mib: the containment tree picluster numbers by (chassis, ports at their positions, the
// alias to ifIndex); with stack_module_ports a stack of two members and an uplink module.
TEST(Render, EntityMibServesTheContainmentTree) {
  Knobs k;
  k.entity_mib = true;
  k.ifindex_offset = 100;
  k.ifname_generic = true;
  MibMap m = render_mib(SwitchState::make_default(2), k, Mode::qbridge, {});
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.31.1.1.1.1.102")), Value::octets("Ethernet Interface"));
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.1.1.1.5.1")), Value::integer(3));      // chassis
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.1.1.1.5.1002")), Value::integer(10));  // port
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.1.1.1.4.1002")), Value::integer(1));   // in the chassis
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.1.1.1.6.1002")), Value::integer(2));   // front port 2
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.3.2.1.2.1002.0")), Value::object(O("1.3.6.1.2.1.2.2.1.1.102")));
  k = Knobs{};
  k.entity_mib = true;
  k.stack_module_ports = 1;
  m = render_mib(SwitchState::make_default(2), k, Mode::qbridge, {});
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.1.1.1.5.1")), Value::integer(11));    // stack
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.1.1.1.6.3")), Value::integer(2));     // member 2
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.1.1.1.4.1001")), Value::integer(2));  // member 1's port
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.1.1.1.4.1501")), Value::integer(4));  // te1/0/1 on the module
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.1.1.1.7.1501")), Value::octets("te1/0/1"));
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.3.2.1.2.1501.0")), Value::object(O("1.3.6.1.2.1.2.2.1.1.1001")));
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.1.1.1.4.2002")), Value::integer(3));  // gi2/0/2 on member 2
  EXPECT_EQ(m.at(O("1.3.6.1.2.1.47.1.1.1.1.6.2002")), Value::integer(2));
}

}  // namespace
}  // namespace picluster::switchsim
