#pragma once
// Renders the switch into the sorted OID -> value map the agent answers GET/GETNEXT from.
// std::map orders Oid lexicographically by sub-identifier, which is SNMP's order.

#include <map>
#include <vector>

#include "lab/switchsim/dataplane.hpp"
#include "lab/switchsim/knobs.hpp"
#include "lab/switchsim/snmp_types.hpp"
#include "lab/switchsim/switch_state.hpp"

namespace picluster::switchsim {

using MibMap = std::map<Oid, Value>;

// PoE facts derived from admin state and what is plugged in.
enum class Detection { disabled = 1, searching = 2, delivering_power = 3 };
Detection detection(const PortState& port, const PortKnobs& knobs);
int drawn_mw(const PortState& port, const PortKnobs& knobs);

// Every served object; sysUpTime is rendered as 0 (the agent fills in the live value).
// Q-BRIDGE objects appear in qbridge mode only, CISCO-* objects in cisco mode only.
MibMap render_mib(const SwitchState& state, const Knobs& knobs, Mode mode,
                  const std::vector<FdbEntry>& fdb);

// knobs.bridge_tables_per_vlan (Cisco IOS): what VLAN `vlan`'s context serves, the BRIDGE-MIB only:
// dot1dBase scalars, dot1dBasePortTable for the ports that are members of the VLAN (PVID, untagged
// or tagged; same bridge port numbers as elsewhere) and dot1dTpFdbTable for the MACs learned in it.
MibMap render_vlan_bridge(const SwitchState& state, const Knobs& knobs, Mode mode,
                          const std::vector<FdbEntry>& fdb, int vlan);

// The table entries the agent implements even when they have no rows (a GET of a missing row
// under one answers noSuchInstance, not noSuchObject): the forwarding tables and the BRIDGE-MIB
// port table, as far as the knobs and the mode serve them.
std::vector<Oid> implemented_tables(const Knobs& knobs, Mode mode);

}  // namespace picluster::switchsim
