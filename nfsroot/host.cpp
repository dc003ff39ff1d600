#include "nfsroot/host.hpp"

#include <cstdlib>

#include "common/text.hpp"
#include "nfsroot/local_host.hpp"
#include "nfsroot/ssh_host.hpp"

namespace picluster::nfsroot {

std::string describe_failure(const std::vector<std::string>& argv, const CommandResult& result) {
  std::string err = result.err;
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  if (const auto nl = err.rfind('\n'); nl != std::string::npos) err = err.substr(nl + 1);
  std::string text = shell_join(argv) + ": exit " + std::to_string(result.exit_status);
  if (!err.empty()) text += ": " + err;
  return text;
}

Result<CommandResult> check(Host& host, const std::vector<std::string>& argv,
                            const RunOptions& options) {
  auto result = host.run(argv, options);
  if (!result) return result;
  if (result->exit_status != 0) return fail(ErrorCode::command_failed, describe_failure(argv, *result));
  return result;
}

Result<PathSnapshot> Host::read_paths(const std::vector<PathRead>& paths) {
  PathSnapshot out;
  for (const auto& p : paths) {
    if (out.contains(p.path) && (!p.contents || out[p.path].contents)) continue;
    auto st = stat(p.path);
    if (!st) return std::unexpected(st.error());
    if (st->type == FileType::none) continue;
    PathFacts facts{*st, std::nullopt};
    if (p.contents && st->type == FileType::regular) {
      auto text = read_file(p.path);
      if (!text && text.error().code == ErrorCode::not_found) continue;  // gone meanwhile
      if (!text) return std::unexpected(text.error());
      facts.contents = std::move(*text);
    }
    out[p.path] = std::move(facts);
  }
  return out;
}

Result<void> Host::write_files(const std::vector<FileWrite>& files) {
  for (const auto& f : files) {
    auto r = f.folder ? make_dirs(f.path) : write_file(f.path, f.contents, f.mode, f.owner);
    if (!r) return r;
  }
  return {};
}

Result<std::map<std::string, std::vector<std::string>>> Host::list_dirs(
    const std::vector<std::string>& dirs) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& d : dirs) {
    auto names = list(d);
    if (!names && names.error().code == ErrorCode::not_found) continue;
    if (!names) return std::unexpected(names.error());
    out[d] = std::move(*names);
  }
  return out;
}

Result<std::vector<CommandResult>> Host::run_all(const std::vector<std::vector<std::string>>& commands,
                                                const RunOptions& options) {
  std::vector<CommandResult> out;
  for (const auto& argv : commands) {
    auto r = run(argv, options);
    if (!r) return std::unexpected(r.error());
    out.push_back(std::move(*r));
  }
  return out;
}

Result<PathSnapshot> Host::read_children(const std::string& dir, const std::vector<std::string>& inside) {
  auto names = list(dir);
  if (!names && names.error().code == ErrorCode::not_found) return PathSnapshot{};
  if (!names) return std::unexpected(names.error());
  PathSnapshot out;
  for (const auto& n : *names) {
    const std::string path = dir + "/" + n;
    auto st = stat(path);
    if (!st) return std::unexpected(st.error());
    if (st->type == FileType::none) continue;  // gone meanwhile
    out[path] = PathFacts{*st, std::nullopt};
    if (st->type != FileType::directory) continue;
    std::vector<PathRead> reads;
    for (const auto& rel : inside) reads.push_back({path + "/" + rel, true});
    auto more = read_paths(reads);
    if (!more) return std::unexpected(more.error());
    out.merge(*more);
  }
  return out;
}

Result<std::vector<PipelineAnswer>> Host::pipeline(const std::vector<PipelineRequest>& requests) {
  using Kind = PipelineRequest::Kind;
  std::vector<PipelineAnswer> out;
  bool broken = false;
  for (const auto& r : requests) {
    PipelineAnswer a;
    if (!r.chained) broken = false;
    if (r.chained && broken) {
      a.skipped = true;
      out.push_back(std::move(a));
      continue;
    }
    const auto failed = [&a](const Error& e) { a.error = e; };
    switch (r.kind) {
      case Kind::run: {
        auto res = run(r.argv, r.options);
        if (!res) return std::unexpected(r.what.empty() ? res.error() : res.error().with_context(r.what));
        a.result = std::move(*res);
        if (a.result.exit_status != 0 && !r.tolerate) broken = true;
        break;
      }
      case Kind::read_paths: {
        auto res = read_paths(r.reads);
        if (res) a.snapshot = std::move(*res); else failed(res.error());
        break;
      }
      case Kind::read_children: {
        auto res = read_children(r.path, r.names);
        if (res) a.snapshot = std::move(*res); else failed(res.error());
        break;
      }
      case Kind::list_dirs: {
        auto res = list_dirs(r.names);
        if (res) a.listing = std::move(*res); else failed(res.error());
        break;
      }
      case Kind::write_files: {
        if (auto res = write_files(r.writes); !res) failed(res.error());
        break;
      }
      case Kind::rename: {
        if (auto res = rename(r.path, r.to); !res) failed(res.error());
        break;
      }
      case Kind::remove: {
        if (auto res = remove(r.path); !res) failed(res.error());
        break;
      }
    }
    if (a.error) broken = true;
    out.push_back(std::move(a));
  }
  return out;
}

namespace {

std::string resolve(const std::string& path, const std::filesystem::path& base) {
  if (path.empty()) return path;
  if (path.starts_with("~/")) {
    const char* home = std::getenv("HOME");
    return (std::filesystem::path(home != nullptr ? home : "/root") / path.substr(2)).string();
  }
  const std::filesystem::path p(path);
  return p.is_absolute() ? path : (base / p).lexically_normal().string();
}

}  // namespace

SshTarget ssh_target(const inventory::Fileserver& fileserver, const std::filesystem::path& inventory_dir) {
  SshTarget target;
  target.host = fileserver.host;
  target.port = fileserver.ssh_port;
  target.user = fileserver.user;
  target.identity_file = resolve(fileserver.identity_file, inventory_dir);
  target.known_hosts = resolve(fileserver.known_hosts.empty() ? std::string("~/.ssh/known_hosts")
                                                              : fileserver.known_hosts,
                               inventory_dir);
  target.persist = std::chrono::seconds(inventory::ssh_persist_of(fileserver));
  return target;
}

Result<std::unique_ptr<Host>> connect(const inventory::Fileserver& fileserver,
                                      const std::filesystem::path& inventory_dir) {
  if (fileserver.transport == inventory::Transport::local) return std::make_unique<LocalHost>();
  auto host = SshHost::connect(ssh_target(fileserver, inventory_dir));
  if (!host) return std::unexpected(host.error());
  return std::unique_ptr<Host>(std::move(*host));
}

}  // namespace picluster::nfsroot
