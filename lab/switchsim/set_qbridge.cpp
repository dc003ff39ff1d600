// dot1qVlanStaticTable writes: RowStatus create/destroy (RFC 2579) and the row's columns.
#include "lab/switchsim/mib_oids.hpp"
#include "lab/switchsim/set_transaction_internal.hpp"

namespace picluster::switchsim::detail {

namespace {
std::string vlan_name(int vid) { return "VLAN " + std::to_string(vid); }
}  // namespace

std::optional<SetFailure> Txn::set_static_row_status(int vid, const Value& value) {
  if (auto bad = expect_type(value, ValueType::integer)) return bad;
  const bool exists = m_state.vlans.contains(vid);
  m_vlan_touched[vid] = m_index;
  switch (value.number) {
    case 1:  // active
    case 2:  // notInService
      if (!exists) return refuse(SnmpStatus::inconsistent_value, vlan_name(vid) + " does not exist");
      if (vid == 1 && value.number == 2) {
        return refuse(SnmpStatus::inconsistent_value, "the default VLAN cannot be taken out of service");
      }
      m_state.vlans[vid].status = value.number == 1 ? RowStatus::active : RowStatus::not_in_service;
      return std::nullopt;
    case 4:  // createAndGo
    case 5:  // createAndWait
      if (exists) return refuse(SnmpStatus::inconsistent_value, vlan_name(vid) + " already exists");
      m_state.vlans[vid] = Vlan{};
      m_state.vlans[vid].status = value.number == 4 ? RowStatus::active : RowStatus::not_in_service;
      m_destroyed.erase(vid);
      return std::nullopt;
    case 6:  // destroy
      if (vid == 1) return refuse(SnmpStatus::inconsistent_value, "the default VLAN cannot be destroyed");
      if (exists) {
        m_state.vlans.erase(vid);
        ++m_state.vlan_deletes;
        m_destroyed.insert(vid);
      }
      return std::nullopt;
    default:
      return refuse(SnmpStatus::wrong_value, "RowStatus " + std::to_string(value.number) +
                                                 " cannot be written");
  }
}

std::optional<SetFailure> Txn::set_static_column(const Oid& oid, const Value& value) {
  const std::uint32_t column = oid[oids::dot1q_vlan_static_entry.size()];
  const std::uint32_t index = oid.back();
  if (column < oids::static_name || column > oids::static_row_status) return not_settable(oid);
  if (index < 1 || index > 4094) {
    return refuse(SnmpStatus::no_creation, "VLAN index must be 1..4094");
  }
  const int vid = static_cast<int>(index);
  if (column == oids::static_row_status) return set_static_row_status(vid, value);
  const auto row = m_state.vlans.find(vid);
  if (row == m_state.vlans.end()) {
    if (m_destroyed.contains(vid)) {
      return refuse(SnmpStatus::inconsistent_value, vlan_name(vid) + " is destroyed by this request");
    }
    return refuse(SnmpStatus::no_creation, vlan_name(vid) + " does not exist; create it with "
                                                            "dot1qVlanStaticRowStatus");
  }
  m_vlan_touched[vid] = m_index;
  if (column == oids::static_name) {
    if (auto bad = expect_type(value, ValueType::octet_string)) return bad;
    if (value.bytes.size() > 32) return refuse(SnmpStatus::wrong_length, "name longer than 32 octets");
    row->second.name = value.bytes;
    return std::nullopt;
  }
  auto ports = front_ports(value);
  if (!ports) return ports.error();
  if (column == oids::static_egress) row->second.egress = *ports;
  if (column == oids::static_forbidden) row->second.forbidden = *ports;
  if (column == oids::static_untagged) row->second.untagged = *ports;
  return std::nullopt;
}

// Cross-object rules on the final state, blamed on the varbind that last touched the object.
std::optional<SetFailure> Txn::check_qbridge() const {
  const auto blame = [&](SnmpStatus status, std::size_t index, std::string why) {
    return SetFailure{index, status, std::move(why)};
  };
  for (const auto& [vid, vlan] : m_state.vlans) {
    const auto touched = m_vlan_touched.find(vid);
    if (touched == m_vlan_touched.end()) continue;
    for (const int p : vlan.untagged) {
      if (!vlan.egress.contains(p)) {
        return blame(SnmpStatus::inconsistent_value, touched->second,
                     vlan_name(vid) + ": port " + std::to_string(p) + " is untagged but not egress");
      }
    }
    for (const int p : vlan.forbidden) {
      if (vlan.egress.contains(p)) {
        return blame(SnmpStatus::inconsistent_value, touched->second,
                     vlan_name(vid) + ": port " + std::to_string(p) + " is both egress and forbidden");
      }
    }
  }
  for (int f = 1; f <= m_state.port_count; ++f) {
    const int pvid = m_state.port(f).pvid;
    const auto vlan = m_state.vlans.find(pvid);
    if (vlan != m_state.vlans.end() && vlan->second.status == RowStatus::active) continue;
    const auto by_pvid = m_pvid_touched.find(f);
    const auto by_vlan = m_vlan_touched.find(pvid);
    if (by_pvid == m_pvid_touched.end() && by_vlan == m_vlan_touched.end()) continue;
    const std::size_t index =
        by_pvid != m_pvid_touched.end() ? by_pvid->second : by_vlan->second;
    return blame(SnmpStatus::inconsistent_value, index,
                 "port " + std::to_string(f) + " would have PVID " + std::to_string(pvid) +
                     ", which is not an active VLAN");
  }
  return std::nullopt;
}

}  // namespace picluster::switchsim::detail
