// Parsers for vde_switch's management replies, fed with text captured from vde_switch 2.3.2.
#include <gtest/gtest.h>

#include "lab/shelf/vde_switch.hpp"

namespace picluster::lab {
namespace {

TEST(VdeParse, StatusOnlyReply) {
  auto r = parse_reply("1000 Success\n\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->status_text, "Success");
  EXPECT_TRUE(r->data.empty());
}

TEST(VdeParse, ErrorStatusKeepsText) {
  auto r = parse_reply("1006 No such device or address\n\n");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->status, 1006);
  EXPECT_EQ(r->status_text, "No such device or address");
}

TEST(VdeParse, MissingStatusIsAnError) {
  auto r = parse_reply("0000 DATA END WITH '.'\nVLAN 0000\n.\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("without a status line"), std::string::npos);
}

TEST(VdeParse, VlanAllprint) {
  const std::string raw =
      "0000 DATA END WITH '.'\nVLAN 0000\n -- Port 0024 tagged=0 active=0 status=Learning\n"
      "VLAN 0010\n -- Port 0001 tagged=0 active=0 status=Learning\n"
      " -- Port 0024 tagged=1 active=0 status=Learning\n"
      "VLAN 0131\n -- Port 0001 tagged=1 active=1 status=Forwarding\n.\n1000 Success\n\n";
  auto r = parse_reply(raw);
  ASSERT_TRUE(r);
  const auto vlans = parse_vlan_allprint(r->data);
  ASSERT_EQ(vlans.size(), 3u);
  EXPECT_EQ(vlans[0].vlan, 0);
  EXPECT_EQ(vlans[1].vlan, 10);
  EXPECT_EQ(vlans[1].members, (std::vector<VlanMember>{{1, false}, {24, true}}));
  EXPECT_EQ(vlans[2].vlan, 131);
  EXPECT_EQ(vlans[2].members, (std::vector<VlanMember>{{1, true}}));
}

TEST(VdeParse, HashPrint) {
  const std::vector<std::string> data = {
      "Hash: 0012 Addr: B8:27:EB:00:00:01 VLAN 0010 to port: 001  age 3 secs",
      "Hash: 0099 Addr: 52:54:00:00:00:02 VLAN 0131 to port: 024  age 120 secs",
      "garbage line",
      "Hash: 0001 Addr: nonsense VLAN 0010 to port: 001  age 3 secs"};
  const auto fdb = parse_hash_print(data);
  ASSERT_EQ(fdb.size(), 2u);
  EXPECT_EQ(fdb[0].mac, "b8:27:eb:00:00:01");
  EXPECT_EQ(fdb[0].vlan, 10);
  EXPECT_EQ(fdb[0].port, 1);
  EXPECT_EQ(fdb[0].age_seconds, 3);
  EXPECT_EQ(fdb[1].port, 24);
  EXPECT_EQ(fdb[1].vlan, 131);
}

TEST(VdeParse, MacSyntax) {
  EXPECT_TRUE(is_mac("b8:27:eb:0a:BC:01"));
  EXPECT_FALSE(is_mac("b8:27:eb:0a:bc"));
  EXPECT_FALSE(is_mac("b8-27-eb-0a-bc-01"));
  EXPECT_FALSE(is_mac("b8:27:eb:0a:bc:0g"));
}

}  // namespace
}  // namespace picluster::lab
