#pragma once
// QEMU command lines for the lab's VMs, and the little that is done to a running VM.
//
// Every VM runs under TCG (`-accel tcg -cpu max`: the build machines' KVM hangs), daemonizes
// with a pidfile, has no display, logs its serial console to a file and also offers it on a UNIX
// socket (for `picluster lab console`), and has a human monitor socket (the tests `stop` a VM to
// freeze it). The builders are pure; launch() runs the argv and waits for the pidfile.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace picluster::lab {

// Where one VM keeps its files (all inside the lab folder).
struct VmFiles {
  std::filesystem::path dir;
  [[nodiscard]] std::filesystem::path pidfile() const { return dir / "qemu.pid"; }
  [[nodiscard]] std::filesystem::path monitor() const { return dir / "monitor.sock"; }
  [[nodiscard]] std::filesystem::path serial_socket() const { return dir / "serial.sock"; }
  [[nodiscard]] std::filesystem::path serial_log() const { return dir / "serial.log"; }
  [[nodiscard]] std::filesystem::path qemu_log() const { return dir / "qemu.log"; }
};

struct FileserverVm {
  VmFiles files;
  std::filesystem::path kernel;
  std::filesystem::path initrd;
  std::filesystem::path disk;     // qcow2 overlay in the lab folder (root, /dev/vda)
  std::filesystem::path srv_disk; // qcow2 overlay of the /srv disk (/dev/vdb); empty = none
  std::filesystem::path vde_ctl;  // vde_switch -s folder
  int trunk_port = 24;            // switch port of the trunk NIC
  int ssh_port = 0;               // host loopback port forwarded to the VM's port 22
  int memory_mb = 1024;
};

// What a Pi VM is: an x86-64 guest (the default lab), or an arm64 one (`lab up --arch arm64`):
// qemu-system-aarch64 -M virt -cpu cortex-a72 booting a picluster arm64 image's own kernel.
enum class PiArch { x86_64, arm64 };
std::string to_string(PiArch arch);                      // "x86_64", "arm64"
std::optional<PiArch> parse_pi_arch(std::string_view text);  // the same names; "amd64", "aarch64" too

struct PiVm {
  VmFiles files;
  std::string name;               // for messages
  std::filesystem::path kernel;
  std::filesystem::path initrd;
  std::string cmdline;            // the full kernel command line (see pi_cmdline)
  std::string mac;                // "b8:27:eb:.."
  std::filesystem::path vde_ctl;
  int port = 0;                   // switch access port
  int memory_mb = 512;
  std::string serial;             // board serial as the SMBIOS system serial; empty = none
  PiArch arch = PiArch::x86_64;
};

// argv for the fileserver: management NIC first (eth0, user networking restricted to the
// forwarded SSH port: the guest cannot reach anything else), trunk NIC second (eth1).
std::vector<std::string> fileserver_argv(const FileserverVm& vm);

// argv for a Pi: one NIC on its access port with the inventory's MAC, kernel + initrd + cmdline
// instead of the SD card's boot partition, no disk.
std::vector<std::string> pi_argv(const PiVm& vm);

// picluster's rendered cmdline.txt plus what the guest needs: the serial console (last, so it
// becomes /dev/console: ttyS0 on x86, the virt board's PL011 ttyAMA0 on arm64, as on a Pi) and
// classic interface names (the cmdline's ip= names eth0).
std::string pi_cmdline(const std::string& rendered_cmdline, PiArch arch = PiArch::x86_64);

// Makes `overlay` a qcow2 copy-on-write overlay on the raw image `backing`. An existing overlay
// is kept when its backing file is `backing`, and replaced by an empty one when it is not (a
// changed image recipe, hence a new cache entry: writes made on top of the old image are
// meaningless on the new one). Returns true when it (re)created the overlay. Runs qemu-img.
Result<bool> ensure_overlay(const std::filesystem::path& overlay, const std::filesystem::path& backing);

// Runs argv (which must daemonize with -pidfile) and returns the VM's PID.
Result<int> launch(const std::vector<std::string>& argv, const VmFiles& files);

// Sends one human-monitor command ("stop", "cont", "system_reset") and returns its output.
Result<std::string> monitor_command(const std::filesystem::path& monitor_socket, const std::string& command);

// The recorded PID of a running VM, if its pidfile names a live qemu-system-x86_64 or
// qemu-system-aarch64.
std::optional<int> running_pid(const VmFiles& files);

// Hard power cut: SIGKILL to the recorded QEMU process; the pidfile is removed.
Result<void> kill_vm(const VmFiles& files);

inline constexpr const char* kQemuBinary = "qemu-system-x86_64";
inline constexpr const char* kQemuArm64Binary = "qemu-system-aarch64";

// True when `pid` is one of the lab's QEMU binaries.
bool is_qemu_process(int pid);

}  // namespace picluster::lab
