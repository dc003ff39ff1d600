#include "lab/shelf/vde_dataplane.hpp"

#include <algorithm>
#include <iostream>

#include "bootcfg/bootcfg.hpp"
#include "inventory/inventory.hpp"
#include "lab/shelf/arm64.hpp"
#include "lab/shelf/images.hpp"
#include "lab/shelf/netboot.hpp"
#include "lab/shelf/qemu.hpp"

namespace picluster::lab {
namespace fs = std::filesystem;

Result<std::unique_ptr<switchsim::DataPlane>> VdeDataPlane::make(const switchsim::DataPlaneOptions& options) {
  const auto it = options.options.find("lab");
  if (it == options.options.end() || options.options.size() != 1) {
    return fail(ErrorCode::invalid_argument, "needs exactly --dataplane-option lab=DIR");
  }
  LabPaths paths{fs::absolute(it->second)};
  auto state = load_state(paths);
  if (!state) return std::unexpected(state.error());
  auto sw = VdeSwitch::attach(paths.vde());
  if (!sw) return std::unexpected(sw.error());
  return std::unique_ptr<switchsim::DataPlane>(new VdeDataPlane(std::move(paths), std::move(*state), std::move(*sw)));
}

Result<void> VdeDataPlane::program_port(int port, int pvid, const std::vector<int>& tagged) {
  auto all = m_switch.vlans();
  if (!all) return std::unexpected(all.error());
  // Untagged/PVID first, then add the tagged VLANs the port lacks, then drop the ones it keeps
  // but should not: the port is never left without the VLANs it is meant to keep.
  if (pvid > 0) {
    if (auto r = m_switch.create_vlan(pvid); !r) return r;
    if (auto r = m_switch.set_untagged(port, pvid); !r) return r;
  }
  for (const int vlan : tagged) {
    if (vlan == pvid) continue;
    if (auto r = m_switch.create_vlan(vlan); !r) return r;
    if (auto r = m_switch.add_tagged(vlan, port); !r) return r;
  }
  for (const auto& v : *all) {
    const bool keep = std::find(tagged.begin(), tagged.end(), v.vlan) != tagged.end() && v.vlan != pvid;
    for (const auto& m : v.members) {
      if (m.port != port || !m.tagged || keep) continue;
      if (auto r = m_switch.remove_tagged(v.vlan, port); !r) return r;
    }
  }
  return {};
}

Result<void> VdeDataPlane::apply_port(int front_port, int pvid, std::vector<int> untagged, std::vector<int> tagged) {
  // vde_switch has one untagged VLAN per port: extra untagged VLANs travel tagged.
  for (const int vlan : untagged) {
    if (vlan != pvid) tagged.push_back(vlan);
  }
  std::sort(tagged.begin(), tagged.end());
  tagged.erase(std::unique(tagged.begin(), tagged.end()), tagged.end());
  // Remember how the port was, so a failure can put it back.
  auto before = m_switch.vlans();
  if (!before) return std::unexpected(before.error().with_context("vde_switch"));
  int old_pvid = 0;
  std::vector<int> old_tagged;
  for (const auto& v : *before) {
    for (const auto& m : v.members) {
      if (m.port != front_port) continue;
      if (m.tagged) old_tagged.push_back(v.vlan);
      else old_pvid = v.vlan;
    }
  }
  auto r = program_port(front_port, pvid, tagged);
  if (!r) {
    (void)program_port(front_port, old_pvid, old_tagged);
    return std::unexpected(r.error().with_context("vde_switch port " + std::to_string(front_port)));
  }
  return {};
}

Result<void> VdeDataPlane::power_on(int port) {
  const VmFiles files = m_paths.pi(port);
  if (running_pid(files)) return {};  // already powered
  auto inv = inventory::load(m_paths.inventory());
  if (!inv) return std::unexpected(inv.error());
  const inventory::Shelf* shelf = inv->shelves.empty() ? nullptr : &inv->shelves.front();
  const inventory::Pi* pi = shelf != nullptr ? shelf->pi_on_port(port) : nullptr;
  if (pi == nullptr) {
    std::cerr << "lab: port " << port << " powered, but no Pi in the inventory there: nothing to boot\n";
    return {};
  }
  const Images images = images_at_dir(m_state.images);
  PiVm vm{files, pi->name, images.kernel, images.initrd, pi_cmdline(bootcfg::render_cmdline(*shelf, *pi)),
          pi->mac ? pi->mac->str() : lab_pi_mac(port), m_paths.vde().ctl_dir, port, 512, {}};
  if (m_state.arch == PiArch::arm64) {
    // The arm64 image's own kernel and initramfs, as its boot set gives them to a real Pi.
    const Arm64Images arm64 = arm64_images_at_dir(m_state.arm64_images);
    vm.arch = PiArch::arm64;
    vm.kernel = arm64.kernel;
    vm.initrd = arm64.initrd;
    vm.cmdline = pi_cmdline(bootcfg::render_cmdline(*shelf, *pi), PiArch::arm64);
  }
  if (m_state.netboot) {
    // No kernel of its own: the boot stage fetches it over TFTP, as a Pi 4's bootloader does, and
    // the board serial it asks with is the VM's own (the hardware's, not the inventory's).
    vm.initrd = m_paths.boot_stage();
    vm.cmdline = "console=ttyS0,115200 quiet";
    vm.serial = lab_pi_serial(port);
  }
  auto pid = launch(pi_argv(vm), files);
  if (!pid) return std::unexpected(pid.error().with_context(pi->name + ": power on"));
  std::cerr << "lab: " << pi->name << " (port " << port << ") powered on, qemu pid " << *pid << "\n";
  return {};
}

Result<void> VdeDataPlane::set_power(int front_port, bool on) {
  if (front_port == kTrunkPort || front_port > m_state.pis) return {};  // not a lab Pi's port
  if (on) return power_on(front_port);
  if (auto r = kill_vm(m_paths.pi(front_port)); !r) return r;
  return {};
}

std::vector<switchsim::FdbEntry> VdeDataPlane::learned() {
  const auto now = std::chrono::steady_clock::now();
  if (now - m_fdb_time < std::chrono::milliseconds(500)) return m_fdb_cache;
  auto fdb = m_switch.fdb();
  if (!fdb) {
    // The management connection may have dropped; one reconnect, else keep the last table.
    if (auto sw = VdeSwitch::attach(m_paths.vde()); sw) {
      m_switch = std::move(*sw);
      fdb = m_switch.fdb();
    }
  }
  if (fdb) {
    m_fdb_cache.clear();
    for (const auto& e : *fdb) {
      auto mac = switchsim::parse_mac(e.mac);
      if (mac && e.port >= 1) m_fdb_cache.push_back({e.port, e.vlan, *mac});
    }
  }
  m_fdb_time = now;
  return m_fdb_cache;
}

void register_vde_dataplane(switchsim::DataPlaneRegistry& registry) {
  registry.add("vde", &VdeDataPlane::make);
}

}  // namespace picluster::lab
