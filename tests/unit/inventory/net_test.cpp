#include "inventory/net.hpp"

#include <gtest/gtest.h>

namespace picluster::inventory {
namespace {

TEST(Ipv4, ParsesAndPrints) {
  ASSERT_TRUE(Ipv4::parse("172.30.0.1"));
  EXPECT_EQ(Ipv4::parse("172.30.0.1")->str(), "172.30.0.1");
  EXPECT_EQ(Ipv4::parse("0.0.0.0")->value, 0U);
  EXPECT_EQ(Ipv4::parse("255.255.255.255")->value, 0xffffffffU);
}

TEST(Ipv4, RejectsMalformed) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "a.b.c.d",
                          "1.2.3.4 ", " 1.2.3.4", "1..3.4", "1.2.3.4/30"}) {
    EXPECT_FALSE(Ipv4::parse(bad)) << bad;
  }
}

TEST(Ipv4Net, RequiresNetworkAddress) {
  ASSERT_TRUE(Ipv4Net::parse("172.30.0.0/20"));
  EXPECT_EQ(Ipv4Net::parse("172.30.0.0/20")->size(), 4096U);
  EXPECT_FALSE(Ipv4Net::parse("172.30.0.1/20"));
  EXPECT_FALSE(Ipv4Net::parse("172.30.0.0/33"));
  EXPECT_FALSE(Ipv4Net::parse("172.30.0.0"));
  EXPECT_TRUE(Ipv4Net::parse("172.30.0.0/20")->contains(*Ipv4::parse("172.30.15.255")));
  EXPECT_FALSE(Ipv4Net::parse("172.30.0.0/20")->contains(*Ipv4::parse("172.30.16.0")));
}

TEST(Ipv6, PrintsTheSeedsForm) {
  // The seed writes the Pi's address with its last single zero group compressed.
  EXPECT_EQ(Ipv6::parse("2a00:1098:0:84:1000:1:0:2")->str(), "2a00:1098:0:84:1000:1::2");
  EXPECT_EQ(Ipv6::parse("2a00:1098:0:84:1000:1::2")->str(), "2a00:1098:0:84:1000:1::2");
  EXPECT_EQ(Ipv6::parse("2a00:1098:0:84:0:0:0:1")->str(), "2a00:1098:0:84::1");
  EXPECT_EQ(Ipv6::parse("::")->str(), "::");
  EXPECT_EQ(Ipv6::parse("::1")->str(), "::1");
  EXPECT_EQ(Ipv6::parse("2001:DB8::A")->str(), "2001:db8::a");
}

TEST(Ipv6, RejectsMalformed) {
  for (const char* bad : {"", "1:2:3", "2001:db8::1::2", "fe80::1%eth0", "::ffff:1.2.3.4", "g::1",
                          "2001:db8::/64", "12345::1"}) {
    EXPECT_FALSE(Ipv6::parse(bad)) << bad;
  }
}

TEST(Ipv6Net, ContainsAndHostBits) {
  const auto net = Ipv6Net::parse("2a00:1098:0:84::/64");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->str(), "2a00:1098:0:84::/64");
  EXPECT_TRUE(net->contains(*Ipv6::parse("2a00:1098:0:84:1000:1::2")));
  EXPECT_FALSE(net->contains(*Ipv6::parse("2a00:1098:0:85::2")));
  EXPECT_FALSE(Ipv6Net::parse("2a00:1098:0:84::1/64"));
}

TEST(Mac, ParsesBothSeparatorsAndPrintsLowerCase) {
  EXPECT_EQ(Mac::parse("B8:27:EB:12:34:56")->str(), "b8:27:eb:12:34:56");
  EXPECT_EQ(Mac::parse("b8-27-eb-12-34-56")->str(), "b8:27:eb:12:34:56");
  for (const char* bad : {"", "b8:27:eb:12:34", "b8:27:eb:12:34:56:78", "b8:27-eb:12:34:56",
                          "b8:27:eb:12:34:5g", "b827.eb12.3456"}) {
    EXPECT_FALSE(Mac::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace picluster::inventory
