#include <gtest/gtest.h>

#include "switchctl/portlist.hpp"

namespace picluster::switchctl {
namespace {

TEST(PortList, FirstOctetHoldsPortsOneToEightMostSignificantBitFirst) {
  EXPECT_EQ(decode_bits(std::string("\x80", 1)), (PortSet{1}));
  EXPECT_EQ(decode_bits(std::string("\x01", 1)), (PortSet{8}));
  EXPECT_EQ(decode_bits(std::string("\x00\x40", 2)), (PortSet{10}));
  EXPECT_EQ(encode_bits({1, 8, 10}, 0), std::string("\x81\x40", 2));
}

TEST(PortList, ShorterAndLongerListsAreAccepted) {
  EXPECT_EQ(decode_bits(""), PortSet{});
  // Longer than a 24-port switch needs: trailing octets hold nothing, or ports that do not exist.
  EXPECT_EQ(decode_bits(std::string("\xc0\x00\x00\x00\x00\x00\x01", 7)), (PortSet{1, 2, 56}));
  // Encoding keeps at least the requested length, and grows for high ports.
  EXPECT_EQ(encode_bits({2}, 4).size(), 4u);
  EXPECT_EQ(encode_bits({33}, 1).size(), 5u);
}

TEST(PortList, RoundTrips) {
  const PortSet ports = {1, 7, 9, 24, 49, 66, 96};
  EXPECT_EQ(decode_bits(encode_bits(ports, 12)), ports);
}

TEST(PortList, CiscoVlanBitmapsStartAtZeroOrTheColumnBase) {
  EXPECT_EQ(decode_bits(std::string("\x80", 1), 0), (PortSet{0}));
  EXPECT_EQ(decode_bits(std::string("\x40", 1), 1024), (PortSet{1025}));
  const std::string bitmap = encode_bits({10, 131}, 128, 0);
  EXPECT_EQ(bitmap.size(), 128u);
  EXPECT_EQ(decode_bits(bitmap, 0), (PortSet{10, 131}));
  EXPECT_EQ(decode_bits(encode_bits({1030}, 128, 1024), 1024), (PortSet{1030}));
}

TEST(PortList, FormatsRanges) {
  EXPECT_EQ(format_ranges({}), "-");
  EXPECT_EQ(format_ranges({1, 2, 3, 5, 7, 8}), "1-3,5,7-8");
}

}  // namespace
}  // namespace picluster::switchctl
