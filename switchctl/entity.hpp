#pragma once
// Front-panel numbering from ENTITY-MIB (RFC 6933): the switch's physical containment tree.
// entPhysicalTable says which entity is a port (entPhysicalClass port(10)), what contains it
// (entPhysicalContainedIn: a module(9), a chassis(3), a chassis in a stack(11)) and its position
// among its siblings (entPhysicalParentRelPos, which RFC 6933 asks to match the front-panel
// label); entAliasMappingTable ties a port entity to its interface (entAliasMappingIdentifier =
// ifIndex.N). Internal to picluster_switchctl: build_port_map and read_common use it.

#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "switchctl/snmp.hpp"
#include "switchctl/state.hpp"

namespace picluster::switchctl {

// switch.numbering (kept in the switch object's extra fields): "auto" (default: ENTITY-MIB,
// LLDP-MIB, then interface names; ENTITY-MIB and LLDP-MIB must agree where both number), or one
// source forced: "entity", "lldp", "names".
std::string numbering_mode(const inventory::Switch& sw);

// Reads the rest of ENTITY-MIB into tables when `classes` (the walked entPhysicalClass column,
// the one probe read_common makes in its parallel walk) has rows: entPhysicalContainedIn,
// entPhysicalParentRelPos, entPhysicalName and entAliasMappingIdentifier in one bounded GETBULK
// walk. A value of the wrong type does not fail the read: ENTITY-MIB is then not used, and
// tables.entity_notes names the object. Transport errors are errors.
Result<void> read_entity(SnmpSession& session, const std::vector<VarBind>& classes,
                         PortMapTables& tables);

// Numbers the interfaces of `pool` by ENTITY-MIB when its data is consistent: every mapped port
// lies in a chassis (through modules or containers); the chassis of a stack have distinct member
// numbers (their entPhysicalParentRelPos, >= 1); a standalone chassis is member 1. For the shelf's
// member (tables.stack_member) the ports sit on one main carrier (the chassis or the module with
// the most ports; any other carrier must be less than half its size: an uplink module, whose
// ports are left out as module ports) at distinct positions starting at 1: entPhysicalParentRelPos
// is the front-panel number. Interfaces of other members, module ports and interfaces no port
// entity maps are moved to left_out. Returns false, leaving pool as it was and saying why in
// notes (naming the object), when ENTITY-MIB is absent or inconsistent.
bool number_by_entity(std::vector<PortEntry>& pool, std::vector<PortEntry>& left_out,
                      const PortMapTables& tables, std::vector<std::string>& notes);

// "" when every interface ENTITY-MIB numbered has the same number (or none) in the LLDP-MIB
// numbering and no number goes to two interfaces; else the contradiction, naming both.
std::string entity_lldp_conflict(const std::vector<PortEntry>& by_entity,
                                 const std::vector<PortEntry>& by_lldp);

}  // namespace picluster::switchctl
