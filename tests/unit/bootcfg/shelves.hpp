#pragma once
// Shelves built in code for the bootcfg tests: the seed's values written out literally, so the
// goldens do not move when the allocator changes.

#include <optional>
#include <string>

#include "inventory/inventory.hpp"

namespace picluster::bootcfg::test {

struct PiSpec {
  std::string name;
  int port = 0;
  int vlan = 0;
  std::string network;  // the /30's network address, e.g. "172.30.0.0"
  std::string ipv6;     // the public address
  inventory::PiModel model = inventory::PiModel::pi3;
  std::optional<std::string> serial;
  std::optional<std::string> mac;
};

// A Pi with its /30 filled in from the network address (fileserver +1, Pi +2, broadcast +3).
inventory::Pi make_pi(const PiSpec& spec);

// The default shelf ("shelf1", all defaults) with the seed's pi01 (port 1, VLAN 10,
// 172.30.0.0/30, 2a00:1098:0:84:1000:1::2) and pi02 (port 2, VLAN 11, 172.30.0.4/30).
inventory::Shelf seed_shelf();

// Netboot: pi01 (pi3) and pi02 (pi4) with serial and MAC, pi03 (pi5) with a serial and no MAC,
// pi04 (pi3b+) with neither.
inventory::Shelf netboot_shelf();

// networkd, a fileserver address on the public VLAN, dad_attempts 0 (the lab's settings).
inventory::Shelf networkd_shelf();

// A trunk named enp1s0, nfs_root with a trailing '/', a cmdline base without rootfstype=nfs.
inventory::Shelf custom_trunk_shelf();

// Netboot, one Pi of each model (pi01 pi3, pi02 pi3b+, pi03 pi4, pi04 pi5, all with serial and
// MAC) and two boot.models overrides: pi3b+ has its own cmdline_base, pi5 its own config_txt
// (the console moved to GPIO 14/15).
inventory::Shelf models_shelf();

inventory::Inventory inventory_of(inventory::Shelf shelf);

}  // namespace picluster::bootcfg::test
