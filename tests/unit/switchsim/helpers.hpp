#pragma once
// Shorthands for the simulator's unit tests.

#include <string>

#include "lab/switchsim/mib_render.hpp"
#include "lab/switchsim/set_transaction.hpp"

namespace picluster::switchsim::testing {

inline Oid O(const std::string& text) { return parse_oid(text).value(); }
inline VarBind vb(const std::string& oid, Value value) { return {O(oid), std::move(value)}; }
inline Value bytes(std::initializer_list<unsigned char> octets) {
  return Value::octets(std::string(octets.begin(), octets.end()));
}

// Runs apply_set against a fresh rendering of `state`.
inline std::expected<SwitchState, SetFailure> try_set(const SwitchState& state, const Knobs& knobs,
                                                      Mode mode, const std::vector<VarBind>& vbs) {
  const MibMap current = render_mib(state, knobs, mode, {});
  return apply_set(state, vbs,
                   SetContext{knobs, mode, [&current](const Oid& oid) { return current.contains(oid); }});
}

// dot1qVlanStaticTable column OIDs.
inline std::string static_col(int column, int vid) {
  return "1.3.6.1.2.1.17.7.1.4.3.1." + std::to_string(column) + "." + std::to_string(vid);
}
inline std::string pvid_oid(int bridge_port) {
  return "1.3.6.1.2.1.17.7.1.4.5.1.1." + std::to_string(bridge_port);
}
inline std::string poe_admin_oid(int poe_port) {
  return "1.3.6.1.2.1.105.1.1.1.3.1." + std::to_string(poe_port);
}

}  // namespace picluster::switchsim::testing
