// ENTITY-MIB front-panel numbering (see entity.hpp): reading entPhysicalTable and
// entAliasMappingTable, checking them, and numbering the port map's interfaces from them.
#include "switchctl/entity.hpp"

#include <algorithm>
#include <set>
#include <variant>

#include "switchctl/mib.hpp"

namespace picluster::switchctl {

namespace {

constexpr int kChassis = 3;
constexpr int kPort = 10;
constexpr int kStack = 11;
constexpr int kMaxDepth = 32;  // containment chains are a few levels deep; a loop is not followed

std::string at(const Oid& column, int index) {
  return oid_name(oid_cat(column, {static_cast<std::uint32_t>(index)}));
}

// "'Unit 1'" or "entPhysicalIndex 7" when the entity has no name.
std::string label(const std::map<int, EntityRow>& entities, int index) {
  auto it = entities.find(index);
  if (it == entities.end() || it->second.name.empty()) return "entPhysicalIndex " + std::to_string(index);
  return "'" + it->second.name + "'";
}

// One pool interface as ENTITY-MIB places it.
struct Placed {
  std::size_t pool_index = 0;
  int entity = 0;
  int chassis = 0;
  int carrier = 0;  // what contains the port directly: the chassis or a module
  int member = 0;   // 0 until known
  int pos = -1;
};

// Where each mapped pool interface sits, or why ENTITY-MIB cannot say (the error string).
std::variant<std::vector<Placed>, std::string> place(const std::vector<PortEntry>& pool,
                                                     const PortMapTables& t) {
  std::map<int, int> entity_of;  // ifIndex -> port entity
  for (const auto& [e, if_index] : t.entity_if_index) {
    auto it = t.entities.find(e);
    if (it != t.entities.end() && it->second.klass == kPort) entity_of.emplace(if_index, e);
  }
  std::vector<Placed> out;
  bool stacked = false;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    auto it = entity_of.find(pool[i].if_index);
    if (it == entity_of.end()) continue;
    const int e = it->second;
    const EntityRow& row = t.entities.at(e);
    Placed p{i, e, 0, row.contained_in, 0, row.rel_pos};
    int stack = 0;
    std::set<int> seen{e};
    for (int cur = row.contained_in; cur != 0 && seen.insert(cur).second && std::ssize(seen) < kMaxDepth;) {
      auto r = t.entities.find(cur);
      if (r == t.entities.end()) break;
      if (p.chassis == 0 && r->second.klass == kChassis) p.chassis = cur;
      else if (p.chassis != 0 && r->second.klass == kStack) {
        stack = cur;
        break;
      }
      cur = r->second.contained_in;
    }
    if (p.chassis == 0) {
      return at(mib::entPhysicalContainedIn, e) + " = " + std::to_string(row.contained_in) + ": port " +
             label(t.entities, e) + " (ifIndex " + std::to_string(pool[i].if_index) +
             ") is in no chassis (entPhysicalClass chassis(3))";
    }
    if (stack != 0) {
      stacked = true;
      p.member = t.entities.at(p.chassis).rel_pos;
      if (p.member < 1) {
        return at(mib::entPhysicalParentRelPos, p.chassis) + " = " + std::to_string(p.member) +
               ": the stack member number of chassis " + label(t.entities, p.chassis) + " is unknown";
      }
    }
    out.push_back(p);
  }
  if (out.empty()) return std::string("entAliasMappingTable maps no bridge port's interface to a port entity");
  // Chassis outside a stack: the only one is member 1; several are numbered by their position.
  std::set<int> free;
  for (const auto& p : out) if (p.member == 0) free.insert(p.chassis);
  for (auto& p : out) {
    if (p.member != 0) continue;
    if (free.size() == 1 && !stacked) {
      p.member = 1;
      continue;
    }
    p.member = t.entities.at(p.chassis).rel_pos;
    if (p.member < 1) {
      return at(mib::entPhysicalParentRelPos, p.chassis) + " = " + std::to_string(p.member) +
             ": chassis " + label(t.entities, p.chassis) + " is one of several and its member number is unknown";
    }
  }
  std::map<int, int> chassis_of;  // member -> chassis
  for (const auto& p : out) {
    auto [it, fresh] = chassis_of.emplace(p.member, p.chassis);
    if (!fresh && it->second != p.chassis) {
      return "chassis " + label(t.entities, it->second) + " and " + label(t.entities, p.chassis) +
             " are both stack member " + std::to_string(p.member) + " (" +
             at(mib::entPhysicalParentRelPos, it->second) + ", " + at(mib::entPhysicalParentRelPos, p.chassis) + ")";
    }
  }
  return out;
}

// The carrier holding the member's front-panel ports, or why there is none.
std::variant<int, std::string> main_carrier(const std::vector<Placed>& placed, int member,
                                            const PortMapTables& t) {
  std::map<int, int> count;  // carrier -> ports
  for (const auto& p : placed) if (p.member == member) ++count[p.carrier];
  const auto best = std::max_element(count.begin(), count.end(), [](auto& a, auto& b) { return a.second < b.second; });
  for (const auto& [carrier, n] : count) {
    if (carrier == best->first || n * 2 < best->second) continue;
    return "the ports of member " + std::to_string(member) + " sit on carriers of similar size (" +
           label(t.entities, best->first) + ": " + std::to_string(best->second) + ", " + label(t.entities, carrier) +
           ": " + std::to_string(n) + " port(s)); entPhysicalParentRelPos restarts on each, so it is no front-panel number";
  }
  std::map<int, int> entity_at;  // position -> entity
  for (const auto& p : placed) {
    if (p.member != member || p.carrier != best->first) continue;
    if (p.pos < 1) {
      return at(mib::entPhysicalParentRelPos, p.entity) + " = " + std::to_string(p.pos) + ": port " +
             label(t.entities, p.entity) + " has no front-panel position";
    }
    auto [it, fresh] = entity_at.emplace(p.pos, p.entity);
    if (!fresh) {
      return at(mib::entPhysicalParentRelPos, p.entity) + " = " + std::to_string(p.pos) + " repeats " +
             at(mib::entPhysicalParentRelPos, it->second) + " (ports " + label(t.entities, it->second) + " and " +
             label(t.entities, p.entity) + " on " + label(t.entities, best->first) + ")";
    }
  }
  if (!entity_at.empty() && entity_at.begin()->first != 1) {
    return "the port positions of member " + std::to_string(member) + " start at " +
           std::to_string(entity_at.begin()->first) + ", not 1 (" +
           at(mib::entPhysicalParentRelPos, entity_at.begin()->second) + ")";
  }
  return best->first;
}

}  // namespace

std::string numbering_mode(const inventory::Switch& sw) {
  if (sw.extra.contains("numbering") && sw.extra["numbering"].is_string()) return sw.extra["numbering"].get<std::string>();
  return "auto";
}

Result<void> read_entity(SnmpSession& session, const std::vector<VarBind>& classes, PortMapTables& tables) {
  if (classes.empty()) return {};
  auto unusable = [&](const Error& e) {
    tables.entities.clear();
    tables.entity_if_index.clear();
    tables.entity_notes.push_back(e.message);
    return Result<void>{};
  };
  for (const auto& vb : classes) {
    if (vb.oid.size() != mib::entPhysicalClass.size() + 1) continue;
    auto n = number_of(vb);
    if (!n) return unusable(n.error());
    tables.entities[static_cast<int>(vb.oid.back())].klass = static_cast<int>(*n);
  }
  const std::vector<Oid> roots = {mib::entPhysicalContainedIn, mib::entPhysicalParentRelPos, mib::entPhysicalName,
                                  mib::entAliasMappingIdentifier};
  auto cols = walk_columns(session, roots, 40, 20000);
  if (!cols) return std::unexpected(cols.error().with_context("read ENTITY-MIB"));
  for (std::size_t c = 0; c < 3; ++c) {
    for (const auto& vb : (*cols)[c]) {
      if (vb.oid.size() != roots[c].size() + 1) continue;
      EntityRow& row = tables.entities[static_cast<int>(vb.oid.back())];
      if (c == 2) {
        auto name = octets_of(vb);
        if (!name) return unusable(name.error());
        row.name = *name;
        continue;
      }
      auto n = number_of(vb);
      if (!n) return unusable(n.error());
      (c == 0 ? row.contained_in : row.rel_pos) = static_cast<int>(*n);
    }
  }
  for (const auto& vb : (*cols)[3]) {
    if (vb.oid.size() != roots[3].size() + 2) continue;
    if (vb.value.type != ValueType::object_id) {
      return unusable(Error{ErrorCode::snmp, oid_name(vb.oid) + ": " + std::string(to_string(vb.value.type)) +
                                                 " where an OBJECT IDENTIFIER was expected"});
    }
    const Oid& id = vb.value.oid;
    if (!oid_starts_with(id, mib::ifIndex) || id.size() != mib::ifIndex.size() + 1) continue;
    tables.entity_if_index.emplace(static_cast<int>(vb.oid[roots[3].size()]), static_cast<int>(id.back()));
  }
  return {};
}

bool number_by_entity(std::vector<PortEntry>& pool, std::vector<PortEntry>& left_out, const PortMapTables& tables,
                      std::vector<std::string>& notes) {
  const auto unusable = [&](const std::string& why) {
    notes.push_back("ENTITY-MIB not used for front-panel numbers: " + why);
    return false;
  };
  if (!tables.entity_notes.empty()) return unusable(tables.entity_notes.front());
  if (tables.entities.empty()) return false;
  if (tables.entity_if_index.empty()) {
    return unusable("entAliasMappingTable maps no entity to an ifIndex, so its ports cannot be tied to interfaces");
  }
  auto placed = place(pool, tables);
  if (auto* why = std::get_if<std::string>(&placed)) return unusable(*why);
  const auto& where = std::get<std::vector<Placed>>(placed);
  const int member = tables.stack_member;
  std::set<int> members;
  for (const auto& p : where) members.insert(p.member);
  int carrier = 0;
  if (members.contains(member)) {
    auto main = main_carrier(where, member, tables);
    if (auto* why = std::get_if<std::string>(&main)) return unusable(*why);
    carrier = std::get<int>(main);
  }
  // Positions that are the names' numbers shuffled (a Linksys lists gi1, gi9, gi2, gi10, ... at
  // positions 1, 2, 3, 4: the physical layout, not the labels) are no front-panel numbers.
  if (members.contains(member) && tables.numbering != "entity") {
    std::set<int> by_name, by_pos;
    std::string shuffled;
    bool all_named = true;
    for (const auto& pl : where) {
      if (pl.member != member || pl.carrier != carrier) continue;
      const PortEntry& p = pool[pl.pool_index];
      const auto n = p.if_name.empty() ? std::nullopt : trailing_number(p.if_name);
      all_named = all_named && n.has_value();
      if (!n) continue;
      by_name.insert(*n);
      by_pos.insert(pl.pos);
      if (*n != pl.pos && shuffled.empty()) {
        shuffled = "'" + p.if_name + "' at " + at(mib::entPhysicalParentRelPos, pl.entity) + " = " + std::to_string(pl.pos);
      }
    }
    if (all_named && !shuffled.empty() && by_name == by_pos) {
      return unusable("its port positions are the interface names' numbers in another order (" + shuffled +
                      "): the physical layout, not the front-panel labels (switch.numbering \"entity\" uses them anyway)");
    }
  }
  std::vector<PortEntry> kept;
  int disagree = 0;
  std::string example;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    PortEntry& p = pool[i];
    auto pl = std::find_if(where.begin(), where.end(), [&](const Placed& x) { return x.pool_index == i; });
    if (pl == where.end()) {
      p.numbering = "left out: not a port in ENTITY-MIB (no entAliasMappingIdentifier names ifIndex " +
                    std::to_string(p.if_index) + "; name it with if_name in switch.port_map)";
    } else if (pl->member != member) {
      p.numbering = "left out: stack member " + std::to_string(pl->member) +
                    " (ENTITY-MIB), not switch.stack_member " + std::to_string(member);
    } else if (pl->carrier != carrier) {
      p.numbering = "left out: module port on " + label(tables.entities, pl->carrier) +
                    " (ENTITY-MIB; name it with if_name in switch.port_map)";
    } else {
      const auto by_name = p.if_name.empty() ? std::nullopt : trailing_number(p.if_name);
      if (by_name && *by_name != pl->pos && ++disagree == 1) {
        example = "'" + p.if_name + "' is port " + std::to_string(pl->pos);
      }
      p.port = pl->pos;
      p.numbering = "ENTITY-MIB entPhysicalParentRelPos " + std::to_string(pl->pos) + ", member " +
                    std::to_string(member) + " ('" + p.if_name + "')";
      kept.push_back(std::move(p));
      continue;
    }
    left_out.push_back(std::move(p));
  }
  pool = std::move(kept);
  if (!members.contains(member)) {
    std::string listed;
    for (const int m : members) listed += (listed.empty() ? "" : ", ") + std::to_string(m);
    notes.push_back("switch.stack_member " + std::to_string(member) + " is not a member ENTITY-MIB lists (members " +
                    listed + "): no port numbered");
    return true;
  }
  notes.push_back("front-panel numbers from ENTITY-MIB (entPhysicalParentRelPos of the ports on " +
                  label(tables.entities, carrier) + ", stack member " + std::to_string(member) + " of " +
                  std::to_string(members.size()) + ") for " + std::to_string(pool.size()) + " interface(s)");
  if (disagree > 0) {
    notes.push_back("ENTITY-MIB numbers " + std::to_string(disagree) + " interface(s) otherwise than their names (" +
                    example + "); ENTITY-MIB takes precedence");
  }
  return true;
}

std::string entity_lldp_conflict(const std::vector<PortEntry>& by_entity, const std::vector<PortEntry>& by_lldp) {
  for (const auto& e : by_entity) {
    for (const auto& l : by_lldp) {
      const bool same = l.if_index == e.if_index && l.bridge_port == e.bridge_port;
      if (same == (l.port == e.port)) continue;
      const PortEntry& other = l;
      return "front-panel numbering: the switch contradicts itself: ENTITY-MIB puts '" + e.if_name + "' at port " +
             std::to_string(e.port) + " (" + e.numbering + ") but LLDP-MIB " +
             (same ? "puts it at port " + std::to_string(other.port)
                   : "puts '" + other.if_name + "' there") +
             " (" + other.numbering + "); check the front panel and set switch.numbering to \"entity\", \"lldp\" or "
             "\"names\" in the inventory";
    }
  }
  return "";
}

}  // namespace picluster::switchctl
