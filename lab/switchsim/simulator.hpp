#pragma once
// Simulator: the switch behind the agent, free of net-snmp. It answers GET/GETNEXT from a cached
// rendering of the state and runs a SET in net-snmp's phases:
//   reserve (RESERVE1: validate the whole PDU into a staged state)
//   action  (ACTION: push changed ports and power to the DataPlane; on failure put them back)
//   commit  (COMMIT: adopt the staged state, write the state file atomically)
//   free / undo (FREE: drop the staged state; UNDO: also restore the data plane)
// A SET that fails in any phase leaves the state exactly as it was.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "lab/switchsim/dataplane.hpp"
#include "lab/switchsim/knobs.hpp"
#include "lab/switchsim/mib_render.hpp"
#include "lab/switchsim/switch_state.hpp"

namespace picluster::switchsim {

struct SimulatorConfig {
  Mode mode = Mode::qbridge;
  Knobs knobs;
  std::filesystem::path state_file;  // empty: do not persist (unit tests)
};

class Simulator {
 public:
  Simulator(SimulatorConfig config, SwitchState state, std::unique_ptr<DataPlane> dataplane);

  // Pushes every port's membership and power to the data plane (at start-up).
  Result<void> sync_dataplane();

  // Exact lookup / the first object after `oid`; sysUpTime.0 reports `uptime_ticks`.
  std::optional<std::pair<Oid, Value>> get(const Oid& oid, std::uint32_t uptime_ticks);
  std::optional<std::pair<Oid, Value>> get_next(const Oid& oid, std::uint32_t uptime_ticks);
  // True if some served object lies under `prefix` (noSuchInstance vs noSuchObject).
  bool serves_under(const Oid& prefix);
  // What a GET of `oid` that is not served answers: true (noSuchInstance) when the object is
  // implemented (its parent serves something, or it is under an implemented table, empty or
  // not), false (noSuchObject) otherwise.
  bool implements(const Oid& oid);

  // knobs.bridge_tables_per_vlan (Cisco IOS): the same lookups in VLAN `vlan`'s context, which
  // serves the BRIDGE-MIB only (render_vlan_bridge); implements_in_vlan as implements() there.
  std::optional<std::pair<Oid, Value>> get_in_vlan(int vlan, const Oid& oid);
  std::optional<std::pair<Oid, Value>> get_next_in_vlan(int vlan, const Oid& oid);
  bool implements_in_vlan(int vlan, const Oid& oid);
  // The VLANs that have a context: the active VLAN rows.
  [[nodiscard]] std::vector<int> context_vlans() const;

  std::optional<SetFailure> reserve(const std::vector<VarBind>& varbinds);
  std::optional<SetFailure> action();
  void commit();
  void undo();
  void free();

  // All phases in a row, as the agent would run them; for tests and benches.
  std::optional<SetFailure> set(const std::vector<VarBind>& varbinds);

  [[nodiscard]] const SwitchState& state() const { return m_state; }
  [[nodiscard]] Mode mode() const { return m_config.mode; }
  [[nodiscard]] const Knobs& knobs() const { return m_config.knobs; }
  Result<void> save() const;

 private:
  const MibMap& mib();
  const MibMap& vlan_mib(int vlan);
  // Pushes the difference between `from` and `to` for the listed ports; returns the ports it
  // changed (for rollback) or the first error.
  Result<void> push(const SwitchState& from, const SwitchState& to, std::vector<int>* changed);

  SimulatorConfig m_config;
  SwitchState m_state;
  std::unique_ptr<DataPlane> m_dataplane;
  std::optional<SwitchState> m_staged;
  std::vector<VarBind> m_staged_varbinds;
  std::vector<int> m_pushed;  // ports pushed to the data plane by the current ACTION
  MibMap m_mib;
  std::map<int, MibMap> m_vlan_mibs;  // per VLAN context, rendered with m_mib, dropped with it
  bool m_mib_dirty = true;
  std::chrono::steady_clock::time_point m_mib_time;
};

}  // namespace picluster::switchsim
