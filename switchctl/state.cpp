#include "switchctl/state.hpp"

#include "switchctl/entity.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace picluster::switchctl {

const PortEntry* PortMap::by_port(int port) const {
  for (const auto& p : ports) if (p.port == port) return &p;
  return nullptr;
}
const PortEntry* PortMap::by_bridge_port(int bridge_port) const {
  for (const auto& p : ports) if (p.bridge_port == bridge_port) return &p;
  return nullptr;
}
const PortEntry* PortMap::by_if_index(int if_index) const {
  for (const auto& p : ports) if (p.if_index == if_index) return &p;
  return nullptr;
}

int stack_member(const inventory::Switch& sw) {
  if (sw.extra.contains("stack_member") && sw.extra["stack_member"].is_number_integer()) {
    return sw.extra["stack_member"].get<int>();
  }
  return 1;
}

std::map<int, inventory::PortMapOverride> port_overrides(const inventory::Shelf& shelf) {
  auto out = shelf.switch_.port_map;
  for (auto& [port, o] : out) {
    if (o.extra.contains("if_name")) o.extra["field"] = "switch.port_map: " + std::to_string(port) + ": if_name";
  }
  if (!shelf.fileserver.trunk_port_name.empty()) {
    auto& o = out[shelf.fileserver.trunk_port];
    o.extra["if_name"] = shelf.fileserver.trunk_port_name;
    o.extra["field"] = "fileserver: trunk_port";
  }
  return out;
}

std::string map_notes(const PortMap& map) {
  std::string out;
  for (const auto& n : map.notes) out += (out.empty() ? " (" : "; ") + n;
  return out.empty() ? out : out + ")";
}

std::optional<int> trailing_number(std::string_view name) {
  std::size_t end = name.size();
  while (end > 0 && std::isspace(static_cast<unsigned char>(name[end - 1])) != 0) --end;
  std::size_t start = end;
  while (start > 0 && std::isdigit(static_cast<unsigned char>(name[start - 1])) != 0) --start;
  if (start == end || end - start > 6) return std::nullopt;
  return std::stoi(std::string(name.substr(start, end - start)));
}

namespace {

bool ethernet_like(int if_type) {
  // ethernetCsmacd, fastEther, fastEtherFX, gigabitEthernet
  return if_type == 6 || if_type == 62 || if_type == 69 || if_type == 117;
}

// Picks the numbering PoE rows use: the one that matches the most rows wins.
void match_poe(PortMap& map, const std::vector<std::pair<int, int>>& rows) {
  if (rows.empty()) return;
  using Pick = int (*)(const PortEntry&);
  const std::pair<std::string_view, Pick> schemes[] = {
      {"ifIndex", [](const PortEntry& p) { return p.if_index; }},
      {"bridge port", [](const PortEntry& p) { return p.bridge_port; }},
      {"front-panel port", [](const PortEntry& p) { return p.port; }},
  };
  std::map<int, int> group_of;  // poe port index -> group (first group wins)
  for (const auto& [group, port] : rows) group_of.emplace(port, group);
  int best_hits = 0;
  const std::pair<std::string_view, Pick>* best = nullptr;
  for (const auto& scheme : schemes) {
    int hits = 0;
    for (const auto& p : map.ports) hits += group_of.contains(scheme.second(p)) ? 1 : 0;
    if (hits > best_hits) {
      best_hits = hits;
      best = &scheme;
    }
  }
  if (best == nullptr) return;
  map.poe_indexing = best->first;
  for (auto& p : map.ports) {
    const int index = best->second(p);
    if (auto it = group_of.find(index); it != group_of.end()) {
      p.poe_group = it->second;
      p.poe_port = index;
    }
  }
}

// An ifName that is nothing but the number ("3"), as opposed to "A3" or "gi3".
bool named_exactly(const PortEntry& p) {
  return !p.if_name.empty() && std::all_of(p.if_name.begin(), p.if_name.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// The bridge ports the switch lists, numbered from ifName (Ethernet-like interfaces only).
std::vector<PortEntry> candidates(const PortMapTables& tables) {
  std::vector<PortEntry> out;
  if (tables.base_port_if_index.empty()) {
    // No BRIDGE-MIB port table: the interfaces by ifIndex, without bridge port numbers.
    for (const auto& [if_index, name] : tables.if_name) {
      if (auto t = tables.if_type.find(if_index); t == tables.if_type.end() || !ethernet_like(t->second)) continue;
      if (auto number = trailing_number(name)) {
        out.push_back(PortEntry{*number, 0, if_index, name, 0, 0, "ifName '" + name + "' (by ifIndex)"});
      }
    }
    return out;
  }
  for (const auto& [bridge_port, if_index] : tables.base_port_if_index) {
    if (auto t = tables.if_type.find(if_index); t != tables.if_type.end() && !ethernet_like(t->second)) {
      continue;
    }
    PortEntry entry{bridge_port, bridge_port, if_index, {}, 0, 0, "bridge port number (no ifName)"};
    if (auto n = tables.if_name.find(if_index); n != tables.if_name.end()) {
      entry.if_name = n->second;
      if (auto number = trailing_number(n->second)) {
        entry.port = *number;
        entry.numbering = "ifName '" + n->second + "'";
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

// "gi1/0/5" -> family "gi", numbers {1, 0, 5}; "swp00" -> "swp", {0}; "3" -> "", {3}.
struct NameParts {
  std::string family;
  std::vector<int> numbers;
};

NameParts split_name(std::string_view name) {
  NameParts out;
  std::size_t i = 0;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) == 0) out.family += name[i++];
  while (i < name.size()) {
    std::size_t j = i;
    while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j])) != 0) ++j;
    if (j > i && j - i <= 6) out.numbers.push_back(std::stoi(std::string(name.substr(i, j - i))));
    i = j > i ? j : i + 1;
  }
  return out;
}

// Stack units, name families and 0-based names (see build_port_map). Moves what is left out of
// the numbering from pool to left_out, and says what it did in notes.
void normalize_names(std::vector<PortEntry>& pool, std::vector<PortEntry>& left_out, int unit,
                     std::vector<std::string>& notes) {
  auto leave = [&](auto pred, const std::string& why) {
    int n = 0;
    for (auto it = pool.begin(); it != pool.end();) {
      if (!pred(*it)) {
        ++it;
        continue;
      }
      it->numbering = why;
      left_out.push_back(std::move(*it));
      it = pool.erase(it);
      ++n;
    }
    return n;
  };
  // 1. stack units: gi<unit>/0/<n>
  const bool stacked = std::any_of(pool.begin(), pool.end(), [](const PortEntry& p) { return split_name(p.if_name).numbers.size() == 3; });
  if (stacked) {
    const int n = leave([&](const PortEntry& p) {
      const auto parts = split_name(p.if_name);
      return parts.numbers.size() == 3 && parts.numbers[0] != unit;
    }, "left out: another stack unit than switch.stack_member " + std::to_string(unit));
    for (auto& p : pool) {
      if (split_name(p.if_name).numbers.size() == 3) p.numbering += ": stack unit " + std::to_string(unit);
    }
    notes.push_back("stacked interface names: unit " + std::to_string(unit) + " numbered (switch.stack_member), " +
                    std::to_string(n) + " interface(s) of other units left out");
  }
  // 2. families: the biggest one is numbered; the others give way where numbers collide.
  std::map<std::string, int> size;
  for (const auto& p : pool) if (!p.if_name.empty()) ++size[split_name(p.if_name).family];
  if (size.empty()) return;
  const std::string main = std::max_element(size.begin(), size.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  // 3. a main family named from 0 is shifted by one.
  int lowest = 1 << 30;
  for (const auto& p : pool) if (!p.if_name.empty() && split_name(p.if_name).family == main) lowest = std::min(lowest, p.port);
  if (lowest == 0) {
    for (auto& p : pool) {
      if (p.if_name.empty() || split_name(p.if_name).family != main) continue;
      ++p.port;
      p.numbering += " + 1 (names start at 0)";
    }
    notes.push_back("interface names '" + main + "...' start at 0: '" + main + "0' is front-panel port 1");
  }
  std::set<int> used;
  for (const auto& p : pool) if (!p.if_name.empty() && split_name(p.if_name).family == main) used.insert(p.port);
  const int n = leave([&](const PortEntry& p) {
    return !p.if_name.empty() && split_name(p.if_name).family != main && used.contains(p.port) &&
           !std::all_of(p.if_name.begin(), p.if_name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  }, "left out: module or uplink port (name it with if_name in switch.port_map)");
  if (n > 0) {
    notes.push_back(std::to_string(n) + " module or uplink port(s) left out of the numbering (name them with "
                    "{\"if_name\": ...} in switch.port_map)");
  }
}

// The switch's own numbering (LLDP-MIB lldpLocPortTable): interfaces whose ifName a row names
// (lldpLocPortId or lldpLocPortDesc) get lldpLocPortNum as front-panel number; the others are
// left out. Returns false, changing nothing, when the table is absent, names no interface, or
// its numbers are not distinct or do not start at 1 (ifIndex-like: noted).
bool number_by_lldp(std::vector<PortEntry>& pool, std::vector<PortEntry>& left_out,
                    const std::map<int, LldpLocalPort>& lldp, std::vector<std::string>& notes) {
  if (lldp.empty()) return false;
  std::map<std::size_t, int> number_of;  // pool index -> lldpLocPortNum
  std::set<int> used;
  bool distinct = true;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    if (pool[i].if_name.empty()) continue;
    for (const auto& [num, row] : lldp) {
      if (row.id != pool[i].if_name && row.desc != pool[i].if_name) continue;
      number_of[i] = num;
      distinct = distinct && used.insert(num).second;
      break;
    }
  }
  if (number_of.empty()) return false;
  if (!distinct || *used.begin() != 1) {
    notes.push_back("LLDP-MIB local port numbers (lldpLocPortNum " + std::to_string(*used.begin()) + "-" +
                    std::to_string(*used.rbegin()) + ") " + (distinct ? "do not start at 1" : "repeat") +
                    ": not front-panel numbers; numbered by ifName");
    return false;
  }
  std::vector<PortEntry> kept;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    PortEntry& p = pool[i];
    if (auto it = number_of.find(i); it != number_of.end()) {
      p.port = it->second;
      p.numbering = "LLDP-MIB lldpLocPortNum " + std::to_string(it->second) + " ('" + p.if_name + "')";
      kept.push_back(std::move(p));
    } else {
      p.numbering = "left out: not in the LLDP-MIB local port table (name it with if_name in switch.port_map)";
      left_out.push_back(std::move(p));
    }
  }
  pool = std::move(kept);
  notes.push_back("front-panel numbers from the switch's LLDP-MIB local port table (lldpLocPortNum) for " +
                  std::to_string(pool.size()) + " interface(s)");
  return true;
}

// Which source numbers the ports (switch.numbering, "auto" by default): ENTITY-MIB and LLDP-MIB
// where served and usable, checked against each other when both are (a contradiction is an error
// naming both); the interface names otherwise. A forced source that cannot number is an error.
Result<void> number_by_switch_view(std::vector<PortEntry>& pool, PortMap& map, const PortMapTables& tables) {
  const std::string& mode = tables.numbering;
  if (mode != "auto" && mode != "entity" && mode != "lldp" && mode != "names") {
    return fail(ErrorCode::invalid_inventory,
                "switch.numbering: '" + mode + "' is not one of auto, entity, lldp, names");
  }
  std::vector<PortEntry> by_entity = pool, entity_left, by_lldp = pool, lldp_left;
  std::vector<std::string> entity_notes, lldp_notes;
  const bool entity = (mode == "auto" || mode == "entity") && number_by_entity(by_entity, entity_left, tables, entity_notes);
  const bool lldp = (mode == "auto" || mode == "lldp") && number_by_lldp(by_lldp, lldp_left, tables.lldp_ports, lldp_notes);
  auto forced = [&](std::string_view source, const std::vector<std::string>& why) {
    std::string out = "switch.numbering is \"" + mode + "\" but " + std::string(source) + " cannot number the ports";
    for (const auto& n : why) out += "; " + n;
    return fail(ErrorCode::invalid_inventory, out);
  };
  if (mode == "entity" && !entity) return forced("ENTITY-MIB", entity_notes.empty() ? std::vector<std::string>{"it is not served"} : entity_notes);
  if (mode == "lldp" && !lldp) return forced("LLDP-MIB's local port table", lldp_notes.empty() ? std::vector<std::string>{"it is not served"} : lldp_notes);
  map.notes.insert(map.notes.end(), entity_notes.begin(), entity_notes.end());
  if (entity && lldp) {
    if (auto conflict = entity_lldp_conflict(by_entity, by_lldp); !conflict.empty()) {
      return fail(ErrorCode::conflict, conflict);
    }
    map.notes.push_back("LLDP-MIB's local port table agrees with ENTITY-MIB");
  }
  if (entity) {
    pool = std::move(by_entity);
    map.left_out.insert(map.left_out.end(), entity_left.begin(), entity_left.end());
    return {};
  }
  map.notes.insert(map.notes.end(), lldp_notes.begin(), lldp_notes.end());
  if (lldp) {
    pool = std::move(by_lldp);
    map.left_out.insert(map.left_out.end(), lldp_left.begin(), lldp_left.end());
    return {};
  }
  normalize_names(pool, map.left_out, tables.stack_member, map.notes);
  return {};
}

// "'te1/0/9' is not an interface of the switch (...)" for an override naming an interface the
// switch does not list, with the inventory field it came from and the names that could be meant.
Error unknown_interface(const inventory::PortMapOverride& o, int port, const std::string& name,
                        const std::vector<PortEntry>& pool) {
  const std::string field = o.extra.contains("field") && o.extra["field"].is_string()
                                ? o.extra["field"].get<std::string>()
                                : "switch.port_map: " + std::to_string(port) + ": if_name";
  std::string left;
  int shown = 0;
  for (const auto& p : pool) {
    if (!p.numbering.starts_with("left out") || p.if_name.empty()) continue;
    if (++shown <= 8) left += (left.empty() ? "" : ", ") + p.if_name;
  }
  if (shown > 8) left += ", ...";
  return Error{ErrorCode::invalid_inventory,
               field + ": '" + name + "' is not an interface of the switch (no ifName is '" + name + "'" +
                   (left.empty() ? "" : "; interfaces kept out of the front-panel numbering: " + left) + ")"};
}

// Overrides that name an interface (or a bridge port or ifIndex) the switch lists claim that
// interface for their front-panel port before anything is numbered automatically. An interface
// name the switch does not list is an error.
Result<std::map<int, PortEntry>> claim_overridden(std::vector<PortEntry>& pool,
                                                  const std::map<int, inventory::PortMapOverride>& overrides) {
  std::map<int, PortEntry> claimed;
  for (const auto& [port, o] : overrides) {
    auto it = pool.end();
    if (o.extra.contains("if_name") && o.extra["if_name"].is_string()) {
      const std::string name = o.extra["if_name"].get<std::string>();
      it = std::find_if(pool.begin(), pool.end(), [&](const PortEntry& p) { return p.if_name == name; });
      if (it == pool.end()) return std::unexpected(unknown_interface(o, port, name, pool));
    } else if (o.bridge_port) {
      it = std::find_if(pool.begin(), pool.end(), [&](const PortEntry& p) { return p.bridge_port == *o.bridge_port; });
    } else if (o.if_index) {
      it = std::find_if(pool.begin(), pool.end(), [&](const PortEntry& p) { return p.if_index == *o.if_index; });
    }
    if (it == pool.end()) continue;
    it->port = port;
    it->numbering = o.extra.contains("field") && o.extra["field"] == "fileserver: trunk_port"
                        ? "fileserver.trunk_port '" + it->if_name + "' in the inventory"
                        : "switch.port_map in the inventory";
    claimed.emplace(port, std::move(*it));
    pool.erase(it);
  }
  return claimed;
}

// Numbers the rest by ifName. Ports whose number an override took are left out; of two
// interfaces with the same number, the one whose ifName is exactly the number wins (a ProCurve's
// "3" over its module port "A3"); any other clash is an error.
Result<void> number_the_rest(PortMap& map, std::vector<PortEntry> pool,
                             const std::map<int, PortEntry>& claimed) {
  std::stable_sort(pool.begin(), pool.end(), [](const PortEntry& a, const PortEntry& b) { return a.port < b.port; });
  for (std::size_t i = 0; i < pool.size();) {
    std::size_t j = i;
    while (j < pool.size() && pool[j].port == pool[i].port) ++j;
    const int number = pool[i].port;
    if (!claimed.contains(number)) {
      std::size_t exact = 0, pick = i;
      for (std::size_t k = i; k < j; ++k) {
        if (named_exactly(pool[k])) ++exact, pick = k;
      }
      if (j - i > 1 && exact != 1) {
        const PortEntry& a = pool[i];
        const PortEntry& b = pool[i + 1];
        return fail(ErrorCode::conflict,
                    "port map: bridge ports " + std::to_string(a.bridge_port) + " and " +
                        std::to_string(b.bridge_port) + " both look like front-panel port " +
                        std::to_string(number) + " (ifName '" + a.if_name + "', '" + b.if_name +
                        "'); set switch.port_map in the inventory");
      }
      map.ports.push_back(pool[pick]);
    }
    i = j;
  }
  for (const auto& [port, entry] : claimed) map.ports.push_back(entry);
  return {};
}

// Field-by-field overrides; an override for a port the switch does not list creates it.
void apply_overrides(PortMap& map, const std::map<int, inventory::PortMapOverride>& overrides) {
  for (const auto& [port, o] : overrides) {
    auto it = std::find_if(map.ports.begin(), map.ports.end(),
                           [&](const PortEntry& p) { return p.port == port; });
    if (it == map.ports.end()) {
      map.ports.push_back(PortEntry{port, port, port, {}, 0, 0, "switch.port_map (not listed by the switch)"});
      it = std::prev(map.ports.end());
    }
    if (o.bridge_port) it->bridge_port = *o.bridge_port;
    if (o.if_index) it->if_index = *o.if_index;
    if (o.poe_group) it->poe_group = *o.poe_group;
    if (o.poe_port) {
      it->poe_port = *o.poe_port;
      if (it->poe_group == 0) it->poe_group = 1;
    }
  }
}

void sort_by_port(PortMap& map) {
  std::sort(map.ports.begin(), map.ports.end(),
            [](const PortEntry& a, const PortEntry& b) { return a.port < b.port; });
}

}  // namespace

Result<PortMap> build_port_map(const PortMapTables& tables,
                               const std::map<int, inventory::PortMapOverride>& overrides) {
  PortMap map;
  std::vector<PortEntry> pool = candidates(tables);
  if (auto r = number_by_switch_view(pool, map, tables); !r) return std::unexpected(r.error());
  if (tables.base_port_if_index.empty()) {
    map.bridge_port_table = false;
    map.notes.push_back(std::string("dot1dBasePortIfIndex (BRIDGE-MIB port table) is not served") +
                        (pool.empty() ? "" : "; ports mapped by ifIndex from ifName/ifType, without bridge port numbers") +
                        " (Cisco IOS serves the BRIDGE-MIB only per VLAN, community 'COMMUNITY@VLAN'; a bridge_port "
                        "in switch.port_map supplies the number)");
  }
  // An override may name a left-out interface (a module port) by if_name, bridge port or ifIndex.
  for (auto& p : map.left_out) pool.push_back(p);
  auto claims = claim_overridden(pool, overrides);
  if (!claims) return std::unexpected(claims.error());
  std::map<int, PortEntry> claimed = std::move(*claims);
  std::erase_if(map.left_out, [&](const PortEntry& l) {
    return std::any_of(claimed.begin(), claimed.end(), [&](auto& kv) { return kv.second.if_index == l.if_index && kv.second.bridge_port == l.bridge_port; });
  });
  std::erase_if(pool, [&](const PortEntry& p) {
    return std::any_of(map.left_out.begin(), map.left_out.end(), [&](const PortEntry& l) { return l.if_index == p.if_index && l.bridge_port == p.bridge_port; });
  });
  if (auto r = number_the_rest(map, std::move(pool), claimed); !r) return std::unexpected(r.error());
  sort_by_port(map);
  match_poe(map, tables.poe_rows);
  apply_overrides(map, overrides);
  sort_by_port(map);
  return map;
}

std::string_view to_string(PoeDetection d) {
  switch (d) {
    case PoeDetection::unknown: return "unknown";
    case PoeDetection::disabled: return "disabled";
    case PoeDetection::searching: return "searching";
    case PoeDetection::delivering_power: return "deliveringPower";
    case PoeDetection::fault: return "fault";
    case PoeDetection::test: return "test";
    case PoeDetection::other_fault: return "otherFault";
  }
  return "unknown";
}

const DesiredPort* Desired::find(int port) const {
  for (const auto& p : ports) if (p.port == port) return &p;
  return nullptr;
}

Desired desired_state(const inventory::Shelf& shelf) {
  Desired d;
  d.trunk_port = shelf.fileserver.trunk_port;
  const int public_vlan = shelf.public_net.vlan;
  std::vector<const inventory::Pi*> pis;
  for (const auto& pi : shelf.pis) pis.push_back(&pi);
  std::sort(pis.begin(), pis.end(), [](auto* a, auto* b) { return a->port < b->port; });
  DesiredPort trunk{d.trunk_port, {}, false, std::nullopt, {}, {public_vlan}};
  for (const auto* pi : pis) {
    d.vlan_names[pi->vlan] = pi->name;
    d.ports.push_back(DesiredPort{pi->port, pi->name, true, pi->vlan, {pi->vlan}, {public_vlan}});
    trunk.tagged.insert(pi->vlan);
  }
  d.vlan_names[public_vlan] = "public";
  // Cisco: the trunk's native VLAN as the inventory says (fileserver.trunk_native_vlan, checked by
  // SwitchController::plan), carried untagged; by default the cisco profile keeps the port's own.
  const auto& native = shelf.fileserver.extra;
  if (shelf.switch_.profile == "cisco" && native.contains("trunk_native_vlan") &&
      native["trunk_native_vlan"].is_number_integer()) {
    trunk.untagged = {native["trunk_native_vlan"].get<int>()};
  }
  d.ports.push_back(std::move(trunk));
  return d;
}

const PortChange* Plan::find(int port) const {
  for (const auto& c : ports) if (c.port == port) return &c;
  return nullptr;
}

std::string render_plan(const Plan& plan) {
  std::string out;
  auto pdu = [&](const SetPdu& p) {
    out += "SET  " + p.description + "\n";
    for (const auto& vb : p.varbinds) out += "       " + oid_name(vb.oid) + " = " + vb.value.str() + "\n";
  };
  for (const auto& p : plan.prelude) pdu(p);
  for (const auto& c : plan.ports) {
    for (const auto& line : c.changes) out += "# port " + std::to_string(c.port) + ": " + line + "\n";
    pdu(c.atomic);
  }
  for (const auto& p : plan.postlude) pdu(p);
  return out;
}

}  // namespace picluster::switchctl
