// The Q-BRIDGE profile. Planning works on a copy of the VLAN rows: ports are taken in order (Pi
// ports, then the trunk) and each port's PDU carries the whole egress/untagged lists of every
// VLAN whose membership for that port changes, as they will be after this port's change and all
// earlier ones. So PDUs must be sent in plan order, and a run that stops early leaves later
// ports untouched. When a Pi port's change rewrites a VLAN's lists, the trunk's bits for that
// VLAN are fixed in the same varbind, so a Pi's storage VLAN reaches the fileserver atomically.
#include <algorithm>

#include "switchctl/mib.hpp"
#include "switchctl/profile.hpp"

namespace picluster::switchctl {

namespace {

std::uint32_t u32(int v) { return static_cast<std::uint32_t>(v); }

// What `dp` wants of VLAN v: nullopt = nothing, else {member, untagged}.
std::optional<std::pair<bool, bool>> want(const DesiredPort& dp, int v) {
  const bool untagged = dp.untagged.contains(v);
  const bool member = untagged || dp.tagged.contains(v);
  if (!dp.exact && !member) return std::nullopt;
  return std::pair{member, untagged};
}

// Sets bridge port bp's bits in the row; true if anything changed.
bool set_bits(VlanRow& row, int bp, std::pair<bool, bool> w) {
  const bool was_member = row.egress.contains(bp), was_untagged = row.untagged.contains(bp);
  if (w.first) row.egress.insert(bp); else row.egress.erase(bp);
  if (w.second) row.untagged.insert(bp); else row.untagged.erase(bp);
  return was_member != w.first || was_untagged != w.second;
}

std::string describe(int v, std::pair<bool, bool> w) {
  if (!w.first) return "VLAN " + std::to_string(v) + ": leave";
  return "VLAN " + std::to_string(v) + (w.second ? ": untagged member" : ": tagged member");
}

// A PortList as read: where from, which VLAN, egress or untagged, the octets.
struct RawList {
  Oid oid;
  int vlan = 0;
  bool egress = true;
  std::string octets;
};

// Bitmap when every list decodes as one; else the comma-list form when every list decodes as
// that; else bitmap (and the lists that do not decode are marked, see adopt).
PortListForm detect_form(const std::vector<RawList>& lists, const std::set<int>& bridge_ports) {
  auto all = [&](PortListForm form) {
    return std::all_of(lists.begin(), lists.end(), [&](const RawList& l) {
      return decode_port_list(l.octets, form, bridge_ports).problem.empty();
    });
  };
  if (all(PortListForm::bitmap)) return PortListForm::bitmap;
  if (all(PortListForm::comma_list)) return PortListForm::comma_list;
  return PortListForm::bitmap;
}

// Stores a decoded list in its VLAN row. A list that does not decode keeps the listed bridge
// ports it names (for show) and marks the row: plans never write a list derived from it. The
// comma-list form is read only: picluster writes RFC 4363 bitmaps, which such a switch would
// misread. From the current table (`current`), the static table's lists win.
void adopt(SwitchState& state, const RawList& l, bool current) {
  VlanRow& r = state.vlans[l.vlan];
  if (current && l.egress && r.has_lists) return;
  if (current && !l.egress && !(r.list_octets == l.octets.size() || r.untagged.empty())) return;
  r.vlan = l.vlan;
  const DecodedPortList d = decode_port_list(l.octets, state.portlist_form, state.map.bridge_ports);
  if (l.egress) {
    r.egress = d.ports;
    r.list_octets = l.octets.size();
    r.has_lists = true;
  } else {
    r.untagged = d.ports;
  }
  const std::string what = oid_name(l.oid) + " = " + Value::octets(l.octets).str();
  if (!d.problem.empty() && r.undecoded.empty()) {
    r.undecoded = what + ": " + d.problem + " (read as " + std::string(to_string(state.portlist_form)) + ")";
  } else if (state.portlist_form == PortListForm::comma_list && r.undecoded.empty()) {
    r.undecoded = what + ": this switch encodes PortLists as comma-separated bridge port numbers, not as "
                  "RFC 4363 bitmaps; picluster reads them but does not write them";
  }
}

struct Working {
  std::map<int, VlanRow> rows;
  std::map<int, int> pvid;
  std::size_t default_octets = 0;
  PortListForm form = PortListForm::bitmap;
};

class QBridgeProfile final : public VendorProfile {
 public:
  [[nodiscard]] std::string_view name() const override { return "qbridge"; }

  Result<void> read(SnmpSession& session, SwitchState& state) const override {
    const std::vector<Oid> roots = {mib::dot1qVlanStaticName, mib::dot1qVlanStaticEgressPorts,
                                    mib::dot1qVlanStaticUntaggedPorts, mib::dot1qVlanStaticRowStatus,
                                    mib::dot1qPvid};
    auto cols = walk_columns(session, roots);
    if (!cols) return std::unexpected(cols.error().with_context("read VLANs"));
    auto row = [&](const Oid& oid, const Oid& root) -> VlanRow* {
      if (oid.size() != root.size() + 1) return nullptr;
      const int v = static_cast<int>(oid.back());
      auto& r = state.vlans[v];
      r.vlan = v;
      return &r;
    };
    auto bad = [](const Error& e) { return std::unexpected(e.with_context("read VLANs")); };
    for (const auto& vb : (*cols)[0]) {
      if (auto* r = row(vb.oid, roots[0])) {
        auto name = octets_of(vb);
        if (!name) return bad(name.error());
        r->name = *name;
      }
    }
    std::vector<RawList> lists;
    for (std::size_t c = 1; c <= 2; ++c) {
      for (const auto& vb : (*cols)[c]) {
        if (row(vb.oid, roots[c]) == nullptr) continue;
        auto list = octets_of(vb);
        if (!list) return bad(list.error());
        lists.push_back({vb.oid, static_cast<int>(vb.oid.back()), c == 1, std::move(*list)});
      }
    }
    state.portlist_form = detect_form(lists, state.map.bridge_ports);
    for (const auto& l : lists) adopt(state, l, false);
    for (const auto& vb : (*cols)[3]) (void)row(vb.oid, roots[3]);
    for (const auto& vb : (*cols)[4]) {
      if (vb.oid.size() != roots[4].size() + 1) continue;
      const int bp = static_cast<int>(vb.oid.back());
      const PortEntry* entry = state.map.by_bridge_port(bp);
      auto pvid = number_of(vb, entry != nullptr ? "port " + std::to_string(entry->port) : "bridge port " + std::to_string(bp));
      if (!pvid) return bad(pvid.error());
      state.pvid[bp] = static_cast<int>(*pvid);
    }
    const bool need_current = state.vlans.empty() ||
        std::any_of(state.vlans.begin(), state.vlans.end(), [](auto& kv) { return !kv.second.has_lists; });
    return need_current ? read_current(session, state) : Result<void>{};
  }

  [[nodiscard]] PortView view(const SwitchState& state, const PortEntry& port) const override {
    PortView v;
    if (auto it = state.pvid.find(port.bridge_port); it != state.pvid.end()) v.pvid = it->second;
    for (const auto& [vlan, row] : state.vlans) {
      if (!row.egress.contains(port.bridge_port)) continue;
      (row.untagged.contains(port.bridge_port) ? v.untagged : v.tagged).insert(vlan);
    }
    return v;
  }

  [[nodiscard]] Result<Plan> plan(const Desired& desired, const SwitchState& actual) const override {
    Working w = working(actual);
    const DesiredPort* trunk = desired.find(desired.trunk_port);
    const PortEntry* trunk_entry = actual.map.by_port(desired.trunk_port);
    Plan plan;
    for (const auto& dp : desired.ports) {
      const PortEntry* entry = actual.map.by_port(dp.port);
      if (entry == nullptr) {
        return fail(ErrorCode::not_found,
                    "port " + std::to_string(dp.port) + (dp.pi.empty() ? " (trunk)" : " (" + dp.pi + ")") +
                        ": not in the switch's port map; check switch.port_map in the inventory" +
                        map_notes(actual.map));
      }
      if (entry->bridge_port == 0) {
        return fail(ErrorCode::not_found, "port " + std::to_string(dp.port) +
                                              ": its bridge port number is unknown, so its PortList bit is too" +
                                              map_notes(actual.map));
      }
      const bool is_trunk = dp.port == desired.trunk_port;
      const std::string who = "port " + std::to_string(dp.port) + (dp.pi.empty() ? " (trunk)" : " (" + dp.pi + ")");
      auto change = plan_port(desired, dp, *entry, is_trunk ? nullptr : trunk, trunk_entry, w, who);
      if (!change) return std::unexpected(change.error());
      if (!change->atomic.varbinds.empty()) plan.ports.push_back(std::move(*change));
    }
    return plan;
  }

  // The port becomes an exact port wanting {PVID 1, untagged in VLAN 1, nothing else}, planned
  // like any port (so strict switches get add, PVID, remove as ordered steps); no trunk bits are
  // touched. The VLAN row goes last, as its own PDU, when asked and still there.
  [[nodiscard]] Result<Plan> plan_release(const Release& release, const SwitchState& actual) const override {
    const std::string who = "port " + std::to_string(release.port) + " (release)";
    const PortEntry* entry = actual.map.by_port(release.port);
    if (entry == nullptr) {
      return fail(ErrorCode::not_found, who + ": not in the switch's port map; check switch.port_map in the inventory");
    }
    const auto one = actual.vlans.find(kDefaultVlan);
    if (one == actual.vlans.end() || !one->second.has_lists) {
      return fail(ErrorCode::not_found, who + ": the switch lists no VLAN 1 (default) with readable port lists; "
                                              "cannot put the port back in it");
    }
    Working w = working(actual);
    const DesiredPort dp{release.port, {}, true, kDefaultVlan, {kDefaultVlan}, {}};
    auto change = plan_port(Desired{}, dp, *entry, nullptr, nullptr, w, who);
    if (!change) return std::unexpected(change.error());
    Plan plan;
    if (!change->atomic.varbinds.empty()) plan.ports.push_back(std::move(*change));
    if (release.drop_vlan && actual.vlans.contains(release.vlan)) {
      const std::string vlan = "VLAN " + std::to_string(release.vlan);
      plan.postlude.push_back({vlan + ": destroy (no Pi port left in it)", release.port,
                               {{oid_cat(mib::dot1qVlanStaticRowStatus, {u32(release.vlan)}), Value::integer(mib::kDestroy)}},
                               {}});
    }
    return plan;
  }

 private:
  static Working working(const SwitchState& actual) {
    Working w{actual.vlans, actual.pvid, 0, actual.portlist_form};
    for (const auto& [v, r] : w.rows) w.default_octets = std::max(w.default_octets, r.list_octets);
    for (const auto& p : actual.map.ports) {
      w.default_octets = std::max(w.default_octets, static_cast<std::size_t>(p.bridge_port + 7) / 8);
    }
    return w;
  }

  static Result<void> read_current(SnmpSession& session, SwitchState& state) {
    const std::vector<Oid> roots = {mib::dot1qVlanCurrentEgressPorts, mib::dot1qVlanCurrentUntaggedPorts};
    auto cols = walk_columns(session, roots);
    if (!cols) return std::unexpected(cols.error().with_context("read current VLANs"));
    std::vector<RawList> lists;
    for (std::size_t c = 0; c < 2; ++c) {
      for (const auto& vb : (*cols)[c]) {
        if (vb.oid.size() != roots[c].size() + 2) continue;  // index: timeMark.vlan
        auto list = octets_of(vb);
        if (!list) return std::unexpected(list.error().with_context("read current VLANs"));
        lists.push_back({vb.oid, static_cast<int>(vb.oid.back()), c == 0, std::move(*list)});
      }
    }
    if (std::none_of(state.vlans.begin(), state.vlans.end(), [](auto& kv) { return kv.second.has_lists; })) {
      state.portlist_form = detect_form(lists, state.map.bridge_ports);
    }
    for (const auto& l : lists) adopt(state, l, true);
    return {};
  }

  static Result<PortChange> plan_port(const Desired& desired, const DesiredPort& dp,
                                      const PortEntry& entry, const DesiredPort* trunk,
                                      const PortEntry* trunk_entry, Working& w, const std::string& who) {
    PortChange ch{dp.port, dp.pi, {}, {}, {}};
    const int bp = entry.bridge_port;
    SetPdu create, add, pvid, remove;
    PortSet wanted = dp.untagged;
    wanted.insert(dp.tagged.begin(), dp.tagged.end());
    for (const int v : wanted) {
      if (w.rows.contains(v)) continue;
      if (w.form != PortListForm::bitmap) {
        return fail(ErrorCode::refused, who + ": VLAN " + std::to_string(v) + " would be created with RFC 4363 bitmap "
                                            "PortLists, but this switch encodes them as comma-separated bridge port "
                                            "numbers; picluster does not write to it");
      }
      const auto name_it = desired.vlan_names.find(v);
      const std::string name = name_it != desired.vlan_names.end() ? name_it->second : "vlan" + std::to_string(v);
      create.varbinds.push_back({oid_cat(mib::dot1qVlanStaticRowStatus, {u32(v)}), Value::integer(mib::kCreateAndGo)});
      create.varbinds.push_back({oid_cat(mib::dot1qVlanStaticName, {u32(v)}), Value::octets(name)});
      create.undo.push_back({oid_cat(mib::dot1qVlanStaticRowStatus, {u32(v)}), Value::integer(mib::kDestroy)});
      w.rows[v] = VlanRow{v, name, false, true, {}, {}, w.default_octets, {}};
      ch.changes.push_back("VLAN " + std::to_string(v) + ": create '" + name + "'");
    }
    for (auto& [v, row] : w.rows) {
      const auto wv = want(dp, v);
      if (!wv) continue;
      if (!row.has_lists) {
        if (wv->first) return fail(ErrorCode::snmp, "VLAN " + std::to_string(v) + ": port lists not readable");
        continue;
      }
      const VlanRow before = row;
      bool changed = set_bits(row, bp, *wv);
      if (changed && !row.undecoded.empty()) {
        return fail(ErrorCode::refused, who + ": VLAN " + std::to_string(v) + ": " + row.undecoded +
                                            "; picluster never writes a PortList it could not decode");
      }
      if (changed) ch.changes.push_back(describe(v, *wv));
      if (changed && trunk != nullptr && trunk_entry != nullptr) {
        if (auto tw = want(*trunk, v); tw && set_bits(row, trunk_entry->bridge_port, *tw)) {
          ch.changes.push_back(describe(v, *tw) + " (trunk port " + std::to_string(trunk->port) + ")");
        }
      }
      if (!changed) continue;
      SetPdu& step = wv->first ? add : remove;
      const std::size_t octets = std::max(row.list_octets, w.default_octets);
      const Oid e = oid_cat(mib::dot1qVlanStaticEgressPorts, {u32(v)});
      const Oid u = oid_cat(mib::dot1qVlanStaticUntaggedPorts, {u32(v)});
      // Untagged must stay a subset of egress: grow egress first, shrink untagged first.
      std::vector<VarBind> vbs = {{e, Value::octets(encode_bits(row.egress, octets))},
                                  {u, Value::octets(encode_bits(row.untagged, octets))}};
      std::vector<VarBind> undo = {{u, Value::octets(encode_bits(before.untagged, octets))},
                                   {e, Value::octets(encode_bits(before.egress, octets))}};
      if (!wv->first) std::swap(vbs[0], vbs[1]), std::swap(undo[0], undo[1]);
      step.varbinds.insert(step.varbinds.end(), vbs.begin(), vbs.end());
      if (before.exists) step.undo.insert(step.undo.begin(), undo.begin(), undo.end());
    }
    if (dp.pvid) {
      auto it = w.pvid.find(bp);
      if (it == w.pvid.end() || it->second != *dp.pvid) {
        const Oid o = oid_cat(mib::dot1qPvid, {u32(bp)});
        pvid.varbinds.push_back({o, Value::gauge(*dp.pvid)});
        if (it != w.pvid.end()) pvid.undo.push_back({o, Value::gauge(it->second)});
        ch.changes.push_back("PVID " + (it != w.pvid.end() ? std::to_string(it->second) : std::string("?")) +
                             " -> " + std::to_string(*dp.pvid));
        w.pvid[bp] = *dp.pvid;
      }
    }
    const std::pair<SetPdu*, std::string_view> steps[] = {
        {&create, "create VLANs"}, {&add, "add memberships"}, {&pvid, "set PVID"}, {&remove, "remove memberships"}};
    for (auto& [step, what] : steps) {
      if (step->varbinds.empty()) continue;
      step->port = dp.port;
      step->description = who + ": " + std::string(what);
      ch.atomic.varbinds.insert(ch.atomic.varbinds.end(), step->varbinds.begin(), step->varbinds.end());
      ch.steps.push_back(std::move(*step));
    }
    for (auto& [v, row] : w.rows) row.exists = true;  // later undo restores lists, not rows
    ch.atomic.port = dp.port;
    ch.atomic.description = who + ": " + std::to_string(ch.atomic.varbinds.size()) + " varbinds in one PDU";
    return ch;
  }
};

}  // namespace

std::unique_ptr<VendorProfile> make_qbridge_profile() { return std::make_unique<QBridgeProfile>(); }

}  // namespace picluster::switchctl
