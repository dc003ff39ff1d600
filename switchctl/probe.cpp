// SwitchController::probe: a read-only report of what a switch serves and how picluster reads it,
// to send along with a bug report. Nothing is written.
#include "switchctl/controller.hpp"
#include "switchctl/mib.hpp"
#include "switchctl/ownership.hpp"

namespace picluster::switchctl {

namespace {

// The tables picluster reads, by MIB, with the column that shows whether they are served.
struct Table {
  std::string_view mib, table;
  const Oid* column;
};

const Table kTables[] = {
    {"IF-MIB", "ifName (ifXTable)", &mib::ifName},
    {"IF-MIB", "ifType (ifTable)", &mib::ifType},
    {"LLDP-MIB", "lldpLocPortTable", &mib::lldpLocPortId},
    {"ENTITY-MIB", "entPhysicalTable", &mib::entPhysicalClass},
    {"ENTITY-MIB", "entAliasMappingTable", &mib::entAliasMappingIdentifier},
    {"BRIDGE-MIB", "dot1dBasePortIfIndex", &mib::dot1dBasePortIfIndex},
    {"BRIDGE-MIB", "dot1dTpFdbTable", &mib::dot1dTpFdbPort},
    {"Q-BRIDGE-MIB", "dot1qVlanStaticTable", &mib::dot1qVlanStaticEgressPorts},
    {"Q-BRIDGE-MIB", "dot1qVlanCurrentTable", &mib::dot1qVlanCurrentEgressPorts},
    {"Q-BRIDGE-MIB", "dot1qPvid", &mib::dot1qPvid},
    {"Q-BRIDGE-MIB", "dot1qTpFdbTable", &mib::dot1qTpFdbPort},
    {"POWER-ETHERNET-MIB", "pethPsePortTable", &mib::pethPsePortAdminEnable},
    {"CISCO-VTP-MIB", "vtpVlanTable", &mib::vtpVlanState},
    {"CISCO-VTP-MIB", "vlanTrunkPortTable", &mib::vlanTrunkPortDynamicState},
    {"CISCO-VLAN-MEMBERSHIP-MIB", "vmMembershipTable", &mib::vmVlan},
    {"CISCO-POWER-ETHERNET-EXT-MIB", "cpeExtPsePortPwrConsumption",
     &mib::cpeExtPsePortPwrConsumption},
};

}  // namespace

Result<ProbeReport> SwitchController::probe() {
  ProbeReport out;
  out.profile = std::string(m_profile->name());
  // 1. which tables answer (one GETNEXT per column: the first row, if any)
  std::vector<Oid> columns;
  for (const auto& t : kTables) columns.push_back(*t.column);
  auto first = m_session->get_next(columns);
  if (!first) return std::unexpected(first.error().with_context("probe").with_context(name()));
  for (std::size_t i = 0; i < std::size(kTables) && i < first->size(); ++i) {
    const bool served =
        oid_starts_with((*first)[i].oid, *kTables[i].column) && !(*first)[i].value.is_exception();
    out.tables.push_back({std::string(kTables[i].mib), std::string(kTables[i].table), served});
  }
  // 2. the port map, VLANs and PortLists as apply would read them
  auto state = read_state();
  if (!state) {
    out.drivable = false;
    out.why = state.error().message;
    return out;
  }
  out.ports = state->map.ports;
  out.left_out = state->map.left_out;
  out.notes = state->map.notes;
  out.poe_indexing = state->map.poe_indexing;
  out.bridge_tables = state->map.bridge_port_table               ? "default context"
                      : !state->map.vlan_bridge_ports.empty() ? "per VLAN (community@vlan)"
                                                              : "not served";
  for (const auto& p : state->map.ports) out.poe_rows += p.has_poe() ? 1 : 0;
  out.portlist_form =
      m_profile->name() == "qbridge" ? std::string(to_string(state->portlist_form)) : "n/a (cisco)";
  for (const auto& [vlan, row] : state->vlans) {
    if (!row.undecoded.empty())
      out.notes.push_back("VLAN " + std::to_string(vlan) + ": " + row.undecoded);
  }
  out.foreign_vlans = foreign_vlans(*m_shelf, *state);
  // 3. whether apply could run
  auto planned = plan(*state);
  out.drivable = planned.has_value();
  if (!planned) out.why = planned.error().message;
  return out;
}

}  // namespace picluster::switchctl
