#pragma once
// Cisco IOS keeps the BRIDGE-MIB per VLAN: its default context serves no dot1dBasePortTable and no
// dot1dTpFdbTable; VLAN N's instance answers to community COMMUNITY@N (SNMPv3: contextName
// vlan-N). When the default context lacks dot1dBasePortIfIndex and the switch looks like Cisco
// (profile cisco, or sysObjectID under enterprises.9), the port table is read in the context of
// each VLAN that matters and merged by ifIndex: a port keeps its bridge port number in every VLAN
// it belongs to, and the merged numbers fill in the ports mapped by ifIndex. The forwarding table
// is then read per VLAN too, each MAC tagged with the VLAN whose context it was learned in.
//
// Which VLANs: for the shelf's reads VLAN 1, the public VLAN and the inventory's storage VLANs;
// for discover every VLAN the switch lists (vtpVlanTable, else dot1qVlanStaticTable). Only VLANs
// the switch lists are asked (IOS drops requests for a context it lacks: a timeout), unless it
// lists none. A timeout stops the round: the switch does not answer community@VLAN at all.

#include <optional>
#include <set>
#include <string_view>

#include "inventory/inventory.hpp"
#include "switchctl/profile.hpp"
#include "switchctl/snmp.hpp"
#include "switchctl/state.hpp"

namespace picluster::switchctl {

// True when per-VLAN reading applies: the map lacks the default context's port table and the
// profile is "cisco" or sysObjectID.0 is under 1.3.6.1.4.1.9 (one GET).
Result<bool> bridge_per_vlan_applies(SnmpSession& session, const PortMap& map,
                                     std::string_view profile);

// The VLANs the switch lists: vtpVlanState rows (management domain 1), else
// dot1qVlanStaticRowStatus.
Result<std::set<int>> switch_vlans(SnmpSession& session);

// VLAN 1, the public VLAN and the storage VLANs of the shelf's Pis.
std::set<int> shelf_vlans(const inventory::Shelf& shelf);

// Reads dot1dBasePortIfIndex in the context of each of `vlans` not read yet into map (its
// vlan_bridge_ports, per_vlan_said), fills the bridge port of each mapped port by ifIndex and
// map.bridge_ports, and replaces the map's note on the missing table with what was tried:
// "dot1dBasePortIfIndex is not served in the default context; read it per VLAN with
// community@VLAN for VLANs 1, 10, 11 (Cisco IOS)". Transport errors other than a timeout fail.
Result<void> read_bridge_ports_per_vlan(SnmpSession& session, const std::set<int>& vlans,
                                        PortMap& map);

// For a shelf read (read_shelf_ports, learned MACs): when bridge_per_vlan_applies, reads the
// port table per VLAN for shelf_vlans() that the switch lists.
Result<void> add_bridge_ports_per_vlan(SnmpSession& session, const inventory::Shelf& shelf,
                                       PortMap& map);

// dot1dTpFdbTable in the context of every VLAN of map.vlan_bridge_ports; a bridge port is
// mapped to a front-panel port through that VLAN's port table (ifIndex). One entry per MAC and
// port, with every VLAN it was learned in. served: some context has rows or implements the table
// (an empty GET answers noSuchInstance); tried: what each VLAN said when none had a row.
Result<FdbRead> read_fdb_tables_per_vlan(SnmpSession& session, const PortMap& map);
Result<std::vector<LearnedMac>> read_fdb_per_vlan(SnmpSession& session, const PortMap& map);

// For discover: read_fdb_tables_per_vlan after reading the port table in every VLAN the switch
// lists (so that a Pi in a VLAN the inventory does not know is found too).
Result<FdbRead> read_fdb_tables_every_vlan(SnmpSession& session, const PortMap& map);

// The MAC in the last six sub-identifiers of a forwarding-table row's OID (dot1dTpFdbTable,
// dot1qTpFdbTable), or nullopt when the OID is not `size` long or a sub-identifier exceeds 255.
std::optional<inventory::Mac> mac_at_end(const Oid& oid, std::size_t size);

// "1, 10, 11"
std::string vlan_list(const std::set<int>& vlans);

}  // namespace picluster::switchctl
