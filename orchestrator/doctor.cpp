// doctor's driver: the inventory, then the switch and the fileserver (see doctor.hpp).

#include "orchestrator/doctor.hpp"

#include <algorithm>

#include "orchestrator/reconcile.hpp"
#include "switchctl/net_snmp_session.hpp"

namespace picluster::orchestrator {
namespace {

Result<const inventory::Shelf*> pick_shelf(const inventory::Inventory& inv, const std::string& name) {
  if (!name.empty()) {
    if (const auto* s = inv.find_shelf(name)) return s;
    return fail(ErrorCode::not_found, inv.source.string() + ": no shelf named '" + name + "'");
  }
  if (inv.shelves.size() == 1) return &inv.shelves.front();
  return fail(ErrorCode::invalid_argument,
              inv.source.string() + " holds " + std::to_string(inv.shelves.size()) +
                  " shelves: say which with --shelf");
}

void switch_part(const inventory::Shelf& shelf, const std::filesystem::path& dir, bool write,
                 std::vector<Check>& out) {
  if (!switch_configured(shelf)) {
    out.push_back({"switch", "described", CheckStatus::warn, "switch.host is empty",
                   "set switch.host, snmp_port, version and secrets_file in the inventory"});
    return;
  }
  auto session = switchctl::open_switch_session(shelf, dir);
  if (!session) {
    out.push_back({"switch", "credentials", CheckStatus::fail, session.error().message,
                   "write switch.secrets_file (mode 0600) as docs/switch.md says"});
    return;
  }
  check_switch(shelf, **session, write, out);
}

void fileserver_part(const inventory::Shelf& shelf, const std::filesystem::path& dir, int roots,
                     std::vector<Check>& out) {
  if (!fileserver_configured(shelf)) {
    out.push_back({"fileserver", "described", CheckStatus::warn, "fileserver.host is empty",
                   "set fileserver.host, user, identity_file and known_hosts in the inventory"});
    return;
  }
  auto host = nfsroot::connect(shelf.fileserver, dir);
  Result<nfsroot::CommandResult> alive =
      host ? (*host)->run({"true"}) : Result<nfsroot::CommandResult>(std::unexpected(host.error()));
  if (!alive || alive->exit_status != 0) {
    out.push_back({"fileserver", "reachable", CheckStatus::fail,
                   alive ? "`true` exited " + std::to_string(alive->exit_status) : alive.error().message,
                   "check fileserver.host, ssh_port, user, identity_file, and that known_hosts "
                   "pins the fileserver's host key (the message above says how)"});
    return;
  }
  out.push_back({"fileserver", "reachable", CheckStatus::ok, (*host)->name(), ""});
  check_fileserver(shelf, **host, roots, out);
}

}  // namespace

std::string_view to_string(CheckStatus status) {
  switch (status) {
    case CheckStatus::ok: return "ok";
    case CheckStatus::warn: return "warn";
    case CheckStatus::fail: return "fail";
  }
  return "fail";
}

bool DoctorReport::failed() const {
  return std::ranges::any_of(checks, [](const Check& c) { return c.status == CheckStatus::fail; });
}

DoctorReport run_doctor(const DoctorOptions& o) {
  DoctorReport report;
  auto& out = report.checks;
  auto inv = inventory::load(o.inventory_path);
  if (!inv) {
    out.push_back({"inventory", "valid", CheckStatus::fail, inv.error().message,
                   "correct the file (picluster validate names the first problem), or make one "
                   "with picluster init"});
    return report;
  }
  auto shelf = pick_shelf(*inv, o.shelf);
  if (!shelf) {
    out.push_back({"inventory", "valid", CheckStatus::fail, shelf.error().message,
                   "name a shelf of the inventory with --shelf"});
    return report;
  }
  out.push_back({"inventory", "valid", CheckStatus::ok,
                 o.inventory_path.string() + ": shelf " + (*shelf)->name + ", " +
                     std::to_string((*shelf)->pis.size()) + " Pis",
                 ""});
  auto dir = o.inventory_path.parent_path();
  if (dir.empty()) dir = ".";
  switch_part(**shelf, dir, o.write_test, out);
  fileserver_part(**shelf, dir, o.roots, out);
  return report;
}

std::string describe(const DoctorReport& report) {
  std::string text;
  for (const auto& c : report.checks) {
    std::string status(to_string(c.status));
    status.resize(6, ' ');
    text += status + c.area + ": " + c.name + ": " + c.detail + "\n";
    if (c.status != CheckStatus::ok && !c.fix.empty()) text += "      fix: " + c.fix + "\n";
  }
  return text;
}

inventory::Json to_json(const DoctorReport& report) {
  inventory::Json checks = inventory::Json::array();
  for (const auto& c : report.checks) {
    checks.push_back({{"area", c.area},
                      {"check", c.name},
                      {"status", to_string(c.status)},
                      {"detail", c.detail},
                      {"fix", c.fix}});
  }
  return {{"ok", !report.failed()}, {"checks", checks}};
}

}  // namespace picluster::orchestrator
