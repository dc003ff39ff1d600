// Subcommands for the switch: `switch show`, `switch apply`, `power`, `discover`. All switch work
// goes through switchctl::SwitchController; this file only parses arguments and prints.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "orchestrator/cli/cli.hpp"
#include "orchestrator/cli/report.hpp"
#include "orchestrator/enroll.hpp"
#include "orchestrator/reconcile.hpp"
#include "orchestrator/journal.hpp"
#include "orchestrator/power_hold.hpp"
#include "switchctl/controller.hpp"
#include "switchctl/net_snmp_session.hpp"

namespace picluster::cli {

namespace {

using namespace switchctl;
using nlohmann::ordered_json;

// Everything a switch subcommand needs, kept at stable addresses (the controller points into it).
struct SwitchContext {
  inventory::Inventory inventory;
  const inventory::Shelf* shelf = nullptr;
  std::unique_ptr<SnmpSession> session;
  SystemClock clock;
  std::unique_ptr<SwitchController> controller;
};

// Opens the SNMP session and the controller for an opened context.
Result<void> connect_switch(const Context& ctx, SwitchContext& sw) {
  std::filesystem::path source = sw.inventory.source;
  if (source.empty()) source = ctx.inventory_path;
  const std::filesystem::path dir =
      source.parent_path().empty() ? std::filesystem::path(".") : source.parent_path();
  auto session = open_switch_session(*sw.shelf, dir);
  if (!session) return std::unexpected(session.error());
  sw.session = std::move(*session);
  auto controller = SwitchController::create(*sw.shelf, *sw.session, sw.clock);
  if (!controller) return std::unexpected(controller.error());
  controller->set_inventory_file(source.string());
  sw.controller = std::make_unique<SwitchController>(std::move(*controller));
  return {};
}

Result<std::unique_ptr<SwitchContext>> open_switch(const Context& ctx, bool connect = true) {
  auto out = std::make_unique<SwitchContext>();
  auto inv = load_inventory(ctx);
  if (!inv) return std::unexpected(inv.error());
  out->inventory = std::move(*inv);
  auto shelf = select_shelf(out->inventory, ctx);
  if (!shelf) return std::unexpected(shelf.error());
  out->shelf = *shelf;
  if (!connect) return out;
  if (auto ok = connect_switch(ctx, *out); !ok) return std::unexpected(ok.error());
  return out;
}

ordered_json poe_json(const std::optional<PoeState>& poe) {
  if (!poe) return nullptr;
  ordered_json j;
  j["admin"] = poe->admin_on ? (*poe->admin_on ? "on" : "off") : "unknown";
  j["detection"] = std::string(to_string(poe->detection));
  j["power_mw"] = poe->power_mw ? ordered_json(*poe->power_mw) : ordered_json(nullptr);
  return j;
}

std::string poe_text(const std::optional<PoeState>& poe) {
  if (!poe) return "-";
  std::string out = poe->admin_on ? (*poe->admin_on ? "on " : "off ") : "? ";
  out += to_string(poe->detection);
  if (poe->power_mw) out += " " + std::to_string(*poe->power_mw / 1000) + "." + std::to_string(*poe->power_mw % 1000 / 100) + "W";
  return out;
}

ordered_json status_json(const SwitchController& c, const std::string& profile,
                         const SwitchStatus& status) {
  ordered_json ports = ordered_json::array();
  for (const auto& r : status.ports) {
    ordered_json p;
    p["port"] = r.entry.port;
    p["bridge_port"] = r.entry.bridge_port;
    p["if_index"] = r.entry.if_index;
    p["if_name"] = r.entry.if_name;
    p["numbering"] = r.entry.numbering;
    p["poe_index"] = r.entry.has_poe() ? ordered_json(std::to_string(r.entry.poe_group) + "." + std::to_string(r.entry.poe_port))
                                        : ordered_json(nullptr);
    p["role"] = r.role;
    p["pi"] = r.pi.empty() ? ordered_json(nullptr) : ordered_json(r.pi);
    p["pvid"] = r.view.pvid ? ordered_json(*r.view.pvid) : ordered_json(nullptr);
    p["untagged"] = r.view.untagged;
    p["tagged"] = r.view.tagged;
    p["poe"] = poe_json(r.poe);
    p["macs"] = r.macs;
    p["drift"] = r.drift;
    ports.push_back(std::move(p));
  }
  ordered_json left_out = ordered_json::array(), foreign = ordered_json::array();
  for (const auto& l : status.left_out) {
    left_out.push_back({{"if_name", l.if_name}, {"if_index", l.if_index}, {"bridge_port", l.bridge_port}, {"why", l.numbering}});
  }
  for (const auto& [vlan, name] : status.foreign_vlans) foreign.push_back({{"vlan", vlan}, {"name", name}});
  return ordered_json{{"switch", c.name().substr(7)},
                      {"profile", profile},
                      {"ports", ports},
                      {"problems", status.problems},
                      {"notes", status.notes},
                      {"left_out", left_out},
                      {"foreign_vlans", foreign}};
}

void print_status_table(const SwitchStatus& status) {
  const std::vector<PortStatus>& rows = status.ports;
  std::printf("%-5s %-10s %-12s %-5s %-10s %-14s %-28s %-18s %s\n", "PORT", "PI", "IFNAME", "PVID", "UNTAGGED",
              "TAGGED", "POE", "MACS", "DRIFT");
  for (const auto& r : rows) {
    std::string macs;
    for (const auto& m : r.macs) macs += (macs.empty() ? "" : ",") + m;
    std::string drift;
    for (const auto& d : r.drift) drift += (drift.empty() ? "" : "; ") + d;
    const std::string name = r.pi.empty() ? (r.role == "trunk" ? "(trunk)" : "-") : r.pi;
    std::printf("%-5d %-10s %-12s %-5s %-10s %-14s %-28s %-18s %s\n", r.entry.port, name.c_str(),
                r.entry.if_name.empty() ? "-" : r.entry.if_name.c_str(),
                r.view.pvid ? std::to_string(*r.view.pvid).c_str() : "-",
                format_ranges(r.view.untagged).c_str(), format_ranges(r.view.tagged).c_str(),
                poe_text(r.poe).c_str(), macs.empty() ? "-" : macs.c_str(), drift.empty() ? "in sync" : drift.c_str());
  }
  // How each front-panel number was derived, then what was left out and what else is on the switch.
  std::printf("\nnumbering:\n");
  for (const auto& r : rows) std::printf("  port %d: %s\n", r.entry.port, r.entry.numbering.c_str());
  for (const auto& l : status.left_out) std::printf("  %s (ifIndex %d): %s\n", l.if_name.c_str(), l.if_index, l.numbering.c_str());
  for (const auto& n : status.notes) std::printf("note: %s\n", n.c_str());
  for (const auto& [vlan, name] : status.foreign_vlans) {
    std::printf("foreign VLAN %d%s: not the inventory's; never allocated, never shared\n", vlan,
                name.empty() ? "" : (" '" + name + "'").c_str());
  }
}

// Prints the table (or JSON), then fails when `switch apply` could not run, so a script sees it.
Result<int> run_show(const Context& ctx, bool json) {
  auto sw = open_switch(ctx);
  if (!sw) return std::unexpected(sw.error());
  auto status = (*sw)->controller->status();
  if (!status) return std::unexpected(status.error());
  if (json) {
    std::cout << status_json(*(*sw)->controller, (*sw)->shelf->switch_.profile, *status).dump(2)
              << "\n";
  } else {
    print_status_table(*status);
  }
  if (status->problems.empty()) return 0;
  std::string msg = "switch apply would fail: ";
  for (std::size_t i = 0; i < status->problems.size(); ++i)
    msg += (i ? "; " : "") + status->problems[i];
  return fail(ErrorCode::conflict, msg);
}

// Every change goes into the audit journal, whichever verb made it.
void journal(const Context& ctx, const std::string& verb, const std::string& shelf, const std::string& pi,
             const std::string& step, const std::string& result, const std::string& detail) {
  orchestrator::JournalEntry e;
  e.verb = verb;
  e.shelf = shelf;
  e.pi = pi;
  e.step = step;
  e.result = result;
  e.detail = detail;
  if (auto ok = orchestrator::Journal(orchestrator::state_dir(ctx.inventory_path)).append(e); !ok) {
    std::cerr << "picluster: warning: " << ok.error().message << "\n";
  }
}

Result<int> run_apply(const Context& ctx, bool dry_run) {
  auto sw = open_switch(ctx);
  if (!sw) return std::unexpected(sw.error());
  SwitchController& c = *(*sw)->controller;
  auto plan = c.plan();
  if (!plan) return std::unexpected(plan.error());
  if (plan->empty()) {
    std::cout << c.name() << ": in sync with the inventory, nothing to change\n";
    return 0;
  }
  if (dry_run) {
    std::cout << "# " << c.name() << ": would send " << plan->prelude.size() + plan->ports.size()
              << " SET PDU(s) for " << plan->ports.size() << " port(s) (dry run, nothing sent)\n"
              << render_plan(*plan);
    return 0;
  }
  // Not while apply, add, rebuild or power runs on this shelf (the lock `power` takes).
  auto lock = orchestrator::ShelfLock::acquire(orchestrator::state_dir(ctx.inventory_path),
                                               (*sw)->shelf->name);
  if (!lock) return std::unexpected(lock.error());
  const bool tty = stdout_is_terminal();
  Progress progress;
  if (tty) progress = [](std::string_view line) { std::cout << "  " << line << "\n" << std::flush; };
  auto report = c.apply(*plan, progress);
  if (!report) {
    journal(ctx, "switch apply", (*sw)->shelf->name, "", "switch", "failed", report.error().message);
    return std::unexpected(report.error());
  }
  std::string detail;
  for (const auto& line : report->lines) detail += (detail.empty() ? "" : "\n") + line;
  journal(ctx, "switch apply", (*sw)->shelf->name, "", "switch", "ok", detail);
  if (!tty) for (const auto& line : report->lines) std::cout << "  " << line << "\n";
  std::cout << c.name() << ": changed " << report->ports_changed << " port(s) with " << report->pdus
            << " SET PDU(s)" << (report->used_ordered_steps ? " (ordered steps)" : "") << "; verified\n";
  return 0;
}

ordered_json hold_json(const std::optional<orchestrator::PowerHold>& hold) {
  if (!hold) return nullptr;
  return {{"since", hold->since}, {"user", hold->user}, {"reason", hold->reason}};
}

// `power off` holds the Pi off (apply, watch, rebuild and rollback leave it off); `power on` and
// `power cycle` release the hold. The hold is written before PoE goes off (and dropped again if
// the switch refuses), so a crash in between errs on the side of leaving the Pi alone.
struct HoldStep {
  std::optional<orchestrator::PowerHold> before;  // the hold the Pi had
  std::optional<orchestrator::PowerHold> after;   // the hold it has now
  std::string unreadable;                          // status only: why the holds could not be read
};

Result<HoldStep> hold_before_power(const orchestrator::PowerHolds& holds, const std::string& pi, PowerAction action,
                                   const std::string& reason) {
  HoldStep step;
  auto found = holds.find(pi);
  if (!found && action == PowerAction::status) {
    step.unreadable = found.error().message;  // reading the switch needs no hold
    return step;
  }
  if (!found) return std::unexpected(found.error());
  step.before = *found;
  step.after = *found;
  if (action == PowerAction::off) {
    auto held = holds.hold(pi, {"", "", reason});
    if (!held) return std::unexpected(held.error());
    step.after = *held;
  } else if (action == PowerAction::on || action == PowerAction::cycle) {
    if (auto released = holds.release(pi); !released) return std::unexpected(released.error());
    step.after.reset();
  }
  return step;
}

// Names in order, each once; a name given twice is said once on stderr ("pi01 named twice: powered once").
std::vector<std::string> unique_names(const std::vector<std::string>& names, const std::string& action_text) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (std::find(out.begin(), out.end(), n) != out.end()) continue;
    out.push_back(n);
    if (const auto count = std::count(names.begin(), names.end(), n); count > 1) {
      std::cerr << "picluster: note: " << n << " named " << count << " times; powered " << action_text << " once\n";
    }
  }
  return out;
}

// `power off|cycle --all` of more than one Pi: the plan, then --yes or a "yes" typed on a terminal.
Result<void> confirm_all(const std::string& action_text, const std::vector<std::string>& targets,
                         const inventory::Shelf& shelf, bool yes) {
  std::string list;
  for (const auto& n : targets) list += (list.empty() ? "" : ", ") + n + " (port " + std::to_string(shelf.find_pi(n)->port) + ")";
  const std::string plan = "power " + action_text + " --all switches PoE off on " + std::to_string(targets.size()) +
                           " Pis of shelf '" + shelf.name + "': " + list;
  if (yes) return {};
  if (::isatty(STDIN_FILENO) != 1 || ::isatty(STDERR_FILENO) != 1) {
    return fail(ErrorCode::invalid_argument, plan + "; say --yes to confirm");
  }
  std::cerr << plan << "\nType 'yes' to go on: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "yes") return fail(ErrorCode::refused, "power " + action_text + " --all: not confirmed; nothing was switched");
  return {};
}

Result<int> run_power(const Context& ctx, const std::string& action_text, const std::vector<std::string>& given,
                      bool all, bool force, bool json, bool dry_run, const std::string& reason, bool yes) {
  const std::vector<std::string> names = unique_names(given, action_text);
  if (names.empty() && !all) return fail(ErrorCode::invalid_argument, "power " + action_text + ": name at least one Pi, or say --all");
  if (!names.empty() && all) return fail(ErrorCode::invalid_argument, "power " + action_text + ": give Pi names or --all, not both");
  if (!reason.empty() && action_text != "off") return fail(ErrorCode::invalid_argument, "power " + action_text + ": --reason goes with power off");
  const PowerAction action = action_text == "on" ? PowerAction::on : action_text == "off" ? PowerAction::off
                           : action_text == "cycle" ? PowerAction::cycle : PowerAction::status;
  auto sw = open_switch(ctx, false);
  if (!sw) return std::unexpected(sw.error());
  std::vector<std::string> targets = names;
  if (all) for (const auto& pi : (*sw)->shelf->pis) targets.push_back(pi.name);
  if (targets.empty()) {
    std::cout << "no Pis in shelf '" << (*sw)->shelf->name << "'; nothing to power " << action_text
              << "\n";
    return 0;
  }
  if (dry_run) {
    for (const auto& n : targets) {
      if ((*sw)->shelf->find_pi(n) == nullptr) {
        return fail(ErrorCode::not_found,
                    "no Pi named " + n + " in shelf '" + (*sw)->shelf->name + "'");
      }
    }
    const orchestrator::PowerHolds holds(orchestrator::state_dir(ctx.inventory_path), (*sw)->shelf->name);
    for (const auto& n : targets) {
      auto hold = holds.find(n);
      if (!hold) return std::unexpected(hold.error());
      std::string note;
      if (action == PowerAction::off) note = " and hold it off";
      if (*hold && (action == PowerAction::on || action == PowerAction::cycle))
        note = " and release its hold (" + orchestrator::describe(**hold) + ")";
      std::cout << "would power " << action_text << " " << n << " (port "
                << (*sw)->shelf->find_pi(n)->port << ")" << note << " (dry run, nothing sent)\n";
    }
    return 0;
  }
  const bool cuts = action == PowerAction::off || action == PowerAction::cycle;
  if (all && cuts && targets.size() > 1) {
    if (auto ok = confirm_all(action_text, targets, *(*sw)->shelf, yes); !ok) return std::unexpected(ok.error());
  }
  if (auto ok = connect_switch(ctx, **sw); !ok) return std::unexpected(ok.error());
  ordered_json out = ordered_json::array();
  std::optional<orchestrator::ShelfLock> shelf_lock;  // not while apply, add or rebuild runs
  if (action != PowerAction::status) {
    auto l = orchestrator::ShelfLock::acquire(orchestrator::state_dir(ctx.inventory_path), (*sw)->shelf->name);
    if (!l) return std::unexpected(l.error());
    shelf_lock.emplace(std::move(*l));
  }
  // Every name is checked (a Pi of the shelf, not the trunk, mapped with a PoE row that answers,
  // and for off/cycle the learned MACs) before any is sent: all or nothing.
  if (auto ok = (*sw)->controller->check_power_targets(targets, action, force); !ok)
    return std::unexpected(ok.error());
  const std::string& shelf = (*sw)->shelf->name;
  const orchestrator::PowerHolds holds(orchestrator::state_dir(ctx.inventory_path), shelf);
  if (auto readable = holds.read(); !readable && action != PowerAction::status)
    return std::unexpected(readable.error());
  for (const auto& n : targets) {
    auto hold = hold_before_power(holds, n, action, reason);
    if (!hold) return std::unexpected(hold.error().with_context(n));
    auto r = (*sw)->controller->power(n, action, force);
    if (!r && action == PowerAction::off && !hold->before) (void)holds.release(n);  // nothing was cut
    if (action != PowerAction::status) {
      journal(ctx, "power", shelf, n, "power", r ? "ok" : "failed",
              r ? "PoE " + action_text + ", port " + std::to_string(r->port) : r.error().message);
    }
    std::vector<std::string> notes;
    if (r && action == PowerAction::off) {
      notes.push_back(orchestrator::describe(*hold->after) + "; apply and watch leave it off until `picluster power on " +
                      n + "`");
      journal(ctx, "power", shelf, n, "hold", "ok", orchestrator::describe(*hold->after));
    } else if (hold->before && !hold->after) {
      notes.push_back("hold released (was " + orchestrator::describe(*hold->before) + ")");
      journal(ctx, "power", shelf, n, "hold", "ok", "released (was " + orchestrator::describe(*hold->before) + ")");
    } else if (hold->after && action == PowerAction::status) {
      notes.push_back(orchestrator::describe(*hold->after));
    } else if (!hold->unreadable.empty()) {
      notes.push_back("warning: " + hold->unreadable);
    }
    if (!r) return std::unexpected(r.error());
    for (const auto& note : r->notes) notes.push_back(note);
    if (json) {
      out.push_back({{"pi", r->pi}, {"port", r->port}, {"before", poe_json(r->before)}, {"after", poe_json(r->after)},
                     {"hold", hold_json(hold->after)}, {"notes", notes}});
      continue;
    }
    std::cout << r->pi << " (port " << r->port << "): " << (action == PowerAction::status ? "" : "power " + action_text + ": ")
              << poe_text(r->after) << "\n";
    for (const auto& note : notes) std::cout << "  note: " << note << "\n";
  }
  if (json) std::cout << out.dump(2) << "\n";
  return 0;
}

// `switch probe`: read only; exit 0 when apply could drive the switch, else 1 (saying why).
Result<int> run_probe(const Context& ctx, bool json) {
  auto sw = open_switch(ctx);
  if (!sw) return std::unexpected(sw.error());
  auto r = (*sw)->controller->probe();
  if (!r) return std::unexpected(r.error());
  ordered_json tables = ordered_json::array(), ports = ordered_json::array(), left = ordered_json::array(),
               foreign = ordered_json::array();
  for (const auto& t : r->tables) tables.push_back({{"mib", t.mib}, {"table", t.table}, {"served", t.served}});
  for (const auto& p : r->ports) {
    ports.push_back({{"port", p.port}, {"if_name", p.if_name}, {"if_index", p.if_index}, {"bridge_port", p.bridge_port},
                     {"numbering", p.numbering}, {"poe", p.has_poe()}});
  }
  for (const auto& p : r->left_out) left.push_back({{"if_name", p.if_name}, {"if_index", p.if_index}, {"why", p.numbering}});
  for (const auto& [vlan, name] : r->foreign_vlans) foreign.push_back({{"vlan", vlan}, {"name", name}});
  if (json) {
    std::cout << ordered_json{{"switch", (*sw)->controller->name().substr(7)}, {"profile", r->profile},
                              {"tables", tables}, {"ports", ports}, {"left_out", left}, {"notes", r->notes},
                              {"portlist_form", r->portlist_form}, {"bridge_tables", r->bridge_tables},
                              {"poe_indexing", r->poe_indexing},
                              {"poe_rows", r->poe_rows}, {"foreign_vlans", foreign},
                              {"drivable", r->drivable}, {"why", r->why}}.dump(2)
              << "\n";
  } else {
    std::cout << (*sw)->controller->name() << " (profile " << r->profile << ")\ntables:\n";
    for (const auto& t : r->tables) std::cout << "  " << (t.served ? "served  " : "missing ") << t.mib << " " << t.table << "\n";
    std::cout << "ports (" << r->ports.size() << "):\n";
    for (const auto& p : r->ports) std::cout << "  " << p.port << ": " << p.if_name << " (" << p.numbering << ")\n";
    for (const auto& p : r->left_out) std::cout << "  left out: " << p.if_name << " (" << p.numbering << ")\n";
    std::cout << "bridge tables: " << r->bridge_tables << "\n";
    std::cout << "PortLists: " << r->portlist_form << "\nPoE rows: " << r->poe_rows
              << (r->poe_indexing.empty() ? "" : " (indexed by " + r->poe_indexing + ")") << "\n";
    for (const auto& [vlan, name] : r->foreign_vlans) std::cout << "foreign VLAN " << vlan << " '" << name << "'\n";
    for (const auto& n : r->notes) std::cout << "note: " << n << "\n";
    std::cout << (r->drivable ? "drivable: yes\n" : "drivable: no: " + r->why + "\n");
  }
  return r->drivable ? 0 : 1;
}

// On a netboot shelf with a fileserver: the unknown Pis with what dnsmasq's log says of them.
// nullopt elsewhere; a log that cannot be read is said on stderr and leaves discover as it was.
std::optional<std::vector<orchestrator::AskingPi>> boot_requests(const Context& ctx, const inventory::Shelf& shelf,
                                                                 const std::vector<LearnedMac>& unknown) {
  if (shelf.boot.mode != inventory::BootMode::netboot || !orchestrator::fileserver_configured(shelf)) return std::nullopt;
  auto vc = verb_context(ctx, true, [](const orchestrator::StepReport&) {});
  vc.shelf = shelf.name;
  auto session = orchestrator::open_session(vc, "discover");
  auto log = session ? orchestrator::read_boot_log(**session) : Result<orchestrator::BootLog>(std::unexpected(session.error()));
  if (!log) {
    std::cerr << "picluster: note: dnsmasq's log " << shelf.boot.dnsmasq_log << " could not be read: " << log.error().message << "\n";
    return std::nullopt;
  }
  return orchestrator::asking_to_boot(unknown, *log);
}

const orchestrator::AskingPi* asking_of(const std::optional<std::vector<orchestrator::AskingPi>>& boot,
                                        const inventory::Mac& mac) {
  if (!boot) return nullptr;
  for (const auto& a : *boot) {
    if (a.mac == mac) return &a;
  }
  return nullptr;
}

// Raspberry Pi MACs discover cannot place on a front-panel port: said on stderr, so that "no
// Raspberry Pi MACs on ports without a Pi" is never claimed while some could be on such ports.
void warn_unplaced(const std::vector<switchctl::LearnedMac>& unplaced) {
  if (unplaced.empty()) return;
  std::string bridge_ports;
  for (const auto& l : unplaced) {
    bridge_ports += (bridge_ports.empty() ? "" : ", ") + format_mac(l.mac) + " on bridge port " + std::to_string(l.bridge_port);
  }
  std::cerr << "picluster: warning: " << unplaced.size() << " Raspberry Pi MAC(s) learned on bridge ports with no "
            << "front-panel port (" << bridge_ports << "): the switch serves no usable dot1dBasePortIfIndex for them "
            << "(see `picluster switch probe`), or they are on a left-out interface; give a port's bridge_port in "
            << "switch.port_map to place them\n";
}

Result<int> run_discover(const Context& ctx, bool json) {
  auto sw = open_switch(ctx);
  if (!sw) return std::unexpected(sw.error());
  auto d = (*sw)->controller->discover();
  if (!d) return std::unexpected(d.error());
  warn_unplaced(d->unplaced_pis);
  const auto boot = boot_requests(ctx, *(*sw)->shelf, d->unknown_pis);
  if (json) {
    ordered_json learned = ordered_json::array(), unknown = ordered_json::array();
    for (const auto& l : d->learned) learned.push_back({{"mac", format_mac(l.mac)}, {"port", l.port}, {"bridge_port", l.bridge_port}, {"vlans", l.vlans}, {"raspberry_pi", is_raspberry_pi_mac(l.mac)}});
    for (const auto& l : d->unknown_pis) {
      ordered_json entry{{"mac", format_mac(l.mac)}, {"port", l.port}};
      if (const auto* a = asking_of(boot, l.mac)) {
        entry["serial"] = a->serial ? ordered_json(*a->serial) : ordered_json(nullptr);
        entry["model"] = a->model ? ordered_json(std::string(inventory::to_string(*a->model))) : ordered_json(nullptr);
        entry["dnsmasq_saw"] = a->dnsmasq_saw;
      }
      unknown.push_back(entry);
    }
    ordered_json unplaced = ordered_json::array();
    for (const auto& l : d->unplaced_pis) unplaced.push_back({{"mac", format_mac(l.mac)}, {"bridge_port", l.bridge_port}, {"vlans", l.vlans}});
    std::cout << ordered_json{{"learned", learned}, {"unknown_pis", unknown}, {"unplaced_pis", unplaced}}.dump(2) << "\n";
    return 0;
  }
  if (d->unknown_pis.empty()) {
    std::cout << (d->unplaced_pis.empty() ? "no Raspberry Pi MACs" : "no Raspberry Pi MACs placed")
              << " on ports without a Pi in the inventory (" << d->learned.size() << " MACs learned"
              << (d->unplaced_pis.empty() ? "" : ", " + std::to_string(d->unplaced_pis.size()) + " Raspberry Pi MAC(s) on no front-panel port")
              << ")\n";
    return 0;
  }
  if (boot) {
    // A netboot shelf: what dnsmasq's log says of each (`picluster add NAME --port N` enrolls it).
    std::printf("%-5s %-17s %-8s %s\n", "PORT", "MAC", "SERIAL", "(Raspberry Pis asking to boot, not in the inventory)");
    for (const auto& l : d->unknown_pis) {
      const auto* a = asking_of(boot, l.mac);
      std::printf("%-5d %-17s %-8s\n", l.port, format_mac(l.mac).c_str(), a && a->serial ? a->serial->c_str() : "-");
    }
    return 0;
  }
  std::printf("%-5s %s\n", "PORT", "MAC (Raspberry Pi, not in the inventory)");
  for (const auto& l : d->unknown_pis) std::printf("%-5d %s\n", l.port, format_mac(l.mac).c_str());
  return 0;
}

}  // namespace

void register_switch_commands(CLI::App& app, Context& ctx) {
  auto* sw = app.add_subcommand("switch", "Show or configure the PoE switch (VLANs, PVIDs) over SNMP");
  sw->require_subcommand(1);

  auto* show = sw->add_subcommand("show", "One row per port: Pi, PVID, VLANs, PoE, learned MACs, drift");
  auto show_json = std::make_shared<bool>(false);
  show->add_flag("--json", *show_json, "Print JSON");
  show->callback([&ctx, show_json] { ctx.action = [&ctx, show_json] { return run_show(ctx, *show_json); }; });

  auto* probe = sw->add_subcommand("probe", "Read only: MIBs served, port numbering, foreign VLANs, PortLists, PoE; "
                                             "can picluster drive this switch (send it with a bug report)");
  auto probe_json = std::make_shared<bool>(false);
  probe->add_flag("--json", *probe_json, "Print JSON");
  probe->callback([&ctx, probe_json] { ctx.action = [&ctx, probe_json] { return run_probe(ctx, *probe_json); }; });

  auto* apply = sw->add_subcommand("apply", "Make the switch match the inventory (only inventory ports and the trunk)");
  auto apply_dry = std::make_shared<bool>(false);
  apply->add_flag("--dry-run", *apply_dry, "Print the SET PDUs without sending them");
  apply->callback([&ctx, apply_dry] { ctx.action = [&ctx, apply_dry] { return run_apply(ctx, *apply_dry); }; });

  struct PowerArgs {
    std::string action;
    std::vector<std::string> names;
    bool all = false, force = false, json = false, dry_run = false, yes = false;
    std::string reason;
  };
  auto pa = std::make_shared<PowerArgs>();
  auto* power = app.add_subcommand("power", "Switch PoE on, off, cycle it, or show its status, for named Pis");
  power->add_option("action", pa->action, "on | off | cycle | status")
      ->required()
      ->check(CLI::IsMember({"on", "off", "cycle", "status"}));
  power->add_option("names", pa->names, "Pi names");
  power->add_flag("--all", pa->all, "Every Pi in the shelf (must be said explicitly)");
  power->add_flag("--force", pa->force, "Cut power even if the MAC learned on the port is not the Pi's");
  power->add_flag("--json", pa->json, "Print JSON");
  power->add_flag("--dry-run", pa->dry_run, "Say what would be done, send nothing");
  power->add_flag("--yes", pa->yes, "off/cycle --all of several Pis: go on without asking");
  power->add_option("--reason", pa->reason, "off: why the Pi is held off (recorded with the hold and journaled)");
  power->footer("`power off` holds a Pi off: apply, watch, rebuild and rollback leave it off until `power on` or "
                "`power cycle` releases the hold.");
  power->callback([&ctx, pa] {
    ctx.action = [&ctx, pa] { return run_power(ctx, pa->action, pa->names, pa->all, pa->force, pa->json, pa->dry_run, pa->reason, pa->yes); };
  });

  auto* discover = app.add_subcommand("discover", "List Raspberry Pi MACs seen on ports that have no Pi in the inventory");
  auto disc_json = std::make_shared<bool>(false);
  discover->add_flag("--json", *disc_json, "Print JSON (every learned MAC and the unknown Pis)");
  discover->callback([&ctx, disc_json] { ctx.action = [&ctx, disc_json] { return run_discover(ctx, *disc_json); }; });
}

}  // namespace picluster::cli
