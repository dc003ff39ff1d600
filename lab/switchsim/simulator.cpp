#include "lab/switchsim/simulator.hpp"

#include <iostream>

#include "lab/switchsim/mib_oids.hpp"
#include "lab/switchsim/set_transaction.hpp"

namespace picluster::switchsim {

namespace {
// The FDB may change under a lab data plane, so a rendering is reused for at most this long.
constexpr auto k_mib_max_age = std::chrono::milliseconds(500);

void log_line(const std::string& line) { std::cerr << "picluster-switchsim: " << line << '\n'; }
}  // namespace

Simulator::Simulator(SimulatorConfig config, SwitchState state, std::unique_ptr<DataPlane> dataplane)
    : m_config(std::move(config)), m_state(std::move(state)), m_dataplane(std::move(dataplane)) {}

Result<void> Simulator::sync_dataplane() {
  for (int f = 1; f <= m_state.port_count; ++f) {
    const PortMembership m = membership(m_state, f, m_config.mode);
    const std::string where = "port " + std::to_string(f);
    if (auto ok = m_dataplane->apply_port(f, m.pvid, m.untagged, m.tagged); !ok) {
      return std::unexpected(ok.error().with_context(where));
    }
    if (auto ok = m_dataplane->set_power(f, m_state.port(f).poe_enabled); !ok) {
      return std::unexpected(ok.error().with_context(where));
    }
  }
  return {};
}

const MibMap& Simulator::mib() {
  const auto now = std::chrono::steady_clock::now();
  if (m_mib_dirty || now - m_mib_time > k_mib_max_age) {
    m_mib = render_mib(m_state, m_config.knobs, m_config.mode, m_dataplane->learned());
    m_vlan_mibs.clear();
    m_mib_dirty = false;
    m_mib_time = now;
  }
  return m_mib;
}

std::optional<std::pair<Oid, Value>> Simulator::get(const Oid& oid, std::uint32_t uptime_ticks) {
  const MibMap& m = mib();
  const auto it = m.find(oid);
  if (it == m.end()) return std::nullopt;
  if (oid == oids::sys_uptime) return std::pair{oid, Value::ticks(uptime_ticks)};
  return *it;
}

std::optional<std::pair<Oid, Value>> Simulator::get_next(const Oid& oid, std::uint32_t uptime_ticks) {
  const MibMap& m = mib();
  const auto it = m.upper_bound(oid);
  if (it == m.end()) return std::nullopt;
  if (it->first == oids::sys_uptime) return std::pair{it->first, Value::ticks(uptime_ticks)};
  return *it;
}

const MibMap& Simulator::vlan_mib(int vlan) {
  mib();  // re-renders (and drops the VLAN renderings) when stale
  auto it = m_vlan_mibs.find(vlan);
  if (it == m_vlan_mibs.end()) {
    it = m_vlan_mibs.emplace(vlan, render_vlan_bridge(m_state, m_config.knobs, m_config.mode,
                                                      m_dataplane->learned(), vlan)).first;
  }
  return it->second;
}

std::optional<std::pair<Oid, Value>> Simulator::get_in_vlan(int vlan, const Oid& oid) {
  const MibMap& m = vlan_mib(vlan);
  const auto it = m.find(oid);
  if (it == m.end()) return std::nullopt;
  return *it;
}

std::optional<std::pair<Oid, Value>> Simulator::get_next_in_vlan(int vlan, const Oid& oid) {
  const MibMap& m = vlan_mib(vlan);
  const auto it = m.upper_bound(oid);
  if (it == m.end()) return std::nullopt;
  return *it;
}

bool Simulator::implements_in_vlan(int vlan, const Oid& oid) {
  for (const Oid& table : {oids::dot1d_base_port_entry, oids::dot1d_tp_fdb_entry}) {
    if (table == oids::dot1d_tp_fdb_entry && !m_config.knobs.fdb_tables) continue;
    if (has_prefix(oid, table) && oid.size() > table.size() + 1) return true;
  }
  const MibMap& m = vlan_mib(vlan);
  Oid parent = oid;
  if (!parent.empty()) parent.pop_back();
  const auto it = m.lower_bound(parent);
  return it != m.end() && has_prefix(it->first, parent);
}

std::vector<int> Simulator::context_vlans() const {
  std::vector<int> out;
  for (const auto& [vid, vlan] : m_state.vlans) {
    if (vlan.status == RowStatus::active) out.push_back(vid);
  }
  return out;
}

bool Simulator::serves_under(const Oid& prefix) {
  const MibMap& m = mib();
  const auto it = m.lower_bound(prefix);
  return it != m.end() && has_prefix(it->first, prefix);
}

bool Simulator::implements(const Oid& oid) {
  for (const auto& table : implemented_tables(m_config.knobs, m_config.mode)) {
    if (has_prefix(oid, table) && oid.size() > table.size() + 1) return true;
  }
  Oid parent = oid;
  if (!parent.empty()) parent.pop_back();
  return serves_under(parent);
}

std::optional<SetFailure> Simulator::reserve(const std::vector<VarBind>& varbinds) {
  m_staged.reset();
  const SetContext context{m_config.knobs, m_config.mode,
                           [this](const Oid& oid) { return mib().contains(oid); }};
  auto next = apply_set(m_state, varbinds, context);
  if (!next) {
    const SetFailure& f = next.error();
    log_line("SET refused: varbind " + std::to_string(f.index + 1) + " " +
             to_string(varbinds.at(f.index).oid) + ": " + std::string(to_string(f.status)) + ": " +
             f.why);
    return f;
  }
  m_staged = std::move(*next);
  m_staged_varbinds = varbinds;
  return std::nullopt;
}

Result<void> Simulator::push(const SwitchState& from, const SwitchState& to, std::vector<int>* changed) {
  for (int f = 1; f <= to.port_count; ++f) {
    const PortMembership before = membership(from, f, m_config.mode);
    const PortMembership after = membership(to, f, m_config.mode);
    const bool power_changed = from.port(f).poe_enabled != to.port(f).poe_enabled;
    if (before == after && !power_changed) continue;
    if (changed) changed->push_back(f);
    const std::string where = "port " + std::to_string(f);
    if (before != after) {
      if (auto ok = m_dataplane->apply_port(f, after.pvid, after.untagged, after.tagged); !ok) {
        return std::unexpected(ok.error().with_context(where));
      }
    }
    if (power_changed) {
      if (auto ok = m_dataplane->set_power(f, to.port(f).poe_enabled); !ok) {
        return std::unexpected(ok.error().with_context(where));
      }
      log_line(where + ": PoE " + (to.port(f).poe_enabled ? "on" : "off"));  // what a console shows
    }
  }
  return {};
}

std::optional<SetFailure> Simulator::action() {
  m_pushed.clear();
  if (!m_staged) return SetFailure{0, SnmpStatus::gen_err, "no staged SET"};
  if (auto failure = commit_phase_failure(m_staged_varbinds, m_config.knobs)) {
    log_line("SET failed in commit phase: " + std::string(to_string(failure->status)) + ": " +
             failure->why);
    return failure;
  }
  if (auto ok = push(m_state, *m_staged, &m_pushed); !ok) {
    log_line("data plane: " + ok.error().message);
    // Put back what was already pushed: the ports touched so far, from the staged view.
    if (auto back = push(*m_staged, m_state, nullptr); !back) {
      log_line("data plane rollback: " + back.error().message);
      return SetFailure{0, SnmpStatus::undo_failed, back.error().message};
    }
    return SetFailure{0, SnmpStatus::commit_failed, ok.error().message};
  }
  return std::nullopt;
}

void Simulator::commit() {
  if (!m_staged) return;
  m_state = std::move(*m_staged);
  m_staged.reset();
  m_pushed.clear();
  m_mib_dirty = true;
  if (auto ok = save(); !ok) log_line("cannot save state: " + ok.error().message);
}

void Simulator::undo() {
  if (m_staged && !m_pushed.empty()) {
    if (auto back = push(*m_staged, m_state, nullptr); !back) {
      log_line("data plane undo: " + back.error().message);
    }
  }
  free();
}

void Simulator::free() {
  m_staged.reset();
  m_staged_varbinds.clear();
  m_pushed.clear();
}

std::optional<SetFailure> Simulator::set(const std::vector<VarBind>& varbinds) {
  if (auto failure = reserve(varbinds)) {
    free();
    return failure;
  }
  if (auto failure = action()) {
    undo();
    return failure;
  }
  commit();
  return std::nullopt;
}

Result<void> Simulator::save() const {
  if (m_config.state_file.empty()) return {};
  return save_state(m_config.state_file, m_state);
}

}  // namespace picluster::switchsim
