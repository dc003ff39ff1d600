#pragma once
// Bit-list codecs. A Q-BRIDGE PortList (RFC 4363) holds bridge ports: octet 1 covers ports 1-8,
// the most significant bit being the lowest port. Cisco's vlanTrunkPortVlansEnabled uses the same
// layout for VLANs starting at 0 (and 1024, 2048, 3072 for the 2k/3k/4k columns). Lists shorter
// or longer than the switch's port count are accepted as they come.

#include <set>
#include <optional>
#include <string>
#include <string_view>

namespace picluster::switchctl {

using PortSet = std::set<int>;

// Numbers of the set bits; the first bit of the first octet is `first`.
PortSet decode_bits(std::string_view octets, int first = 1);

// The bit string for `numbers` (those below `first` are ignored), at least min_octets long and
// long enough for the highest number.
std::string encode_bits(const PortSet& numbers, std::size_t min_octets, int first = 1);

// How a switch encodes its Q-BRIDGE PortLists. RFC 4363 says bitmap; Juniper EX answers with
// ASCII comma-separated bridge port numbers ("3,4434,4443").
enum class PortListForm { bitmap, comma_list };
std::string_view to_string(PortListForm form);  // "bitmap", "comma list"

// A PortList decoded against the bridge ports the switch lists (dot1dBasePort). `problem` is
// empty when the value is exactly that form: for a bitmap, every set bit is a listed bridge port
// (bits beyond the last bridge port or for unlisted ports are named: "bits for bridge ports 97,
// 98, which the switch does not list"); for a comma list, every number is a listed bridge port.
// `ports` holds the listed bridge ports found, whatever the problem.
struct DecodedPortList {
  PortSet ports;
  std::string problem;
};
DecodedPortList decode_port_list(std::string_view octets, PortListForm form, const std::set<int>& bridge_ports);

// "1-4,7,9"; "-" when empty.
std::string format_ranges(const PortSet& numbers);

}  // namespace picluster::switchctl
