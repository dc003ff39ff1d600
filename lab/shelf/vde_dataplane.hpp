#pragma once
// The switch simulator's data plane in the lab: what the SNMP agent commits is made real.
//   - apply_port: the port's PVID becomes its untagged VLAN on vde_switch (port/setvlan) and its
//     tagged VLANs are added/removed with vlan/addport and vlan/delport. vde_switch carries one
//     untagged VLAN per port (the PVID); other VLANs listed as untagged are carried tagged.
//   - set_power: off = SIGKILL the QEMU process of the Pi on that port (a hard power cut); on =
//     cold-start it with the kernel command line picluster renders for the Pi that the lab
//     inventory has on that port (none there: nothing to boot, nothing started). The trunk port
//     is the fileserver's, which has its own power: ignored.
//   - learned: vde_switch's MAC table (cached for half a second).
// Options (--dataplane-option): lab=DIR (the lab folder; required).

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "lab/shelf/lab.hpp"
#include "lab/shelf/vde_switch.hpp"
#include "lab/switchsim/dataplane.hpp"

namespace picluster::lab {

class VdeDataPlane : public switchsim::DataPlane {
 public:
  static Result<std::unique_ptr<switchsim::DataPlane>> make(const switchsim::DataPlaneOptions& options);

  Result<void> apply_port(int front_port, int pvid, std::vector<int> untagged, std::vector<int> tagged) override;
  Result<void> set_power(int front_port, bool on) override;
  std::vector<switchsim::FdbEntry> learned() override;

 private:
  VdeDataPlane(LabPaths paths, LabState state, VdeSwitch sw)
      : m_paths(std::move(paths)), m_state(std::move(state)), m_switch(std::move(sw)) {}
  Result<void> program_port(int port, int pvid, const std::vector<int>& tagged);
  Result<void> power_on(int port);

  LabPaths m_paths;
  LabState m_state;
  VdeSwitch m_switch;
  std::vector<switchsim::FdbEntry> m_fdb_cache;
  std::chrono::steady_clock::time_point m_fdb_time{};
};

// Registers "vde" in the simulator's registry.
void register_vde_dataplane(switchsim::DataPlaneRegistry& registry);

}  // namespace picluster::lab
