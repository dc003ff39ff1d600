// The forwarding database: Q-BRIDGE's dot1qTpFdbTable, and BRIDGE-MIB's dot1dTpFdbTable as the
// fallback when the former is empty.
#include <gtest/gtest.h>

#include "fake_snmp.hpp"
#include "shelf_fixture.hpp"
#include "switchctl/controller.hpp"
#include "switchctl/mib.hpp"

namespace picluster::switchctl {
namespace {

using testing::FakeClock;
using testing::FakeSnmp;

using testing::Rig;

// Only BRIDGE-MIB's dot1dTpFdbTable (index: the MAC) is served, as on switches without
// dot1qTpFdbTable: learned MACs still map to front-panel ports.
TEST(Fdb, FallsBackToDot1dTpFdbTable) {
  Rig rig;
  rig.fake = testing::fresh_qbridge(24, 100);  // bridge port = front-panel port + 100
  auto learn = [&](const char* mac, int bridge_port) {
    Oid o = mib::dot1dTpFdbPort;
    for (auto b : inventory::Mac::parse(mac)->bytes) o.push_back(b);
    rig.fake.put(o, Value::integer(bridge_port));
  };
  learn("dc:a6:32:01:02:03", 112);
  learn("b8:27:eb:00:00:01", 101);
  learn("00:11:22:33:44:55", 999);  // a bridge port the map does not know
  auto c = rig.make();
  auto d = c.discover();
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->learned.size(), 3u);
  std::map<std::string, int> port_of;
  for (const auto& l : d->learned) port_of[format_mac(l.mac)] = l.port;
  EXPECT_EQ(port_of["dc:a6:32:01:02:03"], 12);
  EXPECT_EQ(port_of["b8:27:eb:00:00:01"], 1);
  EXPECT_EQ(port_of["00:11:22:33:44:55"], 0);
  ASSERT_EQ(d->unknown_pis.size(), 1u);
  EXPECT_EQ(d->unknown_pis[0].port, 12);
  auto rows = c.port_status();
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ((*rows)[0].macs, std::vector<std::string>{"b8:27:eb:00:00:01"});
}

TEST(Fdb, QBridgeTableWinsWhenBothAreServed) {
  Rig rig;
  Oid q = oid_cat(mib::dot1qTpFdbPort, {1});
  Oid d = mib::dot1dTpFdbPort;
  for (auto b : inventory::Mac::parse("b8:27:eb:00:00:05")->bytes) q.push_back(b), d.push_back(b);
  rig.fake.put(q, Value::integer(5));
  rig.fake.put(d, Value::integer(6));
  auto learned = read_fdb(rig.fake, read_common(rig.fake, {})->map);
  ASSERT_TRUE(learned);
  ASSERT_EQ(learned->size(), 1u);
  EXPECT_EQ((*learned)[0].port, 5);
}

TEST(Fdb, ShowListsAMacLearnedInSeveralVlansOncePerPort) {
  Rig rig;
  for (std::uint32_t fdb_id : {1u, 10u, 131u}) {
    Oid o = oid_cat(mib::dot1qTpFdbPort, {fdb_id});
    for (auto b : inventory::Mac::parse("b8:27:eb:00:00:05")->bytes) o.push_back(b);
    rig.fake.put(o, Value::integer(5));
  }
  auto c = rig.make();
  auto rows = c.port_status();
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ((*rows)[4].macs, std::vector<std::string>{"b8:27:eb:00:00:05"});
}

}  // namespace
}  // namespace picluster::switchctl
