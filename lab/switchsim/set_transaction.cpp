#include "lab/switchsim/set_transaction.hpp"

#include <algorithm>
#include <map>
#include <numeric>

#include "lab/switchsim/mib_oids.hpp"
#include "lab/switchsim/port_list.hpp"
#include "lab/switchsim/set_transaction_internal.hpp"

namespace picluster::switchsim {

namespace detail {

std::optional<SetFailure> Txn::refuse(SnmpStatus status, std::string why) const {
  return SetFailure{m_index, status, std::move(why)};
}

std::optional<SetFailure> Txn::expect_type(const Value& value, ValueType type) const {
  if (value.type == type) return std::nullopt;
  return refuse(SnmpStatus::wrong_type, std::string("expects ") + std::string(to_string(type)) +
                                            ", got " + std::string(to_string(value.type)));
}

std::optional<int> Txn::front_from_bridge(std::uint32_t bridge_port) const {
  const long front = static_cast<long>(bridge_port) - m_ctx.knobs.bridge_port_offset;
  if (front < 1 || front > m_state.port_count) return std::nullopt;
  return static_cast<int>(front);
}

std::optional<int> Txn::front_from_ifindex(std::uint32_t if_index) const {
  const long front = static_cast<long>(if_index) - m_ctx.knobs.ifindex_offset;
  if (front < 1 || front > m_state.port_count) return std::nullopt;
  return static_cast<int>(front);
}

std::optional<int> Txn::front_from_poe(std::uint32_t group, std::uint32_t poe_port) const {
  if (group != 1) return std::nullopt;
  for (int f = 1; f <= m_state.port_count; ++f) {
    if (static_cast<std::uint32_t>(m_ctx.knobs.poe_port(f)) == poe_port) return f;
  }
  return std::nullopt;
}

// Decodes a PortList in bridge-port numbering into front ports.
std::expected<std::set<int>, SetFailure> Txn::front_ports(const Value& value) const {
  if (auto bad = expect_type(value, ValueType::octet_string)) return std::unexpected(*bad);
  if (value.bytes.size() > 512) {
    return std::unexpected(*refuse(SnmpStatus::wrong_length, "PortList longer than 512 octets"));
  }
  const int highest = m_ctx.knobs.bridge_port(m_state.port_count);
  auto bridge = decode_port_list(value.bytes, highest);
  if (!bridge) return std::unexpected(*refuse(SnmpStatus::wrong_value, bridge.error().message));
  std::set<int> out;
  for (const int bp : *bridge) {
    const auto front = front_from_bridge(static_cast<std::uint32_t>(bp));
    if (!front) {
      return std::unexpected(*refuse(SnmpStatus::wrong_value,
                                     "PortList names bridge port " + std::to_string(bp) +
                                         ", which does not exist"));
    }
    out.insert(*front);
  }
  return out;
}

std::optional<SetFailure> Txn::not_settable(const Oid& oid) const {
  if (m_ctx.exists(oid)) return refuse(SnmpStatus::not_writable, "object is read-only");
  return refuse(SnmpStatus::no_creation, "no such object, and it cannot be created");
}

Phase Txn::phase_of(const Oid& oid) const {
  const bool qbridge = m_ctx.mode == Mode::qbridge;
  if (qbridge && oid.size() == oids::dot1q_vlan_static_entry.size() + 2 &&
      has_prefix(oid, oids::dot1q_vlan_static_entry) &&
      oid[oids::dot1q_vlan_static_entry.size()] == oids::static_row_status) {
    return Phase::rows;
  }
  if (!qbridge && oid.size() == oids::vtp_vlan_edit_entry.size() + 3 &&
      has_prefix(oid, oids::vtp_vlan_edit_entry) && oid[oids::vtp_vlan_edit_entry.size()] == 11) {
    return Phase::rows;
  }
  if (!qbridge && oid == append(oids::vtp_edit_control_entry, {1, 1})) return Phase::edit_operation;
  return Phase::columns;
}

std::optional<SetFailure> Txn::run(const std::vector<VarBind>& varbinds) {
  std::vector<std::size_t> order(varbinds.size());
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t i = 0; i < varbinds.size(); ++i) {
    m_index = i;
    for (const auto& rule : m_ctx.knobs.fail_set) {
      if (rule.status == SnmpStatus::commit_failed || rule.status == SnmpStatus::undo_failed) continue;
      if (has_prefix(varbinds[i].oid, rule.prefix)) {
        return refuse(rule.status, "fail_set knob matches " + to_string(rule.prefix));
      }
    }
  }
  // VTP "copy" opens the buffer before rows, "apply"/"release" run after them.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return sort_key(varbinds[a]) < sort_key(varbinds[b]);
  });
  for (const std::size_t i : order) {
    m_index = i;
    if (auto bad = dispatch(varbinds[i])) return bad;
  }
  return m_ctx.mode == Mode::qbridge ? check_qbridge() : check_cisco();
}

int Txn::sort_key(const VarBind& vb) const {
  switch (phase_of(vb.oid)) {
    case Phase::edit_operation: return vb.value.number == 2 ? 0 : 3;  // copy first, apply last
    case Phase::rows: return 1;
    case Phase::columns: return 2;
  }
  return 2;
}

std::optional<SetFailure> Txn::dispatch(const VarBind& vb) {
  const Oid& oid = vb.oid;
  const auto under = [&](const Oid& entry, std::size_t index_len) {
    return oid.size() == entry.size() + 1 + index_len && has_prefix(oid, entry);
  };
  if (m_ctx.knobs.poe_mib && under(oids::peth_pse_port_entry, 2) &&
      oid[oids::peth_pse_port_entry.size()] == 3) {
    return set_poe_admin(oid, vb.value);
  }
  if (m_ctx.mode == Mode::qbridge) {
    if (under(oids::dot1q_vlan_static_entry, 1)) return set_static_column(oid, vb.value);
    if (under(oids::dot1q_port_vlan_entry, 1) && oid[oids::dot1q_port_vlan_entry.size()] == 1) {
      return set_pvid(oid, vb.value);
    }
    return not_settable(oid);
  }
  if (under(oids::vm_membership_entry, 1) && oid[oids::vm_membership_entry.size()] == 2) {
    return set_vm_vlan(oid, vb.value);
  }
  if (under(oids::vlan_trunk_port_entry, 1)) return set_trunk_column(oid, vb.value);
  if (under(oids::cpe_ext_pse_port_entry, 2) && oid[oids::cpe_ext_pse_port_entry.size()] == 1) {
    return set_cpe_enable(oid, vb.value);
  }
  if (under(oids::vtp_edit_control_entry, 1)) return set_edit_control(oid, vb.value);
  if (under(oids::vtp_vlan_edit_entry, 2)) return set_edit_column(oid, vb.value);
  return not_settable(oid);
}

std::optional<SetFailure> Txn::set_poe_admin(const Oid& oid, const Value& value) {
  const std::size_t n = oids::peth_pse_port_entry.size();
  const auto front = front_from_poe(oid[n + 1], oid[n + 2]);
  if (!front) return not_settable(oid);
  if (auto bad = expect_type(value, ValueType::integer)) return bad;
  if (value.number != 1 && value.number != 2) {
    return refuse(SnmpStatus::wrong_value, "TruthValue must be true(1) or false(2)");
  }
  m_state.port(*front).poe_enabled = value.number == 1;
  return std::nullopt;
}

std::optional<SetFailure> Txn::set_pvid(const Oid& oid, const Value& value) {
  const auto front = front_from_bridge(oid.back());
  if (!front) return not_settable(oid);
  if (auto bad = expect_type(value, ValueType::gauge32)) return bad;
  if (value.number < 1 || value.number > 4094) {
    return refuse(SnmpStatus::wrong_value, "PVID must be 1..4094");
  }
  const int vid = static_cast<int>(value.number);
  if (m_ctx.knobs.strict_pvid && vid != m_before.port(*front).pvid) {
    const auto it = m_before.vlans.find(vid);
    if (it == m_before.vlans.end() || !it->second.untagged.contains(*front)) {
      return refuse(SnmpStatus::inconsistent_value,
                    "strict_pvid: port " + std::to_string(*front) +
                        " is not yet an untagged member of VLAN " + std::to_string(vid));
    }
  }
  m_state.port(*front).pvid = vid;
  m_pvid_touched[*front] = m_index;
  return std::nullopt;
}

}  // namespace detail

std::expected<SwitchState, SetFailure> apply_set(const SwitchState& before,
                                                 const std::vector<VarBind>& varbinds,
                                                 const SetContext& context) {
  detail::Txn txn(before, context);
  if (auto bad = txn.run(varbinds)) return std::unexpected(*bad);
  return txn.result();
}

std::optional<SetFailure> commit_phase_failure(const std::vector<VarBind>& varbinds,
                                               const Knobs& knobs) {
  for (std::size_t i = 0; i < varbinds.size(); ++i) {
    for (const auto& rule : knobs.fail_set) {
      if (rule.status != SnmpStatus::commit_failed && rule.status != SnmpStatus::undo_failed) continue;
      if (has_prefix(varbinds[i].oid, rule.prefix)) {
        return SetFailure{i, rule.status, "fail_set knob matches " + to_string(rule.prefix)};
      }
    }
  }
  return std::nullopt;
}

}  // namespace picluster::switchsim
