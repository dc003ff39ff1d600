#include "image/boot_set.hpp"

#include <algorithm>
#include <cstring>

#include "common/text.hpp"
#include "image/adapt.hpp"

namespace picluster::image {

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

bool has(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The newest of `names` that start with `prefix` (version order, as `sort -V`), skipping dpkg's
// and dkms's backups; "" when none.
std::string newest(const std::vector<std::string>& names, std::string_view prefix) {
  std::string best;
  for (const auto& n : names) {
    if (!n.starts_with(prefix) || n.size() == prefix.size() || n.ends_with(".dpkg-bak") || n.ends_with(".old-dkms")) continue;
    if (best.empty() || ::strverscmp(n.c_str(), best.c_str()) > 0) best = n;
  }
  return best;
}

bool is_dir(const nfsroot::PathSnapshot& snap, const std::string& path) {
  auto it = snap.find(path);
  return it != snap.end() && it->second.stat.type == nfsroot::FileType::directory;
}
bool is_regular(const nfsroot::PathSnapshot& snap, const std::string& path) {
  auto it = snap.find(path);
  return it != snap.end() && it->second.stat.type == nfsroot::FileType::regular;
}

// rsync -rt (no -l: symlinks are skipped, never followed), extra options first.
Result<void> copy_in(Host& host, std::vector<std::string> options, const std::vector<std::string>& sources,
                     const std::string& dest) {
  std::vector<std::string> argv{"rsync", "-rt"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), sources.begin(), sources.end());
  argv.push_back(dest);
  if (auto r = nfsroot::check(host, argv); !r) return std::unexpected(r.error().with_context("complete boot set"));
  return {};
}

}  // namespace

std::string render_image_config(const std::string& kernel, const std::string& initramfs, bool arm64) {
  std::string out =
      "# Written by picluster from the image's kernel package, again on every image build, import\n"
      "# and exec. Each Pi's own config.txt includes it last (as picluster-image.txt).\n";
  if (arm64) out += "arm_64bit=1\n";
  // Debian's kernel carries the upstream DTB names (bcm2837-rpi-3-b.dtb, ...).
  out += "upstream_kernel=1\n";
  out += "kernel=" + kernel + "\n";
  if (!initramfs.empty()) out += "initramfs " + initramfs + " followkernel\n";
  return out;
}

bool generated_config(std::string_view config) {
  return config.starts_with("# Written by picluster") || config.starts_with("# Do not modify this file!");
}

Result<std::string> complete_boot_set(Host& host, const std::string& root) {
  // 1. the newest kernel in /boot, and its initramfs
  auto boot = host.stat(root + "/boot");
  if (!boot) return std::unexpected(boot.error());
  if (boot->type != nfsroot::FileType::directory) return std::string("no /boot folder; boot set left as it is");
  auto names = host.list(root + "/boot");
  if (!names) return std::unexpected(names.error());
  const std::string kernel = newest(*names, "vmlinuz-");
  if (kernel.empty()) return std::string("no kernel in /boot; boot set left as it is");
  const std::string version = kernel.substr(std::strlen("vmlinuz-"));
  // 2. one look at everything involved
  const std::string fw = root + "/" + std::string(kBootSetDir);
  const std::string lib = root + "/usr/lib/linux-image-" + version;
  const std::string initrd = "initrd.img-" + version;
  std::vector<nfsroot::PathRead> reads;
  for (const auto& p : {root + "/boot/" + kernel, root + "/boot/" + initrd, root + "/usr", root + "/usr/lib",
                        root + "/usr/lib/raspi-firmware", lib, lib + "/broadcom", lib + "/overlays",
                        lib + "/broadcom/overlays", fw}) {
    reads.push_back({p, false});
  }
  reads.push_back({fw + "/config.txt", true});
  auto snap = host.read_paths(reads);
  if (!snap) return std::unexpected(snap.error());
  if (!is_regular(*snap, root + "/boot/" + kernel)) return std::string("/boot/" + kernel + " is not a regular file; boot set left as it is");
  if (auto it = snap->find(fw + "/config.txt"); it != snap->end()) {
    const bool ours = it->second.contents && generated_config(*it->second.contents);
    if (!ours) return std::string("the image's own config.txt is kept; boot set left as it is");
  }
  const bool usr_lib = is_dir(*snap, root + "/usr") && is_dir(*snap, root + "/usr/lib");
  const bool arm64 = usr_lib && is_dir(*snap, lib) && is_dir(*snap, lib + "/broadcom");
  const std::string dtbs = arm64 ? lib + "/broadcom" : lib;
  // 3. firmware, kernel, initramfs, DTBs, overlays
  if (auto r = real_dirs(host, root, kBootSetDir); !r) return std::unexpected(r.error());
  if (usr_lib && is_dir(*snap, root + "/usr/lib/raspi-firmware")) {
    if (auto r = copy_in(host, {}, {root + "/usr/lib/raspi-firmware/"}, fw + "/"); !r) return std::unexpected(r.error());
  }
  const bool has_initrd = is_regular(*snap, root + "/boot/" + initrd);
  std::vector<std::string> files{root + "/boot/" + kernel};
  if (has_initrd) files.push_back(root + "/boot/" + initrd);
  if (auto r = copy_in(host, {}, files, fw + "/"); !r) return std::unexpected(r.error());
  // --delete with these filters deletes only DTBs the kernel no longer ships
  if (usr_lib && is_dir(*snap, lib) && is_dir(*snap, dtbs)) {
    if (auto r = copy_in(host, {"--delete", "--include=bcm*.dtb", "--exclude=*"}, {dtbs + "/"}, fw + "/"); !r) return std::unexpected(r.error());
  }
  for (const auto& overlays : {dtbs + "/overlays", lib + "/overlays"}) {
    if (!usr_lib || !is_dir(*snap, lib) || !is_dir(*snap, overlays)) continue;
    if (auto r = real_dirs(host, fw, "overlays"); !r) return std::unexpected(r.error());
    if (auto r = copy_in(host, {"--delete"}, {overlays + "/"}, fw + "/overlays/"); !r) return std::unexpected(r.error());
    break;
  }
  // 4. older kernels and initramfs gone, then the config naming this one
  auto present = host.list(fw);
  if (!present) return std::unexpected(present.error());
  for (const auto& f : *present) {
    if ((f.starts_with("vmlinuz-") && f != kernel) || (f.starts_with("initrd.img-") && (f != initrd || !has_initrd))) {
      if (auto r = host.remove(fw + "/" + f); !r) return std::unexpected(r.error());
    }
  }
  if (auto r = host.write_file(fw + "/config.txt", render_image_config(kernel, has_initrd ? initrd : "", arm64), 0644,
                               nfsroot::Owner{});
      !r) {
    return std::unexpected(r.error());
  }
  return "boot set: " + kernel + (has_initrd ? ", " + initrd : ", no initramfs") + ", DTBs of " +
         (arm64 ? "usr/lib/linux-image-" + version + "/broadcom" : "usr/lib/linux-image-" + version);
}

std::vector<std::string> missing_for_model(const BootSet& set, inventory::PiModel model) {
  std::vector<std::string> firmware;
  std::vector<std::string> dtbs;
  switch (model) {
    case inventory::PiModel::pi3:
      firmware = {"bootcode.bin", "start.elf", "fixup.dat"};
      dtbs = {"bcm2710-rpi-3-b.dtb", "bcm2837-rpi-3-b.dtb"};
      break;
    case inventory::PiModel::pi3bplus:
      firmware = {"bootcode.bin", "start.elf", "fixup.dat"};
      dtbs = {"bcm2710-rpi-3-b-plus.dtb", "bcm2837-rpi-3-b-plus.dtb"};
      break;
    case inventory::PiModel::pi4:
      firmware = {"start4.elf", "fixup4.dat"};
      dtbs = {"bcm2711-rpi-4-b.dtb"};
      break;
    case inventory::PiModel::pi5:  // its bootloader and firmware are in its EEPROM
      dtbs = {"bcm2712-rpi-5-b.dtb"};
      break;
  }
  std::vector<std::string> out;
  for (const auto& f : firmware) {
    if (!has(set.files, f)) out.push_back(f);
  }
  if (std::none_of(dtbs.begin(), dtbs.end(), [&](const std::string& d) { return has(set.files, d); })) {
    std::string either;
    for (const auto& d : dtbs) either += (either.empty() ? "" : " or ") + d;
    out.push_back(either);
  }
  for (const auto& f : {set.kernel, set.initramfs}) {
    if (!f.empty() && !has(set.files, f)) out.push_back(f);
  }
  return out;
}

void parse_config_names(std::string_view config, std::string& kernel, std::string& initramfs) {
  for (auto line : split(config, '\n')) {
    line = trim(line);
    if (line.starts_with("kernel=")) kernel = trim(line.substr(7));
    if (line.starts_with("initramfs ")) {
      auto rest = trim(line.substr(10));
      initramfs = rest.substr(0, rest.find_first_of(" \t"));
    }
  }
}

Result<BootSet> read_boot_set(Host& host, const std::string& root) {
  const std::string dir = root + "/" + std::string(kBootSetDir);
  BootSet set;
  auto st = host.stat(dir);
  if (!st) return std::unexpected(st.error());
  if (st->type != nfsroot::FileType::directory) {
    return fail(ErrorCode::not_found, root + ": no boot set (" + std::string(kBootSetDir) + " is missing)");
  }
  auto entries = host.list(dir);
  if (!entries) return std::unexpected(entries.error());
  for (const auto& e : *entries) {
    auto est = host.stat(dir + "/" + e);
    if (!est) return std::unexpected(est.error());
    set.files.push_back(est->type == nfsroot::FileType::directory ? e + "/" : e);
    if (e.ends_with(".dtb")) set.dtbs.push_back(e);
  }
  for (const char* f : {"bootcode.bin", "start.elf", "fixup.dat", "start4.elf", "fixup4.dat"}) {
    if (std::find(entries->begin(), entries->end(), f) == entries->end()) set.missing.emplace_back(f);
  }
  auto cst = host.stat(dir + "/config.txt");
  if (!cst) return std::unexpected(cst.error());
  if (cst->type == nfsroot::FileType::regular) {
    auto config = host.read_file(dir + "/config.txt");
    if (!config) return std::unexpected(config.error());
    parse_config_names(*config, set.kernel, set.initramfs);
  }
  return set;
}

Result<std::vector<std::string>> stage_boot_set(Host& host, const std::string& root, const std::string& dest,
                                                const std::vector<RenderedFile>& files, inventory::PiModel model) {
  const std::string src = root + "/" + std::string(kBootSetDir);
  auto set = read_boot_set(host, root);
  if (!set) return std::unexpected(set.error());
  if (auto r = host.make_dirs(dest); !r) return std::unexpected(r.error());
  // -rt without -l: symlinks in the image are skipped, never followed into the TFTP folder.
  nfsroot::RunOptions ro;
  ro.timeout = std::chrono::minutes(30);
  if (auto r = nfsroot::check(host, {"rsync", "-rt", "--delete", "--exclude=/config.txt", "--exclude=/cmdline.txt",
                                     "--exclude=/" + std::string(kImageConfig), src + "/", dest + "/"}, ro);
      !r) {
    return std::unexpected(r.error().with_context("stage boot set"));
  }
  std::string config;
  auto cst = host.stat(src + "/config.txt");
  if (!cst) return std::unexpected(cst.error());
  if (cst->type == nfsroot::FileType::regular) {
    auto text = host.read_file(src + "/config.txt");
    if (!text) return std::unexpected(text.error());
    config = *text;
  }
  if (auto r = host.write_file(dest + "/" + std::string(kImageConfig), config, 0644, nfsroot::Owner{}); !r) {
    return std::unexpected(r.error());
  }
  for (const auto& f : files) {
    if (auto r = host.write_file(dest + "/" + f.path, f.contents, f.mode, nfsroot::Owner{}); !r) return std::unexpected(r.error());
  }
  return missing_for_model(*set, model);
}

}  // namespace picluster::image
