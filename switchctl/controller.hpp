#pragma once
// SwitchController: the facade the CLI and the orchestrator call. It reads the switch through an
// SnmpSession, plans against the shelf's inventory with the shelf's vendor profile, applies
// plans port by port and verifies, drives PoE and reads the forwarding database. It never
// prints: progress goes to a callback, results come back as data. Every error message starts
// with "switch HOST:PORT: ".
//
// Apply: each port's change is sent as one PDU. If the agent rejects it (a strict switch that
// wants memberships before the PVID, a PDU too big, ...), the same change is sent again as
// ordered steps; a failing step undoes the steps before it, so a port is left either changed
// or as it was. After a failed PDU the switch is read again and the port re-planned once (a
// lost response may have hidden a success). The run stops at the first port that cannot be
// changed; ports after it are not touched. At the end the switch is read again and must match.
//
// Release undoes apply for one port whose Pi has left the inventory: the port goes back to the
// switch default and the Pi's old storage VLAN is destroyed once nothing but the trunk is left in
// it. It is planned like apply (profile-specific, ordered steps on strict switches, re-planned
// after a failed PDU) and verified by reading back.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/inventory.hpp"
#include "switchctl/profile.hpp"
#include "switchctl/snmp.hpp"
#include "switchctl/state.hpp"

namespace picluster::switchctl {

using Progress = std::function<void(std::string_view line)>;

struct ApplyReport {
  int ports_changed = 0;
  int pdus = 0;                // SET PDUs sent (including fallback steps and undo)
  bool used_ordered_steps = false;
  std::vector<std::string> lines;  // what was done (or, for a dry run, would be), one per step
  std::vector<std::string> notes;  // ports outside the plan that differ from the inventory (not failures)
};

enum class PowerAction { on, off, cycle, status };
std::string_view to_string(PowerAction action);

struct PowerResult {
  std::string pi;
  int port = 0;
  PoeState before;
  PoeState after;
  std::vector<std::string> notes;  // e.g. "no MAC learned on port 5; identity not checked"
};

// One row of `switch show`.
struct PortStatus {
  PortEntry entry;
  std::string pi;    // Pi name, empty if none
  std::string role;  // "pi", "trunk", "unmanaged"
  PortView view;
  std::optional<PoeState> poe;
  std::vector<std::string> macs;
  std::vector<std::string> drift;  // changes apply would make; empty = in sync
};

// `switch show`: a row per port, and what would make `switch apply` fail (a port the inventory
// names that the switch does not map, the trunk included, ...); empty problems = apply would run.
struct SwitchStatus {
  std::vector<PortStatus> ports;
  std::vector<std::string> problems;
  std::vector<std::string> notes;           // how ports were numbered, tables missing, PortList form
  std::vector<PortEntry> left_out;          // interfaces kept out of the numbering
  std::map<int, std::string> foreign_vlans; // VLANs on the switch that are not the inventory's
};

// `switch probe`: what the switch serves and how picluster reads it (read only).
struct ProbeTable {
  std::string mib, table;
  bool served = false;
};
struct ProbeReport {
  std::string profile;
  std::vector<ProbeTable> tables;
  std::vector<PortEntry> ports;        // with how each number was derived
  std::vector<PortEntry> left_out;
  std::vector<std::string> notes;      // numbering, missing tables, PortLists that do not decode
  std::string portlist_form;
  std::string bridge_tables;           // "default context", "per VLAN (community@vlan)", "not served"
  std::string poe_indexing;
  int poe_rows = 0;                    // mapped ports with a PoE row
  std::map<int, std::string> foreign_vlans;
  bool drivable = false;               // apply could plan against this switch
  std::string why;                     // why not
};

struct Discovery {
  std::vector<LearnedMac> learned;     // everything in the FDB, mapped to front-panel ports
  std::vector<LearnedMac> unknown_pis; // Raspberry Pi MACs on ports with no Pi in the inventory
  // Raspberry Pi MACs learned on a bridge port with no front-panel port (port 0: the switch serves
  // no usable dot1dBasePortIfIndex for it, or it is a left-out interface such as a LAG or module port).
  std::vector<LearnedMac> unplaced_pis;
};

// True for MACs with a Raspberry Pi OUI (b8:27:eb, dc:a6:32, e4:5f:01, d8:3a:dd, 2c:cf:67,
// 28:cd:c1).
bool is_raspberry_pi_mac(const inventory::Mac& mac);
// "b8:27:eb:12:34:56" (does not need the inventory library).
std::string format_mac(const inventory::Mac& mac);

struct ControllerOptions {
  std::chrono::milliseconds poe_off{5000};              // default: switch.poe_off_seconds
  std::chrono::milliseconds power_on_timeout{60000};    // wait for deliveringPower
  std::chrono::milliseconds poll_interval{1000};
};

class SwitchController {
 public:
  // The shelf, session and clock must outlive the controller. Fails on an unknown profile.
  static Result<SwitchController> create(const inventory::Shelf& shelf, SnmpSession& session,
                                         Clock& clock);
  void set_options(const ControllerOptions& options) { m_options = options; }
  // The inventory file the shelf came from: an inventory field the switch cannot satisfy (a
  // trunk_port or port_map interface name it does not list) is reported against it.
  void set_inventory_file(std::string file) { m_inventory_file = std::move(file); }

  // "switch 127.0.0.1:16161"
  [[nodiscard]] std::string name() const;

  Result<SwitchState> read_state();
  // The inventory's storage VLANs that exist on the switch as another network (see ownership.hpp).
  [[nodiscard]] std::set<int> colliding_vlans(const SwitchState& state) const;
  // Refuses VLANs that are not picluster's (see ownership.hpp) before the profile plans.
  [[nodiscard]] Result<Plan> plan(const SwitchState& state) const;
  Result<Plan> plan();  // read_state + plan
  // The plan for the trunk and the ports of the Pis `in_scope` accepts, planned as if the other
  // Pis' ports were not there: a VLAN the plan needs is created by an in-scope port or the trunk,
  // never left to an out-of-scope port's change (which a filtered whole plan would drop).
  Result<Plan> plan_for(const std::function<bool(const std::string& pi)>& in_scope);
  // Sends the plan (built from the current state by plan()) and verifies the result.
  Result<ApplyReport> apply(const Plan& plan, const Progress& progress);
  // Reads the switch and fails, naming the ports, if anything still differs from the inventory.
  Result<void> verify();
  // The same for the given ports only (a verb verifies what it touched); the other ports that
  // differ are returned as notes, one per port. With the plan just sent, also fails if any VLAN it
  // touched differs on any port of the switch from what the plan expected (plan.views_before
  // with the sent ports changed).
  Result<std::vector<std::string>> verify_ports(const std::set<int>& ports,
                                                const Plan* sent = nullptr);

  // Pure: what release(port, vlan) would send against `state`; empty when already released.
  // Refuses (ErrorCode::refused) the fileserver's trunk port, a port where a Pi of the inventory
  // sits, VLAN 1, the public VLAN and a VLAN a Pi of the inventory uses; invalid_argument for a
  // port < 1 or a VLAN outside 1..4094. `vlan` is dropped when no port but the trunk and `port`
  // is a member of it or has it as PVID (so other ports keep a VLAN they still use).
  [[nodiscard]] Result<Plan> plan_release(const SwitchState& state, int port, int vlan) const;
  Result<Plan> plan_release(int port, int vlan);  // read_state + plan_release
  // Undoes apply for a Pi that has left the inventory: the caller removes it from the shelf
  // first, then passes its old front-panel port and storage VLAN. Afterwards the port has PVID 1
  // and is an untagged member of VLAN 1 only (qbridge), or an access port in VLAN 1 with native
  // VLAN 1 and every VLAN allowed (cisco); `vlan` is gone from the switch unless another port
  // still uses it. Other ports are not touched (the trunk only loses the destroyed VLAN).
  // Idempotent: nothing to do sends no SET. Read back and verified. dry_run reads the switch
  // and fills report.lines with what would be done, sending nothing (pdus = 0).
  Result<ApplyReport> release(int port, int vlan, const Progress& progress, bool dry_run = false);

  // Power a Pi's port. Refuses the trunk port and ports without a Pi. off and cycle check that the
  // Pi's MAC (when the inventory knows it) is the one learned on its port, unless force.
  Result<PowerResult> power(std::string_view pi_name, PowerAction action, bool force);
  // Checks every name before anything is sent: a Pi of the shelf, not on the trunk port, on a
  // port the switch maps and whose PoE row answers; for off and cycle (unless force) also that
  // the learned MACs show every Pi with a MAC on its own port, naming each one that fails.
  // Reads the port map and the forwarding database once; sends no SET.
  Result<void> check_power_targets(const std::vector<std::string>& names, PowerAction action = PowerAction::status,
                                   bool force = false);

  // Rows as in status(); a plan error is also attached to each Pi and trunk row as drift.
  Result<std::vector<PortStatus>> port_status();
  Result<SwitchStatus> status();
  Result<Discovery> discover();
  // The forwarding table mapped to front-panel ports, as it is (empty is not an error: a port
  // whose Pi has not sent a frame yet). For zero-touch enrollment's wait for a MAC.
  Result<std::vector<LearnedMac>> learned_macs();
  // Read only: which MIBs and tables the switch serves, the port numbering, foreign VLANs, the
  // PortList form, PoE rows, and whether apply could drive it (and why not).
  Result<ProbeReport> probe();

 private:
  SwitchController(const inventory::Shelf& shelf, SnmpSession& session, Clock& clock,
                   std::unique_ptr<VendorProfile> profile);
  // Re-plans from a fresh read after a failed PDU: plan() for apply, plan_release for release.
  using Replan = std::function<Result<Plan>(const SwitchState&)>;
  Result<ApplyReport> send_plan(const Plan& plan, const Progress& progress, const Replan& replan);
  Result<void> apply_port(const PortChange& change, ApplyReport& report, const Replan& replan);
  [[nodiscard]] Result<void> check_release(int port, int vlan) const;
  // Fails (conflict) on a Pi storage VLAN that exists on the switch as another network, or a Pi
  // port that is a member of a foreign VLAN (apply would have to take it out).
  [[nodiscard]] Result<void> check_ownership(const SwitchState& state) const;
  Result<void> verify_release(int port, int vlan);
  Result<void> send_steps(const PortChange& change, ApplyReport& report);
  // The Pi to power (known, not on the trunk port) and its mapped port with a PoE row.
  [[nodiscard]] Result<const inventory::Pi*> power_pi(std::string_view pi_name) const;
  [[nodiscard]] Result<const PortEntry*> power_port(const inventory::Pi& pi,
                                                    const PortMap& map) const;
  Result<PoeState> read_poe(const PortEntry& port);
  Result<void> wait_for_power(const PortEntry& entry, PowerAction action, PowerResult& result);
  Result<void> check_identity(const inventory::Pi& pi, const PortEntry& port, bool force,
                              PowerResult& result);
  template <typename T>
  Result<T> named(Result<T> r) const;

  const inventory::Shelf* m_shelf;
  SnmpSession* m_session;
  Clock* m_clock;
  std::unique_ptr<VendorProfile> m_profile;
  ControllerOptions m_options;
  bool m_ordered = false;  // the switch rejected one-PDU changes: use steps from now on
  std::string m_inventory_file;
};

}  // namespace picluster::switchctl
