#pragma once
// Bit-string codecs the switch MIBs use for sets of ports and VLANs.
//
// Q-BRIDGE PortList (RFC 4363): octet 1 holds ports 1-8, the most significant bit is the lowest
// port. Cisco's vlanTrunkPortVlansEnabled uses the same layout for VLANs, starting at VLAN 0
// (MSB of octet 1), 1024 VLANs per 128-octet column.

#include <cstddef>
#include <set>
#include <string>

#include "common/error.hpp"

namespace picluster::switchsim {

// Encodes ports (1-based) into ceil(width / 8) octets; ports above width are an internal error,
// so callers pass the highest port number the switch has as width.
std::string encode_port_list(const std::set<int>& ports, int width);

// Decodes a PortList of any length. Bits for ports above max_port must be zero (else
// invalid_argument naming the first such port); shorter lists mean the missing ports are absent.
Result<std::set<int>> decode_port_list(const std::string& octets, int max_port);

// VLAN bitmaps as Cisco serves them: `first` is the VLAN of the MSB of octet 1; encodes the
// VLANs in [first, first + 8 * octets) into exactly `octets` octets.
std::string encode_vlan_bitmap(const std::set<int>& vlans, int first, std::size_t octets);
// Decodes a bitmap whose MSB of octet 1 is VLAN `first`; missing octets mean absent VLANs.
std::set<int> decode_vlan_bitmap(const std::string& octets, int first);

}  // namespace picluster::switchsim
