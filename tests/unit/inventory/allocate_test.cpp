#include <gtest/gtest.h>

#include "inventory/inventory.hpp"
#include "inventory/vlans.hpp"
#include "tests/unit/inventory/test_util.hpp"

namespace picluster::inventory {
namespace {

PiRequest req(std::string name, int port) { return PiRequest{std::move(name), port, PiModel::pi3, {}, {}}; }

TEST(Allocate, ReproducesTheSeedScheme) {
  auto inv = testing::seed_inventory(2);
  const auto& pi01 = inv.shelves[0].pis[0];
  EXPECT_EQ(pi01.vlan, 10);
  EXPECT_EQ(pi01.storage.network.str(), "172.30.0.0");
  EXPECT_EQ(pi01.storage.fileserver.str(), "172.30.0.1");
  EXPECT_EQ(pi01.storage.pi.str(), "172.30.0.2");
  EXPECT_EQ(pi01.storage.broadcast.str(), "172.30.0.3");
  EXPECT_EQ(pi01.ipv6.str(), "2a00:1098:0:84:1000:1::2");
  const auto& pi02 = inv.shelves[0].pis[1];
  EXPECT_EQ(pi02.vlan, 11);
  EXPECT_EQ(pi02.storage.network.str(), "172.30.0.4");
  EXPECT_EQ(pi02.ipv6.str(), "2a00:1098:0:84:1000:2::2");
}

TEST(Allocate, Pi09OnPort9) {
  auto inv = testing::seed_inventory(0);
  auto pi = add_pi(inv.shelves[0], req("pi09", 9));
  ASSERT_TRUE(pi) << pi.error().message;
  EXPECT_EQ(pi->vlan, 18);
  EXPECT_EQ(pi->storage.network.str(), "172.30.0.32");
  EXPECT_EQ(pi->ipv6.str(), "2a00:1098:0:84:1000:9::2");
}

TEST(Allocate, StableWhenOthersComeAndGo) {
  auto inv = testing::seed_inventory(8);
  auto& shelf = inv.shelves[0];
  const Pi before = *shelf.find_pi("pi05");
  ASSERT_TRUE(remove_pi(shelf, "pi03"));
  ASSERT_TRUE(remove_pi(shelf, "pi01"));
  ASSERT_TRUE(add_pi(shelf, req("pi20", 20)));
  ASSERT_TRUE(add_pi(shelf, req("pi21", 3)));  // takes pi03's old port and its slots
  const Pi after = *shelf.find_pi("pi05");
  EXPECT_EQ(after.vlan, before.vlan);
  EXPECT_EQ(after.storage.network, before.storage.network);
  EXPECT_EQ(after.ipv6, before.ipv6);
  EXPECT_EQ(shelf.find_pi("pi21")->vlan, 12);
  EXPECT_TRUE(validate(inv));
}

TEST(Allocate, FallbackAvoidsTheSlotsOfOtherPorts) {
  auto inv = testing::seed_inventory(2);
  auto& shelf = inv.shelves[0];
  // pi02 moved to port 5 by hand: it keeps VLAN 11, so a Pi on port 2 needs another slot. VLAN 12
  // (port 3's) would push the Pi later added on port 3 off the scheme; the first slot past the
  // switch's 24 ports is taken instead.
  shelf.find_pi("pi02")->port = 5;
  auto pi = add_pi(shelf, req("pi22", 2));
  ASSERT_TRUE(pi) << pi.error().message;
  EXPECT_EQ(pi->vlan, 34);
  EXPECT_EQ(pi->storage.network.str(), "172.30.0.96");
  EXPECT_EQ(pi->ipv6.str(), "2a00:1098:0:84:1000:19::2");
  auto pi03 = add_pi(shelf, req("pi03", 3));
  ASSERT_TRUE(pi03) << pi03.error().message;
  EXPECT_EQ(pi03->vlan, 12);
  EXPECT_EQ(pi03->storage.network.str(), "172.30.0.8");
  EXPECT_TRUE(validate(inv));
}

TEST(Allocate, PortWhoseVlanIsThePublicOneDoesNotShiftTheOthers) {
  auto inv = testing::seed_inventory(0);
  auto& shelf = inv.shelves[0];
  shelf.switch_.port_count = 200;
  // Port 122's natural VLAN is 9 + 122 = 131, the public VLAN.
  auto odd = add_pi(shelf, req("pi122", 122));
  ASSERT_TRUE(odd) << odd.error().message;
  EXPECT_EQ(odd->vlan, 210);  // past the 200 ports' VLANs 10-209, not port 1's VLAN 10
  EXPECT_EQ(odd->storage.network.str(), "172.30.1.228");  // its own /30 is free: the 122nd
  for (const int port : {1, 2, 121, 123, 200}) {
    auto p = add_pi(shelf, req("pi" + std::to_string(port), port));
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->vlan, 9 + port) << "port " << port;
  }
  EXPECT_EQ(shelf.find_pi("pi122")->vlan, 210);  // stored allocations never move
  EXPECT_TRUE(validate(inv));
}

TEST(Allocate, TakesAnotherPortsSlotOnlyWhenNothingElseIsFree) {
  auto inv = testing::seed_inventory(0);
  auto& shelf = inv.shelves[0];
  shelf.storage.vlan_first = 10;
  shelf.storage.vlan_last = 33;  // exactly the 24 ports' VLANs
  shelf.public_net.vlan = 12;    // port 3's
  auto p3 = add_pi(shelf, req("pi03", 3));
  ASSERT_TRUE(p3) << p3.error().message;
  EXPECT_EQ(p3->vlan, 33);  // the trunk port's (24) VLAN: no Pi can want it
  auto p5 = add_pi(shelf, req("pi05", 5));
  ASSERT_TRUE(p5);
  EXPECT_EQ(p5->vlan, 14);
  shelf.find_pi("pi05")->port = 6;  // moved by hand; port 5's VLAN stays taken
  auto again = add_pi(shelf, req("pi55", 5));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->vlan, 10);  // nothing else left: the lowest free
}

TEST(Allocate, SkipsThePublicVlan) {
  auto inv = testing::seed_inventory(0);
  auto& shelf = inv.shelves[0];
  shelf.storage.vlan_first = 130;
  shelf.storage.vlan_last = 132;
  ASSERT_EQ(add_pi(shelf, req("a", 1))->vlan, 130);
  ASSERT_EQ(add_pi(shelf, req("b", 2))->vlan, 132);  // 131 is the public VLAN
  const auto full = add_pi(shelf, req("c", 3));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().message,
            "shelf \"shelf1\": pi \"c\": storage: vlan_range [130, 132] is exhausted");
}

// fileserver.trunk_native_vlan is carried untagged on the fileserver's trunk: no Pi may get it
// (port 4's natural VLAN 13 went to pi04, which the inventory check then refuses).
TEST(Allocate, SkipsTheTrunksNativeVlan) {
  auto inv = testing::seed_inventory(3);
  auto& shelf = inv.shelves[0];
  shelf.switch_.profile = "cisco";
  shelf.fileserver.extra["trunk_native_vlan"] = 13;
  const auto added = add_pi(shelf, req("pi04", 4));
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_NE(added->vlan, 13);
  EXPECT_TRUE(validate(inv)) << validate(inv).error().message;
  const auto wanted = pick_new_vlan(shelf, "pi04", 13, {});
  ASSERT_FALSE(wanted);
  EXPECT_EQ(wanted.error().message,
            "shelf \"shelf1\": pi \"pi04\": VLAN 13 cannot be used: it is fileserver.trunk_native_vlan");
}

TEST(Allocate, ExhaustedPool) {
  auto inv = testing::seed_inventory(0);
  auto& shelf = inv.shelves[0];
  shelf.storage.pool = *Ipv4Net::parse("172.30.0.0/29");  // two /30s
  ASSERT_TRUE(add_pi(shelf, req("a", 1)));
  ASSERT_TRUE(add_pi(shelf, req("b", 2)));
  const auto full = add_pi(shelf, req("c", 3));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().message, "shelf \"shelf1\": pi \"c\": storage: pool 172.30.0.0/29 is exhausted");
  EXPECT_EQ(shelf.pis.size(), 2U);
}

TEST(Allocate, RefusesBadRequestsAndChangesNothing) {
  auto inv = testing::seed_inventory(1);
  auto& shelf = inv.shelves[0];
  const auto expect_refused = [&](PiRequest r, const std::string& message) {
    const auto result = add_pi(shelf, r);
    ASSERT_FALSE(result) << r.name;
    EXPECT_EQ(result.error().message, message);
    EXPECT_EQ(shelf.pis.size(), 1U);
  };
  expect_refused(req("pi01", 2), "shelf \"shelf1\": pi \"pi01\": name: already in the inventory");
  expect_refused(req("pi02", 1), "shelf \"shelf1\": pi \"pi02\": port: 1 is already used by pi \"pi01\"");
  expect_refused(req("pi02", 24), "shelf \"shelf1\": pi \"pi02\": port: 24 is the fileserver's trunk port");
  expect_refused(req("pi02", 0), "shelf \"shelf1\": pi \"pi02\": port: 0 is outside the switch's ports 1-24");
  expect_refused(req("pi 02", 2),
                 "shelf \"shelf1\": name: \"pi 02\" is not a host name (RFC 1123 label: a-z, 0-9, '-', at most 63)");
  expect_refused(req("a/../b", 2),
                 "shelf \"shelf1\": name: \"a/../b\" is not a host name (RFC 1123 label: a-z, 0-9, '-', at most 63)");
}

}  // namespace
}  // namespace picluster::inventory
