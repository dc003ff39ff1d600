#pragma once
// Validates a whole SET PDU against a staged copy of the switch and returns the state after it:
// every varbind applies, or none does (RFC 3416 4.2.5). Order inside the PDU does not matter:
// row creations and destructions are handled first, then columns, then Cisco's VTP apply, and
// the cross-object rules (untagged within egress, PVID names an active VLAN, ...) are checked on
// the final state and blamed on the varbind that last touched the object.

#include <expected>
#include <functional>
#include <vector>

#include "lab/switchsim/knobs.hpp"
#include "lab/switchsim/mib_render.hpp"
#include "lab/switchsim/snmp_types.hpp"
#include "lab/switchsim/switch_state.hpp"

namespace picluster::switchsim {

struct SetContext {
  const Knobs& knobs;
  Mode mode;
  // Whether an object exists before the SET (tells notWritable from noCreation); only asked on
  // the failure path, so a SET never needs a full rendering of the MIB.
  std::function<bool(const Oid&)> exists;
};

// Returns the new state, or the failure of the first bad varbind (index is 0-based). Knob
// fail_set rules with statuses other than commitFailed/undoFailed are applied here too.
std::expected<SwitchState, SetFailure> apply_set(const SwitchState& before,
                                                 const std::vector<VarBind>& varbinds,
                                                 const SetContext& context);

// The first varbind matching a fail_set rule whose status belongs to the commit phase
// (commitFailed, undoFailed), if any.
std::optional<SetFailure> commit_phase_failure(const std::vector<VarBind>& varbinds,
                                               const Knobs& knobs);

}  // namespace picluster::switchsim
