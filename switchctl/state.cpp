#include "switchctl/state.hpp"

#include <algorithm>
#include <cctype>

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
  for (const auto& [bridge_port, if_index] : tables.base_port_if_index) {
    if (auto t = tables.if_type.find(if_index); t != tables.if_type.end() && !ethernet_like(t->second)) {
      continue;
    }
    PortEntry entry{bridge_port, bridge_port, if_index, {}, 0, 0};
    if (auto n = tables.if_name.find(if_index); n != tables.if_name.end()) {
      entry.if_name = n->second;
      if (auto number = trailing_number(n->second)) entry.port = *number;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

// Overrides that name a bridge port (or ifIndex) the switch lists claim that interface for
// their front-panel port before anything is numbered automatically.
std::map<int, PortEntry> claim_overridden(std::vector<PortEntry>& pool,
                                          const std::map<int, inventory::PortMapOverride>& overrides) {
  std::map<int, PortEntry> claimed;
  for (const auto& [port, o] : overrides) {
    auto it = pool.end();
    if (o.bridge_port) {
      it = std::find_if(pool.begin(), pool.end(), [&](const PortEntry& p) { return p.bridge_port == *o.bridge_port; });
    } else if (o.if_index) {
      it = std::find_if(pool.begin(), pool.end(), [&](const PortEntry& p) { return p.if_index == *o.if_index; });
    }
    if (it == pool.end()) continue;
    it->port = port;
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
      map.ports.push_back(PortEntry{port, port, port, {}, 0, 0});
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
  const std::map<int, PortEntry> claimed = claim_overridden(pool, overrides);
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
