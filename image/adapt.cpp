#include "image/adapt.hpp"

#include <algorithm>
#include <cstring>

#include "common/text.hpp"
#include "image/boot_set.hpp"

namespace picluster::image {

namespace {

bool sd_entry(const std::vector<std::string>& fields) {
  if (fields.size() < 3) return false;
  const std::string& dev = fields[0];
  if (fields[2] == "swap") return true;
  for (const char* p : {"PARTUUID=", "UUID=", "LABEL=", "PARTLABEL=", "/dev/mmcblk", "/dev/sd", "/dev/disk/"}) {
    if (dev.starts_with(p)) return true;
  }
  return false;
}

std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

Result<bool> exists(Host& host, const std::string& path) {
  auto st = host.stat(path);
  if (!st) return std::unexpected(st.error());
  return st->type != nfsroot::FileType::none;
}

// A real folder: exists and is not a symlink (nor below one: callers walk down from the root).
Result<bool> real_dir(Host& host, const std::string& path) {
  auto st = host.stat(path);
  if (!st) return std::unexpected(st.error());
  return st->type == nfsroot::FileType::directory;
}

// Removes dir/<prefix>* unless dir is not a real folder.
Result<void> remove_matching(Host& host, const std::string& dir, const std::string& prefix) {
  auto real = real_dir(host, dir);
  if (!real) return std::unexpected(real.error());
  if (!*real) return {};
  auto entries = host.list(dir);
  if (!entries) return entries.error().code == ErrorCode::not_found ? Result<void>{} : std::unexpected(entries.error());
  for (const auto& e : *entries) {
    if (e.starts_with(prefix)) {
      if (auto r = host.remove(dir + "/" + e); !r) return r;
    }
  }
  return {};
}

}  // namespace

FstabResult adapt_fstab(std::string_view fstab) {
  FstabResult out;
  for (const auto& line : split(fstab, '\n')) {
    const auto f = fields_of(line);
    if (!line.starts_with("#") && sd_entry(f)) {
      out.removed.push_back(line);
      continue;
    }
    out.text += line + "\n";
  }
  while (out.text.ends_with("\n\n")) out.text.pop_back();
  if (out.text == "\n") out.text.clear();
  return out;
}

const std::vector<std::string>& masked_units() {
  static const std::vector<std::string> units = {
      "resize2fs_once.service", "rpi-resize.service",  "userconfig.service",
      "dphys-swapfile.service", "regenerate_ssh_host_keys.service", "sshswitch.service",
      "dhcpcd.service",         "NetworkManager.service", "NetworkManager-wait-online.service"};
  return units;
}

Result<void> real_dirs(Host& host, const std::string& root, std::string_view rel) {
  std::string path = root;
  for (const auto& part : split(rel, '/')) {
    if (part.empty()) continue;
    path += "/" + part;
    auto st = host.stat(path);
    if (!st) return std::unexpected(st.error());
    if (st->type == nfsroot::FileType::none) {
      if (auto r = host.make_dirs(path); !r) return r;
    } else if (st->type != nfsroot::FileType::directory) {
      return fail(ErrorCode::refused, path + " is not a folder (a symlink?); refusing to write through it");
    }
  }
  return {};
}

Result<void> adapt_root(Host& host, const std::string& root, const Options& options) {
  // fstab
  const std::string fstab = root + "/etc/fstab";
  auto st = host.stat(fstab);
  if (!st) return std::unexpected(st.error());
  if (st->type == nfsroot::FileType::regular) {
    auto text = host.read_file(fstab);
    if (!text) return std::unexpected(text.error());
    auto adapted = adapt_fstab(*text);
    if (!adapted.removed.empty()) {
      if (auto r = host.write_file(fstab, adapted.text, 0644, nfsroot::Owner{}); !r) return r;
      options.say("adapt: fstab: dropped " + std::to_string(adapted.removed.size()) + " SD-card/swap entries");
    }
  }
  // first-boot services and eth0 managers: masked
  if (auto r = real_dirs(host, root, "etc/systemd/system/multi-user.target.wants"); !r) return r;
  const std::string units = root + "/etc/systemd/system";
  auto wants = host.list(units);
  if (!wants) return std::unexpected(wants.error());
  std::vector<std::string> masked;
  for (const auto& unit : masked_units()) {
    for (const auto& dir : *wants) {
      if (!dir.ends_with(".wants") && !dir.ends_with(".requires")) continue;
      auto real = real_dir(host, units + "/" + dir);
      if (!real) return std::unexpected(real.error());
      if (!*real) continue;
      const std::string link = units + "/" + dir + "/" + unit;
      auto l = host.stat(link);
      if (!l) return std::unexpected(l.error());
      if (l->type == nfsroot::FileType::symlink) {
        if (auto r = host.remove(link); !r) return r;
      }
    }
    if (auto r = nfsroot::check(host, {"ln", "-sfn", "/dev/null", units + "/" + unit}); !r) return std::unexpected(r.error());
    masked.push_back(unit);
  }
  for (const auto& rc : {"etc/rc2.d", "etc/rc3.d", "etc/rc4.d", "etc/rc5.d", "etc/rcS.d"}) {
    if (auto r = remove_matching(host, root + "/" + rc, "S01resize2fs_once"); !r) return r;
  }
  options.say("adapt: masked " + std::to_string(masked.size()) + " first-boot/SD-card/eth0 services");
  // ssh on
  for (const char* unit : {"usr/lib/systemd/system/ssh.service", "lib/systemd/system/ssh.service"}) {
    auto e = exists(host, root + "/" + unit);
    if (!e) return std::unexpected(e.error());
    if (!*e) continue;
    if (auto r = nfsroot::check(host, {"ln", "-sfn", "/lib/systemd/system/ssh.service",
                                       units + "/multi-user.target.wants/ssh.service"});
        !r) {
      return std::unexpected(r.error());
    }
    options.say("adapt: ssh enabled");
    break;
  }
  // no swap file, no host keys, no machine id
  if (auto r = remove_matching(host, root + "/var", "swap"); !r) return r;
  auto etc_real = real_dir(host, root + "/etc");
  if (!etc_real) return std::unexpected(etc_real.error());
  if (*etc_real) {
    if (auto r = remove_matching(host, root + "/etc/ssh", "ssh_host_"); !r) return r;
  }
  if (auto r = real_dirs(host, root, "etc"); !r) return r;
  if (auto r = host.write_file(root + "/etc/machine-id", "", 0444, nfsroot::Owner{}); !r) return r;
  options.say("adapt: no SSH host keys, empty machine-id, no swap file");
  // the boot set, from the root's kernel (raspi-firmware's hooks may not have run)
  auto boot = complete_boot_set(host, root);
  if (!boot) return std::unexpected(boot.error());
  options.say("adapt: " + *boot);
  return {};
}

std::string elf_arch(std::string_view h) {
  if (h.size() < 20 || h.substr(0, 4) != "\x7f" "ELF") return "";
  const bool is64 = h[4] == 2;
  const auto machine = static_cast<unsigned>(static_cast<unsigned char>(h[18])) |
                       (static_cast<unsigned>(static_cast<unsigned char>(h[19])) << 8);
  switch (machine) {
    case 0xB7: return "arm64";
    case 0x28: return "armhf";
    case 0x3E: return "amd64";
    case 0x03: return "i386";
    case 0xF3: return is64 ? "riscv64" : "riscv32";
    default: return "machine-" + std::to_string(machine);
  }
}

Result<std::string> root_arch(Host& host, const std::string& root) {
  for (const char* rel : {"usr/bin/dpkg", "usr/lib/systemd/systemd", "usr/bin/busybox", "bin/busybox",
                          "usr/bin/bash", "bin/bash", "usr/bin/dash", "bin/dash"}) {
    const std::string path = root + "/" + rel;
    if (std::string(rel).starts_with("bin/")) {
      auto bin = host.stat(root + "/bin");
      if (!bin) return std::unexpected(bin.error());
      if (bin->type != nfsroot::FileType::directory) continue;  // merged /usr: a symlink
    }
    auto st = host.stat(path);
    if (!st) return std::unexpected(st.error());
    if (st->type != nfsroot::FileType::regular) continue;
    auto od = nfsroot::check(host, {"od", "-An", "-v", "-tx1", "-N", "20", "--", path});
    if (!od) return std::unexpected(od.error());
    std::string bytes;
    for (const auto& tok : split(od->out, ' ')) {
      for (const auto& t : split(tok, '\n')) {
        if (t.size() == 2) bytes += static_cast<char>(std::stoi(t, nullptr, 16));
      }
    }
    auto arch = elf_arch(bytes);
    if (!arch.empty()) return arch;
  }
  return fail(ErrorCode::io, root + ": no program to tell the architecture by (no dpkg, systemd, busybox or sh)");
}

Result<std::string> root_kernel(Host& host, const std::string& root) {
  for (const char* rel : {"/usr/lib/modules", "/lib/modules"}) {
    auto entries = host.list(root + rel);
    if (!entries && entries.error().code == ErrorCode::not_found) continue;
    if (!entries) return std::unexpected(entries.error());
    if (entries->empty()) continue;
    // version order: 6.1.0-28-arm64 is newer than 6.1.0-9-arm64
    return *std::max_element(entries->begin(), entries->end(), [](const std::string& a, const std::string& b) {
      return ::strverscmp(a.c_str(), b.c_str()) < 0;
    });
  }
  return std::string();
}

}  // namespace picluster::image
