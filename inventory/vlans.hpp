#pragma once
// VLANs a new Pi must never get: `storage.reserved_vlans` in the inventory (a list of VLAN ids of
// other networks, kept in the storage object) and, at `add`, the VLANs the switch already has for
// other networks. Kept apart from inventory.hpp so that the rest of the tree does not depend on it.

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

}  // namespace picluster::inventory
