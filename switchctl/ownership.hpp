#pragma once
// VLAN ownership. picluster owns the VLANs its inventory lists (every Pi's storage VLAN and the
// public VLAN); every other VLAN on the switch except the default VLAN 1 is foreign. Foreign VLANs
// are never shared: a Pi's storage VLAN that already exists on the switch as someone else's VLAN
// (another name, or member ports other than the Pi's and the trunk) is a collision, and apply
// takes a Pi's port out of owned VLANs and VLAN 1 only. After apply, every VLAN a plan touched is
// read back on every port of the switch, not only on the ports the plan changed.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "switchctl/profile.hpp"
#include "switchctl/state.hpp"

namespace picluster::switchctl {

// The VLANs the inventory lists: storage VLANs of the shelf's Pis and the public VLAN.
std::set<int> owned_vlans(const inventory::Shelf& shelf);

// VLAN ids that exist on the switch and are neither owned nor VLAN 1, with their names.
std::map<int, std::string> foreign_vlans(const inventory::Shelf& shelf, const SwitchState& state);

// A Pi's storage VLAN that exists on the switch as another network.
struct VlanCollision {
  std::string pi;
  int vlan = 0;
  std::string switch_name;  // its name on the switch ("" when it has none)
  std::vector<std::string>
      others;  // member ports other than the Pi's and the trunk ("3", "bridge port 57")
};

std::vector<VlanCollision> vlan_collisions(const inventory::Shelf& shelf,
                                           const VendorProfile& profile, const SwitchState& state);

// "VLAN 11 (pi02's storage VLAN) already exists on the switch as 'cameras' with member ports
// 3, 4: ..., fix: ..." — one sentence with the fix.
std::string describe(const VlanCollision& c);

// True for names a switch gives VLANs it created without a name: "", "VLAN0011", "vlan 11", "11".
bool default_vlan_name(const std::string& name, int vlan);

// Pi ports that are members of a VLAN apply may not take them out of (neither owned nor VLAN 1):
// one message per port naming the VLANs, empty when none.
std::vector<std::string> foreign_memberships(const inventory::Shelf& shelf,
                                             const VendorProfile& profile,
                                             const SwitchState& state);

// Every mapped port's view (front-panel port -> view).
std::map<int, PortView> all_views(const VendorProfile& profile, const SwitchState& state);

// Membership per VLAN: VLAN -> front-panel port -> untagged (true) or tagged (false).
using Members = std::map<int, std::map<int, bool>>;

// What the VLANs touched by the changes of `changed_ports` must look like afterwards, on every
// port: the views before, with the changed ports as `desired` wants them (exact for Pi ports;
// the trunk keeps what it had and gains its tagged VLANs). Only touched VLANs are listed.
Members expected_members(const std::map<int, PortView>& before, const Desired& desired,
                         const std::vector<int>& changed_ports);

// One line per VLAN of `expected` whose members differ in `after`:
// "VLAN 11: port 3 untagged (expected: not a member)".
std::vector<std::string> membership_differences(const std::map<int, PortView>& after,
                                                const Members& expected);

}  // namespace picluster::switchctl
