#include "nfsroot/actions.hpp"

#include <cstdio>
#include <list>
#include <memory>
#include <cstdlib>
#include <ctime>

#include "common/text.hpp"
#include "nfsroot/install.hpp"

namespace picluster::nfsroot {

namespace {

std::string octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode & 07777U);
  return text;
}

std::string file_list(const std::vector<RenderedFile>& files) {
  std::string out;
  for (const auto& f : files) out += (out.empty() ? "" : " ") + f.path;
  return out;
}

}  // namespace

std::string describe(const Action& a, bool prefixed) {
  switch (a.kind) {
    case ActionKind::run:
      if (a.live && prefixed) return "skip " + shell_join(a.argv) + " (root_prefix set)";
      return "run " + shell_join(a.lock.empty() ? a.argv : locked_argv(a.lock, a.argv));
    case ActionKind::make_dirs: return "mkdir -p " + shell_quote(a.path);
    case ActionKind::write_file:
      return "write " + shell_quote(a.path) + " (" + octal(a.mode) + ", " +
             std::to_string(a.contents.size()) + " bytes)";
    case ActionKind::rename: return "rename " + shell_quote(a.path) + " " + shell_quote(a.to);
    case ActionKind::remove_file: return "remove " + shell_quote(a.path);
    case ActionKind::remove_tree:
      return "remove tree " + shell_quote(a.path) + (a.lock.empty() ? "" : " (holding " + shell_quote(a.lock) + ")");
    case ActionKind::install_files:
      return "install into " + shell_quote(a.path) + ": " + file_list(a.files);
    case ActionKind::reset_identity:
      return "reset identity of " + shell_quote(a.path) +
             ": empty etc/machine-id, delete golden etc/ssh/ssh_host_*, new ed25519 and ecdsa host keys";
    case ActionKind::record_root:
      return "record size and origin of " + shell_quote(a.path) + " in " + std::string(kRootRecord);
  }
  return "?";
}

std::string describe(const Plan& plan, bool prefixed) {
  std::string out;
  for (const auto& a : plan) out += describe(a, prefixed) + "\n";
  return out;
}

std::optional<Progress> parse_rsync_progress(std::string_view line) {
  const auto words = split(line, ' ');
  std::vector<std::string> fields;
  for (const auto& w : words) {
    if (!w.empty()) fields.push_back(w);
  }
  if (fields.size() < 4 || !fields[1].ends_with('%') || !fields[2].ends_with("/s")) return std::nullopt;
  Progress p;
  for (const char c : fields[0]) {
    if (c == ',') continue;
    if (c < '0' || c > '9') return std::nullopt;
    p.bytes = p.bytes * 10 + static_cast<std::uint64_t>(c - '0');
  }
  p.percent = std::atoi(fields[1].c_str());
  p.rate = fields[2];
  p.time = fields[3];
  p.elapsed = fields.size() > 4 && fields[4].starts_with("(xfr#");
  return p;
}

std::string describe(const Progress& p) {
  std::string out = human_bytes(p.bytes) + " " + std::to_string(p.percent) + "% " + p.rate;
  return p.elapsed ? out + " " + p.time + " elapsed" : out + " ETA " + p.time;
}

namespace {

RunOptions with_timeout(std::chrono::milliseconds timeout) {
  RunOptions run;
  run.timeout = timeout;
  return run;
}

}  // namespace

std::vector<std::string> locked_argv(const std::string& lock, const std::vector<std::string>& argv) {
  // --no-fork: flock execs the command, which holds the lock itself and dies with its parent
  // (LocalHost's PR_SET_PDEATHSIG; remote ones under timeout's process group).
  std::vector<std::string> out{"flock", "--exclusive", "--no-fork", "--wait", std::to_string(lock_wait_seconds),
                               "--conflict-exit-code", std::to_string(lock_conflict_status), lock};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

namespace {

std::unexpected<Error> lock_timeout(const std::string& lock, const std::string& what) {
  return fail(ErrorCode::conflict,
               what + ": another process still holds " + lock + " after " +
                   std::to_string(lock_wait_seconds) +
                   " s (most likely a copy left running by an interrupted picluster); wait for it "
                   "to end (fuser -v " + shell_quote(lock) + " shows it) and run again");
}

}  // namespace

Result<void> remove_tree(Host& host, const std::string& path, const std::string& lock) {
  if (!lock.empty()) {  // wait for an orphaned writer or remover before looking at the tree
    auto r = host.run(locked_argv(lock, {"true"}), with_timeout(std::chrono::seconds(lock_wait_seconds + 30)));
    if (!r) return std::unexpected(r.error());
    if (r->exit_status == lock_conflict_status) return lock_timeout(lock, "remove " + path);
  }
  auto st = host.stat(path);
  if (!st) return std::unexpected(st.error());
  if (st->type == FileType::none) return {};
  if (st->type != FileType::directory) return host.remove(path);
  auto fs = check(host, {"stat", "-f", "-c", "%T", "--", path});
  auto inode = check(host, {"stat", "-c", "%i", "--", path});
  if (!fs) return std::unexpected(fs.error());
  if (!inode) return std::unexpected(inode.error());
  std::vector<std::string> argv{"rm", "-rf", "--one-file-system", "--", path};
  if (fs->out.starts_with("btrfs") && inode->out.starts_with("256\n")) {
    argv = {"btrfs", "subvolume", "delete", path};
  }
  if (lock.empty()) {
    auto r = check(host, argv, with_timeout(std::chrono::hours(2)));
    if (!r) return std::unexpected(r.error());
    return {};
  }
  auto r = host.run(locked_argv(lock, argv), with_timeout(std::chrono::hours(2)));
  if (!r) return std::unexpected(r.error());
  if (r->exit_status == lock_conflict_status) return lock_timeout(lock, "remove " + path);
  if (r->exit_status != 0) return fail(ErrorCode::command_failed, describe_failure(argv, *r));
  return {};
}

namespace {

// Feeds rsync's \r-separated progress updates to the callback, one complete update at a time.
RunOptions progress_options(const ExecOptions& options, std::string& pending) {
  RunOptions run;
  run.timeout = std::chrono::hours(6);
  run.discard_output = true;
  if (!options.on_progress) return run;
  run.on_output = [&options, &pending](std::string_view chunk) {
    pending.append(chunk);
    std::size_t end = 0;
    while ((end = pending.find_first_of("\r\n")) != std::string::npos) {
      if (auto p = parse_rsync_progress(std::string_view(pending).substr(0, end))) options.on_progress(*p);
      pending.erase(0, end + 1);
    }
  };
  return run;
}

Result<void> execute_run(Host& host, const Action& a, const ExecOptions& options) {
  if (a.live && options.prefixed) {
    if (options.on_event) options.on_event("skipped (root_prefix set): " + shell_join(a.argv));
    return {};
  }
  std::string pending;
  RunOptions run = a.progress ? progress_options(options, pending)
                              : with_timeout(std::chrono::hours(2));
  auto r = host.run(a.lock.empty() ? a.argv : locked_argv(a.lock, a.argv), run);
  if (r && !a.lock.empty() && r->exit_status == lock_conflict_status) {
    return lock_timeout(a.lock, shell_join(a.argv));
  }
  if (!r && a.tolerate_failure && r.error().code != ErrorCode::ssh) {
    if (options.on_event) options.on_event("ignored: " + r.error().message);
    return {};
  }
  if (!r) return std::unexpected(r.error());
  if (r->exit_status == 0) return {};
  if (a.tolerate_failure) {
    if (options.on_event) options.on_event("ignored: " + describe_failure(a.argv, *r));
    return {};
  }
  return fail(ErrorCode::command_failed, describe_failure(a.argv, *r));
}

// The record is written like every file (atomic; a symlink there from the golden image is
// replaced, never followed).
Result<void> record_root(Host& host, const Action& a) {
  auto bytes = tree_size(host, a.path);
  if (!bytes) return std::unexpected(bytes.error());
  auto record = parse_root_record(a.contents).value_or(RootRecord{});
  record.built = static_cast<std::int64_t>(std::time(nullptr));
  record.bytes = *bytes;
  return host.write_file(a.path + "/" + std::string(kRootRecord), render_root_record(record), 0644,
                         Owner{0, 0});
}

Result<void> execute_one(Host& host, const Action& a, const ExecOptions& options) {
  switch (a.kind) {
    case ActionKind::run: return execute_run(host, a, options);
    case ActionKind::make_dirs: return host.make_dirs(a.path);
    case ActionKind::write_file: return host.write_file(a.path, a.contents, a.mode, Owner{0, 0});
    case ActionKind::rename: return host.rename(a.path, a.to);
    case ActionKind::remove_file: return host.remove(a.path);
    case ActionKind::remove_tree: return remove_tree(host, a.path, a.lock);
    case ActionKind::install_files: return install_files(host, a.path, a.files);
    case ActionKind::reset_identity: return reset_identity(host, a.path);
    case ActionKind::record_root: return record_root(host, a);
  }
  return fail(ErrorCode::internal, "unknown action");
}

}  // namespace

FileWrite file_write(const Action& a) {
  if (a.kind == ActionKind::make_dirs) return FileWrite{a.path, {}, 0755, std::nullopt, true};
  return FileWrite{a.path, a.contents, a.mode, Owner{0, 0}, false};
}

namespace {

bool batchable(const Action& a) {
  return a.kind == ActionKind::write_file || a.kind == ActionKind::make_dirs;
}

// Requests collected for one Host::pipeline call (one round trip over SSH), each with what to do
// with its answer. All but the first are chained: the fileserver stops at the first failure, as
// doing them one by one did, so the order of the rebuild's steps and their recoverability are
// kept.
class Pipeline {
 public:
  using Done = std::function<Result<void>(PipelineAnswer&)>;
  explicit Pipeline(Host& host) : m_host(host) {}

  void add(PipelineRequest request, std::string step, Done done = {}) {
    request.what = step;
    m_requests.push_back(std::move(request));
    m_pending.push_back({std::move(step), std::move(done)});
  }
  // Consecutive writes and folder creations of one step share one write_files request (a failure
  // is then named by its own step: the ready marker's batch is not the retire step's mkdir).
  void add_writes(std::vector<FileWrite> writes, const std::string& step) {
    if (writes.empty()) return;
    if (merges(step)) {
      auto& batch = m_requests.back().writes;
      batch.insert(batch.end(), std::make_move_iterator(writes.begin()), std::make_move_iterator(writes.end()));
      return;
    }
    PipelineRequest r;
    r.kind = PipelineRequest::Kind::write_files;
    r.writes = std::move(writes);
    add(std::move(r), step);
  }
  [[nodiscard]] bool merges(const std::string& step) const {
    return !m_requests.empty() && m_requests.back().kind == PipelineRequest::Kind::write_files &&
           m_pending.back().first == step;
  }
  // Sends what was collected and handles the answers in order; the first failure is the error.
  Result<void> flush() {
    if (m_requests.empty()) return {};
    for (std::size_t i = 1; i < m_requests.size(); ++i) m_requests[i].chained = true;
    auto answers = m_host.pipeline(m_requests);
    const auto pending = std::move(m_pending);
    m_requests.clear();
    m_pending.clear();
    if (!answers) return std::unexpected(answers.error());  // named by the request it met (`what`)
    for (std::size_t i = 0; i < answers->size() && i < pending.size(); ++i) {
      auto& a = (*answers)[i];
      const auto& [step, done] = pending[i];
      if (a.skipped) return fail(ErrorCode::internal, step + ": skipped by the fileserver without an earlier failure");
      if (a.error) return std::unexpected(a.error->with_context(step));
      if (!done) continue;
      if (auto r = done(a); !r) return std::unexpected(r.error().with_context(step));
    }
    return {};
  }

 private:
  Host& m_host;
  std::vector<PipelineRequest> m_requests;
  std::vector<std::pair<std::string, Done>> m_pending;
};

PipelineRequest run_request(std::vector<std::string> argv, RunOptions options) {
  PipelineRequest r;
  r.kind = PipelineRequest::Kind::run;
  r.argv = std::move(argv);
  r.options = std::move(options);
  return r;
}

// A run action as a pipelined request (tolerate_failure ones are run on their own: a program
// that cannot start is tolerated too, which only a single run() reports apart).
void add_run(Pipeline& pipeline, const Action& a, const ExecOptions& options, std::string& pending) {
  if (a.live && options.prefixed) {
    if (options.on_event) options.on_event("skipped (root_prefix set): " + shell_join(a.argv));
    return;
  }
  RunOptions run = a.progress ? progress_options(options, pending) : with_timeout(std::chrono::hours(2));
  pipeline.add(run_request(a.lock.empty() ? a.argv : locked_argv(a.lock, a.argv), std::move(run)), a.step,
               [&a](PipelineAnswer& answer) -> Result<void> {
                 const CommandResult& r = answer.result;
                 if (!a.lock.empty() && r.exit_status == lock_conflict_status) {
                   return lock_timeout(a.lock, shell_join(a.argv));
                 }
                 if (r.exit_status != 0) return fail(ErrorCode::command_failed, describe_failure(a.argv, r));
                 return {};
               });
}

// install_files and reset_identity: one read of all the roots' paths they check, chained after
// what came before (the clone), sent now; their writes and the key commands join the next
// pipeline.
Result<void> add_root_work(Pipeline& pipeline, const Plan& plan, std::size_t from, std::size_t to,
                           const ExecOptions& options) {
  PipelineRequest read;
  read.kind = PipelineRequest::Kind::read_paths;
  for (std::size_t k = from; k < to; ++k) {
    const Action& a = plan[k];
    auto more = a.kind == ActionKind::install_files ? root_file_reads(a.path, a.files) : identity_reads(a.path);
    read.reads.insert(read.reads.end(), more.begin(), more.end());
  }
  auto snapshot = std::make_shared<PathSnapshot>();
  pipeline.add(std::move(read), plan[from].step, [snapshot](PipelineAnswer& answer) -> Result<void> {
    *snapshot = std::move(answer.snapshot);
    return {};
  });
  if (auto r = pipeline.flush(); !r) return r;
  RunOptions keys;
  keys.timeout = std::chrono::minutes(2);
  for (std::size_t k = from; k < to; ++k) {
    const Action& a = plan[k];
    if (options.before_step && k > from) options.before_step(a.step);
    if (a.kind == ActionKind::install_files) {
      auto writes = install_writes(a.path, a.files, *snapshot);
      if (!writes) return std::unexpected(writes.error().with_context(a.step));
      pipeline.add_writes(std::move(*writes), a.step);
      continue;
    }
    auto writes = identity_writes(a.path, *snapshot);
    if (!writes) return std::unexpected(writes.error().with_context(a.step));
    pipeline.add_writes(std::move(*writes), a.step);
    auto commands = std::make_shared<std::vector<std::vector<std::string>>>(identity_commands(a.path));
    for (std::size_t i = 0; i < commands->size(); ++i) {
      pipeline.add(run_request((*commands)[i], keys), a.step, [commands, i](PipelineAnswer& answer) {
        return check_identity_command(i, (*commands)[i], answer.result);
      });
    }
  }
  return {};
}

// record_root: `du` chained after what came before, sent now; the record joins the next pipeline.
Result<void> add_record(Pipeline& pipeline, const Action& a) {
  auto bytes = std::make_shared<std::uint64_t>(0);
  std::vector<std::string> du{"du", "-s", "-B1", "-x", "--", a.path};
  pipeline.add(run_request(du, {}), a.step, [bytes, du](PipelineAnswer& answer) -> Result<void> {
    if (answer.result.exit_status != 0) return fail(ErrorCode::command_failed, describe_failure(du, answer.result));
    *bytes = std::strtoull(answer.result.out.c_str(), nullptr, 10);
    return {};
  });
  if (auto r = pipeline.flush(); !r) return r;
  auto record = parse_root_record(a.contents).value_or(RootRecord{});
  record.built = static_cast<std::int64_t>(std::time(nullptr));
  record.bytes = *bytes;
  pipeline.add_writes({FileWrite{a.path + "/" + std::string(kRootRecord), render_root_record(record), 0644,
                                 Owner{0, 0}, false}},
                      a.step);
  return {};
}

bool root_work(const Action& a) {
  return a.kind == ActionKind::install_files || a.kind == ActionKind::reset_identity;
}

}  // namespace

// Consecutive actions go to the host as one pipeline (one round trip over SSH), chained so that
// the fileserver stops at the first failure; a run of writes and folder creations of one step is
// one write_files batch whose files are renamed into place only once all of them are complete. An
// action whose plan depends on what the fileserver holds once the earlier ones are done
// (install_files and reset_identity: a read; record_root: du) sends the pipeline with that read
// at its end. remove_tree and tolerate_failure commands are done on their own. With a
// before_step hook every action (a run of writes together) is sent on its own, after its hook.
Result<void> execute(Host& host, const Plan& plan, const ExecOptions& options) {
  Pipeline pipeline(host);
  std::list<std::string> progress;  // rsync's partial progress lines, one per progress action
  for (std::size_t i = 0; i < plan.size();) {
    const Action& a = plan[i];
    if (options.before_step) {
      if (!(batchable(a) && pipeline.merges(a.step))) {
        if (auto r = pipeline.flush(); !r) return r;
      }
      options.before_step(a.step);
    }
    if (batchable(a)) {
      pipeline.add_writes({file_write(a)}, a.step);
      ++i;
      continue;
    }
    switch (a.kind) {
      case ActionKind::run:
        if (!a.tolerate_failure) {
          add_run(pipeline, a, options, progress.emplace_back());
          break;
        }
        [[fallthrough]];
      case ActionKind::remove_tree:
        if (auto r = pipeline.flush(); !r) return r;
        if (auto r = execute_one(host, a, options); !r) return std::unexpected(r.error().with_context(a.step));
        break;
      case ActionKind::rename: {
        PipelineRequest r;
        r.kind = PipelineRequest::Kind::rename;
        r.path = a.path;
        r.to = a.to;
        pipeline.add(std::move(r), a.step);
        break;
      }
      case ActionKind::remove_file: {
        PipelineRequest r;
        r.kind = PipelineRequest::Kind::remove;
        r.path = a.path;
        pipeline.add(std::move(r), a.step);
        break;
      }
      case ActionKind::install_files:
      case ActionKind::reset_identity: {
        std::size_t end = i + 1;
        while (end < plan.size() && root_work(plan[end])) ++end;
        if (auto r = add_root_work(pipeline, plan, i, end, options); !r) return r;
        i = end;
        continue;
      }
      case ActionKind::record_root:
        if (auto r = add_record(pipeline, a); !r) return r;
        break;
      case ActionKind::make_dirs:
      case ActionKind::write_file: break;  // batchable, above
    }
    ++i;
  }
  return pipeline.flush();
}

Result<std::uint64_t> tree_size(Host& host, const std::string& path) {
  auto du = check(host, {"du", "-s", "-B1", "-x", "--", path});
  if (!du) return std::unexpected(du.error());
  return std::strtoull(du->out.c_str(), nullptr, 10);
}

Result<std::map<std::string, std::uint64_t>> tree_sizes(Host& host,
                                                       const std::vector<std::string>& paths) {
  std::map<std::string, std::uint64_t> out;
  if (paths.empty()) return out;
  // -l: hard links shared between the trees count in each (du counts an inode once per run)
  std::vector<std::string> argv{"du", "-s", "-l", "-B1", "-x", "--null", "--"};
  argv.insert(argv.end(), paths.begin(), paths.end());
  RunOptions run;
  run.timeout = std::chrono::minutes(30);
  auto du = host.run(argv, run);
  if (!du) return std::unexpected(du.error());
  return parse_tree_sizes(du->out);
}

std::map<std::string, std::uint64_t> parse_tree_sizes(std::string_view out) {
  // "BYTES\tPATH\0" per tree; a missing tree is an error line on stderr (exit 1), not an entry.
  std::map<std::string, std::uint64_t> sizes;
  for (const auto& record : split(out, '\0')) {
    const auto tab = record.find('\t');
    if (tab == std::string::npos) continue;
    sizes[record.substr(tab + 1)] = std::strtoull(record.substr(0, tab).c_str(), nullptr, 10);
  }
  return sizes;
}

// A small perl program (perl-base is Essential on Debian, and the remote helper is perl already):
// the folders among `dir`'s entries named as a root is (an RFC 1123 label, see layout.hpp) that
// hold no `record`, then exec du over them as tree_sizes does; nothing when there are none.
std::vector<std::string> unrecorded_sizes_argv(const std::string& dir, std::string_view record) {
  static constexpr std::string_view kScript =
      "my ($d, $r) = @ARGV; opendir(my $h, $d) or exit 0; my @n = readdir($h);"
      " my @p = map { \"$d/$_\" } grep { /\\A[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\z/"
      " && !-l \"$d/$_\" && -d _ && !lstat(\"$d/$_/$r\") } sort @n;"
      " exit 0 unless @p; exec { 'du' } 'du', '-s', '-l', '-B1', '-x', '--null', '--', @p;"
      " die \"du: $!\\n\";";
  return {"perl", "-e", std::string(kScript), "--", dir, std::string(record)};
}

std::string render_root_record(const RootRecord& r) {
  return "built=" + std::to_string(r.built) + "\nbytes=" + std::to_string(r.bytes) +
         "\nmethod=" + r.method + "\ngolden=" + r.golden + "\n";
}

std::optional<RootRecord> parse_root_record(std::string_view text) {
  RootRecord r;
  bool ours = false;
  for (const auto& line : split(text, '\n')) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    if (key == "built") {
      r.built = std::strtoll(value.c_str(), nullptr, 10);
      ours = true;
    } else if (key == "bytes") {
      r.bytes = std::strtoull(value.c_str(), nullptr, 10);
    } else if (key == "method") {
      r.method = value;
    } else if (key == "golden") {
      r.golden = value;
    }
  }
  if (!ours) return std::nullopt;
  return r;
}

}  // namespace picluster::nfsroot
