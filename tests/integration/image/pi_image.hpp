#pragma once
// Builds Raspberry-Pi-OS-shaped disk images for the import tests, without emulation: an MBR with
// a FAT32 boot partition (the firmware from Debian's raspi-firmware .deb, config.txt,
// cmdline.txt, a stand-in kernel8.img and DTB) and an ext4 root made with `mkfs.ext4 -d` from a
// small arm64 root (busybox-static extracted from its .deb) with Raspberry Pi OS's first-boot
// services, swap file, SD-card fstab and host keys in place. The two .debs are fetched once with
// `apt-get download` from the Debian mirror (component non-free-firmware, through a private
// sources list) and kept in /var/cache/picluster-tests/debs.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace picluster::image_test {

namespace fs = std::filesystem;

inline testing::RunResult sh(const std::vector<std::string>& argv, const std::string& input = {}) {
  testing::RunOptions o;
  o.stdin_text = input;
  o.timeout_seconds = 600;
  auto r = testing::run(argv, o);
  EXPECT_EQ(r.status, 0) << argv.front() << " " << (argv.size() > 1 ? argv[1] : "") << ": " << r.err << r.out;
  return r;
}

inline fs::path deb_cache() { return "/var/cache/picluster-tests/debs"; }

inline fs::path find_deb(const std::string& prefix) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(deb_cache(), ec)) {
    if (e.path().filename().string().starts_with(prefix) && e.path().extension() == ".deb") return e.path();
  }
  return {};
}

// Downloads raspi-firmware and busybox-static (arm64) unless cached; "" or what went wrong.
inline std::string fetch_debs() {
  if (!find_deb("raspi-firmware_").empty() && !find_deb("busybox-static_").empty()) return "";
  const fs::path apt = deb_cache() / "apt";
  fs::create_directories(apt / "lists/partial");
  fs::create_directories(apt / "cache/archives/partial");
  testing::write_file(apt / "sources.list", "deb http://deb.debian.org/debian bookworm main non-free-firmware\n");
  const std::vector<std::string> opts = {"-o", "Dir::Etc::SourceList=" + (apt / "sources.list").string(),
                                         "-o", "Dir::Etc::SourceParts=/dev/null",
                                         "-o", "Dir::State::Lists=" + (apt / "lists").string(),
                                         "-o", "Dir::Cache=" + (apt / "cache").string(),
                                         "-o", "APT::Architecture=arm64",
                                         "-o", "APT::Architectures::=arm64",
                                         "-o", "APT::Sandbox::User=root"};
  std::vector<std::string> update{"apt-get", "-q"};
  update.insert(update.end(), opts.begin(), opts.end());
  update.push_back("update");
  testing::RunOptions o;
  o.timeout_seconds = 600;
  auto u = testing::run(update, o);
  if (u.status != 0) return "apt-get update: " + u.err;
  std::vector<std::string> download{"apt-get", "-q"};
  download.insert(download.end(), opts.begin(), opts.end());
  download.insert(download.end(), {"download", "raspi-firmware", "busybox-static"});
  o.cwd = deb_cache();
  auto d = testing::run(download, o);
  if (d.status != 0) return "apt-get download: " + d.err;
  return "";
}

struct ImageSpec {
  bool x86_root = false;   // the root holds an x86-64 program instead of arm64 busybox
  bool fat = true;         // partition 1 has a FAT type (else it is a second Linux partition)
  bool fat_content = true; // partition 1 holds a FAT file system (else zeros)
  // Debian-shaped instead of Raspberry Pi OS: the kernel package's files in the root (see
  // add_debian_kernel), raspi-firmware installed in it, and a boot partition where its hooks
  // never ran for that kernel (raspi-firmware's config.txt naming an older one, no firmware).
  bool debian = false;
};

inline void link(const fs::path& target, const fs::path& at) {
  fs::create_directories(at.parent_path());
  fs::create_symlink(target, at);
}

inline constexpr const char* kDebianKernel = "6.1.0-28-arm64";

// What linux-image-arm64 and raspi-firmware leave in a root: /boot/vmlinuz-V and initrd.img-V
// (and an older 6.1.0-9 pair: version order, not name order, picks the newest), the DTBs in
// usr/lib/linux-image-V/broadcom, with a symlink to the host's /etc/shadow among them (never to
// be followed), overlays/, the modules folder, usr/lib/raspi-firmware.
inline void add_debian_kernel(const fs::path& root) {
  const std::string v = kDebianKernel;
  for (const auto& k : {v, std::string("6.1.0-9-arm64")}) {
    testing::write_file(root / "boot" / ("vmlinuz-" + k), std::string(64 << 10, 'V') + k);
    testing::write_file(root / "boot" / ("initrd.img-" + k), std::string(32 << 10, 'I') + k);
    testing::write_file(root / "usr/lib/modules" / k / "modules.order", "");
  }
  link("vmlinuz-" + v, root / "boot/vmlinuz");
  const fs::path dtbs = root / "usr/lib" / ("linux-image-" + v) / "broadcom";
  for (const char* d : {"bcm2837-rpi-3-b.dtb", "bcm2837-rpi-3-b-plus.dtb", "bcm2711-rpi-4-b.dtb", "bcm2712-rpi-5-b.dtb"}) {
    testing::write_file(dtbs / d, std::string(2048, 'D') + d);
  }
  testing::write_file(dtbs / "README", "not a DTB\n");
  link("/etc/shadow", dtbs / "bcm2711-rpi-cm4-io.dtb");
  testing::write_file(root / "usr/lib" / ("linux-image-" + v) / "overlays/disable-bt.dtbo", std::string(512, 'O'));
  sh({"dpkg-deb", "-x", find_deb("raspi-firmware_").string(), root.string()});
}

// The root file system's folder: busybox (or an x86 dpkg) and Raspberry Pi OS's first-boot bits.
inline void make_root(const fs::path& root, bool x86, bool debian = false) {
  if (x86) {
    fs::create_directories(root / "usr/bin");
    fs::copy_file("/usr/bin/dpkg", root / "usr/bin/dpkg");
  } else {
    sh({"dpkg-deb", "-x", find_deb("busybox-static_").string(), root.string()});
    link("busybox", root / "bin/sh");
  }
  for (const char* d : {"proc", "sys", "dev", "tmp", "boot/firmware"}) fs::create_directories(root / d);
  testing::write_file(root / "etc/fstab",
                      "proc            /proc           proc    defaults          0       0\n"
                      "PARTUUID=5e3da3da-01  /boot/firmware  vfat    defaults          0       2\n"
                      "PARTUUID=5e3da3da-02  /               ext4    defaults,noatime  0       1\n"
                      "/var/swap none swap sw 0 0\n");
  testing::write_file(root / "etc/hostname", "raspberrypi\n");
  testing::write_file(root / "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  testing::write_file(root / "etc/ssh/ssh_host_ed25519_key", "IMAGE-KEY\n");
  testing::write_file(root / "etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA image\n");
  testing::write_file(root / "var/swap", std::string(4096, '\0'));
  for (const char* unit : {"ssh", "dphys-swapfile", "userconfig", "regenerate_ssh_host_keys", "dhcpcd"}) {
    testing::write_file(root / "lib/systemd/system" / (std::string(unit) + ".service"), "[Unit]\n");
  }
  for (const char* unit : {"dphys-swapfile", "userconfig", "regenerate_ssh_host_keys", "dhcpcd"}) {
    link("/lib/systemd/system/" + std::string(unit) + ".service",
         root / "etc/systemd/system/multi-user.target.wants" / (std::string(unit) + ".service"));
  }
  testing::write_file(root / "etc/init.d/resize2fs_once", "#!/bin/sh\n");
  link("../init.d/resize2fs_once", root / "etc/rc3.d/S01resize2fs_once");
  if (debian) {
    add_debian_kernel(root);
  } else {
    testing::write_file(root / "usr/lib/modules/6.6.51+rpt-rpi-v8/modules.order", "");
  }
  testing::write_file(root / "var/lib/dpkg/status",
                      "Package: busybox-static\nStatus: install ok installed\nVersion: 1:1.35.0-4+b1\n\n"
                      "Package: raspi-config\nStatus: install ok installed\nVersion: 20231012\n\n"
                      "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n");
}

// The boot partition's folder: raspi-firmware's files plus what Raspberry Pi OS puts there, or
// (debian) only what raspi-firmware's hook wrote for an older kernel.
inline void make_boot(const fs::path& boot, const fs::path& work, bool debian = false) {
  if (debian) {
    testing::write_file(boot / "config.txt",
                        "# Do not modify this file!\n#\n# It is automatically generated upon install or update of "
                        "either the\n# firmware or the Linux kernel.\narm_64bit=1\nenable_uart=1\nupstream_kernel=1\n\n"
                        "kernel=vmlinuz-6.1.0-9-arm64\ninitramfs initrd.img-6.1.0-9-arm64\n");
    testing::write_file(boot / "cmdline.txt", "console=tty0 root=/dev/mmcblk0p2 rw rootwait\n");
    testing::write_file(boot / "vmlinuz-6.1.0-9-arm64", "old kernel");
    testing::write_file(boot / "initrd.img-6.1.0-9-arm64", "old initramfs");
    return;
  }
  sh({"dpkg-deb", "-x", find_deb("raspi-firmware_").string(), (work / "fw").string()});
  fs::copy(work / "fw/usr/lib/raspi-firmware", boot, fs::copy_options::recursive);
  testing::write_file(boot / "config.txt", "arm_64bit=1\nkernel=kernel8.img\ndtoverlay=vc4-kms-v3d\n");
  testing::write_file(boot / "cmdline.txt",
                      "console=serial0,115200 root=PARTUUID=5e3da3da-02 rootfstype=ext4 rootwait "
                      "init=/usr/lib/raspberrypi-sys-mods/firstboot\n");
  testing::write_file(boot / "kernel8.img", std::string(1 << 20, 'K'));
  testing::write_file(boot / "bcm2711-rpi-4-b.dtb", std::string(4096, 'D'));
  testing::write_file(boot / "overlays/disable-bt.dtbo", std::string(512, 'O'));
}

// Writes the image at `out` (MBR: 64 MiB boot from sector 2048, 48 MiB root after it).
inline void make_pi_image(const fs::path& work, const fs::path& out, const ImageSpec& spec = {}) {
  const fs::path root = work / "root", boot = work / "boot";
  fs::create_directories(work);
  fs::remove_all(root);
  fs::remove_all(boot);
  fs::remove_all(work / "fw");
  make_root(root, spec.x86_root, spec.debian);
  make_boot(boot, work, spec.debian);
  sh({"mkfs.ext4", "-q", "-F", "-d", root.string(), "-L", "rootfs", (work / "root.ext4").string(), "48M"});
  fs::remove(work / "boot.fat");
  sh({"mkfs.vfat", "-F", "32", "-n", "bootfs", "-C", (work / "boot.fat").string(), "65536"});
  std::vector<std::string> mcopy{"mcopy", "-s", "-i", (work / "boot.fat").string()};
  for (const auto& e : fs::directory_iterator(boot)) mcopy.push_back(e.path().string());
  mcopy.push_back("::/");
  sh(mcopy);
  fs::remove(out);
  sh({"truncate", "-s", std::to_string((1 + 64 + 48) << 20), out.string()});
  sh({"sfdisk", "--quiet", out.string()},
     std::string("label: dos\nstart=2048, size=131072, type=") + (spec.fat ? "c" : "83") + "\nstart=133120, type=83\n");
  if (spec.fat_content) {
    sh({"dd", "if=" + (work / "boot.fat").string(), "of=" + out.string(), "bs=1M", "seek=1", "conv=notrunc", "status=none"});
  }
  sh({"dd", "if=" + (work / "root.ext4").string(), "of=" + out.string(), "bs=1M", "seek=65", "conv=notrunc", "status=none"});
}

// Loop devices whose backing file, and mounts whose mount point, contain any of `needles` (both
// must be none after any import, good or bad).
inline std::string leftovers(const std::vector<std::string>& needles) {
  std::string out;
  const auto loops = testing::run({"losetup", "--list", "--noheadings", "--output", "NAME,BACK-FILE"}).out;
  const std::string mounts = testing::read_file("/proc/self/mounts");
  for (const auto& text : {loops, mounts}) {
    std::size_t start = 0;
    while (start < text.size()) {
      const auto end = text.find('\n', start);
      const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
      for (const auto& n : needles) {
        if (line.find(n) != std::string::npos) out += line + "\n";
      }
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return out;
}

}  // namespace picluster::image_test
