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

#include <chrono>
#include <functional>
#include <memory>
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
  std::vector<std::string> lines;  // what was done, one line per port
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

struct Discovery {
  std::vector<LearnedMac> learned;     // everything in the FDB, mapped to front-panel ports
  std::vector<LearnedMac> unknown_pis; // Raspberry Pi MACs on ports with no Pi in the inventory
};

// True for MACs with a Raspberry Pi OUI (b8:27:eb, dc:a6:32, e4:5f:01, d8:3a:dd, 2c:cf:67).
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

  // "switch 127.0.0.1:16161"
  [[nodiscard]] std::string name() const;

  Result<SwitchState> read_state();
  [[nodiscard]] Result<Plan> plan(const SwitchState& state) const;
  Result<Plan> plan();  // read_state + plan
  // Sends the plan (built from the current state by plan()) and verifies the result.
  Result<ApplyReport> apply(const Plan& plan, const Progress& progress);
  // Reads the switch and fails, naming the ports, if anything still differs from the inventory.
  Result<void> verify();

  // Power a Pi's port. Refuses the trunk port and ports without a Pi. off and cycle check that the
  // Pi's MAC (when the inventory knows it) is the one learned on its port, unless force.
  Result<PowerResult> power(std::string_view pi_name, PowerAction action, bool force);

  Result<std::vector<PortStatus>> port_status();
  Result<Discovery> discover();

 private:
  SwitchController(const inventory::Shelf& shelf, SnmpSession& session, Clock& clock,
                   std::unique_ptr<VendorProfile> profile);
  Result<void> apply_port(const PortChange& change, ApplyReport& report);
  Result<void> send_steps(const PortChange& change, ApplyReport& report);
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
};

}  // namespace picluster::switchctl
