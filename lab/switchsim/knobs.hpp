#pragma once
// Knobs: the simulated switch's physical world and vendor habits, read from a JSON file.
// They are configuration, not state: nothing here is written back. docs/switchsim.md lists every
// key; unknown keys are refused so a typo never silently does nothing.

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/error.hpp"
#include "lab/switchsim/snmp_types.hpp"

namespace picluster::switchsim {

using Mac = std::array<std::uint8_t, 6>;

Result<Mac> parse_mac(std::string_view text);
std::string to_string(const Mac& mac);

// How pethPsePortTable's second index (pethPsePortIndex) is numbered; vendors differ.
enum class PoeIndex { front, bridge, ifindex };

// What is plugged into one front-panel port.
struct PortKnobs {
  std::optional<Mac> mac;       // the MAC the switch learns on this port (on the port's PVID)
  bool device = false;          // a PoE powered device (a Pi) is attached
  bool external_power = false;  // the device powers itself (fileserver): link up, no PoE draw
  int power_mw = 4500;          // drawn while the port delivers power, in milliwatts
  int power_class = 0;          // IEEE 802.3af class 0..4
  // -1: the MAC is learned always (powered or not). N >= 0: only once PoE has been on for N ms
  // (a Pi that boots and sends its first frame), and forgotten when PoE goes off.
  int mac_after_poe_ms = -1;
};

// Fail every SET that touches an OID under `prefix` with `status` (commitFailed/undoFailed are
// raised in the commit phase, everything else while validating).
struct FailRule {
  Oid prefix;
  SnmpStatus status = SnmpStatus::gen_err;
};

// A VLAN the switch already has when its state file is created (someone else's network).
struct InitialVlan {
  int id = 0;
  std::string name;
  std::vector<int> untagged;  // front ports: untagged members with this PVID (cisco: access VLAN)
  std::vector<int> tagged;    // front ports: tagged members (qbridge only)
};

struct Knobs {
  double drop_fraction = 0.0;   // requests answered with silence, 0..1
  double delay_fraction = 0.0;  // requests answered late, 0..1
  int delay_ms = 0;             // how late, in milliseconds
  std::optional<std::uint32_t> seed;  // for the drop/delay dice; random when absent
  std::vector<FailRule> fail_set;
  bool strict_pvid = false;     // PVID change needs prior untagged membership (inconsistentValue)
  int bridge_port_offset = 0;   // bridge port = front port + offset
  int ifindex_offset = 0;       // ifIndex = front port + offset
  PoeIndex poe_index = PoeIndex::front;
  std::string ifname_prefix = "gi";                // ifName = prefix + front port
  std::string ifdescr_prefix = "gigabitethernet";  // ifDescr = prefix + front port
  std::string sys_name = "switchsim";
  int pse_power_w = 370;        // pethMainPsePower, watts
  bool poe_mib = true;          // false: no POWER-ETHERNET-MIB at all (a switch without PoE)
  PortKnobs all_ports;          // defaults for every port ("mac": "auto" makes a Pi MAC per port)
  bool auto_mac = false;
  std::map<int, PortKnobs> ports;  // per front port overrides
  // Vendor habits picluster must cope with (issue 12).
  std::vector<InitialVlan> initial_vlans;  // VLANs a fresh state starts with, besides VLAN 1
  bool portlist_comma = false;   // "portlist_form": "comma": PortLists as "3,4,24" (Juniper EX)
  std::string portlist_stray;    // "portlist_stray_octets": hex octets served after every PortList
  bool bridge_port_table = true; // false: no dot1dBasePortTable (Cisco IOS outside community@VLAN)
  bool fdb_tables = true;        // false: neither dot1dTpFdbTable nor dot1qTpFdbTable is implemented
  bool bridge_tables_per_vlan = false;  // Cisco IOS: dot1dBasePortTable and dot1dTpFdbTable only in
                                        // VLAN N's context (community COMMUNITY@N, v3 context vlan-N)
  bool lldp_local_ports = false; // true: LLDP-MIB lldpLocPortTable, lldpLocPortNum = front port
  bool ifname_from_zero = false; // ifName = prefix + 2-digit (F - 1): "swp00" is port 1
  int stack_module_ports = -1;   // >= 0: stacked names prefix + "1/0/F", that many module ports
                                 // "te1/0/k" and the ports of an absent unit 2 ("gi2/0/F")
  bool entity_mib = false;       // true: ENTITY-MIB entPhysicalTable + entAliasMappingTable for
                                 // the ports (a stack of 2 with an uplink module under stack_module_ports)
  bool ifname_generic = false;   // true: every front port's ifName is "Ethernet Interface" (no number)

  // The facts for one front port: the per-port entry, else all_ports (with its auto MAC).
  [[nodiscard]] PortKnobs port(int front) const;
  [[nodiscard]] int bridge_port(int front) const { return front + bridge_port_offset; }
  [[nodiscard]] int if_index(int front) const { return front + ifindex_offset; }
  [[nodiscard]] int poe_port(int front) const;
};

// Parses the knobs object; errors name the key ("ports.3.mac: ...").
Result<Knobs> parse_knobs(const nlohmann::json& json);
Result<Knobs> load_knobs(const std::filesystem::path& path);
// Checks what depends on the port count (per-port keys within 1..port_count, offsets >= 0).
Result<void> validate_knobs(const Knobs& knobs, int port_count);

}  // namespace picluster::switchsim
