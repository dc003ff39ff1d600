#pragma once
// Bit-list codecs. A Q-BRIDGE PortList (RFC 4363) holds bridge ports: octet 1 covers ports 1-8,
// the most significant bit being the lowest port. Cisco's vlanTrunkPortVlansEnabled uses the same
// layout for VLANs starting at 0 (and 1024, 2048, 3072 for the 2k/3k/4k columns). Lists shorter
// or longer than the switch's port count are accepted as they come.

#include <set>
#include <string>
#include <string_view>

namespace picluster::switchctl {

using PortSet = std::set<int>;

// Numbers of the set bits; the first bit of the first octet is `first`.
PortSet decode_bits(std::string_view octets, int first = 1);

// The bit string for `numbers` (those below `first` are ignored), at least min_octets long and
// long enough for the highest number.
std::string encode_bits(const PortSet& numbers, std::size_t min_octets, int first = 1);

// "1-4,7,9"; "-" when empty.
std::string format_ranges(const PortSet& numbers);

}  // namespace picluster::switchctl
