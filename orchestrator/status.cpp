#include "orchestrator/status.hpp"

#include <map>

#include "image/store.hpp"
#include "nfsroot/layout.hpp"
#include "orchestrator/reconcile.hpp"

namespace picluster::orchestrator {
namespace {

void read_switch(ShelfSession& session, ShelfStatus& out,
                 std::map<std::string, PiStatus*>& by_name) {
  auto sw = session.switch_controller();
  auto rows = sw ? (*sw)->port_status() : std::unexpected(sw.error());
  if (!rows) {
    out.problems.push_back(rows.error().message);
    return;
  }
  for (const auto& row : *rows) {
    const auto it = by_name.find(row.pi);
    if (row.pi.empty() || it == by_name.end()) continue;
    PiStatus& st = *it->second;
    if (row.poe) {
      st.poe = std::string(row.poe->admin_on ? (*row.poe->admin_on ? "on " : "off ") : "? ") +
               std::string(switchctl::to_string(row.poe->detection));
      st.power_mw = row.poe->power_mw;
      st.poe_on = row.poe->admin_on;
      st.poe_delivering = row.poe->detection == switchctl::PoeDetection::delivering_power;
    } else {
      st.poe = "no PoE";
    }
    st.vlan = row.drift.empty() ? "ok" : "drift: " + row.drift.front();
  }
}

// Two round trips over SSH however many Pis: one read batch (every Pi's root, its record, the
// exports files), one `ip -br link` only without root_prefix (for the interfaces, not read here);
// plus one `du` of all roots with `sizes`.
void read_fileserver(ShelfSession& session, ShelfStatus& out,
                     std::map<std::string, PiStatus*>& by_name, bool sizes) {
  auto roots = session.roots();
  auto cfg = session.configurator();
  auto host = session.host();
  if (!roots || !cfg || !host) {
    out.problems.push_back(!host ? host.error().message : !roots ? roots.error().message : cfg.error().message);
    return;
  }
  std::vector<std::string> names;
  for (const auto& [name, st] : by_name) names.push_back(name);
  const auto exports = export_files(session.shelf());
  auto reads = (*roots)->roots_reads(names);
  // Each live root's image record (which image version it was built from), in the same batch.
  const nfsroot::Layout layout(session.shelf().fileserver);
  for (const auto& name : names) {
    if (auto paths = layout.pi(name)) reads.push_back({paths->live + "/" + std::string(image::kRecordPath), true});
  }
  const auto export_reads = (*cfg)->reads(exports);
  reads.insert(reads.end(), export_reads.begin(), export_reads.end());
  auto snapshot = (*host)->read_paths(reads);
  if (!snapshot) {
    out.problems.push_back(snapshot.error().message);
    return;
  }
  for (auto& [name, st] : by_name) st->root_present = false;
  const auto live = (*roots)->roots_info(names, *snapshot);
  std::vector<std::string> paths;
  for (const auto& root : live) {
    PiStatus& st = *by_name.at(root.name);
    st.root_present = true;
    st.root_mtime = root.mtime;
    if (root.record) st.root_bytes = root.record->bytes;
    paths.push_back(root.path);
    const auto rec = snapshot->find(root.path + "/" + std::string(image::kRecordPath));
    if (rec != snapshot->end() && rec->second.contents) st.image = image::parse_record(*rec->second.contents);
  }
  if (sizes) {
    auto measured = nfsroot::tree_sizes(**host, paths);
    if (!measured) out.problems.push_back(measured.error().message);
    for (const auto& root : live) {
      if (measured && measured->contains(root.path)) by_name.at(root.name)->root_bytes = measured->at(root.path);
    }
  }
  auto state = (*cfg)->inspect(exports, *snapshot);
  if (!state) {
    out.problems.push_back(state.error().message);
    return;
  }
  for (const auto& pi : session.shelf().pis) {
    const std::string path = session.shelf().fileserver.nfs_root + "/" + pi.name;
    bool ok = false;
    for (const auto& e : state->exports) {
      // The export line must name this Pi's address alone: "<addr>(options)".
      if (e.path == path && e.clients.starts_with(pi.storage.pi.str() + "(") &&
          e.clients.find(' ') == std::string::npos) {
        ok = true;
      }
    }
    by_name[pi.name]->exported = ok;
  }
}

// What is wrong with one row, as the operator would fix it (unknown columns are not problems
// here: the part that could not be read is a problem of its own).
std::vector<std::string> row_problems(const PiStatus& st) {
  std::vector<std::string> out;
  if (st.vlan.starts_with("drift"))
    out.push_back("switch port " + std::to_string(st.port) + " " + st.vlan);
  if (st.root_present == false) out.push_back("root missing");
  if (st.exported == false) out.push_back("root not exported to the Pi alone");
  if (st.hold && st.poe_on == true) {
    out.push_back(describe(*st.hold) + ", but its PoE is on (`picluster power off " + st.name +
                  "` to keep it off, `picluster power on " + st.name + "` to release the hold)");
  }
  return out;
}

}  // namespace

ShelfStatus collect_status(ShelfSession& session, const StatusProbe& probe, bool sizes) {
  ShelfStatus out;
  out.shelf = session.shelf().name;
  for (const auto& pi : session.shelf().pis) {
    PiStatus st;
    st.name = pi.name;
    st.port = pi.port;
    out.pis.push_back(st);
  }
  std::map<std::string, PiStatus*> by_name;
  for (auto& st : out.pis) by_name[st.name] = &st;
  read_switch(session, out, by_name);
  if (auto holds = PowerHolds(state_dir(session.inventory_path()), out.shelf).read(); !holds) {
    out.problems.push_back(holds.error().message);
  } else {
    for (const auto& [name, hold] : *holds) {
      if (const auto it = by_name.find(name); it != by_name.end()) it->second->hold = hold;
    }
  }
  const auto trips = session.fileserver_round_trips();
  read_fileserver(session, out, by_name, sizes);
  out.fileserver_round_trips = session.fileserver_round_trips() - trips;
  out.fileserver_channels = session.fileserver_channels();
  session.round_trips_note("", "status");
  // The journal is read once (not once per Pi: it grows with every step of every verb).
  std::map<std::string, JournalEntry> last;
  if (auto entries = session.journal().read()) {
    for (auto& e : *entries) last[e.pi] = std::move(e);
  }
  for (const auto& pi : session.shelf().pis) {
    if (probe) by_name[pi.name]->reachable = probe(pi);
    if (const auto it = last.find(pi.name); it != last.end()) by_name[pi.name]->last_action = it->second;
  }
  for (const auto& st : out.pis) {
    for (auto& problem : row_problems(st)) out.problems.push_back(st.name + ": " + problem);
  }
  return out;
}

inventory::Json to_json(const ShelfStatus& status) {
  using inventory::Json;
  const auto opt = [](const auto& v) { return v ? Json(*v) : Json(nullptr); };
  Json pis = Json::array();
  for (const auto& st : status.pis) {
    Json j;
    j["name"] = st.name;
    j["port"] = st.port;
    j["poe"] = st.poe;
    j["held"] = st.hold ? Json{{"since", st.hold->since}, {"user", st.hold->user}, {"reason", st.hold->reason}}
                        : Json(nullptr);
    j["power_mw"] = opt(st.power_mw);
    j["vlan"] = st.vlan;
    j["root_present"] = opt(st.root_present);
    j["root_bytes"] = opt(st.root_bytes);
    j["root_mtime"] = opt(st.root_mtime);
    j["image"] = opt(st.image);
    j["exported"] = opt(st.exported);
    j["reachable"] = opt(st.reachable);
    j["last_action"] = st.last_action ? to_json(*st.last_action) : Json(nullptr);
    pis.push_back(j);
  }
  return Json{{"shelf", status.shelf},
              {"pis", pis},
              {"problems", status.problems},
              {"fileserver_round_trips", status.fileserver_round_trips},
              {"fileserver_channels", status.fileserver_channels}};
}

}  // namespace picluster::orchestrator
