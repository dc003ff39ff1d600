#include "nfsroot/root_manager.hpp"

#include <chrono>
#include <ctime>
#include <set>

#include "common/text.hpp"
#include "nfsroot/install.hpp"

namespace picluster::nfsroot {

namespace {

// Which of a Pi's folders exist.
struct State {
  bool live = false, staging = false, ready = false, previous = false, rollback = false, trash = false;
};

Action act(ActionKind kind, std::string step, std::string path, std::string to = {}) {
  Action a;
  a.kind = kind;
  a.step = std::move(step);
  a.path = std::move(path);
  a.to = std::move(to);
  return a;
}

std::string lock_folder(const PiPaths& p) { return p.lock.substr(0, p.lock.rfind('/')); }

// Appends the actions that bring `s` back to "live root only" and updates `s` to match.
Result<void> recover_actions(const PiPaths& p, State& s, Plan& plan) {
  if (s.rollback) {  // an interrupted rollback: finish it or undo it
    if (s.live && s.previous) {
      return fail(ErrorCode::conflict, p.rollback + ", " + p.live + " and " + p.previous +
                                           " all exist; move one aside by hand");
    }
    const std::string to = s.live ? p.previous : p.live;
    plan.push_back(act(ActionKind::rename, "recover-rollback", p.rollback, to));
    (s.live ? s.previous : s.live) = true;
    s.rollback = false;
  }
  if (s.trash) {  // deletions hold the Pi's lock, like clones
    plan.push_back(act(ActionKind::make_dirs, "recover-trash", lock_folder(p)));
    Action remove = act(ActionKind::remove_tree, "recover-trash", p.trash);
    remove.lock = p.lock;
    plan.push_back(remove);
    s.trash = false;
  }
  if (!s.live && s.staging && s.ready) {  // interrupted between swap-out and swap-in
    plan.push_back(act(ActionKind::rename, "recover-swap-in", p.staging, p.live));
    s.live = true;
    s.staging = false;
  } else if (!s.live && s.previous) {
    plan.push_back(act(ActionKind::rename, "recover-restore", p.previous, p.live));
    s.live = true;
    s.previous = false;
  }
  if (s.staging) {  // a copy orphaned by a killed run may still write here: wait for its lock
    plan.push_back(act(ActionKind::make_dirs, "recover-staging", lock_folder(p)));
    Action remove = act(ActionKind::remove_tree, "recover-staging", p.staging);
    remove.lock = p.lock;
    plan.push_back(remove);
    s.staging = false;
  }
  if (s.ready) {
    plan.push_back(act(ActionKind::remove_file, "recover-marker", p.ready));
    s.ready = false;
  }
  return {};
}

std::string utc_stamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

}  // namespace

RootManager::RootManager(Host& host, const inventory::Shelf& shelf)
    : m_host(host), m_shelf(shelf), m_layout(shelf.fileserver) {}

ExecOptions RootManager::exec_options(ExecOptions options) const {
  options.prefixed = m_layout.prefixed();
  return options;
}

namespace {

std::vector<PathRead> state_reads(const PiPaths& p) {
  return {{p.live}, {p.staging}, {p.ready}, {p.previous}, {p.rollback}, {p.trash}};
}

State state_of(const PiPaths& p, const PathSnapshot& snapshot) {
  State s;
  s.live = snapshot.contains(p.live);
  s.staging = snapshot.contains(p.staging);
  s.ready = snapshot.contains(p.ready);
  s.previous = snapshot.contains(p.previous);
  s.rollback = snapshot.contains(p.rollback);
  s.trash = snapshot.contains(p.trash);
  return s;
}

// The snapshot as it is once recovery has run: the Pi's folders as `s` says.
PathSnapshot recovered(PathSnapshot snapshot, const PiPaths& p, const State& s) {
  const std::pair<const std::string*, bool> folders[] = {{&p.live, s.live},         {&p.staging, s.staging},
                                                         {&p.ready, s.ready},       {&p.previous, s.previous},
                                                         {&p.rollback, s.rollback}, {&p.trash, s.trash}};
  for (const auto& [path, present] : folders) {
    if (!present) snapshot.erase(*path);
    else if (!snapshot.contains(*path)) snapshot[*path].stat.type = FileType::directory;
  }
  return snapshot;
}

// Which of a Pi's folders exist: one read batch.
Result<State> read_state(Host& host, const PiPaths& p) {
  auto snapshot = host.read_paths(state_reads(p));
  if (!snapshot) return std::unexpected(snapshot.error());
  return state_of(p, *snapshot);
}

}  // namespace

Result<Plan> RootManager::plan_recover(std::string_view name) {
  auto paths = m_layout.pi(name);
  if (!paths) return std::unexpected(paths.error());
  auto state = read_state(m_host, *paths);
  if (!state) return std::unexpected(state.error());
  Plan plan;
  if (auto r = recover_actions(*paths, *state, plan); !r) return std::unexpected(r.error());
  return plan;
}

Result<std::string> RootManager::golden_path(const std::string& from) const {
  const std::string& image = from.empty() ? m_shelf.fileserver.golden_image : from;
  if (!is_safe_absolute_path(image)) {
    return fail(ErrorCode::invalid_argument,
                "golden image " + printable(image) + ": want an absolute path of [A-Za-z0-9._/-]");
  }
  return m_layout.host_path(image);
}

Result<RebuildPlan> RootManager::plan_rebuild(const inventory::Pi& pi,
                                              const std::vector<RenderedFile>& files,
                                              const std::string& from) {
  auto paths = m_layout.pi(pi.name);
  if (!paths) return std::unexpected(paths.error());
  const PiPaths& p = *paths;
  auto golden = golden_path(from);
  if (!golden) return std::unexpected(golden.error());
  for (const auto& f : files) {
    if (auto v = validate_relative_path(f.path); !v) return std::unexpected(v.error());
  }
  // One read batch: the golden image, nfs_root and the Pi's folders.
  auto snapshot = m_host.read_paths(rebuild_reads(p, *golden));
  if (!snapshot) return std::unexpected(snapshot.error());
  return plan_rebuild(files, p, *golden, *snapshot);
}

std::vector<PathRead> RootManager::rebuild_reads(const PiPaths& p, const std::string& golden) const {
  auto reads = state_reads(p);
  reads.push_back({golden});
  reads.push_back({m_layout.nfs_root()});
  return reads;
}

Result<RebuildPlan> RootManager::plan_rebuild(const std::vector<RenderedFile>& files, const PiPaths& p,
                                              const std::string& golden, const PathSnapshot& snapshot) {
  const auto golden_it = snapshot.find(golden);
  if (golden_it == snapshot.end()) {
    return fail(ErrorCode::not_found, "golden image " + golden + " does not exist on " + m_host.name());
  }
  if (golden_it->second.stat.type != FileType::directory) {
    return fail(ErrorCode::not_found, "golden image " + golden + " is not a folder on " + m_host.name());
  }
  if (!snapshot.contains(m_layout.nfs_root())) {
    return fail(ErrorCode::not_found, "nfs_root " + m_layout.nfs_root() + " does not exist on " + m_host.name());
  }
  auto choice = clone_choice(golden);
  if (!choice) return std::unexpected(choice.error());
  auto state = std::optional<State>(state_of(p, snapshot));
  RebuildPlan out{{}, *choice};
  Plan& plan = out.plan;
  if (auto r = recover_actions(p, *state, plan); !r) return std::unexpected(r.error());

  plan.push_back(act(ActionKind::make_dirs, "clone", m_layout.nfs_root() + "/.staging"));
  plan.push_back(act(ActionKind::make_dirs, "clone", m_layout.lock_folder()));
  Action clone = act(ActionKind::run, "clone", p.staging);
  clone.argv = clone_argv(choice->method, golden, p.staging, true);
  clone.lock = p.lock;
  clone.progress = choice->method == CloneMethod::rsync;
  plan.push_back(clone);
  Action install = act(ActionKind::install_files, "install", p.staging);
  install.files = files;
  plan.push_back(install);
  plan.push_back(act(ActionKind::reset_identity, "install", p.staging));
  // The root folder's mtime records when the root was built: cp -a, rsync and snapshots all keep
  // the golden image's, and `status` / `fileserver show` report a root's age from it. Renames
  // into place leave it alone.
  Action record = act(ActionKind::record_root, "install", p.staging);
  record.contents = render_root_record({0, 0, std::string(inventory::to_string(choice->method)), golden});
  plan.push_back(record);
  Action stamp = act(ActionKind::run, "install", p.staging);
  stamp.argv = {"touch", "-c", "--", p.staging};
  plan.push_back(stamp);
  Action ready = act(ActionKind::write_file, "ready", p.ready);
  ready.contents = std::string(inventory::to_string(choice->method)) + "\n";
  plan.push_back(ready);
  if (state->previous) {
    plan.push_back(act(ActionKind::make_dirs, "retire", m_layout.nfs_root() + "/.trash"));
    plan.push_back(act(ActionKind::rename, "retire", p.previous, p.trash));
  }
  if (state->live) {
    plan.push_back(act(ActionKind::make_dirs, "swap-out", m_layout.nfs_root() + "/.previous"));
    plan.push_back(act(ActionKind::rename, "swap-out", p.live, p.previous));
  }
  plan.push_back(act(ActionKind::rename, "swap-in", p.staging, p.live));
  plan.push_back(act(ActionKind::remove_file, "cleanup", p.ready));
  if (state->previous) {
    Action remove = act(ActionKind::remove_tree, "cleanup", p.trash);
    remove.lock = p.lock;
    plan.push_back(remove);
  }
  return out;
}

Result<CloneChoice> RootManager::clone_choice(const std::string& golden) {
  const auto wanted = m_shelf.fileserver.clone_method;
  if (m_clone && m_clone->first == golden) return m_clone->second;
  auto choice = choose_clone_method(m_host, wanted, golden, m_layout.nfs_root());
  if (!choice) return std::unexpected(choice.error());
  m_clone = std::pair{golden, *choice};
  return *choice;
}

Result<Plan> RootManager::plan_rollback(std::string_view name) {
  auto paths = m_layout.pi(name);
  if (!paths) return std::unexpected(paths.error());
  const PiPaths& p = *paths;
  auto state = read_state(m_host, p);
  if (!state) return std::unexpected(state.error());
  Plan plan;
  if (auto r = recover_actions(p, *state, plan); !r) return std::unexpected(r.error());
  if (!state->previous) {
    return fail(ErrorCode::not_found, std::string(name) + ": no previous root to roll back to (" +
                                          p.previous + " does not exist)");
  }
  if (!state->live) return fail(ErrorCode::not_found, std::string(name) + ": no live root at " + p.live);
  plan.push_back(act(ActionKind::make_dirs, "rollback-hold", m_layout.nfs_root() + "/.rollback"));
  plan.push_back(act(ActionKind::rename, "rollback-hold", p.live, p.rollback));
  plan.push_back(act(ActionKind::rename, "rollback-restore", p.previous, p.live));
  plan.push_back(act(ActionKind::rename, "rollback-keep", p.rollback, p.previous));
  return plan;
}

Result<Plan> RootManager::plan_remove(const inventory::Pi& pi, bool keep) {
  auto paths = m_layout.pi(pi.name);
  if (!paths) return std::unexpected(paths.error());
  const PiPaths& p = *paths;
  auto state = read_state(m_host, p);
  if (!state) return std::unexpected(state.error());
  Plan plan;
  // Unexport first, so the Pi never sees its root vanish under a live export. exportfs fails
  // when the root is not exported at the moment, which is fine here.
  Action unexport = act(ActionKind::run, "unexport", p.live);
  unexport.argv = {"exportfs", "-u", pi.storage.pi.str() + ":" + p.live};
  unexport.live = true;
  unexport.tolerate_failure = true;
  plan.push_back(unexport);
  // Every deletion holds the Pi's lock, as clones and rebuilds do: a copy or an `rm -rf` left
  // running by a killed run is waited for, never raced. The lock file goes last.
  const bool anything = state->rollback || state->trash || state->staging || state->ready ||
                        state->previous || state->live;
  if (anything) plan.push_back(act(ActionKind::make_dirs, "delete", m_layout.lock_folder()));
  const auto locked_remove = [&](const std::string& path) {
    Action remove = act(ActionKind::remove_tree, "delete", path);
    remove.lock = p.lock;
    plan.push_back(remove);
  };
  if (state->rollback) locked_remove(p.rollback);
  if (state->trash) locked_remove(p.trash);
  if (state->staging) locked_remove(p.staging);
  if (state->ready) plan.push_back(act(ActionKind::remove_file, "delete", p.ready));
  if (state->previous) locked_remove(p.previous);
  if (state->live && keep) {
    plan.push_back(act(ActionKind::make_dirs, "archive", m_layout.archive_folder()));
    Action wait = act(ActionKind::run, "archive", p.live);  // no orphan still writes into it
    wait.argv = {"true"};
    wait.lock = p.lock;
    plan.push_back(wait);
    plan.push_back(act(ActionKind::rename, "archive", p.live,
                       m_layout.archive_folder() + "/" + pi.name + "-" + utc_stamp()));
  } else if (state->live) {
    locked_remove(p.live);
  }
  if (anything) plan.push_back(act(ActionKind::remove_file, "delete", p.lock));
  return plan;
}

// One read for both cases: the Pi's folders (is there a root, once recovered?) and what a
// rebuild needs (golden image, nfs_root).
Result<CloneChoice> RootManager::provision(const inventory::Pi& pi,
                                           const std::vector<RenderedFile>& files,
                                           const ExecOptions& options, const std::string& from) {
  return provision(pi, files, options, from, nullptr);
}

Result<CloneChoice> RootManager::provision(const inventory::Pi& pi, const std::vector<RenderedFile>& files,
                                           const PathSnapshot& known, const ExecOptions& options) {
  return provision(pi, files, options, {}, &known);
}

std::vector<PathRead> RootManager::provision_reads(const inventory::Pi& pi) const {
  auto paths = m_layout.pi(pi.name);
  if (!paths) return {};
  auto golden = golden_path({});
  return golden ? rebuild_reads(*paths, *golden) : state_reads(*paths);
}

Result<CloneChoice> RootManager::provision(const inventory::Pi& pi, const std::vector<RenderedFile>& files,
                                           const ExecOptions& options, const std::string& from,
                                           const PathSnapshot* known) {
  auto paths = m_layout.pi(pi.name);
  if (!paths) return std::unexpected(paths.error().with_context(pi.name));
  const PiPaths& p = *paths;
  auto golden = golden_path(from);
  for (const auto& f : files) {
    if (auto v = validate_relative_path(f.path); !v) return std::unexpected(v.error().with_context(pi.name + ": rebuild"));
  }
  auto snapshot = known != nullptr ? Result<PathSnapshot>(*known)
                                   : m_host.read_paths(golden ? rebuild_reads(p, *golden) : state_reads(p));
  if (!snapshot) return std::unexpected(snapshot.error().with_context(pi.name));
  State state = state_of(p, *snapshot);
  Plan recovery;
  if (auto r = recover_actions(p, state, recovery); !r) return std::unexpected(r.error().with_context(pi.name));
  if (auto r = execute(m_host, recovery, exec_options(options)); !r) {
    return std::unexpected(r.error().with_context(pi.name));
  }
  // There is a root (perhaps once recovered): nothing to build.
  if (state.live) return CloneChoice{CloneMethod::automatic, "already provisioned"};
  if (!golden) return std::unexpected(golden.error().with_context(pi.name + ": rebuild"));
  auto planned = plan_rebuild(files, p, *golden, recovered(*snapshot, p, state));
  if (!planned) return std::unexpected(planned.error().with_context(pi.name + ": rebuild"));
  if (auto r = execute(m_host, planned->plan, exec_options(options)); !r) {
    return std::unexpected(r.error().with_context(pi.name + ": rebuild"));
  }
  return planned->clone;
}

Result<CloneChoice> RootManager::rebuild(const inventory::Pi& pi,
                                         const std::vector<RenderedFile>& files,
                                         const std::string& from, const ExecOptions& options) {
  auto planned = plan_rebuild(pi, files, from);
  if (!planned) return std::unexpected(planned.error().with_context(pi.name + ": rebuild"));
  if (auto r = execute(m_host, planned->plan, exec_options(options)); !r) {
    return std::unexpected(r.error().with_context(pi.name + ": rebuild"));
  }
  return planned->clone;
}

Result<void> RootManager::rollback(std::string_view name, const ExecOptions& options) {
  const std::string context = std::string(name) + ": rollback";
  auto plan = plan_rollback(name);
  if (!plan) return std::unexpected(plan.error().with_context(context));
  return with_context(execute(m_host, *plan, exec_options(options)), context);
}

Result<void> RootManager::remove(const inventory::Pi& pi, bool keep, const ExecOptions& options) {
  auto plan = plan_remove(pi, keep);
  if (!plan) return std::unexpected(plan.error().with_context(pi.name + ": remove root"));
  return with_context(execute(m_host, *plan, exec_options(options)), pi.name + ": remove root");
}

PipelineRequest RootManager::recovery_listing() const {
  PipelineRequest r;
  r.kind = PipelineRequest::Kind::list_dirs;
  for (const char* folder : {"/.staging", "/.previous", "/.rollback", "/.trash"}) {
    r.names.push_back(m_layout.nfs_root() + folder);
  }
  return r;
}

Result<void> RootManager::recover(const ExecOptions& options) {
  auto listed = m_host.list_dirs(recovery_listing().names);  // one round trip; missing folders have no entry
  if (!listed) return std::unexpected(listed.error());
  return recover(*listed, options);
}

Result<void> RootManager::recover(const std::map<std::string, std::vector<std::string>>& listing,
                                  const ExecOptions& options, std::set<std::string>* found) {
  std::set<std::string> names;
  for (const auto& [folder, entries] : listing) {
    for (std::string n : entries) {
      if (n.ends_with(".ready")) n.resize(n.size() - 6);
      if (is_rfc1123_label(n)) names.insert(n);
    }
  }
  if (found != nullptr) found->insert(names.begin(), names.end());
  for (const auto& n : names) {
    auto plan = plan_recover(n);
    if (!plan) return std::unexpected(plan.error().with_context(n + ": recover"));
    if (auto r = execute(m_host, *plan, exec_options(options)); !r) {
      return std::unexpected(r.error().with_context(n + ": recover"));
    }
  }
  return {};
}

Result<std::vector<RootInfo>> RootManager::list_roots() {
  auto answers = m_host.pipeline(roots_requests());
  if (!answers) return std::unexpected(answers.error());
  PathSnapshot snapshot;
  for (auto& a : *answers) {
    if (a.error) return std::unexpected(*a.error);
    snapshot.merge(a.snapshot);
  }
  return roots_in(snapshot);
}

std::vector<PipelineRequest> RootManager::roots_requests() const {
  PipelineRequest roots;
  roots.kind = PipelineRequest::Kind::read_children;
  roots.path = m_layout.nfs_root();
  roots.names = {std::string(kRootRecord)};
  PipelineRequest previous = roots;
  previous.path = m_layout.nfs_root() + "/.previous";
  previous.names.clear();
  return {roots, previous};
}

std::vector<RootInfo> RootManager::roots_in(const PathSnapshot& snapshot) const {
  const std::string prefix = m_layout.nfs_root() + "/";
  std::vector<std::string> names;
  for (auto it = snapshot.lower_bound(prefix); it != snapshot.end() && it->first.starts_with(prefix); ++it) {
    const std::string name = it->first.substr(prefix.size());
    if (is_rfc1123_label(name)) names.push_back(name);  // no '/': an entry of nfs_root itself
  }
  return roots_info(names, snapshot);
}

Result<std::vector<RootInfo>> RootManager::roots_info(const std::vector<std::string>& names) {
  auto snapshot = m_host.read_paths(roots_reads(names));
  if (!snapshot) return std::unexpected(snapshot.error());
  return roots_info(names, *snapshot);
}

std::vector<PathRead> RootManager::roots_reads(const std::vector<std::string>& names) const {
  std::vector<PathRead> reads;
  for (const auto& n : names) {
    const std::string path = m_layout.nfs_root() + "/" + n;
    reads.push_back({path});
    reads.push_back({m_layout.nfs_root() + "/.previous/" + n});
    reads.push_back({path + "/" + std::string(kRootRecord), true});
  }
  return reads;
}

std::vector<RootInfo> RootManager::roots_info(const std::vector<std::string>& names,
                                              const PathSnapshot& snapshot) const {
  std::vector<RootInfo> roots;
  for (const auto& n : names) {
    const std::string path = m_layout.nfs_root() + "/" + n;
    const auto it = snapshot.find(path);
    if (it == snapshot.end() || it->second.stat.type != FileType::directory) continue;
    RootInfo info{n, path, snapshot.contains(m_layout.nfs_root() + "/.previous/" + n),
                  it->second.stat.mtime, std::nullopt};
    const auto record = snapshot.find(path + "/" + std::string(kRootRecord));
    if (record != snapshot.end() && record->second.contents) {
      info.record = parse_root_record(*record->second.contents);
    }
    roots.push_back(std::move(info));
  }
  return roots;
}

}  // namespace picluster::nfsroot
