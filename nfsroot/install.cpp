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

namespace {

std::vector<FileWrite> writes_of(const Plan& plan) {
  std::vector<FileWrite> batch;
  for (const auto& a : plan) batch.push_back(file_write(a));
  return batch;
}

}  // namespace

Result<std::vector<FileWrite>> install_writes(const std::string& root, const std::vector<RenderedFile>& files,
                                              const PathSnapshot& snapshot) {
  auto plan = plan_root_files(root, files, snapshot);
  if (!plan) return std::unexpected(plan.error());
  return writes_of(*plan);
}

Result<void> install_files(Host& host, const std::string& root,
                           const std::vector<RenderedFile>& files) {
  auto snapshot = host.read_paths(root_file_reads(root, files));
  if (!snapshot) return std::unexpected(snapshot.error());
  auto writes = install_writes(root, files, *snapshot);
  if (!writes) return std::unexpected(writes.error());
  return host.write_files(*writes);
}

namespace {

const std::vector<RenderedFile>& machine_id_file() {
  static const std::vector<RenderedFile> file{{"etc/machine-id", "", 0444}};
  return file;
}

}  // namespace

std::vector<PathRead> identity_reads(const std::string& root) {
  auto reads = root_file_reads(root, machine_id_file());
  reads.push_back({root + "/etc/ssh"});
  return reads;
}

Result<std::vector<FileWrite>> identity_writes(const std::string& root, const PathSnapshot& snapshot) {
  const std::string ssh_dir = root + "/etc/ssh";
  auto plan = plan_root_files(root, machine_id_file(), snapshot);
  if (!plan) return std::unexpected(plan.error());
  // etc/ssh must be a real folder before anything in it is deleted or made.
  const auto ssh = snapshot.find(ssh_dir);
  const FileType type = ssh == snapshot.end() ? FileType::none : ssh->second.stat.type;
  if (type == FileType::symlink) {
    return fail(ErrorCode::refused, "reset SSH host keys: etc/ssh is a symlink in the golden image; "
                                    "refusing to follow it out of the root");
  }
  if (type != FileType::none && type != FileType::directory) {
    return fail(ErrorCode::refused, "reset SSH host keys: etc/ssh is not a folder");
  }
  auto batch = writes_of(*plan);
  if (type == FileType::none) batch.push_back(FileWrite{ssh_dir, {}, 0755, std::nullopt, true});
  return batch;
}

// The golden image's host keys go (find -delete removes a symlink among them, never follows it),
// then new Ed25519 and ECDSA keys: RSA key generation takes seconds per Pi on a busy fileserver,
// and every OpenSSH client since 6.5 speaks Ed25519. sshd generates nothing itself at boot.
std::vector<std::vector<std::string>> identity_commands(const std::string& root) {
  const std::string ssh_dir = root + "/etc/ssh";
  std::vector<std::vector<std::string>> commands{
      {"find", ssh_dir, "-mindepth", "1", "-maxdepth", "1", "-name", "ssh_host_*", "-delete"}};
  for (const char* key_type : {"ed25519", "ecdsa"}) {
    commands.push_back({"ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", "", "-f",
                        ssh_dir + "/ssh_host_" + key_type + "_key"});
  }
  return commands;
}

Result<void> check_identity_command(std::size_t index, const std::vector<std::string>& argv,
                                    const CommandResult& result) {
  if (result.exit_status == 0) return {};
  return fail(ErrorCode::command_failed,
              std::string(index == 0 ? "delete the golden image's SSH host keys" : "generate SSH host keys") +
                  ": " + describe_failure(argv, result));
}

// Three round trips over SSH: one read (etc/machine-id and etc/ssh), one write batch (the empty
// machine-id, etc/ssh if missing), one pipelined run of the key commands.
Result<void> reset_identity(Host& host, const std::string& root) {
  auto snapshot = host.read_paths(identity_reads(root));
  if (!snapshot) return std::unexpected(snapshot.error());
  auto batch = identity_writes(root, *snapshot);
  if (!batch) return std::unexpected(batch.error());
  if (auto w = host.write_files(*batch); !w) return w;
  const auto commands = identity_commands(root);
  RunOptions run;
  run.timeout = std::chrono::minutes(2);
  auto results = host.run_all(commands, run);
  if (!results) return std::unexpected(results.error().with_context("reset SSH host keys"));
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (auto c = check_identity_command(i, commands[i], (*results)[i]); !c) return c;
  }
  return {};
}

}  // namespace picluster::nfsroot
