#include "lab/switchsim/port_list.hpp"

#include <gtest/gtest.h>

namespace picluster::switchsim {
namespace {

TEST(PortList, OctetOneHoldsPortsOneToEightMostSignificantBitFirst) {
  EXPECT_EQ(encode_port_list({1}, 8), std::string("\x80", 1));
  EXPECT_EQ(encode_port_list({8}, 8), std::string("\x01", 1));
  EXPECT_EQ(encode_port_list({1, 9, 24}, 24), std::string("\x80\x80\x01", 3));
}

TEST(PortList, EncodesToTheSwitchWidthEvenWhenEmpty) {
  EXPECT_EQ(encode_port_list({}, 10), std::string(2, '\0'));
}

TEST(PortList, DecodesShortListsAsAbsentPorts) {
  auto ports = decode_port_list(std::string("\x40", 1), 24);
  ASSERT_TRUE(ports);
  EXPECT_EQ(*ports, (std::set<int>{2}));
}

TEST(PortList, AcceptsLongerListsWhenTheExtraBitsAreZero) {
  auto ports = decode_port_list(std::string("\x01\x00\x00\x00", 4), 8);
  ASSERT_TRUE(ports);
  EXPECT_EQ(*ports, (std::set<int>{8}));
}

TEST(PortList, RefusesBitsBeyondTheLastPortNamingThePort) {
  auto ports = decode_port_list(std::string("\x00\x40", 2), 8);
  ASSERT_FALSE(ports);
  EXPECT_EQ(ports.error().message, "PortList names port 10 but the highest port is 8");
}

TEST(VlanBitmap, CiscoColumnsStartAtTheirFirstVlan) {
  const std::string bits = encode_vlan_bitmap({0, 10, 131, 1024}, 0, 128);
  ASSERT_EQ(bits.size(), 128U);
  EXPECT_EQ(static_cast<unsigned char>(bits[0]), 0x80);  // VLAN 0 is the MSB of octet 1
  EXPECT_EQ(static_cast<unsigned char>(bits[1]), 0x20);  // VLAN 10
  EXPECT_EQ(decode_vlan_bitmap(bits, 0), (std::set<int>{0, 10, 131}));
  EXPECT_EQ(decode_vlan_bitmap(encode_vlan_bitmap({1024, 2047}, 1024, 128), 1024),
            (std::set<int>{1024, 2047}));
}

}  // namespace
}  // namespace picluster::switchsim
