// Cisco IOS's per-VLAN BRIDGE-MIB (community@VLAN) over the fake: the default context serves
// neither dot1dBasePortIfIndex nor dot1dTpFdbTable; each VLAN's context serves its member ports
// and the MACs learned in it.
#include "switchctl/vlan_bridge.hpp"

#include <gtest/gtest.h>

#include "fake_snmp.hpp"
#include "shelf_fixture.hpp"
#include "switchctl/controller.hpp"
#include "switchctl/mib.hpp"

namespace picluster::switchctl {
namespace {

using testing::FakeSnmp;
using testing::Rig;

Oid fdb_oid(const char* mac) {
  Oid o = mib::dot1dTpFdbPort;
  for (auto b : inventory::Mac::parse(mac)->bytes) o.push_back(b);
  return o;
}

// A VLAN context with the given front ports as members (bridge port = front port, ifIndex =
// front port + 100, as fresh_cisco numbers them) and MAC -> front port learned in it.
std::shared_ptr<FakeSnmp> context(const std::vector<int>& ports,
                                  const std::vector<std::pair<const char*, int>>& learned) {
  auto f = std::make_shared<FakeSnmp>();
  for (const int p : ports)
    f->put(oid_cat(mib::dot1dBasePortIfIndex, {static_cast<std::uint32_t>(p)}),
           Value::integer(p + 100));
  for (const auto& [mac, port] : learned) f->put(fdb_oid(mac), Value::integer(port));
  return f;
}

// An IOS switch: no port table nor FDB in the default context; VLANs 1, 10, 11 and a foreign
// 300 listed by VTP, each with its own context. pi01 (port 1) is in VLAN 10, pi02 (port 2) in 11.
struct IosRig : Rig {
  IosRig() : Rig(2) {
    fake = testing::fresh_cisco(24);
    std::erase_if(fake.data, [](const auto& kv) {
      return oid_starts_with(kv.first, mib::dot1dBasePortIfIndex);
    });
    shelf.switch_.profile = "cisco";
    for (std::uint32_t v : {10u, 11u, 300u})
      fake.put(oid_cat(mib::vtpVlanState, {1, v}), Value::integer(1));
    std::vector<int> vlan1;
    for (int p = 3; p <= 24; ++p) vlan1.push_back(p);
    fake.contexts[1] = context(vlan1, {{"dc:a6:32:00:00:0c", 12}, {"00:11:22:33:44:55", 5}});
    fake.contexts[10] = context({1, 24}, {{"b8:27:eb:00:00:01", 1}, {"00:11:22:33:44:55", 5}});
    fake.contexts[11] = context({2, 24}, {{"b8:27:eb:00:00:02", 2}});
    fake.contexts[300] = context({20}, {{"e4:5f:01:00:00:14", 20}});
    fake.contexts[10]->put(oid_cat(mib::dot1dBasePortIfIndex, {5}), Value::integer(105));
  }
};

TEST(VlanBridge, PortMapIsReadPerVlanAndTheNoteSaysSo) {
  IosRig rig;
  auto c = rig.make();
  auto state = c.read_state();
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->map.by_port(1)->bridge_port, 1);
  EXPECT_EQ(state->map.by_port(2)->bridge_port, 2);
  EXPECT_EQ(state->map.by_port(24)->bridge_port, 24);
  EXPECT_EQ(state->map.by_port(5)->if_index, 105);
  std::string notes;
  for (const auto& n : state->map.notes) notes += n + "\n";
  EXPECT_NE(
      notes.find("dot1dBasePortIfIndex is not served in the default context; read it per VLAN with "
                 "community@VLAN for VLANs 1, 10, 11 (Cisco IOS)"),
      std::string::npos)
      << notes;
  // The shelf's VLANs only (1, the storage VLANs; the public VLAN 131 is not on the switch).
  EXPECT_EQ(std::set<int>(rig.fake.context_requests.begin(), rig.fake.context_requests.end()),
            (std::set<int>{1, 10, 11}));
}

TEST(VlanBridge, DiscoverReadsEveryVlanAndListsAMacOncePerPortWithItsVlans) {
  IosRig rig;
  auto c = rig.make();
  auto d = c.discover();
  ASSERT_TRUE(d) << d.error().message;
  std::map<std::string, LearnedMac> by_mac;
  for (const auto& l : d->learned) {
    EXPECT_FALSE(by_mac.contains(format_mac(l.mac))) << format_mac(l.mac) << " listed twice";
    by_mac[format_mac(l.mac)] = l;
  }
  ASSERT_EQ(by_mac.size(), 5u);
  EXPECT_EQ(by_mac["b8:27:eb:00:00:01"].port, 1);
  EXPECT_EQ(by_mac["b8:27:eb:00:00:01"].vlans, std::set<int>{10});
  EXPECT_EQ(by_mac["00:11:22:33:44:55"].port, 5);
  EXPECT_EQ(by_mac["00:11:22:33:44:55"].vlans, (std::set<int>{1, 10}));
  EXPECT_EQ(by_mac["e4:5f:01:00:00:14"].port, 20);  // VLAN 300: not the inventory's, still read
  ASSERT_EQ(d->unknown_pis.size(), 2u);
  EXPECT_EQ(d->unknown_pis[0].port, 12);
  EXPECT_EQ(d->unknown_pis[1].port, 20);
}

TEST(VlanBridge, PowerOffChecksTheLearnedMacInThePisVlan) {
  IosRig rig;
  auto c = rig.make();
  ASSERT_TRUE(c.check_power_targets({"pi01", "pi02"}, PowerAction::off));
  // pi02's MAC learned on another port in its VLAN: refused, nothing sent.
  rig.fake.contexts[11] = context({2, 7, 24}, {{"b8:27:eb:00:00:02", 7}});
  auto r = c.check_power_targets({"pi01", "pi02"}, PowerAction::off);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("pi02: pi02's MAC b8:27:eb:00:00:02 is learned on port 7"),
            std::string::npos)
      << r.error().message;
  EXPECT_TRUE(rig.fake.sets.empty());
}

TEST(VlanBridge, WhenNoContextAnswersBothAttemptsAreNamed) {
  IosRig rig;
  rig.fake.contexts.clear();
  rig.fake.contexts[4000] = std::make_shared<FakeSnmp>();  // contexts addressable, none of ours
  auto c = rig.make();
  auto state = c.read_state();
  ASSERT_TRUE(state) << state.error().message;
  std::string notes;
  for (const auto& n : state->map.notes) notes += n + "\n";
  EXPECT_NE(
      notes.find("dot1dBasePortIfIndex is not served in the default context, nor per VLAN with "
                 "community@VLAN for VLANs 1 (VLAN 1: no response (timeout))"),
      std::string::npos)
      << notes;
  // One timeout ends the round: the switch does not answer community@VLAN.
  EXPECT_EQ(std::set<int>(rig.fake.context_requests.begin(), rig.fake.context_requests.end()),
            std::set<int>{1});
  rig.fake.unimplemented = {mib::dot1dTpFdbPort, mib::dot1qTpFdbPort};
  auto d = c.discover();
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("no forwarding table could be read"), std::string::npos)
      << d.error().message;
  EXPECT_NE(d.error().message.find("GET dot1dTpFdbPort.0.0.0.0.0.0: noSuchObject"),
            std::string::npos)
      << d.error().message;
  EXPECT_NE(d.error().message.find(
                "walked dot1dTpFdbPort per VLAN with community@VLAN: no VLAN context answered "
                "(VLAN 1: no response (timeout))"),
            std::string::npos)
      << d.error().message;
}

TEST(VlanBridge, QBridgeProfileTriesPerVlanOnlyOnACiscoSysObjectId) {
  IosRig rig;
  rig.shelf.switch_.profile = "qbridge";
  rig.fake.put(Oid{1, 3, 6, 1, 2, 1, 1, 2, 0},
               Value{ValueType::object_id, 0, {}, {1, 3, 6, 1, 4, 1, 8072, 3}});
  auto state = read_shelf_ports(rig.fake, rig.shelf);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_TRUE(rig.fake.context_requests.empty());
  EXPECT_FALSE(state->map.per_vlan_tried);
  rig.fake.put(Oid{1, 3, 6, 1, 2, 1, 1, 2, 0},
               Value{ValueType::object_id, 0, {}, {1, 3, 6, 1, 4, 1, 9, 1, 516}});
  state = read_shelf_ports(rig.fake, rig.shelf);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->map.by_port(1)->bridge_port, 1);
  EXPECT_EQ(state->map.vlan_bridge_ports.size(), 3u);
}

}  // namespace
}  // namespace picluster::switchctl
