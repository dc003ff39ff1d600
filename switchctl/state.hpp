#pragma once
// Data the switch operations work on: the port map, what was read from a switch (actual state),
// what the inventory wants (desired state) and the plan that turns one into the other. All plain
// values: planners are pure functions over them and are unit-tested without a switch.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "switchctl/portlist.hpp"
#include "switchctl/snmp.hpp"

namespace picluster::switchctl {

// One front-panel port and the numbers the switch's tables use for it.
struct PortEntry {
  int port = 0;         // front-panel number, as in the inventory
  int bridge_port = 0;  // dot1dBasePort: Q-BRIDGE PortList bit and dot1qPvid index
  int if_index = 0;     // IF-MIB ifIndex: Cisco tables, ifName
  std::string if_name;
  int poe_group = 0;    // pethPsePortGroupIndex; 0 when the port has no PoE row
  int poe_port = 0;     // pethPsePortIndex
  std::string numbering;  // how `port` was derived, for `switch show` ("ifName 'gi5'")
  [[nodiscard]] bool has_poe() const { return poe_group != 0; }
};

struct PortMap {
  std::vector<PortEntry> ports;  // sorted by front-panel port
  std::string poe_indexing;      // "ifIndex", "bridge port", "front-panel port", "" = no PoE
  std::set<int> bridge_ports;    // every bridge port dot1dBasePortIfIndex lists (LAGs included)
  std::vector<std::string> notes;  // how ports were numbered, which tables were missing
  std::vector<PortEntry> left_out; // interfaces kept out of the numbering (other stack units, module ports)
  // False when the default context serves no dot1dBasePortIfIndex (ports mapped by ifIndex).
  bool bridge_port_table = true;
  // Cisco IOS (see vlan_bridge.hpp): the BRIDGE-MIB read per VLAN context (community@VLAN).
  // per_vlan_tried: it was tried; per_vlan_asked: the VLANs asked; vlan_bridge_ports: each
  // answering VLAN's dot1dBasePortIfIndex (bridge port -> ifIndex); per_vlan_said: what each VLAN
  // that did not answer said; per_vlan_stopped: no more are asked (one timed out, or the session
  // cannot address contexts).
  bool per_vlan_tried = false;
  std::set<int> per_vlan_asked;
  std::map<int, std::map<int, int>> vlan_bridge_ports;
  std::vector<std::string> per_vlan_said;
  bool per_vlan_stopped = false;
  [[nodiscard]] const PortEntry* by_port(int port) const;
  [[nodiscard]] const PortEntry* by_bridge_port(int bridge_port) const;
  [[nodiscard]] const PortEntry* by_if_index(int if_index) const;
};

// One row of LLDP-MIB's lldpLocPortTable: the switch's own view of a front-panel port.
struct LldpLocalPort {
  int subtype = 0;   // lldpLocPortIdSubtype: 5 interfaceName, 7 local, 3 macAddress, ...
  std::string id;    // lldpLocPortId
  std::string desc;  // lldpLocPortDesc
};

// One row of ENTITY-MIB's entPhysicalTable (RFC 6933), the columns numbering needs.
struct EntityRow {
  int klass = 0;          // entPhysicalClass: chassis(3), container(5), module(9), port(10), stack(11)
  int contained_in = 0;   // entPhysicalContainedIn (0: nothing)
  int rel_pos = -1;       // entPhysicalParentRelPos (-1: unknown)
  std::string name;       // entPhysicalName
};

// The raw tables build_port_map reads: index -> value.
struct PortMapTables {
  std::map<int, LldpLocalPort> lldp_ports;  // lldpLocPortNum -> row (may be empty)
  std::map<int, int> base_port_if_index;  // dot1dBasePortIfIndex: bridge port -> ifIndex
  std::map<int, std::string> if_name;     // ifName
  std::map<int, int> if_type;             // ifType (may be empty)
  std::vector<std::pair<int, int>> poe_rows;  // pethPsePortTable indexes (group, port)
  int stack_member = 1;                       // switch.stack_member: the stack unit of the shelf
  std::map<int, EntityRow> entities;          // entPhysicalTable: entPhysicalIndex -> row (may be empty)
  std::map<int, int> entity_if_index;         // entAliasMappingIdentifier: entPhysicalIndex -> ifIndex
  std::vector<std::string> entity_notes;      // what made ENTITY-MIB unreadable (bad values), if anything
  std::string numbering = "auto";             // switch.numbering: auto, lldp, entity or names
};

// switch.stack_member (kept in the switch object's extra fields), default 1.
int stack_member(const inventory::Switch& sw);

// The port map overrides of a shelf: switch.port_map, plus the fileserver's trunk port when the
// inventory names it by interface (`"trunk_port": "te1/0/1"`, numbered switch.port_count + 1).
// An override naming an interface carries the inventory field it came from in extra["field"], for
// the error when the switch has no such interface.
std::map<int, inventory::PortMapOverride> port_overrides(const inventory::Shelf& shelf);

// "" or " (NOTE; NOTE)": the map's notes, to end an error about a port the map lacks.
std::string map_notes(const PortMap& map);

// The trailing number of an interface name: "gi5" -> 5, "1/0/5" -> 5, "Port 5" -> 5, "5" -> 5.
std::optional<int> trailing_number(std::string_view name);

// Numbering follows the switch's own view first (switch.numbering "auto"): ENTITY-MIB where it is
// served and consistent (entPhysicalParentRelPos of the ports on the shelf's stack member, see
// switchctl/entity.hpp), and LLDP-MIB's local port table as below; when both number, they must
// agree (a contradiction is ErrorCode::conflict naming both; switch.numbering "entity", "lldp" or
// "names" forces one source). When the switch serves LLDP-MIB's local port table and its rows name interfaces by ifName
// (lldpLocPortId or lldpLocPortDesc equal to the ifName), lldpLocPortNum is the front-panel
// number of those interfaces, if the numbers are distinct and start at 1 (on some switches they
// are ifIndexes, 49..: then they are ignored, with a note); the interfaces it does not name are
// left out. Otherwise front-panel numbers come from ifName's trailing number (bridge port number when ifName is
// missing). Stacked names (gi<unit>/0/<n>) count only for tables.stack_member; the ports of other
// units are left out (map.left_out). Of several name families (gi, te, A), the one with the most
// ports is numbered and the others' ports whose number it already uses are left out (module and
// uplink ports), addressable by name with `{"if_name": "te1/0/1"}` in switch.port_map. A family
// whose names start at 0 (swp00 = front-panel port 1) is shifted by one. Each entry says how its
// number was derived (PortEntry::numbering); interfaces whose ifType is not Ethernet-like (LAGs, VLAN interfaces, CPU) are left
// out when ifType is known. Inventory overrides come first: one naming a bridge port (or else an
// ifIndex) the switch lists gives that interface its front-panel port, and whatever else would
// have been numbered so is left out. Of two interfaces with the same number, the one whose
// ifName is exactly the number wins ("3" over a module port "A3", which is left out); any other
// clash fails, naming both. PoE rows are matched by ifIndex, bridge port or front-panel number,
// whichever explains most rows. Then overrides win field by field; an override for a port the
// switch does not list creates it.
Result<PortMap> build_port_map(const PortMapTables& tables,
                               const std::map<int, inventory::PortMapOverride>& overrides);

enum class PoeDetection { unknown, disabled, searching, delivering_power, fault, test, other_fault };
std::string_view to_string(PoeDetection d);  // RFC 3621 names: "deliveringPower"

struct PoeState {
  std::optional<bool> admin_on;
  PoeDetection detection = PoeDetection::unknown;
  std::optional<long> power_mw;  // where the switch reports it
};

// A Q-BRIDGE VLAN, port lists in bridge-port numbering. raw_* keep the octets as read so that
// rewriting a list keeps its length.
struct VlanRow {
  int vlan = 0;
  std::string name;
  bool exists = true;            // false: only planned (created by the plan)
  bool has_lists = false;        // egress/untagged were read (static or current table)
  PortSet egress;
  PortSet untagged;
  std::size_t list_octets = 0;   // length of the lists as read
  std::string undecoded;         // why the lists may not be written ("" = decoded, writable)
};

// Cisco per-interface state (index ifIndex).
struct CiscoPort {
  std::optional<int> access_vlan;    // vmVlan
  std::optional<int> native_vlan;    // vlanTrunkPortNativeVlan
  std::optional<int> dynamic_state;  // vlanTrunkPortDynamicState: 1 on, 2 off, 3 desirable, ...
  PortSet enabled;                   // union of the vlanTrunkPortVlansEnabled* columns
  bool has_trunk_row = false;
  [[nodiscard]] bool trunking() const { return dynamic_state == 1 || dynamic_state == 5; }
};

struct LearnedMac {
  inventory::Mac mac;
  int port = 0;         // front-panel port, 0 when the bridge port is not in the map
  int bridge_port = 0;
  std::set<int> vlans;  // filtering databases (dot1qTpFdbTable: FDB id, usually the VLAN) it was seen in
};

// What one read of the switch found.
struct SwitchState {
  PortMap map;
  std::map<int, VlanRow> vlans;        // Q-BRIDGE (for Cisco: name and existence only)
  std::map<int, int> pvid;             // bridge port -> dot1qPvid
  std::map<int, CiscoPort> cisco;      // ifIndex -> Cisco state
  std::map<int, PoeState> poe;         // front-panel port -> PoE
  std::vector<LearnedMac> macs;        // only when read with discovery
  PortListForm portlist_form = PortListForm::bitmap;  // Q-BRIDGE: how the switch encodes PortLists
};

// Per-port view derived from either profile's tables.
struct PortView {
  std::optional<int> pvid;
  PortSet untagged;
  PortSet tagged;
};

// What the inventory asks of one port. Pi ports are exact: member of these VLANs and no other.
// The trunk is not: it must carry `tagged` (and not carry them untagged); the rest is left alone.
struct DesiredPort {
  int port = 0;
  std::string pi;         // empty for the trunk
  bool exact = true;
  std::optional<int> pvid;
  PortSet untagged;
  PortSet tagged;
};

struct Desired {
  std::map<int, std::string> vlan_names;  // every VLAN the shelf needs -> name to create it with
  std::vector<DesiredPort> ports;         // Pi ports by port number, then the trunk
  int trunk_port = 0;
  [[nodiscard]] const DesiredPort* find(int port) const;
};

// Pi ports: PVID and untagged = the Pi's storage VLAN, tagged = the public VLAN. The trunk:
// tagged in every storage VLAN and the public VLAN. VLAN names: the Pi's name, "public".
Desired desired_state(const inventory::Shelf& shelf);

// One port's change: an atomic PDU and the same change as ordered steps for switches that need
// an order (each step with its own undo), plus human-readable lines for --dry-run and drift.
struct PortChange {
  int port = 0;
  std::string pi;
  std::vector<std::string> changes;
  SetPdu atomic;
  std::vector<SetPdu> steps;
};

struct Plan {
  std::vector<SetPdu> prelude;       // switch-wide steps before any port (Cisco VLAN creation)
  std::vector<PortChange> ports;
  std::vector<SetPdu> postlude;      // switch-wide steps after every port (release: drop a VLAN)
  // Every mapped port's view as read before planning (front-panel port -> view): apply checks
  // afterwards that each VLAN the sent ports touched has exactly the expected members everywhere.
  std::map<int, PortView> views_before;
  [[nodiscard]] bool empty() const { return prelude.empty() && ports.empty() && postlude.empty(); }
  [[nodiscard]] const PortChange* find(int port) const;
};

// The VLAN every port of a fresh switch is an untagged member of, with PVID 1 (Q-BRIDGE) or as
// access VLAN and native VLAN (Cisco). It is never created nor destroyed by a plan.
inline constexpr int kDefaultVlan = 1;

// What releasing one port asks (a Pi left the inventory): the port goes back to the switch
// default, out of every other VLAN, and `vlan` (its old storage VLAN) is destroyed when
// drop_vlan is set. The controller decides drop_vlan (no port but the trunk left in the VLAN).
struct Release {
  int port = 0;
  int vlan = 0;
  bool drop_vlan = false;
};

// A text rendering of a plan: one line per PDU, one indented line per varbind.
std::string render_plan(const Plan& plan);

}  // namespace picluster::switchctl
