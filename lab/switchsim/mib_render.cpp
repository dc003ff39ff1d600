#include "lab/switchsim/mib_render.hpp"

#include <algorithm>
#include <set>

#include "lab/switchsim/mib_oids.hpp"
#include "lab/switchsim/port_list.hpp"

namespace picluster::switchsim {

namespace {

using std::uint32_t;

uint32_t u(int v) { return static_cast<uint32_t>(v); }

Oid mac_index(const Mac& mac) {
  Oid out;
  for (const auto b : mac) out.push_back(b);
  return out;
}

std::string mac_bytes(const Mac& mac) { return std::string(mac.begin(), mac.end()); }

int highest_bridge_port(const SwitchState& s, const Knobs& k) { return k.bridge_port(s.port_count); }

// Front-port set -> PortList in bridge-port numbering.
// With the knobs' vendor habits: comma-separated numbers, or stray octets after the bitmap.
std::string port_list(const std::set<int>& fronts, const SwitchState& s, const Knobs& k) {
  std::set<int> bridge;
  for (const int f : fronts) bridge.insert(k.bridge_port(f));
  if (k.portlist_comma) {
    std::string out;
    for (const int bp : bridge) out += (out.empty() ? "" : ",") + std::to_string(bp);
    return out;
  }
  return encode_port_list(bridge, highest_bridge_port(s, k)) + k.portlist_stray;
}

// ifName of front port f under the naming knobs.
std::string if_name(const Knobs& k, int f) {
  if (k.ifname_generic) return "Ethernet Interface";
  if (k.stack_module_ports >= 0) return k.ifname_prefix + "1/0/" + std::to_string(f);
  if (!k.ifname_from_zero) return k.ifname_prefix + std::to_string(f);
  const std::string n = std::to_string(f - 1);
  return k.ifname_prefix + (n.size() < 2 ? "0" + n : n);
}

struct ExtraInterface {
  int if_index = 0;
  int bridge_port = 0;
  std::string name;
};

// stack_module_ports: "te1/0/k" (ifIndex 1000 + k, bridge port after the last front port) and
// unit 2's "<prefix>2/0/F" (ifIndex 2000 + F, bridge port 2000 + F): interfaces that are no
// front-panel port of this shelf's switch.
std::vector<ExtraInterface> extra_interfaces(const SwitchState& s, const Knobs& k) {
  std::vector<ExtraInterface> out;
  if (k.stack_module_ports < 0) return out;
  for (int i = 1; i <= k.stack_module_ports; ++i) {
    out.push_back({1000 + i, k.bridge_port(s.port_count) + i, "te1/0/" + std::to_string(i)});
  }
  for (int f = 1; f <= s.port_count; ++f) out.push_back({2000 + f, 2000 + f, k.ifname_prefix + "2/0/" + std::to_string(f)});
  return out;
}

// lldp_local_ports: the switch's own port numbering, lldpLocPortNum F for front port F (and
// port_count + k for module port te1/0/k), each named by its ifName (interfaceName(5)).
void render_lldp(MibMap& m, const SwitchState& s, const Knobs& k) {
  if (!k.lldp_local_ports) return;
  const auto row = [&](int num, const std::string& name, const std::string& descr) {
    m[append(oids::lldp_loc_port_entry, {2, u(num)})] = Value::integer(5);  // interfaceName
    m[append(oids::lldp_loc_port_entry, {3, u(num)})] = Value::octets(name);
    m[append(oids::lldp_loc_port_entry, {4, u(num)})] = Value::octets(descr);
  };
  for (int f = 1; f <= s.port_count; ++f) row(f, if_name(k, f), k.ifdescr_prefix + std::to_string(f));
  for (const auto& extra : extra_interfaces(s, k)) {
    if (extra.name.starts_with("te")) row(s.port_count + extra.if_index - 1000, extra.name, extra.name);
  }
}

// entity_mib: the physical containment tree. One chassis (1) holding the front ports
// (1000 + F, entPhysicalParentRelPos F); under stack_module_ports a stack (1) of two chassis
// (2: member 1, 3: member 2) with an uplink module (4) on member 1 holding te1/0/k (1500 + k),
// member 2's ports 2000 + F. Every port maps to its ifIndex (entAliasMappingIdentifier).
void render_entity(MibMap& m, const SwitchState& s, const Knobs& k) {
  if (!k.entity_mib) return;
  const auto row = [&](int index, int klass, int in, int pos, const std::string& name) {
    const auto col = [&](uint32_t c) { return append(oids::ent_physical_entry, {c, u(index)}); };
    m[col(2)] = Value::octets(name);
    m[col(4)] = Value::integer(in);
    m[col(5)] = Value::integer(klass);
    m[col(6)] = Value::integer(pos);
    m[col(7)] = Value::octets(name);
  };
  const auto port = [&](int index, int in, int pos, const std::string& name, int if_index) {
    row(index, 10, in, pos, name);
    m[append(oids::ent_alias_mapping_entry, {2, u(index), 0})] =
        Value::object(append(oids::if_index_column, {u(if_index)}));
  };
  const bool stacked = k.stack_module_ports >= 0;
  const int member1 = stacked ? 2 : 1;
  if (stacked) {
    row(1, 11, 0, -1, "stack");
    row(2, 3, 1, 1, k.sys_name + " member 1");
    row(3, 3, 1, 2, k.sys_name + " member 2");
    row(4, 9, 2, 1, "uplink module");
  } else {
    row(1, 3, 0, -1, k.sys_name);
  }
  for (int f = 1; f <= s.port_count; ++f) port(1000 + f, member1, f, if_name(k, f), k.if_index(f));
  for (const auto& extra : extra_interfaces(s, k)) {
    if (extra.name.starts_with("te")) port(1500 + extra.if_index - 1000, 4, extra.if_index - 1000, extra.name, extra.if_index);
    else port(extra.if_index, 3, extra.if_index - 2000, extra.name, extra.if_index);
  }
}

bool link_up(const PortState& port, const PortKnobs& pk) {
  return pk.device && (pk.external_power || detection(port, pk) == Detection::delivering_power);
}

void render_system(MibMap& m, const SwitchState& s, const Knobs& k, Mode mode) {
  const std::string descr = "picluster-switchsim " + std::to_string(s.port_count) +
                            "-port PoE switch (" + (mode == Mode::cisco ? "cisco" : "qbridge") +
                            " mode)";
  m[oids::sys_descr] = Value::octets(descr);
  m[oids::sys_object_id] =
      Value::object(mode == Mode::cisco ? oids::sim_cisco_object_id : oids::sim_object_id);
  m[oids::sys_uptime] = Value::ticks(0);
  m[oids::sys_name] = Value::octets(k.sys_name);
  m[oids::if_number] = Value::integer(s.port_count);
  for (int f = 1; f <= s.port_count; ++f) {
    const uint32_t ifx = u(k.if_index(f));
    const PortKnobs pk = k.port(f);
    const Mac port_mac{0x02, 0x5e, 0x00, 0x00, static_cast<std::uint8_t>((f >> 8) & 0xff),
                       static_cast<std::uint8_t>(f & 0xff)};
    m[append(oids::if_entry, {1, ifx})] = Value::integer(ifx);
    m[append(oids::if_entry, {2, ifx})] = Value::octets(k.ifdescr_prefix + std::to_string(f));
    m[append(oids::if_entry, {3, ifx})] = Value::integer(6);  // ethernetCsmacd
    m[append(oids::if_entry, {5, ifx})] = Value::gauge(1000000000);
    m[append(oids::if_entry, {6, ifx})] = Value::octets(mac_bytes(port_mac));
    m[append(oids::if_entry, {7, ifx})] = Value::integer(1);  // up
    m[append(oids::if_entry, {8, ifx})] = Value::integer(link_up(s.port(f), pk) ? 1 : 2);
    m[append(oids::if_x_entry, {1, ifx})] = Value::octets(if_name(k, f));
  }
  // Stacked: module ports of unit 1 and the ports of an absent unit 2, all link down.
  for (const auto& extra : extra_interfaces(s, k)) {
    m[append(oids::if_entry, {1, u(extra.if_index)})] = Value::integer(extra.if_index);
    m[append(oids::if_entry, {2, u(extra.if_index)})] = Value::octets(extra.name);
    m[append(oids::if_entry, {3, u(extra.if_index)})] = Value::integer(6);
    m[append(oids::if_entry, {7, u(extra.if_index)})] = Value::integer(1);
    m[append(oids::if_entry, {8, u(extra.if_index)})] = Value::integer(2);
    m[append(oids::if_x_entry, {1, u(extra.if_index)})] = Value::octets(extra.name);
  }
}

// dot1dTpFdbTable (one row per MAC) from the entries learned in `vlan`, or in any VLAN for 0.
void render_tp_fdb(MibMap& m, const SwitchState& s, const Knobs& k, const std::vector<FdbEntry>& fdb, int vlan) {
  std::set<Mac> seen;
  for (const auto& e : fdb) {
    if ((vlan != 0 && e.vlan != vlan) || e.front_port < 1 || e.front_port > s.port_count || !seen.insert(e.mac).second) continue;
    const Oid idx = mac_index(e.mac);
    m[append(append(oids::dot1d_tp_fdb_entry, {1}), idx)] = Value::octets(mac_bytes(e.mac));
    m[append(append(oids::dot1d_tp_fdb_entry, {2}), idx)] = Value::integer(k.bridge_port(e.front_port));
    m[append(append(oids::dot1d_tp_fdb_entry, {3}), idx)] = Value::integer(3);  // learned
  }
}

void render_bridge(MibMap& m, const SwitchState& s, const Knobs& k,
                   std::vector<FdbEntry> fdb) {
  if (!k.fdb_tables || k.bridge_tables_per_vlan) fdb.clear();
  m[oids::dot1d_base_bridge_address] = Value::octets(mac_bytes({0x02, 0x5e, 0, 0, 0, 0}));
  m[oids::dot1d_base_num_ports] = Value::integer(s.port_count);
  m[oids::dot1d_base_type] = Value::integer(2);  // transparent-only
  if (k.bridge_tables_per_vlan) return;  // served per VLAN context only (render_vlan_bridge)
  for (int f = 1; f <= s.port_count && k.bridge_port_table; ++f) {
    const uint32_t bp = u(k.bridge_port(f));
    m[append(oids::dot1d_base_port_entry, {1, bp})] = Value::integer(bp);
    m[append(oids::dot1d_base_port_entry, {2, bp})] = Value::integer(k.if_index(f));
  }
  for (const auto& extra : extra_interfaces(s, k)) {
    if (!k.bridge_port_table) break;
    m[append(oids::dot1d_base_port_entry, {1, u(extra.bridge_port)})] = Value::integer(extra.bridge_port);
    m[append(oids::dot1d_base_port_entry, {2, u(extra.bridge_port)})] = Value::integer(extra.if_index);
  }
  render_tp_fdb(m, s, k, fdb, 0);
}

void render_qbridge_vlans(MibMap& m, const SwitchState& s, const Knobs& k) {
  int active = 0;
  for (const auto& [vid, vlan] : s.vlans) {
    const uint32_t v = u(vid);
    const auto st = [&](uint32_t col) { return append(oids::dot1q_vlan_static_entry, {col, v}); };
    m[st(oids::static_name)] = Value::octets(vlan.name);
    m[st(oids::static_egress)] = Value::octets(port_list(vlan.egress, s, k));
    m[st(oids::static_forbidden)] = Value::octets(port_list(vlan.forbidden, s, k));
    m[st(oids::static_untagged)] = Value::octets(port_list(vlan.untagged, s, k));
    m[st(oids::static_row_status)] = Value::integer(static_cast<int>(vlan.status));
    if (vlan.status != RowStatus::active) continue;
    ++active;
    // dot1qVlanCurrentTable, indexed by dot1qVlanTimeMark (always 0 here) and the VLAN id.
    const auto cur = [&](uint32_t col) { return append(oids::dot1q_vlan_current_entry, {col, 0, v}); };
    m[cur(3)] = Value::gauge(vid);  // dot1qVlanFdbId: independent learning, FDB id = VLAN id
    m[cur(4)] = Value::octets(port_list(vlan.egress, s, k));
    m[cur(5)] = Value::octets(port_list(vlan.untagged, s, k));
    m[cur(6)] = Value::integer(2);  // permanent
    m[cur(7)] = Value::ticks(0);
  }
  m[oids::dot1q_vlan_version_number] = Value::integer(1);
  m[oids::dot1q_max_vlan_id] = Value::integer(4094);
  m[oids::dot1q_max_supported_vlans] = Value::gauge(4094);
  m[oids::dot1q_num_vlans] = Value::gauge(active);
  m[oids::dot1q_gvrp_status] = Value::integer(2);  // disabled
  m[oids::dot1q_vlan_num_deletes] = Value::counter(s.vlan_deletes);
  for (int f = 1; f <= s.port_count; ++f) {
    const uint32_t bp = u(k.bridge_port(f));
    m[append(oids::dot1q_port_vlan_entry, {1, bp})] = Value::gauge(s.port(f).pvid);
    m[append(oids::dot1q_port_vlan_entry, {2, bp})] = Value::integer(1);  // admitAll
    m[append(oids::dot1q_port_vlan_entry, {3, bp})] = Value::integer(2);  // no ingress filtering
  }
}

void render_qbridge_fdb(MibMap& m, const SwitchState& s, const Knobs& k,
                        const std::vector<FdbEntry>& fdb) {
  std::map<int, int> per_vlan;
  for (const auto& e : fdb) {
    if (e.front_port < 1 || e.front_port > s.port_count) continue;
    const Oid idx = append(Oid{u(e.vlan)}, mac_index(e.mac));
    m[append(append(oids::dot1q_tp_fdb_entry, {2}), idx)] = Value::integer(k.bridge_port(e.front_port));
    m[append(append(oids::dot1q_tp_fdb_entry, {3}), idx)] = Value::integer(3);  // learned
    ++per_vlan[e.vlan];
  }
  for (const auto& [vid, vlan] : s.vlans) {
    if (vlan.status != RowStatus::active) continue;
    m[append(oids::dot1q_fdb_entry, {2, u(vid)})] = Value::counter(per_vlan[vid]);
  }
}

void render_poe(MibMap& m, const SwitchState& s, const Knobs& k, Mode mode) {
  long total_mw = 0;
  for (int f = 1; f <= s.port_count; ++f) {
    const PortState& p = s.port(f);
    const PortKnobs pk = k.port(f);
    const uint32_t pp = u(k.poe_port(f));
    const auto col = [&](uint32_t c) { return append(oids::peth_pse_port_entry, {c, 1, pp}); };
    const int mw = drawn_mw(p, pk);
    total_mw += mw;
    m[col(3)] = Value::integer(p.poe_enabled ? 1 : 2);
    m[col(4)] = Value::integer(2);  // PowerPairsControlAbility false
    m[col(5)] = Value::integer(1);  // signal
    m[col(6)] = Value::integer(static_cast<int>(detection(p, pk)));
    m[col(7)] = Value::integer(3);  // low priority
    m[col(8)] = Value::counter(0);
    m[col(9)] = Value::octets("");
    m[col(10)] = Value::integer(pk.power_class + 1);  // class0(1)..class4(5)
    m[append(oids::sim_pse_port_power_mw, {1, pp})] = Value::gauge(mw);
    if (mode != Mode::cisco) continue;
    const auto cpe = [&](uint32_t c) { return append(oids::cpe_ext_pse_port_entry, {c, 1, pp}); };
    const bool powered = detection(p, pk) == Detection::delivering_power;
    m[cpe(1)] = Value::integer(p.poe_enabled ? p.cisco_poe_mode : 4);
    m[cpe(2)] = Value::integer(3);  // ieee
    m[cpe(3)] = Value::integer(powered ? 1 : 2);
    m[cpe(4)] = Value::integer(powered ? 1 : 2);
    m[cpe(6)] = Value::gauge(15400);
    m[cpe(7)] = Value::gauge(powered ? 15400 : 0);
    m[cpe(9)] = Value::gauge(mw);
    m[cpe(10)] = Value::gauge(mw);
  }
  const auto main = [&](uint32_t c) { return append(oids::peth_main_pse_entry, {c, 1}); };
  m[main(2)] = Value::gauge(k.pse_power_w);
  m[main(3)] = Value::integer(1);  // on
  m[main(4)] = Value::gauge((total_mw + 500) / 1000);
  m[main(5)] = Value::integer(80);
}

std::string said(int vid) {
  const uint32_t v = 100000U + u(vid);
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff),
          static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
}

void render_vtp(MibMap& m, const SwitchState& s) {
  for (const auto& [vid, vlan] : s.vlans) {
    if (vlan.status != RowStatus::active) continue;
    const auto col = [&](uint32_t c) { return append(oids::vtp_vlan_entry, {c, 1, u(vid)}); };
    m[col(2)] = Value::integer(1);  // operational
    m[col(3)] = Value::integer(1);  // ethernet
    m[col(4)] = Value::octets(vlan.name);
    m[col(5)] = Value::integer(1500);
    m[col(6)] = Value::octets(said(vid));
  }
  m[append(oids::vtp_edit_control_entry, {1, 1})] = Value::integer(1);  // none
  m[append(oids::vtp_edit_control_entry, {2, 1})] = Value::integer(s.vtp_apply_status);
  m[append(oids::vtp_edit_control_entry, {3, 1})] = Value::octets(s.vtp_edit_owner);
  if (!s.vtp_edit) return;
  for (const auto& [vid, row] : *s.vtp_edit) {
    const auto col = [&](uint32_t c) { return append(oids::vtp_vlan_edit_entry, {c, 1, u(vid)}); };
    m[col(2)] = Value::integer(row.state);
    m[col(3)] = Value::integer(row.type);
    m[col(4)] = Value::octets(row.name);
    m[col(5)] = Value::integer(1500);
    m[col(6)] = Value::octets(said(vid));
    m[col(11)] = Value::integer(static_cast<int>(row.status));
  }
}

std::set<int> bits_to_set(const VlanBits& bits) {
  std::set<int> out;
  for (std::size_t i = 0; i < bits.size(); ++i) {
    if (bits.test(i)) out.insert(static_cast<int>(i));
  }
  return out;
}

void render_cisco_ports(MibMap& m, const SwitchState& s, const Knobs& k) {
  for (int f = 1; f <= s.port_count; ++f) {
    const PortState& p = s.port(f);
    const uint32_t ifx = u(k.if_index(f));
    const auto tr = [&](uint32_t c) { return append(oids::vlan_trunk_port_entry, {c, ifx}); };
    const std::set<int> enabled = bits_to_set(p.trunk_vlans);
    m[tr(oids::trunk_domain)] = Value::integer(1);
    m[tr(oids::trunk_encapsulation)] = Value::integer(4);  // dot1Q
    m[tr(oids::trunk_vlans_enabled)] = Value::octets(encode_vlan_bitmap(enabled, 0, 128));
    m[tr(oids::trunk_native_vlan)] = Value::integer(p.native_vlan);
    m[tr(oids::trunk_row_status)] = Value::integer(1);
    m[tr(oids::trunk_dynamic_state)] = Value::integer(p.dynamic_state);
    m[tr(oids::trunk_dynamic_status)] = Value::integer(p.trunking() ? 1 : 2);
    m[tr(oids::trunk_vlans_enabled_2k)] = Value::octets(encode_vlan_bitmap(enabled, 1024, 128));
    m[tr(oids::trunk_vlans_enabled_3k)] = Value::octets(encode_vlan_bitmap(enabled, 2048, 128));
    m[tr(oids::trunk_vlans_enabled_4k)] = Value::octets(encode_vlan_bitmap(enabled, 3072, 128));
    const auto vm = [&](uint32_t c) { return append(oids::vm_membership_entry, {c, ifx}); };
    m[vm(1)] = Value::integer(1);  // static
    m[vm(2)] = Value::integer(p.access_vlan);
    m[vm(3)] = Value::integer(p.trunking() ? 1 : 2);  // inactive(1) while trunking, active(2)
  }
}

}  // namespace

Detection detection(const PortState& port, const PortKnobs& knobs) {
  if (!port.poe_enabled) return Detection::disabled;
  if (knobs.device && !knobs.external_power) return Detection::delivering_power;
  return Detection::searching;
}

int drawn_mw(const PortState& port, const PortKnobs& knobs) {
  return detection(port, knobs) == Detection::delivering_power ? knobs.power_mw : 0;
}

std::vector<Oid> implemented_tables(const Knobs& knobs, Mode mode) {
  std::vector<Oid> out;
  if (knobs.bridge_port_table && !knobs.bridge_tables_per_vlan) out.push_back(oids::dot1d_base_port_entry);
  if (knobs.fdb_tables) {
    if (!knobs.bridge_tables_per_vlan) out.push_back(oids::dot1d_tp_fdb_entry);
    if (mode == Mode::qbridge) out.push_back(oids::dot1q_tp_fdb_entry);
  }
  return out;
}

MibMap render_mib(const SwitchState& state, const Knobs& knobs, Mode mode,
                  const std::vector<FdbEntry>& fdb) {
  MibMap m;
  render_system(m, state, knobs, mode);
  render_lldp(m, state, knobs);
  render_entity(m, state, knobs);
  render_bridge(m, state, knobs, fdb);
  if (mode == Mode::qbridge) {
    render_qbridge_vlans(m, state, knobs);
    if (knobs.fdb_tables) render_qbridge_fdb(m, state, knobs, fdb);
  }
  if (knobs.poe_mib) render_poe(m, state, knobs, mode);
  if (mode == Mode::cisco) {
    render_vtp(m, state);
    render_cisco_ports(m, state, knobs);
  }
  return m;
}

MibMap render_vlan_bridge(const SwitchState& state, const Knobs& knobs, Mode mode,
                          const std::vector<FdbEntry>& fdb, int vlan) {
  MibMap m;
  m[oids::dot1d_base_bridge_address] = Value::octets(mac_bytes({0x02, 0x5e, 0, 0, 0, 0}));
  m[oids::dot1d_base_type] = Value::integer(2);
  int members = 0;
  for (int f = 1; f <= state.port_count; ++f) {
    const PortMembership pm = membership(state, f, mode);
    const bool member = pm.pvid == vlan || std::find(pm.untagged.begin(), pm.untagged.end(), vlan) != pm.untagged.end() ||
                        std::find(pm.tagged.begin(), pm.tagged.end(), vlan) != pm.tagged.end();
    if (!member) continue;
    ++members;
    const uint32_t bp = u(knobs.bridge_port(f));
    m[append(oids::dot1d_base_port_entry, {1, bp})] = Value::integer(bp);
    m[append(oids::dot1d_base_port_entry, {2, bp})] = Value::integer(knobs.if_index(f));
  }
  m[oids::dot1d_base_num_ports] = Value::integer(members);
  if (!knobs.fdb_tables) return m;
  render_tp_fdb(m, state, knobs, fdb, vlan);
  return m;
}

}  // namespace picluster::switchsim
