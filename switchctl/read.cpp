// Reading the tables both profiles share: the port map (BRIDGE-MIB, IF-MIB), PoE admin and
// detection status (POWER-ETHERNET-MIB) in one parallel walk, and the forwarding database.
#include <algorithm>

#include "switchctl/entity.hpp"
#include "switchctl/mib.hpp"
#include "switchctl/profile.hpp"
#include "switchctl/vlan_bridge.hpp"

namespace picluster::switchctl {

namespace {

// The last `n` sub-identifiers after `root` as ints; nullopt when the index has another length.
std::optional<std::vector<int>> index_of(const Oid& oid, const Oid& root, std::size_t n) {
  if (oid.size() != root.size() + n) return std::nullopt;
  std::vector<int> out;
  for (std::size_t i = root.size(); i < oid.size(); ++i) out.push_back(static_cast<int>(oid[i]));
  return out;
}

PoeDetection detection_from(std::int64_t v) {
  if (v >= 1 && v <= 6) return static_cast<PoeDetection>(v);
  return PoeDetection::unknown;
}

// PoE admin and detection status per mapped port, from the walked columns 3 and 4. Values are
// checked once the map is known, so an error can name the front-panel port.
Result<void> read_poe_columns(SwitchState& state, const std::vector<Oid>& roots,
                              const std::vector<std::vector<VarBind>>& cols) {
  for (const auto& p : state.map.ports) {
    if (!p.has_poe()) continue;
    const Oid index{static_cast<std::uint32_t>(p.poe_group), static_cast<std::uint32_t>(p.poe_port)};
    const std::string port = "port " + std::to_string(p.port);
    for (std::size_t c = 3; c <= 4; ++c) {
      const Oid want = oid_cat(roots[c], index);
      auto it = std::find_if(cols[c].begin(), cols[c].end(), [&](const VarBind& vb) { return vb.oid == want; });
      if (it == cols[c].end()) continue;
      auto n = number_of(*it, port);
      if (!n) return std::unexpected(n.error());
      PoeState& poe = state.poe[p.port];
      if (c == 3) poe.admin_on = *n == mib::kTrue;
      else poe.detection = detection_from(*n);
    }
  }
  return {};
}

}  // namespace

Result<SwitchState> read_common(SnmpSession& session,
                                const std::map<int, inventory::PortMapOverride>& overrides, int stack_member,
                                std::string_view numbering) {
  const std::vector<Oid> roots = {mib::dot1dBasePortIfIndex,     mib::ifName,
                                  mib::ifType,                   mib::pethPsePortAdminEnable,
                                  mib::pethPsePortDetectionStatus, mib::lldpLocPortIdSubtype,
                                  mib::lldpLocPortId,            mib::lldpLocPortDesc,
                                  mib::entPhysicalClass};  // ENTITY-MIB's probe: walked on only if served
  auto cols = walk_columns(session, roots);
  if (!cols) return std::unexpected(cols.error().with_context("read port map"));
  auto bad = [](const Error& e) { return std::unexpected(e.with_context("read port map")); };
  PortMapTables tables;
  tables.stack_member = stack_member;
  tables.numbering = std::string(numbering);
  for (const auto& vb : (*cols)[0]) {
    auto i = index_of(vb.oid, roots[0], 1);
    if (!i) continue;
    auto n = number_of(vb, "bridge port " + std::to_string((*i)[0]));
    if (!n) return bad(n.error());
    tables.base_port_if_index[(*i)[0]] = static_cast<int>(*n);
  }
  for (const auto& vb : (*cols)[1]) {
    auto i = index_of(vb.oid, roots[1], 1);
    if (!i) continue;
    auto name = octets_of(vb);
    if (!name) return bad(name.error());
    tables.if_name[(*i)[0]] = *name;
  }
  for (const auto& vb : (*cols)[2]) {
    auto i = index_of(vb.oid, roots[2], 1);
    if (!i) continue;
    auto type = number_of(vb);
    if (!type) return bad(type.error());
    tables.if_type[(*i)[0]] = static_cast<int>(*type);
  }
  for (const auto& vb : (*cols)[3]) {
    if (auto i = index_of(vb.oid, roots[3], 2)) tables.poe_rows.emplace_back((*i)[0], (*i)[1]);
  }
  // LLDP-MIB local ports (columns 5-7): the switch's own front-panel numbers, when served.
  for (std::size_t c = 5; c <= 7; ++c) {
    for (const auto& vb : (*cols)[c]) {
      auto i = index_of(vb.oid, roots[c], 1);
      if (!i || vb.value.is_exception()) continue;
      LldpLocalPort& row = tables.lldp_ports[(*i)[0]];
      if (c == 5) {
        auto n = number_of(vb);
        if (!n) return bad(n.error());
        row.subtype = static_cast<int>(*n);
        continue;
      }
      auto text = octets_of(vb);
      if (!text) return bad(text.error());
      (c == 6 ? row.id : row.desc) = *text;
    }
  }
  if (auto r = read_entity(session, (*cols)[8], tables); !r) return bad(r.error());
  auto map = build_port_map(tables, overrides);
  if (!map) return std::unexpected(map.error());
  SwitchState state;
  state.map = std::move(*map);
  for (const auto& [bp, if_index] : tables.base_port_if_index) state.map.bridge_ports.insert(bp);
  if (state.map.bridge_ports.empty()) {
    for (const auto& p : state.map.ports) state.map.bridge_ports.insert(p.bridge_port);
  }
  if (auto r = read_poe_columns(state, roots, *cols); !r) return bad(r.error());
  return state;
}

Result<SwitchState> read_shelf_ports(SnmpSession& session, const inventory::Shelf& shelf) {
  auto state = read_common(session, port_overrides(shelf), stack_member(shelf.switch_), numbering_mode(shelf.switch_));
  if (!state && state.error().code == ErrorCode::invalid_inventory) {
    return std::unexpected(state.error().with_context("shelf '" + shelf.name + "'"));
  }
  if (!state) return state;
  // Cisco IOS: no port table in the default context; read it in the VLANs' contexts.
  if (auto r = add_bridge_ports_per_vlan(session, shelf, state->map); !r) {
    return std::unexpected(r.error().with_context("read port map"));
  }
  return state;
}

Result<std::vector<LearnedMac>> read_fdb(SnmpSession& session, const PortMap& map) {
  if (!map.vlan_bridge_ports.empty()) return read_fdb_per_vlan(session, map);
  std::vector<LearnedMac> out;
  for (const Oid* root : {&mib::dot1qTpFdbPort, &mib::dot1dTpFdbPort}) {
    auto cols = walk_columns(session, {*root});
    if (!cols) return std::unexpected(cols.error().with_context("read forwarding database"));
    const bool qbridge = root == &mib::dot1qTpFdbPort;
    for (const auto& vb : (*cols)[0]) {
      const auto found = mac_at_end(vb.oid, root->size() + (qbridge ? 7 : 6));
      if (!found) continue;
      const inventory::Mac& mac = *found;
      auto number = number_of(vb);
      if (!number) return std::unexpected(number.error().with_context("read forwarding database"));
      const int bridge_port = static_cast<int>(*number);
      if (bridge_port <= 0) continue;
      // One entry per MAC and port, with every filtering database it was learned in.
      auto same = std::find_if(out.begin(), out.end(), [&](const LearnedMac& l) {
        return l.mac == mac && l.bridge_port == bridge_port;
      });
      if (same == out.end()) {
        const PortEntry* entry = map.by_bridge_port(bridge_port);
        out.push_back(LearnedMac{mac, entry != nullptr ? entry->port : 0, bridge_port, {}});
        same = std::prev(out.end());
      }
      if (qbridge) same->vlans.insert(static_cast<int>(vb.oid[root->size()]));
    }
    if (!out.empty()) break;
  }
  return out;
}

Result<ColumnProbe> probe_column(SnmpSession& session, const Oid& column, std::size_t index_len) {
  Oid instance = column;
  instance.resize(column.size() + index_len, 0);
  auto got = session.get({instance});
  ColumnProbe out;
  if (!got) {
    // An SNMPv1-style noSuchName error-status: the agent does not know the object.
    out.said = "GET " + oid_name(instance) + ": " + got.error().message;
    return out;
  }
  const ValueType type = got->empty() ? ValueType::no_such_object : got->front().value.type;
  out.served = type != ValueType::no_such_object && type != ValueType::end_of_mib_view;
  out.said = "GET " + oid_name(instance) + ": " +
             (got->empty() || got->front().value.is_exception() ? std::string(to_string(type)) : "a value");
  return out;
}

Result<FdbRead> read_fdb_tables(SnmpSession& session, const PortMap& map) {
  FdbRead per_vlan;
  if (map.per_vlan_tried) {
    // Per VLAN first (every VLAN the switch lists); the default context's tables only if no
    // context serves one, and then the error names both attempts.
    auto got = read_fdb_tables_every_vlan(session, map);
    if (!got) return std::unexpected(got.error());
    if (got->served) return got;
    per_vlan = std::move(*got);
  }
  auto out = read_fdb_tables_default(session, map);
  if (out) out->tried.insert(out->tried.end(), per_vlan.tried.begin(), per_vlan.tried.end());
  return out;
}

Result<FdbRead> read_fdb_tables_default(SnmpSession& session, const PortMap& map) {
  FdbRead out;
  auto learned = read_fdb(session, map);
  if (!learned) return std::unexpected(learned.error());
  out.learned = std::move(*learned);
  if (!out.learned.empty()) {
    out.served = true;
    return out;
  }
  out.tried.push_back("walked dot1qTpFdbPort and dot1dTpFdbPort: no rows");
  for (const auto& [column, index_len] : {std::pair{&mib::dot1qTpFdbPort, 7UZ}, std::pair{&mib::dot1dTpFdbPort, 6UZ}}) {
    auto probe = probe_column(session, *column, index_len);
    if (!probe) return std::unexpected(probe.error().with_context("read forwarding database"));
    out.served = out.served || probe->served;
    out.tried.push_back(probe->said);
  }
  return out;
}

VarBind poe_admin_varbind(const PortEntry& port, bool on) {
  return VarBind{oid_cat(mib::pethPsePortAdminEnable, {static_cast<std::uint32_t>(port.poe_group),
                                                       static_cast<std::uint32_t>(port.poe_port)}),
                 Value::integer(on ? mib::kTrue : mib::kFalse)};
}

}  // namespace picluster::switchctl
