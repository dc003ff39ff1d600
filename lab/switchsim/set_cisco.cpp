// Cisco-mode writes: vmVlan, vlanTrunkPortTable, cpeExtPsePortEnable and VTP's edit buffer
// (vtpVlanEditOperation copy -> vtpVlanEditTable rows -> apply -> release), domain 1 only.
#include "lab/switchsim/mib_oids.hpp"
#include "lab/switchsim/port_list.hpp"
#include "lab/switchsim/set_transaction_internal.hpp"

namespace picluster::switchsim::detail {

std::optional<SetFailure> Txn::set_vm_vlan(const Oid& oid, const Value& value) {
  const auto front = front_from_ifindex(oid.back());
  if (!front) return not_settable(oid);
  if (auto bad = expect_type(value, ValueType::integer)) return bad;
  if (value.number < 1 || value.number > 4094) return refuse(SnmpStatus::wrong_value, "VLAN must be 1..4094");
  m_state.port(*front).access_vlan = static_cast<int>(value.number);
  m_pvid_touched[*front] = m_index;
  return std::nullopt;
}

namespace {
// The VLAN of the MSB of octet 1 for each VlansEnabled column.
int bitmap_first(std::uint32_t column) {
  switch (column) {
    case oids::trunk_vlans_enabled: return 0;
    case oids::trunk_vlans_enabled_2k: return 1024;
    case oids::trunk_vlans_enabled_3k: return 2048;
    case oids::trunk_vlans_enabled_4k: return 3072;
    default: return -1;
  }
}
}  // namespace

std::optional<SetFailure> Txn::set_trunk_column(const Oid& oid, const Value& value) {
  const auto front = front_from_ifindex(oid.back());
  const std::uint32_t column = oid[oids::vlan_trunk_port_entry.size()];
  if (!front) return not_settable(oid);
  PortState& port = m_state.port(*front);
  if (const int first = bitmap_first(column); first >= 0) {
    if (auto bad = expect_type(value, ValueType::octet_string)) return bad;
    if (value.bytes.size() > 128) return refuse(SnmpStatus::wrong_length, "bitmap longer than 128 octets");
    const auto vlans = decode_vlan_bitmap(value.bytes, first);
    for (int v = first; v < first + 1024; ++v) port.trunk_vlans.reset(static_cast<std::size_t>(v));
    for (const int v : vlans) port.trunk_vlans.set(static_cast<std::size_t>(v));
    return std::nullopt;
  }
  if (column != oids::trunk_native_vlan && column != oids::trunk_dynamic_state) return not_settable(oid);
  if (auto bad = expect_type(value, ValueType::integer)) return bad;
  if (column == oids::trunk_native_vlan) {
    if (value.number < 1 || value.number > 4094) return refuse(SnmpStatus::wrong_value, "VLAN must be 1..4094");
    port.native_vlan = static_cast<int>(value.number);
    return std::nullopt;
  }
  if (value.number < 1 || value.number > 5) {
    return refuse(SnmpStatus::wrong_value, "vlanTrunkPortDynamicState must be 1..5");
  }
  port.dynamic_state = static_cast<int>(value.number);
  return std::nullopt;
}

std::optional<SetFailure> Txn::set_cpe_enable(const Oid& oid, const Value& value) {
  const std::size_t n = oids::cpe_ext_pse_port_entry.size();
  const auto front = front_from_poe(oid[n + 1], oid[n + 2]);
  if (!front) return not_settable(oid);
  if (auto bad = expect_type(value, ValueType::integer)) return bad;
  if (value.number < 1 || value.number > 4) {
    return refuse(SnmpStatus::wrong_value, "cpeExtPsePortEnable must be auto(1)..disable(4)");
  }
  PortState& port = m_state.port(*front);
  port.poe_enabled = value.number != 4;
  if (value.number != 4) port.cisco_poe_mode = static_cast<int>(value.number);
  return std::nullopt;
}

std::optional<SetFailure> Txn::set_edit_control(const Oid& oid, const Value& value) {
  const std::uint32_t column = oid[oids::vtp_edit_control_entry.size()];
  if (oid.back() != 1) return refuse(SnmpStatus::no_creation, "only management domain 1 exists");
  if (column == 3) {  // vtpVlanEditBufferOwner
    if (auto bad = expect_type(value, ValueType::octet_string)) return bad;
    if (value.bytes.size() > 255) return refuse(SnmpStatus::wrong_length, "owner longer than 255 octets");
    m_state.vtp_edit_owner = value.bytes;
    return std::nullopt;
  }
  if (column != 1) return not_settable(oid);
  if (auto bad = expect_type(value, ValueType::integer)) return bad;
  switch (value.number) {
    case 2:  // copy: the buffer starts as the current VLAN database
      m_state.vtp_edit.emplace();
      for (const auto& [vid, vlan] : m_state.vlans) {
        if (vlan.status == RowStatus::active) (*m_state.vtp_edit)[vid].name = vlan.name;
      }
      return std::nullopt;
    case 3: return vtp_apply();
    case 4:  // release
      m_state.vtp_edit.reset();
      m_state.vtp_edit_owner.clear();
      return std::nullopt;
    case 5: return std::nullopt;  // restartTimer
    default: return refuse(SnmpStatus::wrong_value, "vtpVlanEditOperation must be copy(2)..restartTimer(5)");
  }
}

// apply: the buffer's active rows become the VLAN database; memberships of kept VLANs stay.
std::optional<SetFailure> Txn::vtp_apply() {
  if (!m_state.vtp_edit) return refuse(SnmpStatus::inconsistent_value, "no edit buffer (copy first)");
  const auto& buffer = *m_state.vtp_edit;
  const auto one = buffer.find(1);
  if (one == buffer.end() || one->second.status != RowStatus::active) {
    return refuse(SnmpStatus::inconsistent_value, "the edit buffer must keep VLAN 1");
  }
  std::map<int, Vlan> next;
  for (const auto& [vid, row] : buffer) {
    if (row.status != RowStatus::active) continue;
    Vlan vlan = m_state.vlans.contains(vid) ? m_state.vlans.at(vid) : Vlan{};
    vlan.name = row.name;
    vlan.status = RowStatus::active;
    next[vid] = vlan;
  }
  for (const auto& [vid, vlan] : m_state.vlans) {
    if (!next.contains(vid)) ++m_state.vlan_deletes;
  }
  m_state.vlans = std::move(next);
  m_state.vtp_apply_status = 2;  // succeeded
  return std::nullopt;
}

std::optional<SetFailure> Txn::set_edit_row_status(int vid, const Value& value) {
  auto& buffer = *m_state.vtp_edit;
  const bool exists = buffer.contains(vid);
  switch (value.number) {
    case 1:
    case 2:
      if (!exists) return refuse(SnmpStatus::inconsistent_value, "no such row in the edit buffer");
      buffer[vid].status = value.number == 1 ? RowStatus::active : RowStatus::not_in_service;
      return std::nullopt;
    case 4:
    case 5: {
      if (exists) return refuse(SnmpStatus::inconsistent_value, "row already in the edit buffer");
      char name[16];
      std::snprintf(name, sizeof name, "VLAN%04d", vid);
      VtpEditRow& row = buffer[vid];
      row.name = name;
      row.status = value.number == 4 ? RowStatus::active : RowStatus::not_in_service;
      return std::nullopt;
    }
    case 6:
      if (vid == 1) return refuse(SnmpStatus::inconsistent_value, "the default VLAN cannot be destroyed");
      buffer.erase(vid);
      return std::nullopt;
    default: return refuse(SnmpStatus::wrong_value, "RowStatus cannot be written with that value");
  }
}

std::optional<SetFailure> Txn::set_edit_column(const Oid& oid, const Value& value) {
  const std::size_t n = oids::vtp_vlan_edit_entry.size();
  const std::uint32_t column = oid[n];
  if (oid[n + 1] != 1 || oid[n + 2] < 1 || oid[n + 2] > 4094) {
    return refuse(SnmpStatus::no_creation, "index must be domain 1, VLAN 1..4094");
  }
  if (!m_state.vtp_edit) {
    return refuse(SnmpStatus::inconsistent_value, "no edit buffer: set vtpVlanEditOperation to copy(2) first");
  }
  const int vid = static_cast<int>(oid[n + 2]);
  if (auto bad = expect_type(value, column == 4 || column == 6 ? ValueType::octet_string : ValueType::integer)) {
    return bad;
  }
  if (column == 11) return set_edit_row_status(vid, value);
  const auto row = m_state.vtp_edit->find(vid);
  if (row == m_state.vtp_edit->end()) return refuse(SnmpStatus::no_creation, "no such row in the edit buffer");
  switch (column) {
    case 2:
      if (value.number != 1 && value.number != 2) return refuse(SnmpStatus::wrong_value, "state must be 1 or 2");
      row->second.state = static_cast<int>(value.number);
      return std::nullopt;
    case 3:
      if (value.number != 1) return refuse(SnmpStatus::wrong_value, "only ethernet(1) VLANs are supported");
      return std::nullopt;
    case 4:
      if (value.bytes.empty() || value.bytes.size() > 32) return refuse(SnmpStatus::wrong_length, "name must be 1..32 octets");
      row->second.name = value.bytes;
      return std::nullopt;
    case 5: return std::nullopt;  // MTU: accepted, always 1500
    case 6:
      if (value.bytes.size() != 4) return refuse(SnmpStatus::wrong_length, "Dot10Said must be 4 octets");
      return std::nullopt;
    default: return not_settable(oid);
  }
}

std::optional<SetFailure> Txn::check_cisco() const {
  for (const auto& [front, index] : m_pvid_touched) {
    const int vid = m_state.port(front).access_vlan;
    const auto vlan = m_state.vlans.find(vid);
    if (vlan == m_state.vlans.end() || vlan->second.status != RowStatus::active) {
      return SetFailure{index, SnmpStatus::inconsistent_value,
                        "vmVlan: VLAN " + std::to_string(vid) + " does not exist"};
    }
  }
  return std::nullopt;
}

}  // namespace picluster::switchsim::detail
