// doctor's fileserver checks, all read-only through nfsroot::Host: nfsd, 8021q, nftables,
// dnsmasq (netboot), the golden image, the clone method, free space and the Pis' roots.

#include <algorithm>
#include <optional>
#include <sstream>

#include "common/text.hpp"
#include "nfsroot/clone.hpp"
#include "nfsroot/layout.hpp"
#include "orchestrator/doctor.hpp"

namespace picluster::orchestrator {
namespace {

void add(std::vector<Check>& out, std::string name, CheckStatus status, std::string detail,
         std::string fix = {}) {
  out.push_back({"fileserver", std::move(name), status, std::move(detail), std::move(fix)});
}

// True when argv starts and exits 0 (a missing program is false, over SSH too: exit 127).
bool runs(nfsroot::Host& host, const std::vector<std::string>& argv) {
  auto r = host.run(argv);
  return r && r->exit_status == 0;
}

void check_nfsd(nfsroot::Host& host, const nfsroot::Layout& layout, std::vector<Check>& out) {
  const std::string threads_file = layout.host_path("/proc/fs/nfsd/threads");
  auto threads = host.read_file(threads_file);
  if (!threads) {
    add(out, "nfsd", CheckStatus::fail, "no NFS server: " + threads_file + " is missing",
        "apt-get install nfs-kernel-server && systemctl enable --now nfs-server (the Ansible "
        "role does this)");
    return;
  }
  int n = 0;
  std::istringstream(*threads) >> n;
  if (n <= 0) {
    add(out, "nfsd", CheckStatus::fail, "the NFS server is loaded but runs no threads",
        "systemctl enable --now nfs-server");
    return;
  }
  add(out, "nfsd", CheckStatus::ok, "running with " + std::to_string(n) + " threads");
}

void check_8021q(nfsroot::Host& host, const nfsroot::Layout& layout, std::vector<Check>& out) {
  const std::string module = layout.host_path("/sys/module/8021q");
  auto st = host.stat(module);
  if (st && st->type == nfsroot::FileType::directory) {
    add(out, "8021q", CheckStatus::ok, "802.1Q VLAN module loaded");
  } else if (runs(host, {"modinfo", "-n", "8021q"})) {
    add(out, "8021q", CheckStatus::warn, "the 802.1Q module is available but not loaded",
        "modprobe 8021q && echo 8021q > /etc/modules-load.d/8021q.conf (the Ansible role does "
        "this)");
  } else {
    add(out, "8021q", CheckStatus::fail,
        "the kernel has no 802.1Q VLAN support (no " + module + ", modinfo 8021q fails)",
        "use a kernel with CONFIG_VLAN_8021Q (Debian's linux-image-amd64 has it as a module)");
  }
}

void check_tools(const inventory::Shelf& shelf, nfsroot::Host& host, std::vector<Check>& out) {
  if (runs(host, {"nft", "--version"})) {
    add(out, "nftables", CheckStatus::ok, "nft present (storage VLAN isolation rules)");
  } else {
    add(out, "nftables", CheckStatus::fail, "nft is missing or does not run",
        "apt-get install nftables");
  }
  if (shelf.boot.mode != inventory::BootMode::netboot) return;
  if (runs(host, {"dnsmasq", "--version"})) {
    add(out, "dnsmasq", CheckStatus::ok, "dnsmasq present (netboot DHCP/TFTP)");
  } else {
    add(out, "dnsmasq", CheckStatus::fail, "dnsmasq is missing; a netboot shelf needs it",
        "apt-get install dnsmasq");
  }
}

// The first number on the last line of a command's output ("df -Pk", "du -sk").
std::optional<std::uint64_t> number_in(const std::string& text, int column) {
  std::istringstream lines(text);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  std::istringstream words(last);
  std::string word;
  for (int i = 0; i <= column && words >> word; ++i) {
    if (i == column) {
      try {
        return std::stoull(word);
      } catch (...) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

void check_space(nfsroot::Host& host, const std::string& golden, const std::string& nfs_root,
                 inventory::CloneMethod method, int roots, std::vector<Check>& out) {
  auto du = host.run({"du", "-skx", "--", golden});
  auto df = host.run({"df", "-Pk", "--", nfs_root});
  const auto golden_kib = du && du->exit_status == 0 ? number_in(du->out, 0) : std::nullopt;
  const auto free_kib = df && df->exit_status == 0 ? number_in(df->out, 3) : std::nullopt;
  if (!golden_kib || !free_kib) {
    add(out, "free space", CheckStatus::warn, "cannot measure (du " + golden + ", df " + nfs_root + ")",
        "check that du and df run on the fileserver");
    return;
  }
  // A snapshot or reflink shares the image's data; count 1% of it (at least 1 MiB) per root.
  const bool shares = method != inventory::CloneMethod::rsync;
  const std::uint64_t per_root = shares ? std::max<std::uint64_t>(*golden_kib / 100, 1024) : *golden_kib;
  const std::uint64_t need = per_root * static_cast<std::uint64_t>(roots);
  const std::string have = human_bytes(*free_kib * 1024) + " free in " + nfs_root;
  if (*free_kib < need) {
    add(out, "free space", CheckStatus::fail,
        have + ", " + std::to_string(roots) + " more root(s) need " + human_bytes(need * 1024),
        "free space or grow the filesystem under " + nfs_root + (shares ? "" : ", or put nfs_root on btrfs or reflink XFS so roots share the image's data"));
    return;
  }
  add(out, "free space", CheckStatus::ok,
      have + ", enough for " + std::to_string(roots) + " more root(s) of " + human_bytes(per_root * 1024));
}

void check_roots(const inventory::Shelf& shelf, nfsroot::Host& host, const nfsroot::Layout& layout,
                 std::vector<Check>& out) {
  std::string missing;
  for (const auto& pi : shelf.pis) {
    auto paths = layout.pi(pi.name);
    if (!paths) continue;
    auto st = host.stat(paths->live);
    if (!st || st->type != nfsroot::FileType::directory) missing += (missing.empty() ? "" : ", ") + pi.name;
  }
  if (!missing.empty()) {
    add(out, "pi roots", CheckStatus::warn, "no root yet for " + missing,
        "picluster apply makes them from the golden image");
  } else {
    add(out, "pi roots", CheckStatus::ok, std::to_string(shelf.pis.size()) + " Pi roots present");
  }
}

int roots_to_make(const inventory::Shelf& shelf, nfsroot::Host& host, const nfsroot::Layout& layout) {
  int n = 0;
  for (const auto& pi : shelf.pis) {
    auto paths = layout.pi(pi.name);
    if (!paths) continue;
    auto st = host.stat(paths->live);
    if (!st || st->type == nfsroot::FileType::none) ++n;
  }
  return std::max(n, 1);
}

}  // namespace

void check_fileserver(const inventory::Shelf& shelf, nfsroot::Host& host, int roots,
                      std::vector<Check>& out) {
  const nfsroot::Layout layout(shelf.fileserver);
  check_nfsd(host, layout, out);
  check_8021q(host, layout, out);
  check_tools(shelf, host, out);

  const std::string golden = layout.golden_image();
  auto st = host.stat(golden);
  auto names = st && st->type == nfsroot::FileType::directory ? host.list(golden)
                                                              : Result<std::vector<std::string>>{};
  if (!st || st->type != nfsroot::FileType::directory || !names || names->empty()) {
    add(out, "golden image", CheckStatus::fail, "no golden image at " + golden,
        "put the Pi image's root filesystem there (docs/ansible.md: the push-golden playbook), or "
        "set fileserver.golden_image");
  } else {
    add(out, "golden image", CheckStatus::ok, golden + " present");
    auto choice = nfsroot::choose_clone_method(host, shelf.fileserver.clone_method, golden,
                                               layout.nfs_root());
    if (!choice) {
      add(out, "clone method", CheckStatus::fail, choice.error().message,
          "set fileserver.clone_method to one the filesystem supports (rsync works anywhere)");
    } else {
      add(out, "clone method", CheckStatus::ok,
          std::string(inventory::to_string(choice->method)) + ": " + choice->reason);
      check_space(host, golden, layout.nfs_root(), choice->method,
                  roots > 0 ? roots : roots_to_make(shelf, host, layout), out);
    }
  }
  check_roots(shelf, host, layout, out);
}

}  // namespace picluster::orchestrator
