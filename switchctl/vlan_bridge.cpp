// Per-VLAN BRIDGE-MIB reads for Cisco IOS (see vlan_bridge.hpp).
#include "switchctl/vlan_bridge.hpp"

#include <algorithm>

#include "switchctl/mib.hpp"
#include "switchctl/profile.hpp"

namespace picluster::switchctl {

namespace {

const Oid kSysObjectId{1, 3, 6, 1, 2, 1, 1, 2, 0};
const Oid kCiscoEnterprise{1, 3, 6, 1, 4, 1, 9};
constexpr std::string_view kMissingNote =
    "dot1dBasePortIfIndex (BRIDGE-MIB port table) is not served";

// The rows of one column walked in one session: last sub-identifier(s) -> value.
Result<std::vector<VarBind>> walk_one(SnmpSession& session, const Oid& column) {
  auto cols = walk_columns(session, {column});
  if (!cols) return std::unexpected(cols.error());
  return std::move((*cols)[0]);
}

// One VLAN's dot1dBasePortIfIndex, or what the context said instead ("" when it answered).
struct VlanPorts {
  std::map<int, int> ports;  // bridge port -> ifIndex
  std::string said;
  bool timed_out = false;
};

Result<VlanPorts> read_vlan_ports(SnmpSession& context, int vlan) {
  VlanPorts out;
  auto rows = walk_one(context, mib::dot1dBasePortIfIndex);
  if (!rows && rows.error().code == ErrorCode::timeout) {
    out.timed_out = true;
    out.said = "VLAN " + std::to_string(vlan) + ": no response (timeout)";
    return out;
  }
  if (!rows)
    return std::unexpected(
        rows.error().with_context("VLAN " + std::to_string(vlan) + " (community@VLAN)"));
  for (const auto& vb : *rows) {
    if (vb.oid.size() != mib::dot1dBasePortIfIndex.size() + 1) continue;
    const int bp = static_cast<int>(vb.oid.back());
    auto n =
        number_of(vb, "bridge port " + std::to_string(bp) + " in VLAN " + std::to_string(vlan));
    if (!n) return std::unexpected(n.error());
    out.ports[bp] = static_cast<int>(*n);
  }
  if (!out.ports.empty()) return out;
  auto probe = probe_column(context, mib::dot1dBasePortIfIndex, 1);
  if (!probe) return std::unexpected(probe.error());
  out.said =
      "VLAN " + std::to_string(vlan) + ": " + (probe->served ? "no member ports" : probe->said);
  return out;
}

// Gives every mapped port (and left-out interface) its bridge port number from the VLAN tables,
// by ifIndex; a port numbered differently in two VLANs keeps the first and is noted.
void merge_by_if_index(PortMap& map) {
  std::set<int> bridge_ports;
  std::vector<std::string> clashes;
  for (const auto& [vlan, table] : map.vlan_bridge_ports) {
    for (const auto& [bp, if_index] : table) {
      bridge_ports.insert(bp);
      for (auto* list : {&map.ports, &map.left_out}) {
        for (auto& p : *list) {
          if (p.if_index != if_index) continue;
          if (p.bridge_port == 0)
            p.bridge_port = bp;
          else if (p.bridge_port != bp)
            clashes.push_back(p.if_name + " is bridge port " + std::to_string(p.bridge_port) +
                              ", in VLAN " + std::to_string(vlan) + " " + std::to_string(bp));
        }
      }
    }
  }
  if (!bridge_ports.empty()) map.bridge_ports = std::move(bridge_ports);
  for (auto& c : clashes)
    map.notes.push_back("per-VLAN bridge port numbers differ: " + c + " (the first is used)");
}

// The map's note on the missing table, rewritten to say what was tried per VLAN.
void note_per_vlan(PortMap& map, const std::set<int>& asked) {
  std::erase_if(map.notes, [](const std::string& n) {
    return n.starts_with(kMissingNote) ||
           n.starts_with("dot1dBasePortIfIndex is not served in the default context");
  });
  std::set<int> answered;
  for (const auto& [vlan, table] : map.vlan_bridge_ports) answered.insert(vlan);
  std::string said;
  for (const auto& s : map.per_vlan_said) said += (said.empty() ? "" : "; ") + s;
  std::string note = "dot1dBasePortIfIndex is not served in the default context";
  if (!answered.empty()) {
    note +=
        "; read it per VLAN with community@VLAN for VLANs " + vlan_list(answered) + " (Cisco IOS)";
    if (!said.empty()) note += " (" + said + ")";
  } else {
    note += ", nor per VLAN with community@VLAN" +
            (asked.empty() ? std::string(" (no VLAN to ask)") : " for VLANs " + vlan_list(asked)) +
            (said.empty() ? "" : " (" + said + ")") +
            "; ports mapped by ifIndex from ifName/ifType, without bridge port numbers (a "
            "bridge_port in "
            "switch.port_map supplies the number)";
  }
  map.notes.push_back(std::move(note));
}

}  // namespace

std::optional<inventory::Mac> mac_at_end(const Oid& oid, std::size_t size) {
  if (oid.size() != size) return std::nullopt;
  inventory::Mac mac;
  for (std::size_t k = 0; k < 6; ++k) {
    const auto part = oid[oid.size() - 6 + k];
    if (part > 255) return std::nullopt;
    mac.bytes[k] = static_cast<std::uint8_t>(part);
  }
  return mac;
}

std::string vlan_list(const std::set<int>& vlans) {
  std::string out;
  for (const int v : vlans) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return out;
}

Result<bool> bridge_per_vlan_applies(SnmpSession& session, const PortMap& map,
                                     std::string_view profile) {
  if (map.bridge_port_table) return false;
  if (profile == "cisco") return true;
  auto got = session.get({kSysObjectId});
  if (!got) return std::unexpected(got.error().with_context("read sysObjectID"));
  return !got->empty() && got->front().value.type == ValueType::object_id &&
         oid_starts_with(got->front().value.oid, kCiscoEnterprise);
}

Result<std::set<int>> switch_vlans(SnmpSession& session) {
  std::set<int> out;
  for (const Oid* column : {&mib::vtpVlanState, &mib::dot1qVlanStaticRowStatus}) {
    auto rows = walk_one(session, *column);
    if (!rows) return std::unexpected(rows.error().with_context("read VLAN list"));
    for (const auto& vb : *rows) {
      // vtpVlanState is indexed management domain . VLAN; dot1qVlanStaticRowStatus by VLAN.
      const std::size_t len = column == &mib::vtpVlanState ? 2 : 1;
      if (vb.oid.size() != column->size() + len || vb.value.is_exception()) continue;
      if (len == 2 && vb.oid[column->size()] != 1) continue;
      out.insert(static_cast<int>(vb.oid.back()));
    }
    if (!out.empty()) break;
  }
  return out;
}

std::set<int> shelf_vlans(const inventory::Shelf& shelf) {
  std::set<int> out{1, shelf.public_net.vlan};
  for (const auto& pi : shelf.pis) {
    if (pi.vlan > 0) out.insert(pi.vlan);
  }
  return out;
}

Result<void> read_bridge_ports_per_vlan(SnmpSession& session, const std::set<int>& vlans,
                                        PortMap& map) {
  map.per_vlan_tried = true;
  for (const int vlan : vlans) {
    if (map.per_vlan_stopped)
      break;  // the switch does not answer community@VLAN: do not wait per VLAN
    if (!map.per_vlan_asked.insert(vlan).second) continue;
    auto context = session.vlan_context(vlan);
    if (!context) {
      map.per_vlan_said.push_back("this SNMP session cannot address a VLAN's context");
      map.per_vlan_stopped = true;
      break;
    }
    auto got = read_vlan_ports(*context, vlan);
    if (!got) return std::unexpected(got.error());
    if (!got->said.empty()) map.per_vlan_said.push_back(got->said);
    if (!got->ports.empty()) map.vlan_bridge_ports[vlan] = std::move(got->ports);
    map.per_vlan_stopped = got->timed_out;
  }
  merge_by_if_index(map);
  note_per_vlan(map, map.per_vlan_asked);
  return {};
}

Result<void> add_bridge_ports_per_vlan(SnmpSession& session, const inventory::Shelf& shelf,
                                       PortMap& map) {
  auto applies = bridge_per_vlan_applies(session, map, shelf.switch_.profile);
  if (!applies) return std::unexpected(applies.error());
  if (!*applies) return {};
  auto listed = switch_vlans(session);
  if (!listed) return std::unexpected(listed.error());
  std::set<int> vlans = shelf_vlans(shelf);
  if (!listed->empty()) std::erase_if(vlans, [&](int v) { return !listed->contains(v); });
  return read_bridge_ports_per_vlan(session, vlans, map);
}

Result<FdbRead> read_fdb_tables_per_vlan(SnmpSession& session, const PortMap& map) {
  FdbRead out;
  std::vector<std::string> said;
  for (const auto& [vlan, table] : map.vlan_bridge_ports) {
    auto context = session.vlan_context(vlan);
    if (!context) break;
    const std::string where = "VLAN " + std::to_string(vlan);
    auto rows = walk_one(*context, mib::dot1dTpFdbPort);
    if (!rows)
      return std::unexpected(
          rows.error().with_context("read forwarding database in " + where + " (community@VLAN)"));
    bool any = false;
    for (const auto& vb : *rows) {
      auto mac = mac_at_end(vb.oid, mib::dot1dTpFdbPort.size() + 6);
      if (!mac) continue;
      auto number = number_of(vb);
      if (!number)
        return std::unexpected(number.error().with_context("read forwarding database in " + where));
      const int bp = static_cast<int>(*number);
      if (bp <= 0) continue;
      any = true;
      // The VLAN's own table says which interface its bridge port is.
      const auto row = table.find(bp);
      const PortEntry* entry =
          row != table.end() ? map.by_if_index(row->second) : map.by_bridge_port(bp);
      const int port = entry != nullptr ? entry->port : 0;
      auto same = std::find_if(out.learned.begin(), out.learned.end(), [&](const LearnedMac& l) {
        return l.mac == *mac && (port != 0 ? l.port == port : l.port == 0 && l.bridge_port == bp);
      });
      if (same == out.learned.end()) {
        out.learned.push_back(LearnedMac{*mac, port, bp, {}});
        same = std::prev(out.learned.end());
      }
      same->vlans.insert(vlan);
    }
    out.served = out.served || any;
    if (any) continue;
    auto probe = probe_column(*context, mib::dot1dTpFdbPort, 6);
    if (!probe)
      return std::unexpected(probe.error().with_context("read forwarding database in " + where));
    out.served = out.served || probe->served;
    said.push_back(where + ": " + (probe->served ? "no MAC learned" : probe->said));
  }
  if (out.learned.empty()) {
    std::string list;
    for (const auto& s : said) list += (list.empty() ? "" : "; ") + s;
    std::string unanswered;
    for (const auto& s : map.per_vlan_said) unanswered += (unanswered.empty() ? "" : "; ") + s;
    out.tried.push_back("walked dot1dTpFdbPort per VLAN with community@VLAN" +
                        (!list.empty()        ? " (" + list + ")"
                         : unanswered.empty() ? std::string(": no VLAN context answered")
                                              : ": no VLAN context answered (" + unanswered + ")"));
  }
  return out;
}

Result<FdbRead> read_fdb_tables_every_vlan(SnmpSession& session, const PortMap& map) {
  PortMap all = map;
  auto listed = switch_vlans(session);
  if (!listed) return std::unexpected(listed.error());
  if (!listed->empty()) {
    if (auto r = read_bridge_ports_per_vlan(session, *listed, all); !r)
      return std::unexpected(r.error());
  }
  return read_fdb_tables_per_vlan(session, all);
}

Result<std::vector<LearnedMac>> read_fdb_per_vlan(SnmpSession& session, const PortMap& map) {
  auto got = read_fdb_tables_per_vlan(session, map);
  if (!got) return std::unexpected(got.error());
  return std::move(got->learned);
}

}  // namespace picluster::switchctl
