#include "lab/shelf/netboot.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/text.hpp"
#include "lab/shelf/files.hpp"
#include "lab/shelf/process.hpp"

namespace picluster::lab {
namespace fs = std::filesystem;
namespace {

// Option 97 around the serial: type 0, "RPi4"; then 8 zero bytes make the GUID's 16.
constexpr const char* kOpt97Prefix = "0052506934";
constexpr const char* kOpt97Suffix = "0000000000000000";
// "Raspberry Pi Boot" in hex, as it appears inside option 43's PXE menu (sub-option 9).
constexpr const char* kRaspberryPiBootHex = "52617370626572727920506920426f6f74";
constexpr const char* kVendorClass = "PXEClient:Arch:00000:UNDI:002001";

// The NIC driver and what it needs, in load order (a module the initrd lacks is built in).
const std::vector<std::string> kNicModules = {"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev",
                                              "virtio_pci", "failover", "net_failover", "virtio_net"};

// The Xen libraries kexec-tools' kexec is linked against (libxenctrl and its closure).
const std::vector<std::string> kKexecLibraryDebs = {
    "libxenmisc4.17", "libxencall1", "libxendevicemodel1", "libxenevtchn1",
    "libxenforeignmemory1", "libxengnttab1", "libxentoolcore1", "libxentoollog1"};

// The .deb of `package` in `dir` ("<package>_*.deb"), or empty.
fs::path find_deb(const fs::path& dir, const std::string& package) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(package + "_") && name.ends_with(".deb")) return e.path();
  }
  return {};
}

// A file named `name` anywhere under `root`, or empty.
fs::path find_file(const fs::path& root, const std::string& name) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->path().filename() == name && it->is_regular_file()) return it->path();
  }
  return {};
}

// Unpacks the lab's initrd (gzip or zstd newc cpio) into `dir`.
Result<void> unpack_initrd(const fs::path& initrd, const fs::path& dir) {
  const std::string head = read_text(initrd).substr(0, 4);
  const bool zstd = head == std::string("\x28\xb5\x2f\xfd", 4);
  const std::string decompress = zstd ? "zstd -dc" : "zcat";
  return run_ok({"sh", "-c", decompress + " -- \"$1\" | (cd \"$2\" && cpio -idm --quiet)", "sh", initrd.string(), dir.string()});
}

// Copies `binary`'s shared libraries (resolved with the unpacked debs' library folder first) and
// the dynamic loader into `root`, at the paths ldd names.
Result<void> copy_libraries(const fs::path& binary, const fs::path& debs_root, const fs::path& root) {
  auto ldd = run_checked({"env", "LD_LIBRARY_PATH=" + (debs_root / "usr/lib/x86_64-linux-gnu").string() + ":" +
                                     (debs_root / "lib/x86_64-linux-gnu").string(),
                          "ldd", binary.string()});
  if (!ldd) return std::unexpected(ldd.error().with_context("ldd " + binary.string()));
  for (const auto& line : split(ldd->out, '\n')) {
    if (line.find("not found") != std::string::npos) return fail(ErrorCode::not_found, "ldd " + binary.string() + ": " + line);
    std::istringstream words(line);
    std::string word;
    std::vector<std::string> w;
    while (words >> word) w.push_back(word);
    std::string lib;
    if (w.size() >= 3 && w[1] == "=>") lib = w[2];
    else if (!w.empty() && w[0].starts_with("/")) lib = w[0];  // the loader
    if (lib.empty()) continue;
    const fs::path source = lib;
    const fs::path dest = root / (source.string().starts_with(debs_root.string())
                                      ? fs::path("lib/x86_64-linux-gnu") / source.filename()
                                      : source.relative_path());
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    fs::copy_file(fs::canonical(source, ec), dest, fs::copy_options::overwrite_existing, ec);
    if (ec) return fail(ErrorCode::io, "copy " + lib + ": " + ec.message());
  }
  return {};
}

// Packs `root` as a gzip'd newc cpio at `out` (through out.tmp, renamed), then empties `work`.
Result<void> pack_initramfs(const fs::path& root, const fs::path& out, const std::string& what, const fs::path& work) {
  const fs::path tmp = out.string() + ".tmp";
  if (auto r = run_ok({"sh", "-c", "cd \"$1\" && find . | cpio -o -H newc --quiet | gzip -6 > \"$2\"", "sh", root.string(),
                       tmp.string()});
      !r) {
    return std::unexpected(r.error().with_context("cpio " + what));
  }
  std::error_code ec;
  fs::rename(tmp, out, ec);
  if (ec) return fail(ErrorCode::io, "rename " + out.string() + ": " + ec.message());
  fs::remove_all(work, ec);
  return {};
}

}  // namespace

std::string lab_pi_serial(int port) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "1ab0c0%02x", port & 0xff);
  return buf;
}

std::string pi4_client_machine_id_hex(const std::string& serial) {
  return std::string(kOpt97Prefix) + serial + kOpt97Suffix;
}

std::string lab_netboot_cmdline_base() {
  // The x86 guest's serial console and classic names (cmdline's ip= names eth0); the rest is
  // picluster's netboot line (nfsroot= and ip= are inserted after rootfstype=nfs).
  return "console=ttyS0,115200 net.ifnames=0 root=/dev/nfs rootfstype=nfs rootwait";
}

std::vector<std::string> lab_netboot_config_txt() {
  return {"# The lab's x86-64 boot set (picluster lab up --netboot): the Debian kernel and initrd.",
          std::string("kernel=") + kLabKernel, std::string("initramfs ") + kLabInitrd + " followkernel"};
}

std::string boot_stage_init(const std::vector<std::string>& modules) {
  std::string mods;
  for (const auto& m : modules) mods += (mods.empty() ? "" : " ") + m;
  return std::string(R"SH(#!/bin/busybox sh
# picluster lab boot stage: a Raspberry Pi 4 bootloader's network boot (lab/shelf/netboot.hpp).
/bin/busybox mkdir -p /proc /sys /dev /tmp /boot /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "picluster-bootstage: $*"; }
for m in )SH") + mods + R"SH(; do insmod "/lib/modules/$m.ko" || say "insmod $m failed"; done
serial=$(cat /sys/class/dmi/id/product_serial 2>/dev/null)
case "$serial" in
  [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
  *) say "no board serial (SMBIOS system serial '$serial'): halted"; while :; do sleep 3600; done ;;
esac
say "board serial $serial"
ip link set lo up
ip link set eth0 up
# Fetches $serial/NAME from the TFTP server into /boot/NAME.
fetch() {
  case "$1" in */*|.*|'') say "refusing TFTP name '$1'"; return 1 ;; esac
  tftp -g -b 1468 -r "$serial/$1" -l "/boot/$1" "$server" && return 0
  say "TFTP $serial/$1 from $server failed"
  return 1
}
n=0
while :; do
  n=$((n + 1))
  [ "$n" = 1 ] || sleep 5
  rm -f /tmp/lease /boot/*
  ip addr flush dev eth0
  say "attempt $n: DHCP DISCOVER, vendor class )SH" + kVendorClass + R"SH(, option 97 RPi4 $serial"
  udhcpc -i eth0 -f -q -n -t 5 -T 2 -s /bootstage/dhcp.script \
    -V )SH" + kVendorClass + R"SH( -x 0x5d:0000 -x 0x5e:010201 \
    -x 0x61:)SH" + kOpt97Prefix + R"SH(${serial})SH" + kOpt97Suffix + R"SH( -O 43 -O 66
  if [ ! -s /tmp/lease ]; then say "no DHCP offer with \"Raspberry Pi Boot\""; continue; fi
  . /tmp/lease
  say "DHCP offer accepted: $ip from $server (option 43: Raspberry Pi Boot)"
  fetch start4.elf && fetch fixup4.dat && fetch config.txt && fetch cmdline.txt || continue
  # config.txt with each "include FILE" replaced by FILE (fetched from the same folder), as the
  # firmware reads it: picluster's config.txt includes the image's own (picluster-image.txt).
  : > /tmp/config.all
  ok=1
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      include\ *) inc=${line#include }; inc=${inc%% *}
        if fetch "$inc"; then cat "/boot/$inc" >> /tmp/config.all; echo >> /tmp/config.all; else ok=0; fi ;;
      *) printf '%s\n' "$line" >> /tmp/config.all ;;
    esac
  done < /boot/config.txt
  [ "$ok" = 1 ] || continue
  kernel=$(awk -F= '$1 == "kernel" { k = $2 } END { print k }' /tmp/config.all)
  initrd=$(awk '$1 == "initramfs" { i = $2 } END { print i }' /tmp/config.all)
  [ -n "$kernel" ] || kernel=kernel8.img
  fetch "$kernel" || continue
  if [ -n "$initrd" ]; then fetch "$initrd" || continue; fi
  say "TFTP done: $serial/start4.elf fixup4.dat config.txt cmdline.txt $kernel $initrd"
  say "kexec $kernel with cmdline.txt"
  if [ -n "$initrd" ]; then
    kexec -l "/boot/$kernel" --initrd="/boot/$initrd" --command-line="$(cat /boot/cmdline.txt)" && kexec -e
  else
    kexec -l "/boot/$kernel" --command-line="$(cat /boot/cmdline.txt)" && kexec -e
  fi
  say "kexec failed"
done
)SH";
}

std::string boot_stage_dhcp_script() {
  return std::string(R"SH(#!/bin/sh
# udhcpc event script of the lab boot stage: a lease counts only when option 43 carries the PXE
# menu "Raspberry Pi Boot" (what the Pi 4 bootloader looks for); the TFTP server is option 66,
# else the server identifier.
case "$1" in
  deconfig)
    ip addr flush dev "$interface"
    ;;
  bound|renew)
    if ! echo "$opt43" | grep -qi )SH") + kRaspberryPiBootHex + R"SH(; then
      echo "picluster-bootstage: lease $ip from $serverid has no \"Raspberry Pi Boot\" in option 43: ignored"
      exit 0
    fi
    ip addr flush dev "$interface"
    ifconfig "$interface" "$ip" netmask "$subnet" up
    printf 'ip=%s\nserver=%s\n' "$ip" "${tftp:-$serverid}" > /tmp/lease
    ;;
esac
exit 0
)SH";
}

std::vector<std::string> netboot_debs() {
  std::vector<std::string> out = {"busybox-static", "kexec-tools", "raspi-firmware"};
  out.insert(out.end(), kKexecLibraryDebs.begin(), kKexecLibraryDebs.end());
  return out;
}

std::vector<std::string> netboot_firmware_files() { return {"start4.elf", "fixup4.dat", "bootcode.bin"}; }

Result<void> ensure_netboot_debs(const fs::path& debs_dir, const std::string& mirror, const fs::path& extra_dir) {
  std::error_code ec;
  fs::create_directories(debs_dir, ec);
  if (ec) return fail(ErrorCode::io, "create " + debs_dir.string() + ": " + ec.message());
  std::vector<std::string> missing;
  for (const auto& package : netboot_debs()) {
    if (!find_deb(debs_dir, package).empty()) continue;
    if (const fs::path cached = find_deb(extra_dir, package); package == "raspi-firmware" && !cached.empty()) {
      fs::copy_file(cached, debs_dir / cached.filename(), ec);
      if (!ec) continue;
    }
    missing.push_back(package);
  }
  if (missing.empty()) return {};
  // A private package list: main and non-free-firmware (raspi-firmware), amd64.
  const fs::path apt = debs_dir / "apt";
  fs::create_directories(apt / "lists/partial", ec);
  fs::create_directories(apt / "cache/archives/partial", ec);
  if (auto r = write_text(apt / "sources.list", "deb " + mirror + " bookworm main non-free-firmware\n", fs::perms(0644)); !r) {
    return r;
  }
  std::vector<std::string> argv = {"apt-get", "-q",
                                   "-o", "Dir::Etc::SourceList=" + (apt / "sources.list").string(),
                                   "-o", "Dir::Etc::SourceParts=/dev/null",
                                   "-o", "Dir::State::Lists=" + (apt / "lists").string(),
                                   "-o", "Dir::Cache=" + (apt / "cache").string(),
                                   "-o", "APT::Architecture=amd64",
                                   "-o", "APT::Architectures::=amd64",
                                   "-o", "APT::Sandbox::User=root"};
  auto update = argv;
  update.push_back("update");
  if (auto r = run_ok(update, RunOptions{std::chrono::minutes(10), {}}); !r) return std::unexpected(r.error().with_context("apt-get update (netboot debs)"));
  auto download = argv;
  download.push_back("download");
  download.insert(download.end(), missing.begin(), missing.end());
  // apt-get download writes into the current folder: run it there through sh.
  std::vector<std::string> in_dir = {"sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", debs_dir.string()};
  in_dir.insert(in_dir.end(), download.begin(), download.end());
  if (auto r = run_ok(in_dir, RunOptions{std::chrono::minutes(10), {}}); !r) {
    return std::unexpected(r.error().with_context("apt-get download " + shell_join(missing)));
  }
  for (const auto& package : missing) {
    if (find_deb(debs_dir, package).empty()) return fail(ErrorCode::not_found, "apt-get download left no " + package + " .deb in " + debs_dir.string());
  }
  return {};
}

Result<void> build_netboot_initrd(const fs::path& initrd, const fs::path& work, const fs::path& out) {
  std::error_code ec;
  fs::remove_all(work, ec);
  fs::create_directories(work, ec);
  if (ec) return fail(ErrorCode::io, "create " + work.string() + ": " + ec.message());
  if (auto r = unpack_initrd(initrd, work); !r) return std::unexpected(r.error().with_context("unpack " + initrd.string()));
  fs::path modules;
  for (const auto& base : {work / "usr/lib/modules", work / "lib/modules"}) {
    if (!fs::is_directory(base, ec) || fs::is_symlink(base.parent_path(), ec)) continue;
    for (const auto& e : fs::directory_iterator(base, ec)) {
      if (e.is_directory()) modules = e.path();
    }
    if (!modules.empty()) break;
  }
  if (modules.empty()) return fail(ErrorCode::not_found, initrd.string() + ": no lib/modules/<version> in it");
  std::vector<fs::path> drop;
  const fs::path kernel = modules / "kernel";
  for (auto it = fs::recursive_directory_iterator(kernel, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string rel = it->path().lexically_relative(kernel).generic_string();
    if (!netboot_initrd_keeps(rel)) drop.push_back(it->path());
  }
  for (const auto& f : drop) fs::remove(f, ec);
  fs::remove_all(work / "usr/lib/firmware", ec);
  // modules.dep still names the dropped modules (the build machine may have no depmod): what the
  // boot needs (virtio_net, nfs and their dependencies) is all kept, and udev's modprobe of a
  // dropped driver for a device the VM does not have fails quietly.
  return pack_initramfs(work, out, "trimmed initrd", work);
}

bool netboot_initrd_keeps(const std::string& rel) {
  // The NIC (virtio) and everything an NFS root mounts with; the rest of drivers/ and fs/ is
  // for disks, GPUs, USB and file systems a netbooted lab Pi never has.
  if (rel.starts_with("drivers/")) {
    if (rel.starts_with("drivers/virtio/")) return true;
    const std::string name = fs::path(rel).filename().string();
    return name.starts_with("virtio_net.") || name.starts_with("net_failover.");
  }
  if (rel.starts_with("fs/")) {
    for (const char* keep : {"fs/nfs/", "fs/nfs_common/", "fs/lockd/", "fs/fscache/", "fs/netfs/"}) {
      if (rel.starts_with(keep)) return true;
    }
    return false;
  }
  return true;  // net/ (sunrpc, dns_resolver, failover), lib/, crypto/, arch/, ...
}

Result<void> build_boot_stage(const fs::path& debs_dir, const fs::path& initrd, const fs::path& work, const fs::path& out,
                              const fs::path& firmware_dir) {
  std::error_code ec;
  fs::remove_all(work, ec);
  const fs::path debs_root = work / "debs";
  const fs::path initrd_root = work / "initrd";
  const fs::path root = work / "root";
  for (const auto& d : {debs_root, initrd_root, root / "bin", root / "sbin", root / "lib/modules", root / "bootstage", firmware_dir}) {
    fs::create_directories(d, ec);
  }
  if (ec) return fail(ErrorCode::io, "create " + work.string() + ": " + ec.message());
  for (const auto& package : netboot_debs()) {
    const fs::path deb = find_deb(debs_dir, package);
    if (deb.empty()) return fail(ErrorCode::not_found, "no " + package + " .deb in " + debs_dir.string());
    if (auto r = run_ok({"dpkg-deb", "-x", deb.string(), debs_root.string()}); !r) return r;
  }
  // busybox (static), kexec and its libraries.
  fs::copy_file(debs_root / "bin/busybox", root / "bin/busybox", ec);
  fs::copy_file(debs_root / "sbin/kexec", root / "sbin/kexec", ec);
  if (ec) return fail(ErrorCode::io, "copy busybox/kexec: " + ec.message());
  if (auto r = copy_libraries(root / "sbin/kexec", debs_root, root); !r) return r;
  // The NIC modules of the lab kernel, from its initrd.
  if (auto r = unpack_initrd(initrd, initrd_root); !r) return std::unexpected(r.error().with_context("unpack " + initrd.string()));
  std::vector<std::string> modules;
  for (const auto& m : kNicModules) {
    const fs::path ko = find_file(initrd_root, m + ".ko");
    if (ko.empty()) continue;  // built into the kernel
    fs::copy_file(ko, root / "lib/modules" / (m + ".ko"), ec);
    modules.push_back(m);
  }
  if (std::find(modules.begin(), modules.end(), "virtio_net") == modules.end()) {
    return fail(ErrorCode::not_found, "no virtio_net.ko in " + initrd.string());
  }
  if (auto r = write_text(root / "init", boot_stage_init(modules), fs::perms(0755)); !r) return r;
  if (auto r = write_text(root / "bootstage/dhcp.script", boot_stage_dhcp_script(), fs::perms(0755)); !r) return r;
  // The firmware files a Pi 4 fetches first.
  for (const auto& f : netboot_firmware_files()) {
    fs::copy_file(debs_root / "usr/lib/raspi-firmware" / f, firmware_dir / f, fs::copy_options::overwrite_existing, ec);
    if (ec) return fail(ErrorCode::io, "raspi-firmware has no " + f + ": " + ec.message());
  }
  return pack_initramfs(root, out, "boot stage", work);
}

}  // namespace picluster::lab
