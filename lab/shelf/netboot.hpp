#pragma once
// The Pi boot protocol on the virtual shelf (`picluster lab up --netboot`).
//
// A netboot lab Pi has no `-kernel` of its own to boot picluster's cmdline with. On PoE on, its
// VM starts a small boot stage instead: the lab's Debian x86-64 kernel with a tiny busybox
// initramfs whose /init does what a Pi 4's EEPROM bootloader does on the network, over the Pi's
// own untagged storage VLAN through vde_switch, against the real dnsmasq on the fileserver VM:
//   1. DHCP DISCOVER with vendor class PXEClient:Arch:00000:UNDI:002001, option 93 (arch 0),
//      94 (UNDI 2.1) and 97 (client machine id: type 0, "RPi4", the board serial's 4 bytes, zero
//      padding to 16 bytes); the serial is the VM's SMBIOS system serial (qemu -smbios type=1).
//   2. Accept only a lease whose option 43 carries the PXE menu "Raspberry Pi Boot"; TFTP server
//      = option 66, else the server identifier (option 54), as the Pi 4 bootloader does.
//   3. TFTP <serial>/start4.elf, fixup4.dat, config.txt, cmdline.txt, then the kernel and
//      initramfs config.txt names (`kernel=`, `initramfs NAME followkernel`).
//   4. kexec -l KERNEL --initrd=INITRD --command-line="$(cat cmdline.txt)" && kexec -e.
// What it cannot be is the VideoCore firmware: start4.elf and fixup4.dat are fetched and checked
// to be there, never run. Any failure prints "picluster-bootstage:" on the console and starts over
// after a pause, as a Pi with BOOT_ORDER=0xf2 would.
//
// For the x86 lab, `lab up --netboot` makes image version lab@1 on the fileserver (kLabImage): the
// Pi template with an x86 boot set in boot/firmware (the lab kernel and a trimmed Debian initrd
// under the names the lab inventory's config.txt gives, kLabKernel and kLabInitrd, and the
// firmware files from Debian's raspi-firmware). The lab inventory's Pis follow that image, so
// picluster itself stages the boot set into each Pi's TFTP folder (<tftp_root>/vlan-<N>/<serial>/)
// once `add` has learned the serial, with its own cmdline.txt and config.txt.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace picluster::lab {

// The file names the lab's config.txt gives the kernel and the initramfs in the TFTP folder.
inline constexpr const char* kLabKernel = "vmlinuz";
inline constexpr const char* kLabInitrd = "initrd.img";
// The image `lab up --netboot` makes from the Pi template (version 1) and the lab inventory's
// Pis follow.
inline constexpr const char* kLabImage = "lab";

// The board serial of the virtual Pi on `port` (8 lower-case hex digits): 1ab0c0NN, NN the port
// in hex. The VM reports it as its SMBIOS system serial; it names the Pi's TFTP folder.
std::string lab_pi_serial(int port);

// Option 97 as the boot stage sends it (hex, 17 bytes): 00, "RPi4", the serial's 4 bytes, 8 zero
// bytes. dnsmasq echoes it back in its offer (log-dhcp shows "client-machine-id 00:52:50:69:34:..").
std::string pi4_client_machine_id_hex(const std::string& serial);

// The lab inventory's boot settings for netboot, per model (boot.models): an x86 console and
// interface names in cmdline.txt (so /proc/cmdline equals the file, byte for byte), and the
// kernel and initramfs names in config.txt.
std::string lab_netboot_cmdline_base();
std::vector<std::string> lab_netboot_config_txt();

// The boot stage's /init and its udhcpc event script (pure; the busybox applets they call are
// installed as links by /init). `modules` are the kernel modules to insmod, in order, from
// /lib/modules/ (the NIC's driver and what it needs).
std::string boot_stage_init(const std::vector<std::string>& modules);
std::string boot_stage_dhcp_script();

// The Debian packages the boot stage and the boot set come from: busybox-static and kexec-tools
// (with the Xen libraries kexec links), raspi-firmware (start4.elf, fixup4.dat).
std::vector<std::string> netboot_debs();

// Makes sure `debs_dir` holds one .deb of each of netboot_debs(), downloading the missing ones
// with apt-get from `mirror` (main and non-free-firmware, a private package list under
// debs_dir/apt: the host's own apt state is not touched). A raspi-firmware .deb already in
// `extra_dir` (the image tests' cache) is copied instead of downloaded.
Result<void> ensure_netboot_debs(const std::filesystem::path& debs_dir, const std::string& mirror,
                                 const std::filesystem::path& extra_dir);

// Builds the boot stage initramfs (gzip'd newc cpio) at `out` from the debs in `debs_dir` and the
// NIC modules found in `initrd` (the lab's Debian initrd, same kernel), and extracts the firmware
// files into `firmware_dir` (start4.elf, fixup4.dat). `work` is a scratch folder (emptied).
Result<void> build_boot_stage(const std::filesystem::path& debs_dir, const std::filesystem::path& initrd,
                              const std::filesystem::path& work, const std::filesystem::path& out,
                              const std::filesystem::path& firmware_dir);

// The lab's Debian initrd without what a netbooted lab Pi never loads (disk, GPU, USB drivers,
// file systems other than NFS, firmware), so its TFTP transfer takes seconds, not minutes: about
// 9 MB instead of 37 MB. Unpacked into `work` (emptied), repacked (gzip) at `out`.
Result<void> build_netboot_initrd(const std::filesystem::path& initrd, const std::filesystem::path& work,
                                  const std::filesystem::path& out);

// True for a module path (relative to lib/modules/<version>/kernel) the trimmed initrd keeps.
bool netboot_initrd_keeps(const std::string& rel);

// The firmware files staged in each TFTP folder.
std::vector<std::string> netboot_firmware_files();

}  // namespace picluster::lab
