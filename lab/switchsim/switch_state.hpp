#pragma once
// SwitchState: everything a SET can change on the simulated switch, in front-panel port numbers.
// Bridge port, ifIndex and PoE numbering are applied only when rendering to or parsing from OIDs
// (mib_render.cpp, set_transaction.cpp), so the model never mixes numbering schemes.
//
// Q-BRIDGE mode keeps VLAN membership in the VLAN rows (egress/untagged per VLAN) plus a PVID per
// port. Cisco mode keeps it per port (access VLAN, or trunk native VLAN + enabled VLANs), as IOS
// does; membership() turns either into the same per-port view for the data plane.

#include <bitset>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/error.hpp"

namespace picluster::switchsim {

enum class Mode { qbridge, cisco };

// RFC 2579 RowStatus values a row can be in (the create/destroy values are only ever written).
enum class RowStatus { active = 1, not_in_service = 2, not_ready = 3 };

struct Vlan {
  std::string name;
  std::set<int> egress;     // front ports; untagged is a subset
  std::set<int> untagged;   // front ports
  std::set<int> forbidden;  // front ports; disjoint from egress
  RowStatus status = RowStatus::active;
  bool operator==(const Vlan&) const = default;
};

using VlanBits = std::bitset<4096>;

struct PortState {
  int pvid = 1;              // dot1qPvid (Q-BRIDGE mode)
  bool poe_enabled = true;   // pethPsePortAdminEnable
  int cisco_poe_mode = 1;    // cpeExtPsePortEnable when enabled: auto(1), static(2), limit(3)
  int dynamic_state = 2;     // vlanTrunkPortDynamicState: on(1) off(2) desirable(3) auto(4)
                             // onNoNegotiate(5); the peer never negotiates, so on/onNoNegotiate
                             // trunk and the rest stay access ports
  int access_vlan = 1;       // vmVlan
  int native_vlan = 1;       // vlanTrunkPortNativeVlan
  VlanBits trunk_vlans;      // vlanTrunkPortVlansEnabled(2k/3k/4k), VLANs 0..4095
  bool operator==(const PortState&) const = default;

  [[nodiscard]] bool trunking() const { return dynamic_state == 1 || dynamic_state == 5; }
};

// One row of Cisco's VTP edit buffer (vtpVlanEditTable).
struct VtpEditRow {
  std::string name;
  int state = 1;  // operational(1), suspended(2)
  int type = 1;   // ethernet(1)
  RowStatus status = RowStatus::active;
  bool operator==(const VtpEditRow&) const = default;
};

struct SwitchState {
  int port_count = 0;
  std::map<int, Vlan> vlans;
  std::vector<PortState> ports;  // index = front port - 1
  std::uint32_t vlan_deletes = 0;  // dot1qVlanNumDeletes

  // Cisco VTP edit buffer: present between vtpVlanEditOperation copy(2) and release(4). Not
  // persisted: a restart drops it, as a reload does on IOS.
  std::optional<std::map<int, VtpEditRow>> vtp_edit;
  std::string vtp_edit_owner;
  int vtp_apply_status = 2;  // vtpVlanApplyStatus: inProgress(1), succeeded(2)

  bool operator==(const SwitchState&) const = default;

  // VLAN 1 "default" with every port untagged, PVID 1 everywhere, PoE on, Cisco ports in access
  // mode on VLAN 1 with every VLAN enabled for trunking.
  static SwitchState make_default(int port_count);

  [[nodiscard]] PortState& port(int front) { return ports.at(static_cast<std::size_t>(front - 1)); }
  [[nodiscard]] const PortState& port(int front) const {
    return ports.at(static_cast<std::size_t>(front - 1));
  }
};

// The forwarding view of one port: what the data plane must do with it.
struct PortMembership {
  int pvid = 1;
  std::vector<int> untagged;  // VLAN ids, ascending
  std::vector<int> tagged;    // VLAN ids, ascending
  bool operator==(const PortMembership&) const = default;
};

// Derives the port's forwarding view; only active VLAN rows count.
PortMembership membership(const SwitchState& state, int front, Mode mode);

// JSON form of the persistent part (the VTP edit buffer is left out).
nlohmann::json to_json(const SwitchState& state);
Result<SwitchState> state_from_json(const nlohmann::json& json, int port_count);

// Loads the state file; a missing file yields the defaults (the caller saves them).
Result<SwitchState> load_state(const std::filesystem::path& path, int port_count);
// Writes the state atomically: a temporary file in the same folder, fsync, rename.
Result<void> save_state(const std::filesystem::path& path, const SwitchState& state);

// "1-4,7" <-> {1,2,3,4,7}: compact VLAN lists for the state file.
std::string format_ranges(const VlanBits& bits);
Result<VlanBits> parse_ranges(const std::string& text);

}  // namespace picluster::switchsim
