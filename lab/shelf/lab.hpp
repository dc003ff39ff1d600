#pragma once
// The virtual shelf: one folder holds everything a running lab is made of.
//
//   DIR/lab.json            state: ports, image folder, and the PID of every process started
//   DIR/inventory.json      the lab's own inventory (switch = simulator on 127.0.0.1:<udp port>,
//                           fileserver = the VM over SSH on 127.0.0.1:<tcp port>)
//   DIR/snmp-secrets.json   the community (0600), shared by the simulator and switchctl
//   DIR/known_hosts, DIR/keys/id_ed25519   the fileserver's pinned host key, the lab's client key
//   DIR/vde/                vde_switch: ctl folder, management socket, pidfile
//   DIR/switch/             the simulator: state, knobs, pidfile, log
//   DIR/fs/                 fileserver VM: qcow2 overlay on the cached image, sockets, logs
//   DIR/pi/NN/              the Pi VM on switch port NN (started and killed by the data plane)
//
// `lab up` starts vde_switch, the fileserver VM (waits for its SSH banner) and the simulator with
// the "vde" data plane; `lab down` stops them by recorded PID: the simulator first (so no PoE-on
// SET, say from a running `picluster watch`, can start a Pi again), then the Pis, the fileserver
// and vde_switch. Nothing outside DIR, loopback and the VMs is touched.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "lab/shelf/qemu.hpp"
#include "lab/shelf/vde_switch.hpp"

namespace picluster::lab {

inline constexpr int kLabPorts = 24;
inline constexpr int kTrunkPort = 24;

struct LabPaths {
  std::filesystem::path dir;
  [[nodiscard]] std::filesystem::path state() const { return dir / "lab.json"; }
  [[nodiscard]] std::filesystem::path inventory() const { return dir / "inventory.json"; }
  [[nodiscard]] std::filesystem::path secrets() const { return dir / "snmp-secrets.json"; }
  [[nodiscard]] std::filesystem::path known_hosts() const { return dir / "known_hosts"; }
  [[nodiscard]] std::filesystem::path client_key() const { return dir / "keys/id_ed25519"; }
  [[nodiscard]] VdeSwitchPaths vde() const { return {dir / "vde/ctl", dir / "vde/mgmt", dir / "vde/pid"}; }
  [[nodiscard]] std::filesystem::path switch_dir() const { return dir / "switch"; }
  [[nodiscard]] VmFiles fileserver() const { return {dir / "fs"}; }
  [[nodiscard]] VmFiles pi(int port) const;
  // netboot labs: the boot stage initramfs and the firmware files staged in TFTP folders.
  [[nodiscard]] std::filesystem::path boot_stage() const { return dir / "netboot/bootstage.cpio.gz"; }
  [[nodiscard]] std::filesystem::path firmware() const { return dir / "netboot/firmware"; }
  [[nodiscard]] std::filesystem::path netboot_initrd() const { return dir / "netboot/initrd.img"; }
};

// The MAC of the virtual Pi plugged into `port` (Raspberry Pi Foundation OUI b8:27:eb, so
// `picluster discover` lists it): b8:27:eb:1a:b0:NN.
std::string lab_pi_mac(int port);

struct LabState {
  int pis = 0;                   // Pi ports: 1..pis
  int ssh_port = 0;              // 127.0.0.1:ssh_port -> fileserver:22
  int snmp_port = 0;             // simulator on udp:127.0.0.1:snmp_port
  std::string images;            // cache entry folder (kernel, initrd, disk)
  double fileserver_boot_seconds = 0;
  bool netboot = false;          // lab up --netboot: Pis boot through the boot stage (netboot.hpp)
  PiArch arch = PiArch::x86_64;  // lab up --arch: what the Pi VMs are (arm64.hpp)
  std::string arm64_images;      // arm64: its cache entry folder (kernel, initrd, /srv disk)
};

Result<LabState> load_state(const LabPaths& paths);

struct UpOptions {
  std::filesystem::path dir;
  std::filesystem::path cache;
  int pis = 2;
  bool netboot = false;  // a shelf with boot.mode "netboot" whose Pis boot like a Pi 4 (netboot.hpp)
  PiArch arch = PiArch::x86_64;  // arm64: Pis are aarch64 VMs on a picluster arm64 image (arm64.hpp)
  std::filesystem::path switch_binary;  // picluster-lab-switch
  std::chrono::seconds ssh_timeout{600};
  std::function<void(const std::string&)> progress = [](const std::string&) {};
};

// The options lab_up refuses before starting anything (--pis out of range, --netboot with --arch
// arm64); `lab up --dry-run` checks them too.
Result<void> check_up_options(const UpOptions& options);

// Builds or reuses the images, writes the lab's inventory, starts vde_switch, the fileserver VM
// and the simulator. Fails with `conflict` if a lab is already running in that folder. On
// failure, whatever was started is stopped again.
Result<LabState> lab_up(const UpOptions& options);

// Stops everything recorded in the folder (simulator, Pis, fileserver, vde_switch, in that order),
// by PID.
// Succeeds when nothing is running. The folder itself (disks, logs, inventory) is kept.
Result<void> lab_down(const std::filesystem::path& dir);

struct ProcessStatus {
  std::string name;   // "vde_switch", "switch", "fileserver", "pi01"... (port-based for Pis: "port01")
  int pid = 0;        // 0 when not running
  bool running = false;
};

struct LabStatus {
  LabState state;
  std::vector<ProcessStatus> processes;
};

Result<LabStatus> lab_status(const std::filesystem::path& dir);

// The serial-console socket and log of a VM: "fileserver", a Pi name from the lab inventory, or
// "portNN".
Result<VmFiles> vm_files_for(const std::filesystem::path& dir, const std::string& name);

// Attaches the terminal to a VM's serial console until EOF on stdin or Ctrl-] .
Result<void> attach_console(const VmFiles& vm);

// Waits until 127.0.0.1:port sends an SSH banner. Bounded by `timeout`.
Result<void> wait_for_ssh_banner(int port, std::chrono::seconds timeout);

}  // namespace picluster::lab
