#pragma once
// Internals of apply_set(), split over set_transaction.cpp (dispatch, ports, PoE, PVID),
// set_qbridge.cpp (dot1qVlanStaticTable) and set_cisco.cpp (VTP, trunks, vmVlan).

#include <expected>
#include <map>
#include <optional>
#include <set>

#include "lab/switchsim/set_transaction.hpp"

namespace picluster::switchsim::detail {

enum class Phase { edit_operation, rows, columns };

class Txn {
 public:
  Txn(const SwitchState& before, const SetContext& ctx) : m_before(before), m_state(before), m_ctx(ctx) {}

  std::optional<SetFailure> run(const std::vector<VarBind>& varbinds);
  [[nodiscard]] SwitchState result() const { return m_state; }

 private:
  std::optional<SetFailure> refuse(SnmpStatus status, std::string why) const;
  std::optional<SetFailure> expect_type(const Value& value, ValueType type) const;
  std::optional<SetFailure> not_settable(const Oid& oid) const;
  std::optional<int> front_from_bridge(std::uint32_t bridge_port) const;
  std::optional<int> front_from_ifindex(std::uint32_t if_index) const;
  std::optional<int> front_from_poe(std::uint32_t group, std::uint32_t poe_port) const;
  std::expected<std::set<int>, SetFailure> front_ports(const Value& value) const;
  Phase phase_of(const Oid& oid) const;
  int sort_key(const VarBind& vb) const;
  std::optional<SetFailure> dispatch(const VarBind& vb);

  std::optional<SetFailure> set_poe_admin(const Oid& oid, const Value& value);
  std::optional<SetFailure> set_pvid(const Oid& oid, const Value& value);

  // Q-BRIDGE (set_qbridge.cpp).
  std::optional<SetFailure> set_static_column(const Oid& oid, const Value& value);
  std::optional<SetFailure> set_static_row_status(int vid, const Value& value);
  std::optional<SetFailure> check_qbridge() const;

  // Cisco (set_cisco.cpp).
  std::optional<SetFailure> set_vm_vlan(const Oid& oid, const Value& value);
  std::optional<SetFailure> set_trunk_column(const Oid& oid, const Value& value);
  std::optional<SetFailure> set_cpe_enable(const Oid& oid, const Value& value);
  std::optional<SetFailure> set_edit_control(const Oid& oid, const Value& value);
  std::optional<SetFailure> set_edit_column(const Oid& oid, const Value& value);
  std::optional<SetFailure> set_edit_row_status(int vid, const Value& value);
  std::optional<SetFailure> vtp_apply();
  std::optional<SetFailure> check_cisco() const;

  const SwitchState& m_before;
  SwitchState m_state;
  const SetContext& m_ctx;
  std::size_t m_index = 0;                    // varbind being processed
  std::map<int, std::size_t> m_vlan_touched;  // VLAN id -> last varbind that changed its row
  std::map<int, std::size_t> m_pvid_touched;  // front port -> varbind that set its PVID/vmVlan
  std::set<int> m_destroyed;                  // VLAN rows destroyed by this PDU
};

}  // namespace picluster::switchsim::detail
