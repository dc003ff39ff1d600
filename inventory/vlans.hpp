#pragma once
// VLANs a new Pi must never get: `storage.reserved_vlans` in the inventory (a list of VLAN ids of
// other networks, kept in the storage object) and, at `add`, the VLANs the switch already has for
// other networks. Kept apart from inventory.hpp so that the rest of the tree does not depend on it.

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "inventory/inventory.hpp"

namespace picluster::inventory {

// storage.reserved_vlans: VLAN ids 1..4094; an error names the field and the bad value.
Result<std::vector<int>> reserved_vlans(const Shelf& shelf);

// add_pi that also never allocates a VLAN in `avoid_vlans` (nor storage.reserved_vlans, which
// add_pi always avoids).
Result<Pi> add_pi_avoiding(Shelf& shelf, const PiRequest& request,
                           const std::set<int>& avoid_vlans);

// A new storage VLAN for the shelf's Pi `name` (`picluster renumber`): inside storage.vlan_range,
// not VLAN 1, not the public VLAN, no other Pi's, not the Pi's own, not in storage.reserved_vlans
// and not in `avoid_vlans` (the switch's foreign VLANs). With `wanted`, that VLAN or an error
// naming why it cannot be (invalid_argument); without, picked like add_pi picks (the Pi's port's
// natural VLAN when free, else one that is no other port's natural VLAN). Pure: the shelf is not
// changed.
Result<int> pick_new_vlan(const Shelf& shelf, const std::string& name, std::optional<int> wanted,
                          const std::set<int>& avoid_vlans);

// The Pi's previous storage VLAN (`previous_vlan`, written by `picluster renumber`): apply may
// take the Pi's port out of it although picluster no longer owns it. nullopt when unset.
std::optional<int> previous_vlan(const Pi& pi);

// fileserver.trunk_native_vlan (cisco): the VLAN the fileserver's trunk carries untagged, so no
// Pi's VLAN (add and renumber avoid it). nullopt when unset or not an integer (validate refuses that).
std::optional<int> trunk_native_vlan(const Shelf& shelf);

}  // namespace picluster::inventory
