// Reading the tables both profiles share: the port map (BRIDGE-MIB, IF-MIB), PoE admin and
// detection status (POWER-ETHERNET-MIB) in one parallel walk, and the forwarding database.
#include "switchctl/mib.hpp"
#include "switchctl/profile.hpp"

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

}  // namespace

Result<SwitchState> read_common(SnmpSession& session,
                                const std::map<int, inventory::PortMapOverride>& overrides) {
  const std::vector<Oid> roots = {mib::dot1dBasePortIfIndex, mib::ifName, mib::ifType,
                                  mib::pethPsePortAdminEnable, mib::pethPsePortDetectionStatus};
  auto cols = walk_columns(session, roots);
  if (!cols) return std::unexpected(cols.error().with_context("read port map"));
  PortMapTables tables;
  std::map<std::pair<int, int>, PoeState> poe_rows;
  for (const auto& vb : (*cols)[0]) {
    if (auto i = index_of(vb.oid, roots[0], 1)) tables.base_port_if_index[(*i)[0]] = static_cast<int>(vb.value.number);
  }
  for (const auto& vb : (*cols)[1]) {
    if (auto i = index_of(vb.oid, roots[1], 1)) tables.if_name[(*i)[0]] = vb.value.bytes;
  }
  for (const auto& vb : (*cols)[2]) {
    if (auto i = index_of(vb.oid, roots[2], 1)) tables.if_type[(*i)[0]] = static_cast<int>(vb.value.number);
  }
  for (const auto& vb : (*cols)[3]) {
    if (auto i = index_of(vb.oid, roots[3], 2)) {
      tables.poe_rows.emplace_back((*i)[0], (*i)[1]);
      poe_rows[{(*i)[0], (*i)[1]}].admin_on = vb.value.number == mib::kTrue;
    }
  }
  for (const auto& vb : (*cols)[4]) {
    if (auto i = index_of(vb.oid, roots[4], 2)) poe_rows[{(*i)[0], (*i)[1]}].detection = detection_from(vb.value.number);
  }
  auto map = build_port_map(tables, overrides);
  if (!map) return std::unexpected(map.error());
  SwitchState state;
  state.map = std::move(*map);
  for (const auto& p : state.map.ports) {
    if (!p.has_poe()) continue;
    if (auto it = poe_rows.find({p.poe_group, p.poe_port}); it != poe_rows.end()) state.poe[p.port] = it->second;
  }
  return state;
}

Result<std::vector<LearnedMac>> read_fdb(SnmpSession& session, const PortMap& map) {
  std::vector<LearnedMac> out;
  for (const Oid* root : {&mib::dot1qTpFdbPort, &mib::dot1dTpFdbPort}) {
    auto cols = walk_columns(session, {*root});
    if (!cols) return std::unexpected(cols.error().with_context("read forwarding database"));
    for (const auto& vb : (*cols)[0]) {
      if (vb.oid.size() < root->size() + 6) continue;
      inventory::Mac mac;
      bool ok = true;
      for (std::size_t k = 0; k < 6; ++k) {
        const auto part = vb.oid[vb.oid.size() - 6 + k];
        ok = ok && part <= 255;
        mac.bytes[k] = static_cast<std::uint8_t>(part);
      }
      const int bridge_port = static_cast<int>(vb.value.number);
      if (!ok || bridge_port <= 0) continue;
      const PortEntry* entry = map.by_bridge_port(bridge_port);
      out.push_back(LearnedMac{mac, entry != nullptr ? entry->port : 0, bridge_port});
    }
    if (!out.empty()) break;
  }
  return out;
}

VarBind poe_admin_varbind(const PortEntry& port, bool on) {
  return VarBind{oid_cat(mib::pethPsePortAdminEnable, {static_cast<std::uint32_t>(port.poe_group),
                                                       static_cast<std::uint32_t>(port.poe_port)}),
                 Value::integer(on ? mib::kTrue : mib::kFalse)};
}

}  // namespace picluster::switchctl
