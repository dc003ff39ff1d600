#include "switchctl/controller.hpp"

#include <algorithm>

#include "common/text.hpp"
#include "switchctl/mib.hpp"
#include "switchctl/ownership.hpp"
#include "switchctl/vlan_bridge.hpp"

namespace picluster::switchctl {

namespace {

// fileserver.trunk_native_vlan (optional): a VLAN id, only for the cisco profile (Q-BRIDGE keeps
// the trunk's PVID), and a VLAN the switch has or the plan creates.
Result<void> check_trunk_native_vlan(const inventory::Shelf& shelf, std::string_view profile, const SwitchState& state) {
  const auto& extra = shelf.fileserver.extra;
  if (!extra.contains("trunk_native_vlan")) return {};
  const auto& j = extra["trunk_native_vlan"];
  const std::string field = "shelf '" + shelf.name + "': fileserver: trunk_native_vlan: ";
  if (!j.is_number_integer() || j.get<long>() < 1 || j.get<long>() > 4094) {
    return fail(ErrorCode::invalid_inventory, field + j.dump() + " is not a VLAN id (1-4094)");
  }
  if (profile != "cisco") {
    return fail(ErrorCode::invalid_inventory, field + "only the cisco profile sets the trunk's native VLAN (the " +
                                                  std::string(profile) + " profile leaves the trunk's PVID alone); remove it");
  }
  const int vlan = j.get<int>();
  if (!state.vlans.contains(vlan) && !desired_state(shelf).vlan_names.contains(vlan)) {
    return fail(ErrorCode::invalid_inventory, field + "VLAN " + std::to_string(vlan) + " does not exist on the switch");
  }
  return {};
}

// Agent verdicts after which the same change may still go through as ordered steps.
bool worth_ordered_steps(ErrorStatus s) {
  switch (s) {
    case ErrorStatus::no_access:
    case ErrorStatus::not_writable:
    case ErrorStatus::read_only:
    case ErrorStatus::authorization_error:
      return false;
    default:
      return true;
  }
}

// "pi05 (port 5)", "trunk port 24", or "port 5" for a port without a Pi (release).
std::string who(int port, const std::string& pi, int trunk_port) {
  if (!pi.empty()) return pi + " (port " + std::to_string(port) + ")";
  return (port == trunk_port ? "trunk port " : "port ") + std::to_string(port);
}

const inventory::Pi* find_pi(const inventory::Shelf& shelf, std::string_view name) {
  for (const auto& pi : shelf.pis) if (pi.name == name) return &pi;
  return nullptr;
}

const inventory::Pi* pi_on_port(const inventory::Shelf& shelf, int port) {
  for (const auto& pi : shelf.pis) if (pi.port == port) return &pi;
  return nullptr;
}

std::string mac_str(const inventory::Mac& mac) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < mac.bytes.size(); ++i) {
    if (i != 0) out += ':';
    out += kHex[mac.bytes[i] >> 4];
    out += kHex[mac.bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string_view to_string(PowerAction action) {
  switch (action) {
    case PowerAction::on: return "on";
    case PowerAction::off: return "off";
    case PowerAction::cycle: return "cycle";
    case PowerAction::status: return "status";
  }
  return "?";
}

bool is_raspberry_pi_mac(const inventory::Mac& mac) {
  static constexpr std::uint8_t kOuis[][3] = {
      {0xb8, 0x27, 0xeb}, {0xdc, 0xa6, 0x32}, {0xe4, 0x5f, 0x01}, {0xd8, 0x3a, 0xdd}, {0x2c, 0xcf, 0x67},
      {0x28, 0xcd, 0xc1}};
  return std::any_of(std::begin(kOuis), std::end(kOuis), [&](const auto& oui) {
    return mac.bytes[0] == oui[0] && mac.bytes[1] == oui[1] && mac.bytes[2] == oui[2];
  });
}

SwitchController::SwitchController(const inventory::Shelf& shelf, SnmpSession& session,
                                   Clock& clock, std::unique_ptr<VendorProfile> profile)
    : m_shelf(&shelf), m_session(&session), m_clock(&clock), m_profile(std::move(profile)) {
  m_options.poe_off = std::chrono::seconds(shelf.switch_.poe_off_seconds);
}

Result<SwitchController> SwitchController::create(const inventory::Shelf& shelf,
                                                  SnmpSession& session, Clock& clock) {
  auto profile = make_profile(shelf.switch_.profile);
  if (!profile) {
    return fail(ErrorCode::invalid_inventory, "shelf '" + shelf.name + "': switch.profile: unknown profile '" +
                                                  shelf.switch_.profile + "' (known: qbridge, cisco)");
  }
  return SwitchController(shelf, session, clock, std::move(profile));
}

std::string SwitchController::name() const { return "switch " + m_session->endpoint(); }

template <typename T>
Result<T> SwitchController::named(Result<T> r) const {
  if (!r && r.error().code == ErrorCode::invalid_inventory && !m_inventory_file.empty()) {
    return with_context(std::move(r), m_inventory_file + ": " + name());
  }
  return with_context(std::move(r), name());
}

Result<SwitchState> SwitchController::read_state() {
  auto state = read_shelf_ports(*m_session, *m_shelf);
  if (!state) return named(std::move(state));
  if (auto r = m_profile->read(*m_session, *state); !r) return named(Result<SwitchState>(std::unexpected(r.error())));
  return state;
}

std::set<int> SwitchController::colliding_vlans(const SwitchState& state) const {
  std::set<int> out;
  for (const auto& c : vlan_collisions(*m_shelf, *m_profile, state)) out.insert(c.vlan);
  return out;
}

Result<void> SwitchController::check_ownership(const SwitchState& state) const {
  std::vector<std::string> problems;
  for (const auto& c : vlan_collisions(*m_shelf, *m_profile, state)) problems.push_back(describe(c));
  for (auto& m : foreign_memberships(*m_shelf, *m_profile, state)) problems.push_back(std::move(m));
  if (problems.empty()) return {};
  std::string msg;
  for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
  return fail(ErrorCode::conflict, msg);
}

Result<Plan> SwitchController::plan(const SwitchState& state) const {
  if (auto owned = check_ownership(state); !owned) return named(Result<Plan>(std::unexpected(owned.error())));
  if (auto native = check_trunk_native_vlan(*m_shelf, m_profile->name(), state); !native) {
    return named(Result<Plan>(std::unexpected(native.error())));
  }
  auto out = m_profile->plan(desired_state(*m_shelf), state);
  if (!out) return named(std::move(out));
  out->views_before = all_views(*m_profile, state);
  return out;
}

Result<Plan> SwitchController::plan_for(const std::function<bool(const std::string& pi)>& in_scope) {
  auto state = read_state();
  if (!state) return std::unexpected(state.error());
  // The same refusals as plan(): a storage VLAN that is another network's, a Pi port in one.
  if (auto owned = check_ownership(*state); !owned) return named(Result<Plan>(std::unexpected(owned.error())));
  if (auto native = check_trunk_native_vlan(*m_shelf, m_profile->name(), *state); !native) {
    return named(Result<Plan>(std::unexpected(native.error())));
  }
  Desired desired = desired_state(*m_shelf);
  std::erase_if(desired.ports, [&](const DesiredPort& p) { return !p.pi.empty() && !in_scope(p.pi); });
  auto out = m_profile->plan(desired, *state);
  if (!out) return named(std::move(out));
  out->views_before = all_views(*m_profile, *state);  // apply's read-back of every touched VLAN
  return out;
}

Result<Plan> SwitchController::plan() {
  auto state = read_state();
  if (!state) return std::unexpected(state.error());
  return plan(*state);
}

Result<void> SwitchController::send_steps(const PortChange& change, ApplyReport& report) {
  for (std::size_t i = 0; i < change.steps.size(); ++i) {
    const SetPdu& step = change.steps[i];
    auto status = m_session->set(step.varbinds);
    ++report.pdus;
    if (status && status->ok()) continue;
    const Error failure = status ? Error{ErrorCode::snmp, describe_set_failure(step.varbinds, *status, change.port)}
                                 : status.error();
    bool undo_failed = false;
    for (std::size_t j = i; j-- > 0;) {
      if (change.steps[j].undo.empty()) continue;
      auto undone = m_session->set(change.steps[j].undo);
      ++report.pdus;
      undo_failed = undo_failed || !undone || !undone->ok();
    }
    std::string msg = failure.message + " (step " + std::to_string(i + 1) + " of " + std::to_string(change.steps.size()) + ")";
    if (i > 0) msg += undo_failed ? "; undoing the earlier steps failed, the port may be half changed"
                                  : "; earlier steps undone";
    return fail(failure.code, msg);
  }
  return {};
}

Result<void> SwitchController::apply_port(const PortChange& change, ApplyReport& report, const Replan& replan) {
  auto attempt = [&](const PortChange& c) -> Result<void> {
    if (m_ordered) return send_steps(c, report);
    auto status = m_session->set(c.atomic.varbinds);
    ++report.pdus;
    if (!status) return std::unexpected(status.error());
    if (status->ok()) return {};
    const std::string why = describe_set_failure(c.atomic.varbinds, *status, c.port);
    if (!worth_ordered_steps(status->status) || c.steps.size() <= 1) return fail(ErrorCode::snmp, why);
    if (auto steps = send_steps(c, report); !steps) {
      return fail(steps.error().code, why + "; step by step: " + steps.error().message);
    }
    m_ordered = true;
    report.used_ordered_steps = true;
    return {};
  };
  auto first = attempt(change);
  if (first) return first;
  // A lost response may hide a success, and a retransmitted row creation is refused by the
  // agent: read the switch again and re-plan this port once.
  auto state = read_state();
  if (!state) return first;
  auto again = replan(*state);
  if (!again) return first;
  const PortChange* next = again->find(change.port);
  if (next == nullptr) return {};
  if (next->atomic.varbinds == change.atomic.varbinds && first.error().code != ErrorCode::timeout) return first;
  return attempt(*next);
}

Result<ApplyReport> SwitchController::apply(const Plan& plan, const Progress& progress) {
  auto report = send_plan(plan, progress, [this](const SwitchState& s) { return this->plan(s); });
  if (!report) return report;
  // Verified: the VLANs and the ports this plan changed; another port's drift is a note.
  std::set<int> touched;
  for (const auto& change : plan.ports) touched.insert(change.port);
  auto notes = verify_ports(touched, &plan);
  if (!notes) return std::unexpected(notes.error());
  report->notes = std::move(*notes);
  return report;
}

Result<ApplyReport> SwitchController::send_plan(const Plan& plan, const Progress& progress, const Replan& replan) {
  ApplyReport report;
  auto say = [&](const std::string& line) {
    report.lines.push_back(line);
    if (progress) progress(line);
  };
  for (const auto& pdu : plan.prelude) {
    ++report.pdus;
    if (auto r = set_checked(*m_session, pdu.varbinds, 0); !r) {
      return named(Result<ApplyReport>(std::unexpected(r.error().with_context(pdu.description))));
    }
    say(pdu.description);
  }
  const int trunk = m_shelf->fileserver.trunk_port;
  for (std::size_t i = 0; i < plan.ports.size(); ++i) {
    const PortChange& change = plan.ports[i];
    if (auto r = apply_port(change, report, replan); !r) {
      std::string msg = who(change.port, change.pi, trunk) + ": " + r.error().message + "; port " +
                        std::to_string(change.port) + " left as it was";
      if (i + 1 < plan.ports.size()) msg += "; " + std::to_string(plan.ports.size() - i - 1) + " later port(s) not changed";
      return named(Result<ApplyReport>(fail(r.error().code, msg)));
    }
    ++report.ports_changed;
    std::string line = who(change.port, change.pi, trunk) + ":";
    for (const auto& c : change.changes) line += " " + c + ";";
    line.pop_back();
    say(line);
  }
  for (const auto& pdu : plan.postlude) {
    ++report.pdus;
    if (auto r = set_checked(*m_session, pdu.varbinds, pdu.port); !r) {
      return named(Result<ApplyReport>(std::unexpected(r.error().with_context(pdu.description))));
    }
    say(pdu.description);
  }
  return report;
}

Result<void> SwitchController::verify() {
  std::set<int> every;
  for (int port = 1; port <= m_shelf->switch_.port_count; ++port) every.insert(port);
  auto notes = verify_ports(every);
  if (!notes) return std::unexpected(notes.error());
  return {};
}

Result<std::vector<std::string>> SwitchController::verify_ports(const std::set<int>& ports,
                                                                const Plan* sent) {
  auto state = read_state();
  if (!state) return std::unexpected(state.error());
  if (sent != nullptr && !sent->views_before.empty()) {
    // Every VLAN the sent ports touched, on every port: nothing else joined or left it.
    std::vector<int> changed;
    for (const auto& c : sent->ports) changed.push_back(c.port);
    const Members expected = expected_members(sent->views_before, desired_state(*m_shelf), changed);
    const auto diffs = membership_differences(all_views(*m_profile, *state), expected);
    if (!diffs.empty()) {
      std::string msg = "verify: VLAN membership read back differs:";
      for (const auto& d : diffs) msg += " " + d + ";";
      msg.pop_back();
      return named(Result<std::vector<std::string>>(fail(ErrorCode::conflict, msg)));
    }
  }
  auto left = plan(*state);
  if (!left) return std::unexpected(left.error());
  std::string msg;
  std::vector<std::string> notes;
  for (const auto& c : left->ports) {
    std::string text = who(c.port, c.pi, m_shelf->fileserver.trunk_port) + " (";
    for (std::size_t k = 0; k < c.changes.size(); ++k) text += (k ? ", " : "") + c.changes[k];
    text += ")";
    if (ports.contains(c.port)) {
      msg += " " + text + ";";
    } else {
      notes.push_back(text + " differs from the inventory; not changed by this run");
    }
  }
  if (!left->prelude.empty()) msg += " VLANs missing;";
  if (msg.empty()) return notes;
  msg.pop_back();
  return named(Result<std::vector<std::string>>(
      fail(ErrorCode::conflict, "verify: the switch still differs from the inventory:" + msg)));
}

Result<PoeState> SwitchController::read_poe(const PortEntry& port) {
  const Oid index{static_cast<std::uint32_t>(port.poe_group), static_cast<std::uint32_t>(port.poe_port)};
  std::vector<Oid> oids = {oid_cat(mib::pethPsePortAdminEnable, index), oid_cat(mib::pethPsePortDetectionStatus, index)};
  if (m_profile->name() == "cisco") oids.push_back(oid_cat(mib::cpeExtPsePortPwrConsumption, index));
  const std::string what = "read PoE of port " + std::to_string(port.port);
  auto vbs = m_session->get(oids);
  if (!vbs) return std::unexpected(vbs.error().with_context(what));
  if (vbs->size() < 2) return fail(ErrorCode::snmp, what + ": " + oid_name(oids[0]) + ": no value");
  const std::string where = "port " + std::to_string(port.port);
  auto admin = number_of((*vbs)[0], where);
  if (!admin) return std::unexpected(admin.error().with_context(what));
  auto d = number_of((*vbs)[1], where);
  if (!d) return std::unexpected(d.error().with_context(what));
  PoeState poe;
  poe.admin_on = *admin == mib::kTrue;
  poe.detection = *d >= 1 && *d <= 6 ? static_cast<PoeDetection>(*d) : PoeDetection::unknown;
  if (vbs->size() > 2 && !(*vbs)[2].value.is_exception()) {
    auto mw = number_of((*vbs)[2], where);
    if (!mw) return std::unexpected(mw.error().with_context(what));
    poe.power_mw = *mw;
  }
  return poe;
}

namespace {

// Whether `learned` shows that the Pi is on its port: "" when it is (or nothing is known), else the
// problem. `note` gets what was not checked.
std::string identity_problem(const inventory::Pi& pi, const PortEntry& port, const std::vector<LearnedMac>& learned,
                             std::string& note) {
  std::vector<std::string> on_port;
  int elsewhere = 0;
  bool seen = false;
  for (const auto& l : learned) {
    if (l.port == port.port) {
      const std::string m = mac_str(l.mac);
      if (std::find(on_port.begin(), on_port.end(), m) == on_port.end()) on_port.push_back(m);
      seen = seen || l.mac == *pi.mac;
    } else if (l.mac == *pi.mac && l.port != 0) {
      elsewhere = l.port;
    }
  }
  if (seen) return "";
  if (!on_port.empty()) {
    std::string list;
    for (const auto& m : on_port) list += (list.empty() ? "" : ", ") + m;
    return "port " + std::to_string(port.port) + " has learned " + list + ", not " + pi.name + "'s " + mac_str(*pi.mac);
  }
  if (elsewhere != 0) {
    return pi.name + "'s MAC " + mac_str(*pi.mac) + " is learned on port " + std::to_string(elsewhere) +
           ", not on its port " + std::to_string(port.port);
  }
  note = "no MAC learned on port " + std::to_string(port.port) + "; identity not checked";
  return "";
}

}  // namespace

Result<void> SwitchController::check_identity(const inventory::Pi& pi, const PortEntry& port,
                                              bool force, PowerResult& result) {
  if (!pi.mac) {
    result.notes.push_back("no MAC in the inventory; identity not checked");
    return {};
  }
  auto state = read_shelf_ports(*m_session, *m_shelf);
  if (!state) return std::unexpected(state.error());
  auto learned = read_fdb(*m_session, state->map);
  if (!learned) return std::unexpected(learned.error());
  std::string note;
  const std::string problem = identity_problem(pi, port, *learned, note);
  if (!note.empty()) result.notes.push_back(note);
  if (problem.empty()) return {};
  if (force) {
    result.notes.push_back("forced: " + problem);
    return {};
  }
  return fail(ErrorCode::refused, problem + "; refusing to cut power (use --force to override)");
}

Result<const inventory::Pi*> SwitchController::power_pi(std::string_view pi_name) const {
  const inventory::Pi* pi = find_pi(*m_shelf, pi_name);
  if (pi == nullptr) {
    return fail(ErrorCode::not_found, "no Pi named " + printable(pi_name) + " in shelf '" + m_shelf->name + "'");
  }
  if (pi->port == m_shelf->fileserver.trunk_port) {
    return fail(ErrorCode::refused, pi->name + ": port " + std::to_string(pi->port) + " is the fileserver's trunk port");
  }
  return pi;
}

Result<const PortEntry*> SwitchController::power_port(const inventory::Pi& pi,
                                                      const PortMap& map) const {
  const PortEntry* entry = map.by_port(pi.port);
  if (entry != nullptr && entry->has_poe()) return entry;
  return named(Result<const PortEntry*>(
      fail(ErrorCode::not_found,
           pi.name + ": port " + std::to_string(pi.port) +
               (entry == nullptr ? " is not in the switch's port map" : " has no PoE row"))));
}

Result<void> SwitchController::check_power_targets(const std::vector<std::string>& names, PowerAction action,
                                                  bool force) {
  std::vector<const inventory::Pi*> pis;
  for (const auto& n : names) {
    auto pi = power_pi(n);
    if (!pi) return std::unexpected(pi.error());
    pis.push_back(*pi);
  }
  if (pis.empty()) return {};
  auto state = read_shelf_ports(*m_session, *m_shelf);
  if (!state) return named(Result<void>(std::unexpected(state.error())));
  std::vector<const PortEntry*> entries;
  for (const auto* pi : pis) {
    auto entry = power_port(*pi, state->map);
    if (!entry) return std::unexpected(entry.error());
    // The PoE row must answer, not only be listed.
    if (auto poe = read_poe(**entry); !poe) return named(Result<void>(std::unexpected(poe.error().with_context(pi->name))));
    entries.push_back(*entry);
  }
  if (action != PowerAction::off && action != PowerAction::cycle) return {};
  // Identity of every Pi whose power would be cut, from one read of the forwarding database.
  auto learned = read_fdb(*m_session, state->map);
  if (!learned) return named(Result<void>(std::unexpected(learned.error())));
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < pis.size(); ++i) {
    if (!pis[i]->mac) continue;
    std::string note;
    const std::string problem = identity_problem(*pis[i], *entries[i], *learned, note);
    if (!problem.empty()) problems.push_back(pis[i]->name + ": " + problem);
  }
  if (problems.empty() || force) return {};
  std::string msg;
  for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
  return named(Result<void>(fail(ErrorCode::refused, msg + "; refusing to cut power: nothing was switched (use --force to override)")));
}

Result<PowerResult> SwitchController::power(std::string_view pi_name, PowerAction action,
                                            bool force) {
  auto found = power_pi(pi_name);
  if (!found) return std::unexpected(found.error());
  const inventory::Pi* pi = *found;
  auto state = read_shelf_ports(*m_session, *m_shelf);
  if (!state) return named(Result<PowerResult>(std::unexpected(state.error())));
  auto port = power_port(*pi, state->map);
  if (!port) return std::unexpected(port.error());
  const PortEntry* entry = *port;
  PowerResult result{pi->name, pi->port, {}, {}, {}};
  auto body = [&]() -> Result<void> {
    auto before = read_poe(*entry);
    if (!before) return std::unexpected(before.error());
    result.before = *before;
    if (action == PowerAction::status) {
      result.after = *before;
      return {};
    }
    if (action != PowerAction::on) {
      if (auto ok = check_identity(*pi, *entry, force, result); !ok) return ok;
      if (auto r = set_checked(*m_session, {poe_admin_varbind(*entry, false)}, pi->port); !r) return r;
    }
    if (action == PowerAction::cycle) m_clock->sleep_for(m_options.poe_off);
    if (action != PowerAction::off) {
      if (auto r = set_checked(*m_session, {poe_admin_varbind(*entry, true)}, pi->port); !r) return r;
    }
    return wait_for_power(*entry, action, result);
  };
  if (auto r = body(); !r) return named(Result<PowerResult>(std::unexpected(r.error().with_context(pi->name))));
  return result;
}

Result<void> SwitchController::wait_for_power(const PortEntry& entry, PowerAction action, PowerResult& result) {
  const auto deadline = m_clock->now() + m_options.power_on_timeout;
  for (int polls = 0;; ++polls) {
    auto now = read_poe(entry);
    if (!now) return std::unexpected(now.error());
    result.after = *now;
    if (action == PowerAction::off || now->detection == PoeDetection::delivering_power) return {};
    if (m_clock->now() >= deadline || polls > 100000) {
      return fail(ErrorCode::timeout, "port " + std::to_string(entry.port) + ": PoE is on but detection status is '" +
                                          std::string(to_string(now->detection)) + "' after " +
                                          std::to_string(m_options.power_on_timeout.count() / 1000) + " s");
    }
    m_clock->sleep_for(m_options.poll_interval);
  }
}

Result<std::vector<PortStatus>> SwitchController::port_status() {
  auto st = status();
  if (!st) return std::unexpected(st.error());
  return std::move(st->ports);
}

Result<SwitchStatus> SwitchController::status() {
  auto state = read_state();
  if (!state) return std::unexpected(state.error());
  auto learned = read_fdb(*m_session, state->map);
  if (!learned) return named(Result<SwitchStatus>(std::unexpected(learned.error())));
  auto planned = plan(*state);
  SwitchStatus out;
  if (!planned) out.problems.push_back(planned.error().message);
  out.notes = state->map.notes;
  if (m_profile->name() == "qbridge") {
    out.notes.push_back("PortLists: " + std::string(to_string(state->portlist_form)));
  }
  out.left_out = state->map.left_out;
  out.foreign_vlans = foreign_vlans(*m_shelf, *state);
  for (const auto& entry : state->map.ports) {
    PortStatus row;
    row.entry = entry;
    const inventory::Pi* pi = pi_on_port(*m_shelf, entry.port);
    row.pi = pi != nullptr ? pi->name : "";
    row.role = pi != nullptr ? "pi" : entry.port == m_shelf->fileserver.trunk_port ? "trunk" : "unmanaged";
    row.view = m_profile->view(*state, entry);
    if (auto it = state->poe.find(entry.port); it != state->poe.end()) row.poe = it->second;
    // One line per MAC: a MAC learned in several filtering databases (VLANs) is listed once.
    for (const auto& l : *learned) {
      if (l.port != entry.port) continue;
      std::string mac = mac_str(l.mac);
      if (std::find(row.macs.begin(), row.macs.end(), mac) == row.macs.end())
        row.macs.push_back(std::move(mac));
    }
    if (planned) {
      if (const PortChange* c = planned->find(entry.port)) row.drift = c->changes;
    } else if (row.role != "unmanaged") {
      row.drift.push_back(planned.error().message);
    }
    out.ports.push_back(std::move(row));
  }
  return out;
}

Result<Discovery> SwitchController::discover() {
  auto state = read_shelf_ports(*m_session, *m_shelf);
  if (!state) return named(Result<Discovery>(std::unexpected(state.error())));
  auto fdb = read_fdb_tables(*m_session, state->map);
  if (!fdb) return named(Result<Discovery>(std::unexpected(fdb.error())));
  if (!fdb->served) {
    std::string tried;
    for (const auto& t : fdb->tried) tried += (tried.empty() ? "" : "; ") + t;
    return named(Result<Discovery>(fail(
        ErrorCode::not_found,
        "discover: no forwarding table could be read: neither dot1qTpFdbTable (Q-BRIDGE-MIB) nor dot1dTpFdbTable "
        "(BRIDGE-MIB) is served (" + tried + ")")));
  }
  // A served, empty table is an empty list: nothing learned yet (devices off, the switch just started).
  Discovery d;
  d.learned = std::move(fdb->learned);
  for (const auto& l : d.learned) {
    if (is_raspberry_pi_mac(l.mac) && l.port == 0) d.unplaced_pis.push_back(l);
    if (!is_raspberry_pi_mac(l.mac) || l.port == 0 || l.port == m_shelf->fileserver.trunk_port) continue;
    if (pi_on_port(*m_shelf, l.port) == nullptr) d.unknown_pis.push_back(l);
  }
  return d;
}

Result<std::vector<LearnedMac>> SwitchController::learned_macs() {
  auto state = read_shelf_ports(*m_session, *m_shelf);
  if (!state) return named(Result<std::vector<LearnedMac>>(std::unexpected(state.error())));
  if (auto r = add_bridge_ports_per_vlan(*m_session, *m_shelf, state->map); !r) {
    return named(Result<std::vector<LearnedMac>>(std::unexpected(r.error())));
  }
  return named(read_fdb(*m_session, state->map));
}

std::string format_mac(const inventory::Mac& mac) { return mac_str(mac); }

}  // namespace picluster::switchctl
