#include "nfsroot/install.hpp"

#include <set>

#include "common/text.hpp"

namespace picluster::nfsroot {

Result<void> validate_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/') {
    return fail(ErrorCode::refused, "file path " + printable(path) + " must be relative to the root");
  }
  for (const char c : path) {
    if (c == '\0' || c == '\n') return fail(ErrorCode::refused, "file path " + printable(path) + " has a control character");
  }
  for (const auto& part : split(path, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return fail(ErrorCode::refused, "file path " + printable(path) + " leaves the root or has an empty component");
    }
  }
  return {};
}

namespace {

// Makes sure every folder of `rel` (all components but the last) is a real folder under root,
// creating missing ones; a symlink among them is refused.
Result<void> prepare_folders(Host& host, const std::string& root, std::string_view rel) {
  const auto parts = split(rel, '/');
  std::string dir = root;
  std::string shown;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    dir += "/" + parts[i];
    shown += (shown.empty() ? "" : "/") + parts[i];
    auto st = host.stat(dir);
    if (!st) return std::unexpected(st.error());
    switch (st->type) {
      case FileType::directory: break;
      case FileType::none:
        if (auto m = host.make_dirs(dir); !m) return m;
        break;
      case FileType::symlink:
        return fail(ErrorCode::refused, shown + " is a symlink in the golden image; refusing to "
                                        "follow it out of the root");
      default:
        return fail(ErrorCode::refused, shown + " is not a folder");
    }
  }
  return {};
}

}  // namespace

std::vector<PathRead> root_file_reads(const std::string& root, const std::vector<RenderedFile>& files) {
  std::vector<PathRead> out;
  for (const auto& file : files) {
    if (!validate_relative_path(file.path)) continue;  // plan_root_files reports it
    const auto parts = split(file.path, '/');
    std::string dir = root;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      dir += "/" + parts[i];
      out.push_back({dir, false});
    }
    out.push_back({root + "/" + file.path, true});
  }
  return out;
}

Result<Plan> plan_root_files(const std::string& root, const std::vector<RenderedFile>& files,
                             const PathSnapshot& snapshot, const std::string& step) {
  const auto type_at = [&snapshot](const std::string& path) {
    const auto it = snapshot.find(path);
    return it == snapshot.end() ? FileType::none : it->second.stat.type;
  };
  Plan plan;
  std::set<std::string> created;
  for (const auto& file : files) {
    if (auto v = validate_relative_path(file.path); !v) return std::unexpected(v.error());
    const auto parts = split(file.path, '/');
    std::string dir = root;
    std::string shown;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      dir += "/" + parts[i];
      shown += (shown.empty() ? "" : "/") + parts[i];
      const FileType type = type_at(dir);
      if (type == FileType::symlink) {
        return fail(ErrorCode::refused, "install " + file.path + ": " + shown +
                                            " is a symlink in the golden image; refusing to "
                                            "follow it out of the root");
      }
      if (type != FileType::none && type != FileType::directory) {
        return fail(ErrorCode::refused, "install " + file.path + ": " + shown + " is not a folder");
      }
      if (type == FileType::none && created.insert(dir).second) {
        Action mk;
        mk.kind = ActionKind::make_dirs;
        mk.step = step;
        mk.path = dir;
        plan.push_back(mk);
      }
    }
    const std::string target = root + "/" + file.path;
    const auto it = snapshot.find(target);
    Action w;
    w.kind = ActionKind::write_file;
    w.step = step;
    w.path = target;
    w.contents = file.contents;
    w.mode = file.mode;
    if (it != snapshot.end()) {
      const PathFacts& installed = it->second;
      if (installed.stat.type == FileType::directory) {
        return fail(ErrorCode::refused, "install " + file.path + ": " + file.path + " is a folder");
      }
      if (installed.stat.type == FileType::regular && installed.contents) {
        if (*installed.contents == file.contents && installed.stat.mode == (file.mode & 07777U)) continue;
        w.previous = *installed.contents;
        w.previous_mode = installed.stat.mode;
      }
    }
    plan.push_back(w);
  }
  return plan;
}

Result<void> install_files(Host& host, const std::string& root,
                           const std::vector<RenderedFile>& files) {
  auto snapshot = host.read_paths(root_file_reads(root, files));
  if (!snapshot) return std::unexpected(snapshot.error());
  auto plan = plan_root_files(root, files, *snapshot);
  if (!plan) return std::unexpected(plan.error());
  std::vector<FileWrite> batch;
  for (const auto& a : *plan) {
    if (a.kind == ActionKind::make_dirs) batch.push_back(FileWrite{a.path, {}, 0755, std::nullopt, true});
    else batch.push_back(FileWrite{a.path, a.contents, a.mode, Owner{0, 0}, false});
  }
  return host.write_files(batch);
}


Result<void> reset_identity(Host& host, const std::string& root) {
  const std::vector<RenderedFile> machine_id{{"etc/machine-id", "", 0444}};
  if (auto r = install_files(host, root, machine_id); !r) return r;
  // The probe file makes sure etc/ssh exists and is a real folder before anything is deleted.
  if (auto p = prepare_folders(host, root, "etc/ssh/probe"); !p) {
    return std::unexpected(p.error().with_context("reset SSH host keys"));
  }
  const std::string ssh_dir = root + "/etc/ssh";
  auto names = host.list(ssh_dir);
  if (!names) return std::unexpected(names.error());
  // One rm for all of them (a symlink among them is removed, never followed).
  std::vector<std::string> rm{"rm", "-f", "--"};
  for (const auto& n : *names) {
    if (n.starts_with("ssh_host_")) rm.push_back(ssh_dir + "/" + n);
  }
  if (rm.size() > 3) {
    if (auto r = check(host, rm); !r) return std::unexpected(r.error().with_context("delete the golden image's SSH host keys"));
  }
  // Ed25519 and ECDSA only: RSA key generation takes seconds per Pi on a busy fileserver, and
  // every OpenSSH client since 6.5 speaks Ed25519. sshd generates nothing itself at boot.
  for (const char* type : {"ed25519", "ecdsa"}) {
    const std::string key = ssh_dir + "/ssh_host_" + type + "_key";
    auto keygen = check(host, {"ssh-keygen", "-q", "-t", type, "-N", "", "-C", "", "-f", key});
    if (!keygen) return std::unexpected(keygen.error().with_context("generate SSH host keys"));
  }
  return {};
}

}  // namespace picluster::nfsroot
