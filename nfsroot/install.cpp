#include "nfsroot/install.hpp"

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

Result<void> install_one(Host& host, const std::string& root, const RenderedFile& file) {
  if (auto v = validate_relative_path(file.path); !v) return v;
  if (auto p = prepare_folders(host, root, file.path); !p) return p;
  const std::string target = root + "/" + file.path;
  auto st = host.stat(target);
  if (!st) return std::unexpected(st.error());
  if (st->type == FileType::directory) return fail(ErrorCode::refused, file.path + " is a folder");
  // A symlink (possibly pointing outside the root) is removed, never written through.
  if (st->type == FileType::symlink) {
    if (auto r = host.remove(target); !r) return r;
  }
  return host.write_file(target, file.contents, file.mode, Owner{0, 0});
}

}  // namespace

Result<void> install_files(Host& host, const std::string& root,
                           const std::vector<RenderedFile>& files) {
  for (const auto& file : files) {
    if (auto r = install_one(host, root, file); !r) {
      return std::unexpected(r.error().with_context("install " + file.path));
    }
  }
  return {};
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
  for (const auto& n : *names) {
    if (!n.starts_with("ssh_host_")) continue;
    if (auto r = host.remove(ssh_dir + "/" + n); !r) return r;
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
