#include "orchestrator/reconcile.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "bootcfg/bootcfg.hpp"
#include "inventory/vlans.hpp"
#include "nfsroot/diff.hpp"
#include "nfsroot/install.hpp"
#include "orchestrator/images.hpp"

namespace picluster::orchestrator {
namespace {

bool starts_with_any(const std::string& path, std::initializer_list<std::string_view> prefixes) {
  return std::ranges::any_of(prefixes, [&](std::string_view p) { return path.starts_with(p); });
}

bool is_export_file(const RenderedFile& f) {
  return starts_with_any(f.path, {"etc/exports", "etc/dnsmasq.d/"});
}

bool in_scope(const ApplyOptions& options, const std::string& pi) {
  return options.pis.empty() || std::ranges::find(options.pis, pi) != options.pis.end();
}

// The Pi a stage works for: with the stages limited to one Pi (add, or apply of one Pi) every
// step is that Pi's and carries its name (so `picluster log NAME` shows them); else shelf-wide.
std::string step_pi(const ApplyOptions& options) {
  return options.pis.size() == 1 ? options.pis.front() : std::string();
}

// The switch plan limited to the Pis in scope; the trunk's and switch-wide changes always stay.
// The switch plan for the options' Pis (all when none are named) and the trunk.
Result<switchctl::Plan> scoped_plan(switchctl::SwitchController& sw, const ApplyOptions& options) {
  return sw.plan_for([&](const std::string& pi) { return in_scope(options, pi); });
}

// One read of everything the fileserver stages compare against (one round trip over SSH).
struct FileserverView {
  nfsroot::PathSnapshot snapshot;
  // apply: the recovery scan's listing, read with the snapshot, and the Pis whose provision
  // reads (their folders, golden image, nfs_root) the snapshot holds.
  std::optional<std::map<std::string, std::vector<std::string>>> recovery;
  std::set<std::string> provision_read;
  std::map<std::string, nfsroot::RootInfo> live;  // in-scope Pis with a live root
  std::map<std::string, std::string> records;     // in-scope Pis on an image: "NAME@N" of the live root
};

std::vector<const inventory::Pi*> pis_in_scope(const inventory::Shelf& shelf, const ApplyOptions& options) {
  std::vector<const inventory::Pi*> out;
  for (const auto& pi : shelf.pis) {
    if (in_scope(options, pi.name)) out.push_back(&pi);
  }
  return out;
}

// for_apply: with the recovery scan and, for the Pis without an image, what provisioning them
// reads: one pipeline, one round trip.
Result<FileserverView> read_view(ShelfSession& session, const ApplyOptions& options, bool for_apply = false) {
  const auto& shelf = session.shelf();
  auto cfg = session.configurator();
  if (!cfg) return std::unexpected(cfg.error());
  auto roots = session.roots();
  if (!roots) return std::unexpected(roots.error());
  std::vector<nfsroot::PathRead> reads;
  const auto add = [&reads](std::vector<nfsroot::PathRead> more) {
    reads.insert(reads.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  };
  for (const auto& files : {network_files(shelf), export_files(shelf), boot_files(shelf)}) {
    for (const auto& f : files) {
      if (auto v = nfsroot::validate_relative_path(f.path); !v) return std::unexpected(v.error());
    }
    add((*cfg)->reads(files));
  }
  std::vector<std::string> names;
  for (const auto* pi : pis_in_scope(shelf, options)) {
    names.push_back(pi->name);
    const std::string live = (*roots)->layout().nfs_root() + "/" + pi->name;
    add(nfsroot::root_file_reads(live, bootcfg::render_pi_root_files(shelf, *pi)));
    if (!inventory::image_of(shelf, *pi).empty()) add(image::record_reads(live));
  }
  add((*roots)->roots_reads(names));
  FileserverView view;
  if (for_apply) {
    for (const auto* pi : pis_in_scope(shelf, options)) {
      if (!inventory::image_of(shelf, *pi).empty()) continue;
      add((*roots)->provision_reads(*pi));
      view.provision_read.insert(pi->name);
    }
  }
  auto host = session.host();
  if (!host) return std::unexpected(host.error());
  std::vector<nfsroot::PipelineRequest> requests(1);
  requests[0].kind = nfsroot::PipelineRequest::Kind::read_paths;
  requests[0].reads = std::move(reads);
  if (for_apply) requests.push_back((*roots)->recovery_listing());
  auto answers = (*host)->pipeline(requests);
  if (!answers) return std::unexpected(answers.error());
  for (auto& a : *answers) {
    if (a.error) return std::unexpected(*a.error);
  }
  view.snapshot = std::move(answers->front().snapshot);
  if (for_apply) view.recovery = std::move(answers->back().listing);
  for (auto& info : (*roots)->roots_info(names, view.snapshot)) view.live[info.name] = std::move(info);
  for (const auto* pi : pis_in_scope(shelf, options)) {
    if (inventory::image_of(shelf, *pi).empty() || !view.live.contains(pi->name)) continue;
    auto record = image::record_in((*roots)->layout().nfs_root() + "/" + pi->name, view.snapshot);
    if (!record.empty()) view.records[pi->name] = std::move(record);
  }
  return view;
}

Result<std::vector<RootFileChanges>> plan_root_files(ShelfSession& session, const ApplyOptions& options,
                                                     const FileserverView& view,
                                                     const std::set<std::string>& skip = {}) {
  std::vector<RootFileChanges> out;
  const auto& shelf = session.shelf();
  for (const auto* pi : pis_in_scope(shelf, options)) {
    const auto live = view.live.find(pi->name);
    if (live == view.live.end() || skip.contains(pi->name)) continue;
    auto plan = nfsroot::plan_root_files(live->second.path, bootcfg::render_pi_root_files(shelf, *pi),
                                         view.snapshot, "root-files");
    if (!plan) return std::unexpected(plan.error().with_context(pi->name + ": root files"));
    if (!plan->empty()) out.push_back({pi->name, std::move(*plan)});
  }
  return out;
}

// Roots whose recorded origin is not what the inventory asks for now: only a rebuild changes it.
std::vector<std::string> rebuild_needed(ShelfSession& session, const FileserverView& view) {
  std::vector<std::string> out;
  const auto& fs = session.shelf().fileserver;
  const std::string golden = nfsroot::Layout(fs).host_path(fs.golden_image);
  for (const auto& [name, info] : view.live) {
    if (!info.record) continue;
    const std::string again = ": only `picluster rebuild " + name + "` changes it";
    if (!info.record->golden.empty() && info.record->golden != golden) {
      out.push_back(name + ": root built from " + info.record->golden + ", golden_image is now " +
                    golden + again);
    }
    const std::string method(inventory::to_string(fs.clone_method));
    if (fs.clone_method != inventory::CloneMethod::automatic && !info.record->method.empty() &&
        info.record->method != method) {
      out.push_back(name + ": root cloned with " + info.record->method + ", clone_method is now " +
                    method + again);
    }
  }
  return out;
}

// The in-scope Pis the operator holds off (`picluster power off`): never powered on by apply.
Result<std::map<std::string, PowerHold>> held_pis(ShelfSession& session, const ApplyOptions& options) {
  auto holds = PowerHolds(state_dir(session.inventory_path()), session.shelf().name).read();
  if (!holds) return std::unexpected(holds.error());
  std::erase_if(*holds, [&](const auto& h) { return !in_scope(options, h.first); });
  return holds;
}

Result<std::vector<PowerChange>> ports_to_power(ShelfSession& session, const ApplyOptions& options,
                                                const std::map<std::string, PowerHold>& held) {
  auto sw = session.switch_controller();
  if (!sw) return std::unexpected(sw.error());
  auto rows = (*sw)->port_status();
  if (!rows) return std::unexpected(rows.error());
  std::vector<PowerChange> out;
  for (const auto& row : *rows) {
    if (row.pi.empty() || !in_scope(options, row.pi) || !row.poe || held.contains(row.pi)) continue;
    if (row.poe->admin_on == false) out.push_back({row.pi, row.entry.port});
  }
  return out;
}

std::string plan_lines(const nfsroot::Plan& plan, bool prefixed) {
  return nfsroot::describe(plan, prefixed);
}

// Runs one fileserver stage: plan the files, apply, report.
Result<void> file_stage(ShelfSession& session, const ApplyOptions& options, const std::string& step,
                        const std::vector<RenderedFile>& files, const nfsroot::PathSnapshot& snapshot) {
  const std::string pi = step_pi(options);
  auto cfg = session.configurator();
  if (!cfg) return std::unexpected(cfg.error());
  auto plan = (*cfg)->plan(files, snapshot);
  if (!plan) return std::unexpected(plan.error().with_context(step));
  if (plan->empty()) {
    session.report({pi, step, "unchanged", ""});
    return {};
  }
  if (auto ok = (*cfg)->apply(*plan, session.exec_options(pi)); !ok) {
    session.report({pi, step, "failed", ok.error().message});
    return std::unexpected(ok.error().with_context(step));
  }
  const bool prefixed = !session.shelf().fileserver.root_prefix.empty();
  session.report({pi, step, "ok", plan_lines(*plan, prefixed)});
  return {};
}

Result<void> switch_stage(ShelfSession& session, const ApplyOptions& options) {
  const std::string pi = step_pi(options);
  auto sw = session.switch_controller();
  if (!sw) return std::unexpected(sw.error());
  auto plan = scoped_plan(**sw, options);
  if (!plan) return std::unexpected(plan.error());
  const auto& mine = *plan;
  if (mine.empty()) {
    session.report({pi, "switch", "unchanged", ""});
    return {};
  }
  auto report = (*sw)->apply(mine, [](std::string_view) {});
  if (!report) {
    session.report({pi, "switch", "failed", report.error().message});
    return std::unexpected(report.error());
  }
  std::string detail;
  for (const auto& line : report->lines) detail += (detail.empty() ? "" : "\n") + line;
  session.report({pi, "switch", "ok", detail});
  for (const auto& note : report->notes) session.report({pi, "switch", "note", note});
  return {};
}

// Missing roots cloned; returns the Pis it provisioned (their files are installed already).
Result<std::set<std::string>> roots_stage(ShelfSession& session, const ApplyOptions& options,
                                          const FileserverView& view) {
  auto roots = session.roots();
  if (!roots) return std::unexpected(roots.error());
  std::set<std::string> recovered;  // names the scan found: their folders may have changed since the view
  auto ok = view.recovery ? (*roots)->recover(*view.recovery, session.exec_options(step_pi(options)), &recovered)
                          : (*roots)->recover(session.exec_options(step_pi(options)));
  if (!ok) return std::unexpected(ok.error());
  const auto& shelf = session.shelf();
  std::set<std::string> provisioned;
  for (const auto* pi : pis_in_scope(shelf, options)) {
    if (view.live.contains(pi->name)) continue;
    auto source = root_source(session, *pi, {});  // the Pi's image, if it has one
    if (!source) {
      session.report({pi->name, "root", "failed", source.error().message});
      return std::unexpected(source.error());
    }
    const auto files = bootcfg::render_pi_root_files(shelf, *pi);
    const bool known = source->path.empty() && view.provision_read.contains(pi->name) && !recovered.contains(pi->name);
    auto choice = known ? (*roots)->provision(*pi, files, view.snapshot, session.exec_options(pi->name))
                        : (*roots)->provision(*pi, files, session.exec_options(pi->name), source->path);
    if (!choice) {
      session.report({pi->name, "root", "failed", choice.error().message});
      return std::unexpected(choice.error());
    }
    provisioned.insert(pi->name);
    session.report({pi->name, "root", "ok",
                    "cloned" + (source->ref.empty() ? "" : " from " + source->ref) + " with " +
                        std::string(to_string(choice->method)) + " (" + choice->reason + ")"});
    if (!source->ref.empty()) {
      auto staged = stage_boot_set(session, *pi, false);
      if (!staged) {
        session.report({pi->name, "boot", "failed", staged.error().message});
        return std::unexpected(staged.error());
      }
      session.report({pi->name, "boot", "ok", *staged});
    }
  }
  return provisioned;
}

// The files picluster renders into each existing root, rewritten where they drifted; each Pi's
// step says when the running Pi picks the change up.
Result<void> root_files_stage(ShelfSession& session, const ApplyOptions& options,
                              const FileserverView& view, const std::set<std::string>& provisioned) {
  auto changes = plan_root_files(session, options, view, provisioned);
  if (!changes) return std::unexpected(changes.error());
  auto host = session.host();
  if (!host) return std::unexpected(host.error());
  const bool prefixed = !session.shelf().fileserver.root_prefix.empty();
  for (const auto& change : *changes) {
    if (auto ok = nfsroot::execute(**host, change.plan, session.exec_options(change.pi)); !ok) {
      session.report({change.pi, "root-files", "failed", ok.error().message});
      return std::unexpected(ok.error().with_context(change.pi + ": root files"));
    }
    std::string detail;
    for (const auto& a : change.plan) {
      detail += nfsroot::describe(a, prefixed) + "\n";
      if (a.kind != nfsroot::ActionKind::write_file) continue;
      const std::string rel = a.path.substr(view.live.at(change.pi).path.size() + 1);
      detail += "  " + rel + " takes effect " + takes_effect(rel) + "\n";
    }
    if (!detail.empty()) detail.pop_back();
    session.report({change.pi, "root-files", "ok", detail});
  }
  if (changes->empty()) session.report({step_pi(options), "root-files", "unchanged", ""});
  return {};
}

Result<void> power_stage(ShelfSession& session, const ApplyOptions& options) {
  auto held = held_pis(session, options);
  if (!held) return std::unexpected(held.error());
  for (const auto& [pi, hold] : *held) {
    session.report({pi, "power", "skipped", describe(hold) + "; `picluster power on " + pi + "` releases it"});
  }
  auto todo = ports_to_power(session, options, *held);
  if (!todo) return std::unexpected(todo.error());
  auto sw = session.switch_controller();
  for (const auto& change : *todo) {
    auto result = (*sw)->power(change.pi, switchctl::PowerAction::on, false);
    if (!result) {
      session.report({change.pi, "power", "failed", result.error().message});
      return std::unexpected(result.error());
    }
    session.report({change.pi, "power", "ok", "PoE on, port " + std::to_string(change.port)});
  }
  if (todo->empty() && held->empty()) session.report({step_pi(options), "power", "unchanged", ""});
  return {};
}

}  // namespace

bool switch_configured(const inventory::Shelf& shelf) { return !shelf.switch_.host.empty(); }

bool fileserver_configured(const inventory::Shelf& shelf) {
  return shelf.fileserver.transport == inventory::Transport::local || !shelf.fileserver.host.empty();
}

bool ShelfPlan::empty() const {
  return switch_plan.empty() && network.empty() && missing_roots.empty() && root_files.empty() &&
         exports.empty() && boot.empty() && power_on.empty();
}

std::string takes_effect(std::string_view path) {
  if (path == "etc/hosts") return "at once (read on every lookup)";
  if (path == "etc/network/interfaces") {
    return "at next boot (or on the Pi: ifdown and ifup of the public VLAN interface; never eth0, "
           "which carries the root)";
  }
  if (path == "etc/hostname") return "at next boot (or on the Pi: hostname -F /etc/hostname)";
  if (path == "etc/fstab") return "at next boot (the root is mounted from cmdline.txt; fstab by mount -a)";
  if (path.starts_with("etc/modules-load.d/")) return "at next boot (or on the Pi: systemctl restart systemd-modules-load)";
  return "at next boot";
}

std::vector<RenderedFile> network_files(const inventory::Shelf& shelf) {
  auto files = bootcfg::render_fileserver_files(shelf);
  std::erase_if(files, is_export_file);
  return files;
}

std::vector<RenderedFile> export_files(const inventory::Shelf& shelf) {
  auto files = bootcfg::render_fileserver_files(shelf);
  std::erase_if(files, [](const RenderedFile& f) { return !is_export_file(f); });
  return files;
}

std::string boot_folder(const inventory::Shelf& shelf, const inventory::Pi& pi) {
  const std::string root = shelf.fileserver.tftp_root.substr(1);  // validated: absolute
  const std::string folder = bootcfg::tftp_path(pi);
  if (shelf.boot.mode == inventory::BootMode::netboot && !folder.empty()) return root + "/" + folder;
  return root + "/sdcard/" + pi.name;
}

std::vector<RenderedFile> boot_files(const inventory::Shelf& shelf) {
  std::vector<RenderedFile> out;
  for (const auto& pi : shelf.pis) {
    for (auto file : bootcfg::render_boot_files(shelf, pi)) {
      file.path = boot_folder(shelf, pi) + "/" + file.path;
      out.push_back(std::move(file));
    }
  }
  return out;
}

Result<ShelfPlan> plan_shelf(ShelfSession& session, const ApplyOptions& options) {
  ShelfPlan out;
  const auto& shelf = session.shelf();
  out.prefixed = !shelf.fileserver.root_prefix.empty();
  if (!switch_configured(shelf)) {
    return fail(ErrorCode::invalid_inventory, "shelf " + shelf.name + ": switch: host is not set; "
                "describe the switch in the inventory before planning");
  }
  if (!fileserver_configured(shelf)) {
    return fail(ErrorCode::invalid_inventory, "shelf " + shelf.name + ": fileserver: host is not set; "
                "describe the fileserver in the inventory before planning");
  }
  auto sw = session.switch_controller();
  if (!sw) return std::unexpected(sw.error());
  auto plan = scoped_plan(**sw, options);
  if (!plan) return std::unexpected(plan.error());
  out.switch_plan = *plan;

  auto cfg = session.configurator();
  if (!cfg) return std::unexpected(cfg.error());
  const auto trips_before = session.fileserver_round_trips();
  auto view = read_view(session, options);
  if (!view) return std::unexpected(view.error());
  auto network = (*cfg)->plan(network_files(shelf), view->snapshot);
  if (!network) return std::unexpected(network.error());
  out.network = *network;
  for (const auto* pi : pis_in_scope(shelf, options)) {
    if (!view->live.contains(pi->name)) out.missing_roots.push_back(pi->name);
  }
  auto root_files = plan_root_files(session, options, *view);
  if (!root_files) return std::unexpected(root_files.error());
  out.root_files = std::move(*root_files);
  out.rebuild_needed = rebuild_needed(session, *view);
  auto newer = outdated_pis(session, view->records);
  if (!newer) return std::unexpected(newer.error());
  for (auto& line : *newer) {
    if (in_scope(options, line.substr(0, line.find(':')))) out.newer_images.push_back(std::move(line));
  }
  auto exports = (*cfg)->plan(export_files(shelf), view->snapshot);
  if (!exports) return std::unexpected(exports.error());
  out.exports = *exports;
  auto boot = (*cfg)->plan(boot_files(shelf), view->snapshot);
  if (!boot) return std::unexpected(boot.error());
  out.boot = *boot;
  out.fileserver_round_trips = session.fileserver_round_trips() - trips_before;
  out.fileserver_channels = session.fileserver_channels();
  if (options.power) {
    auto held = held_pis(session, options);
    if (!held) return std::unexpected(held.error());
    out.held = *held;
    auto power = ports_to_power(session, options, out.held);
    if (!power) return std::unexpected(power.error());
    out.power_on = *power;
  }
  return out;
}

namespace {

// A plan printed for the operator: one line per change under its stage's title, and under each
// file write the diff of its contents (diff -u style), coloured on a terminal.
class PlanPrinter {
 public:
  explicit PlanPrinter(bool colour) : m_colour(colour) {}

  void title(const std::string& text) { m_out += text + ":\n"; }
  void line(char mark, const std::string& text) {
    const char* c = mark == '+' ? "\033[32m" : "\033[33m";
    m_out += "  " + paint(c, std::string(1, mark) + " " + text) + "\n";
  }
  // root: the Pi's live root folder for root files ("" otherwise): each write says when the
  // running Pi picks it up.
  void actions(const std::string& title_text, const nfsroot::Plan& plan, bool prefixed,
               const std::string& root = {}) {
    if (plan.empty()) return;
    title(title_text);
    for (const auto& a : plan) {
      line('~', nfsroot::describe(a, prefixed));
      if (a.kind != nfsroot::ActionKind::write_file) continue;
      if (!root.empty() && a.path.starts_with(root + "/")) {
        m_out += "      takes effect " + takes_effect(std::string_view(a.path).substr(root.size() + 1)) + "\n";
      }
      if (a.previous && a.previous_mode != (a.mode & 07777U)) {
        m_out += "      " + mode_text(a.previous_mode) + " -> " + mode_text(a.mode) + "\n";
      }
      for (const auto& d : content_diff(a)) {
        const char* c = d.kind == nfsroot::DiffLine::Kind::removed ? "\033[31m"
                        : d.kind == nfsroot::DiffLine::Kind::added ? "\033[32m"
                        : d.kind == nfsroot::DiffLine::Kind::hunk  ? "\033[36m"
                                                                   : "";
        m_out += "      " + paint(c, nfsroot::to_string(d)) + "\n";
      }
    }
  }
  [[nodiscard]] const std::string& text() const { return m_out; }

 private:
  std::string paint(const char* colour, const std::string& text) const {
    if (!m_colour || *colour == '\0') return text;
    return colour + text + "\033[0m";
  }
  static std::string mode_text(unsigned mode) {
    char text[16];
    std::snprintf(text, sizeof text, "mode %04o", mode & 07777U);
    return text;
  }

  bool m_colour;
  std::string m_out;
};

}  // namespace

namespace {

// The live root folder a Pi's root-file actions are under (their common prefix).
std::string root_of(const RootFileChanges& change) {
  for (const auto& a : change.plan) {
    const auto at = a.path.find("/" + change.pi + "/");
    if (at != std::string::npos) return a.path.substr(0, at + change.pi.size() + 1);
  }
  return {};
}

}  // namespace

std::vector<nfsroot::DiffLine> content_diff(const nfsroot::Action& action) {
  if (action.kind != nfsroot::ActionKind::write_file) return {};
  return nfsroot::diff_lines(action.previous.value_or(""), action.contents);
}

std::string describe(const ShelfPlan& plan, bool colour) {
  const std::string none = "no changes: the shelf matches the inventory\n";
  if (plan.empty() && plan.held.empty() && plan.rebuild_needed.empty() && plan.newer_images.empty()) return none;
  PlanPrinter out(colour);
  if (!plan.switch_plan.empty()) {
    out.title("switch");
    for (const auto& pdu : plan.switch_plan.prelude) out.line('~', pdu.description);
    for (const auto& port : plan.switch_plan.ports) {
      for (const auto& c : port.changes) {
        out.line('~', "port " + std::to_string(port.port) +
                          (port.pi.empty() ? "" : " (" + port.pi + ")") + ": " + c);
      }
    }
  }
  out.actions("fileserver network", plan.network, plan.prefixed);
  if (!plan.missing_roots.empty()) {
    out.title("roots");
    for (const auto& name : plan.missing_roots) out.line('+', "clone root for " + name);
  }
  for (const auto& change : plan.root_files) {
    out.actions("root files of " + change.pi, change.plan, plan.prefixed, root_of(change));
  }
  if (!plan.rebuild_needed.empty()) {
    out.title("needs a rebuild (apply does not change these)");
    for (const auto& line : plan.rebuild_needed) out.line('!', line);
  }
  if (!plan.newer_images.empty()) {
    out.title("newer image versions (not applied; `picluster rebuild NAME` to move a Pi)");
    for (const auto& line : plan.newer_images) out.line('~', line);
  }
  out.actions("exports", plan.exports, plan.prefixed);
  out.actions("boot files", plan.boot, plan.prefixed);
  if (!plan.power_on.empty()) {
    out.title("power");
    for (const auto& p : plan.power_on) {
      out.line('+', "PoE on: " + p.pi + " (port " + std::to_string(p.port) + ")");
    }
  }
  if (!plan.held.empty()) {
    out.title("held off (PoE left off; `picluster power on NAME` releases)");
    for (const auto& [pi, hold] : plan.held) out.line('=', pi + ": " + describe(hold));
  }
  return (plan.empty() ? none : std::string()) + out.text();
}

inventory::Json to_json(const ShelfPlan& plan) {
  using inventory::Json;
  Json j;
  j["changes"] = !plan.empty();
  Json sw = Json::array();
  for (const auto& pdu : plan.switch_plan.prelude) sw.push_back(Json{{"port", nullptr}, {"change", pdu.description}});
  for (const auto& port : plan.switch_plan.ports) {
    for (const auto& c : port.changes) {
      sw.push_back(Json{{"port", port.port}, {"pi", port.pi}, {"change", c}});
    }
  }
  j["switch"] = sw;
  Json files = Json::array();
  const auto actions = [&](const char* stage, const nfsroot::Plan& p, const std::string& pi = {},
                           const std::string& root = {}) {
    Json a = Json::array();
    for (const auto& action : p) {
      a.push_back(nfsroot::describe(action, plan.prefixed));
      if (action.kind != nfsroot::ActionKind::write_file) continue;
      Json diff = Json::array();
      for (const auto& d : content_diff(action)) diff.push_back(nfsroot::to_string(d));
      Json file{{"stage", stage},
                {"path", action.path},
                {"mode", action.mode & 07777U},
                {"old_mode", action.previous ? Json(action.previous_mode) : Json(nullptr)},
                {"old", action.previous ? Json(*action.previous) : Json(nullptr)},
                {"new", action.contents},
                {"diff", diff}};
      if (!pi.empty()) {
        file["pi"] = pi;
        if (action.path.starts_with(root + "/")) {
          file["takes_effect"] = takes_effect(std::string_view(action.path).substr(root.size() + 1));
        }
      }
      files.push_back(file);
    }
    return a;
  };
  j["network"] = actions("network", plan.network);
  j["roots"] = plan.missing_roots;
  Json root_files = Json::array();
  for (const auto& change : plan.root_files) {
    root_files.push_back(Json{{"pi", change.pi},
                              {"actions", actions("root_files", change.plan, change.pi, root_of(change))}});
  }
  j["root_files"] = root_files;
  j["rebuild_needed"] = plan.rebuild_needed;
  j["fileserver_round_trips"] = plan.fileserver_round_trips;
  j["fileserver_channels"] = plan.fileserver_channels;
  j["newer_images"] = plan.newer_images;
  j["exports"] = actions("exports", plan.exports);
  j["boot"] = actions("boot", plan.boot);
  Json power = Json::array();
  for (const auto& p : plan.power_on) power.push_back(Json{{"pi", p.pi}, {"port", p.port}});
  j["power_on"] = power;
  Json held = Json::array();
  for (const auto& [pi, h] : plan.held) {
    held.push_back(Json{{"pi", pi}, {"since", h.since}, {"user", h.user}, {"reason", h.reason}});
  }
  j["held"] = held;
  j["files"] = files;
  return j;
}

// A renumbered netboot Pi's boot folder under its previous VLAN's TFTP root
// (<tftp_root>/vlan-<previous_vlan>/<serial>): removed, so that no Pi later given that VLAN can
// read the renumbered Pi's boot files (each VLAN's TFTP root holds only its own Pi's folder).
static Result<void> stale_boot_stage(ShelfSession& session, const ApplyOptions& options) {
  const auto& shelf = session.shelf();
  if (shelf.boot.mode != inventory::BootMode::netboot) return {};
  for (const auto* pi : pis_in_scope(shelf, options)) {
    const auto previous = inventory::previous_vlan(*pi);
    const std::string serial = bootcfg::tftp_folder(*pi);
    if (!previous || *previous == pi->vlan || serial.empty()) continue;
    auto host = session.host();
    if (!host) return std::unexpected(host.error());
    const std::string folder = nfsroot::Layout(shelf.fileserver)
                                   .host_path(shelf.fileserver.tftp_root + "/vlan-" + std::to_string(*previous) + "/" + serial);
    auto st = (*host)->stat(folder);
    if (!st) return std::unexpected(st.error().with_context(pi->name));
    if (st->type == nfsroot::FileType::none) continue;
    if (auto ok = nfsroot::remove_tree(**host, folder); !ok) {
      session.report({pi->name, "boot", "failed", "remove " + folder + ": " + ok.error().message});
      return std::unexpected(ok.error().with_context(pi->name));
    }
    session.report({pi->name, "boot", "ok", "removed " + folder + " (its boot folder in previous VLAN " +
                                                 std::to_string(*previous) + "'s TFTP root)"});
  }
  return {};
}

Result<void> apply_shelf(ShelfSession& session, const ApplyOptions& options) {
  if (options.dry_run && (!switch_configured(session.shelf()) || !fileserver_configured(session.shelf()))) {
    session.report({step_pi(options), "plan", "skipped",
                    "switch or fileserver not configured in the inventory yet"});
    return {};
  }
  if (options.dry_run) {
    auto plan = plan_shelf(session, options);
    if (!plan) return std::unexpected(plan.error());
    session.report({step_pi(options), "plan", "planned", describe(*plan, false)});
    return {};
  }
  const auto& shelf = session.shelf();
  const bool sw = switch_configured(shelf);
  const bool fs = fileserver_configured(shelf);
  const auto skipped = [&](const char* step, const char* what) {
    session.report({step_pi(options), step, "skipped",
                    std::string(what) + " not configured in the inventory yet"});
  };
  // 1. switch VLANs, memberships and PVIDs
  if (!sw) skipped("switch", "switch");
  else if (auto ok = switch_stage(session, options); !ok) return ok;
  if (!fs) {
    for (const char* step : {"network", "roots", "root-files", "exports", "boot"}) skipped(step, "fileserver");
  } else {
    const std::string pi = step_pi(options);
    // one snapshot of the fileserver for every stage below, with the recovery scan
    auto view = read_view(session, options, true);
    if (!view) return std::unexpected(view.error());
    session.round_trips_note(pi, "read");
    // 2. fileserver VLAN interfaces and isolation hardening
    if (auto ok = file_stage(session, options, "network", network_files(shelf), view->snapshot); !ok) return ok;
    session.round_trips_note(pi, "network");
    // 3. missing roots cloned and customised
    auto provisioned = roots_stage(session, options, *view);
    if (!provisioned) return std::unexpected(provisioned.error());
    session.round_trips_note(pi, "roots");
    // 3b. the files inside existing roots
    if (auto ok = root_files_stage(session, options, *view, *provisioned); !ok) return ok;
    session.round_trips_note(pi, "root-files");
    // 4. exports (each root to its Pi alone), dnsmasq for netboot
    if (auto ok = file_stage(session, options, "exports", export_files(shelf), view->snapshot); !ok) return ok;
    session.round_trips_note(pi, "exports");
    // 5. boot files
    if (auto ok = file_stage(session, options, "boot", boot_files(shelf), view->snapshot); !ok) return ok;
    if (auto ok = stale_boot_stage(session, options); !ok) return ok;
    session.round_trips_note(pi, "boot");
  }
  // 6. PoE on
  if (options.power && !sw) skipped("power", "switch");
  else if (options.power) {
    if (auto ok = power_stage(session, options); !ok) return ok;
  }
  return {};
}

}  // namespace picluster::orchestrator
