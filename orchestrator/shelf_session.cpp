#include "orchestrator/shelf_session.hpp"

#include <algorithm>

#include "switchctl/net_snmp_session.hpp"

namespace picluster::orchestrator {

ShelfSession::ShelfSession(inventory::Inventory inv, const std::string& shelf_name,
                           std::filesystem::path inventory_path, std::string verb,
                           Reporter reporter)
    : m_inventory(std::move(inv)),
      m_shelf_name(shelf_name),
      m_inventory_path(std::move(inventory_path)),
      m_verb(std::move(verb)),
      m_reporter(std::move(reporter)),
      m_journal(state_dir(m_inventory_path)) {}

ShelfSession::~ShelfSession() = default;

const inventory::Shelf& ShelfSession::shelf() const { return *m_inventory.find_shelf(m_shelf_name); }

std::filesystem::path ShelfSession::inventory_dir() const {
  const auto parent = m_inventory_path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

void ShelfSession::reset_inventory(inventory::Inventory inv) {
  m_inventory = std::move(inv);
  m_switch.reset();  // it holds a pointer into the old shelf
  m_configurator.reset();
  m_roots.reset();
}

Result<switchctl::SwitchController*> ShelfSession::switch_controller() {
  if (m_switch) return m_switch.get();
  if (shelf().switch_.host.empty()) {
    return fail(ErrorCode::invalid_inventory,
                "shelf " + shelf().name + ": switch: host is not set in " + m_inventory_path.string());
  }
  if (!m_snmp) {
    auto session = switchctl::open_switch_session(shelf(), inventory_dir());
    if (!session) return std::unexpected(session.error());
    m_snmp = std::move(*session);
  }
  auto controller = switchctl::SwitchController::create(shelf(), *m_snmp, m_clock);
  if (!controller) return std::unexpected(controller.error());
  switchctl::ControllerOptions options;
  options.poe_off = std::chrono::seconds(shelf().switch_.poe_off_seconds);
  controller->set_options(options);
  controller->set_inventory_file(m_inventory_path.string());
  m_switch = std::make_unique<switchctl::SwitchController>(std::move(*controller));
  return m_switch.get();
}

Result<nfsroot::Host*> ShelfSession::host() {
  if (!m_host && shelf().fileserver.transport == inventory::Transport::ssh &&
      shelf().fileserver.host.empty()) {
    return fail(ErrorCode::invalid_inventory,
                "shelf " + shelf().name + ": fileserver: host is not set in " + m_inventory_path.string());
  }
  if (!m_host) {
    auto host = nfsroot::connect(shelf().fileserver, inventory_dir());
    if (!host) return std::unexpected(host.error());
    m_host = std::move(*host);
    if (m_verbose && !m_host->how_connected().empty()) report({"", "fileserver", "note", m_host->how_connected()});
  }
  return m_host.get();
}

Result<nfsroot::RootManager*> ShelfSession::roots() {
  if (!m_roots) {
    auto h = host();
    if (!h) return std::unexpected(h.error());
    m_roots = std::make_unique<nfsroot::RootManager>(**h, shelf());
  }
  return m_roots.get();
}

Result<nfsroot::FileserverConfigurator*> ShelfSession::configurator() {
  if (!m_configurator) {
    auto h = host();
    if (!h) return std::unexpected(h.error());
    m_configurator = std::make_unique<nfsroot::FileserverConfigurator>(**h, shelf().fileserver);
  }
  return m_configurator.get();
}

void ShelfSession::use_snmp(std::unique_ptr<switchctl::SnmpSession> snmp) {
  m_switch.reset();
  m_snmp = std::move(snmp);
}

void ShelfSession::use_host(std::unique_ptr<nfsroot::Host> host) {
  m_roots.reset();
  m_configurator.reset();
  m_host = std::move(host);
}

nfsroot::ExecOptions ShelfSession::exec_options(const std::string& pi) {
  nfsroot::ExecOptions options;
  options.prefixed = !shelf().fileserver.root_prefix.empty();
  options.on_event = [this, pi](std::string_view line) {
    report({pi, "fileserver", "note", std::string(line)});
  };
  options.on_progress = [this, pi](const nfsroot::Progress& p) {
    report({pi, "root", "progress", nfsroot::describe(p)});
  };
  return options;
}

std::uint64_t ShelfSession::fileserver_round_trips() const {
  return m_host ? m_host->round_trips() : 0;
}

std::uint64_t ShelfSession::fileserver_channels() const { return m_host ? m_host->channels() : 0; }

void ShelfSession::round_trips_note(const std::string& pi, const std::string& step) {
  const std::uint64_t now = fileserver_round_trips();
  const std::uint64_t taken = now - std::min(now, m_round_trips_seen);
  m_round_trips_seen = now;
  const std::uint64_t channels = fileserver_channels();
  const std::uint64_t opened = channels - std::min(channels, m_channels_seen);
  m_channels_seen = channels;
  if (!m_verbose) return;
  std::string note = std::to_string(taken) + " fileserver round trips";
  if (opened > 0) note += " (" + std::to_string(opened) + (opened == 1 ? " SSH channel" : " SSH channels") + " opened)";
  report({pi, step, "note", note});
}

void ShelfSession::report(StepReport step) {
  if (m_reporter) m_reporter(step);
  if (step.result == "note" || step.result == "planned" || step.result == "progress") {
    return;  // not changes: not journaled
  }
  JournalEntry entry;
  entry.verb = m_verb;
  entry.shelf = m_shelf_name;
  entry.pi = step.pi;
  entry.step = step.step;
  entry.result = step.result;
  entry.detail = step.detail;
  m_steps_journaled = true;
  if (step.result == "failed") m_failure_journaled = true;
  if (auto ok = m_journal.append(entry); !ok && m_reporter) {
    m_reporter({step.pi, "journal", "failed", ok.error().message});
  }
}

void ShelfSession::journal_failure(const std::string& pi, const Error& error, bool dry_run) {
  // A run that changed nothing (a refused rebuild, an unknown Pi) leaves the journal as it was.
  if (dry_run || !m_steps_journaled || m_failure_journaled || error.code == ErrorCode::locked) return;
  m_failure_journaled = true;
  JournalEntry entry;
  entry.verb = m_verb;
  entry.shelf = m_shelf_name;
  entry.pi = pi;
  entry.step = "error";
  entry.result = "failed";
  entry.detail = error.message;
  (void)m_journal.append(entry);  // best effort: the error itself is what the operator sees
}

}  // namespace picluster::orchestrator
