// SwitchController::release: undo apply for one port whose Pi has left the inventory. The safety
// checks look at the inventory (the caller has already removed the Pi); whether the old storage
// VLAN may go is decided from the switch: it goes when no port but the trunk and the released
// port is a member of it or has it as PVID. The profile plans the SETs (port first, VLAN last),
// which then go through the same sending, fallback and re-planning as apply.
#include "switchctl/controller.hpp"

namespace picluster::switchctl {

namespace {

// Ports other than `port` and the trunk that are members of `vlan` or have it as PVID.
std::vector<int> other_users(const VendorProfile& profile, const SwitchState& state, int port,
                             int trunk_port, int vlan) {
  std::vector<int> out;
  for (const auto& entry : state.map.ports) {
    if (entry.port == port || entry.port == trunk_port) continue;
    const PortView v = profile.view(state, entry);
    if (v.pvid == vlan || v.untagged.contains(vlan) || v.tagged.contains(vlan)) out.push_back(entry.port);
  }
  return out;
}

std::string join_ports(const std::vector<int>& ports) {
  std::string out;
  for (const int p : ports) out += (out.empty() ? "" : ", ") + std::to_string(p);
  return out;
}

std::string port_line(const PortChange& change) {
  std::string line = "port " + std::to_string(change.port) + ":";
  for (const auto& c : change.changes) line += " " + c + ";";
  line.pop_back();
  return line;
}

}  // namespace

Result<void> SwitchController::check_release(int port, int vlan) const {
  const std::string what = "release port " + std::to_string(port) + " (VLAN " + std::to_string(vlan) + "): ";
  if (port < 1) return fail(ErrorCode::invalid_argument, what + "port must be 1 or more");
  if (vlan < 1 || vlan > 4094) return fail(ErrorCode::invalid_argument, what + "VLAN must be 1..4094");
  if (port == m_shelf->fileserver.trunk_port) {
    return fail(ErrorCode::refused, what + "port " + std::to_string(port) + " is the fileserver's trunk port");
  }
  for (const auto& pi : m_shelf->pis) {
    if (pi.port == port) {
      return fail(ErrorCode::refused, what + pi.name + " of the inventory is on port " + std::to_string(port) +
                                          "; remove it from the inventory first");
    }
    if (pi.vlan == vlan) {
      return fail(ErrorCode::refused, what + "VLAN " + std::to_string(vlan) + " is " + pi.name +
                                          "'s storage VLAN in the inventory");
    }
  }
  if (vlan == kDefaultVlan) return fail(ErrorCode::refused, what + "VLAN 1 is the switch's default VLAN");
  if (vlan == m_shelf->public_net.vlan) {
    return fail(ErrorCode::refused, what + "VLAN " + std::to_string(vlan) + " is the shelf's public VLAN");
  }
  return {};
}

Result<Plan> SwitchController::plan_release(const SwitchState& state, int port, int vlan) const {
  if (auto ok = check_release(port, vlan); !ok) return with_context(Result<Plan>(std::unexpected(ok.error())), name());
  const int trunk = m_shelf->fileserver.trunk_port;
  const bool drop = other_users(*m_profile, state, port, trunk, vlan).empty();
  return with_context(m_profile->plan_release(Release{port, vlan, drop}, state), name());
}

Result<Plan> SwitchController::plan_release(int port, int vlan) {
  if (auto ok = check_release(port, vlan); !ok) return with_context(Result<Plan>(std::unexpected(ok.error())), name());
  auto state = read_state();
  if (!state) return std::unexpected(state.error());
  return plan_release(*state, port, vlan);
}

Result<ApplyReport> SwitchController::release(int port, int vlan, const Progress& progress, bool dry_run) {
  if (auto ok = check_release(port, vlan); !ok) return with_context(Result<ApplyReport>(std::unexpected(ok.error())), name());
  auto state = read_state();
  if (!state) return std::unexpected(state.error());
  auto plan = plan_release(*state, port, vlan);
  if (!plan) return std::unexpected(plan.error());
  const std::vector<int> users = other_users(*m_profile, *state, port, m_shelf->fileserver.trunk_port, vlan);
  const std::string kept = state->vlans.contains(vlan) && !users.empty()
                               ? "VLAN " + std::to_string(vlan) + " kept: port(s) " + join_ports(users) + " still use it"
                               : "";
  ApplyReport report;
  auto say = [&](const std::string& line) {
    report.lines.push_back(line);
    if (progress) progress(line);
  };
  if (plan->empty() || dry_run) {
    if (plan->empty()) say("port " + std::to_string(port) + ": already released, nothing to change");
    for (const auto& change : plan->ports) say(port_line(change));
    for (const auto& pdu : plan->postlude) say(pdu.description);
    if (!kept.empty()) say(kept);
    return report;
  }
  auto sent = send_plan(*plan, progress, [this, port, vlan](const SwitchState& s) { return plan_release(s, port, vlan); });
  if (!sent) return sent;
  if (!kept.empty()) {
    sent->lines.push_back(kept);
    if (progress) progress(kept);
  }
  if (auto v = verify_release(port, vlan); !v) return std::unexpected(v.error());
  return sent;
}

Result<void> SwitchController::verify_release(int port, int vlan) {
  auto left = plan_release(port, vlan);
  if (!left) return std::unexpected(left.error());
  if (left->empty()) return {};
  std::string msg = "verify: release of port " + std::to_string(port) + " did not take:";
  for (const auto& c : left->ports) msg += " " + port_line(c) + ";";
  for (const auto& p : left->postlude) msg += " " + p.description + ";";
  msg.pop_back();
  return with_context(Result<void>(fail(ErrorCode::conflict, msg)), name());
}

}  // namespace picluster::switchctl
