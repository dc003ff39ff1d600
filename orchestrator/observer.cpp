#include "orchestrator/observer.hpp"

#include <iostream>

#include "switchctl/net_snmp_session.hpp"

namespace picluster::orchestrator {

void count_snmp(ShelfSession& session, const std::shared_ptr<switchctl::SnmpMetrics>& metrics) {
  if (session.shelf().switch_.host.empty()) return;
  auto snmp = switchctl::open_switch_session(session.shelf(), session.inventory_dir());
  if (!snmp) return;
  session.use_snmp(std::make_unique<switchctl::CountingSession>(std::move(*snmp), metrics));
}

ShelfSnapshot observe_shelf(ShelfSession& session, const std::vector<ProbeResult>& probes,
                            std::chrono::system_clock::time_point now, bool sizes) {
  std::map<std::string, bool> alive;
  for (const auto& p : probes) alive[p.pi] = p.alive;
  const StatusProbe probe = [&](const inventory::Pi& pi) -> std::optional<bool> {
    const auto it = alive.find(pi.name);
    return it == alive.end() ? std::nullopt : std::optional<bool>(it->second);
  };
  ShelfStatus status = collect_status(session, probe, sizes);
  auto journal = session.journal().read();
  ShelfSnapshot snapshot = make_snapshot(session.shelf(), std::move(status), probes,
                                         journal ? *journal : std::vector<JournalEntry>{}, now);
  if (!journal) snapshot.journal_error = journal.error().message;
  return snapshot;
}

ObservedPages render_pages(const ShelfSnapshot& snapshot) {
  return {render_metrics(snapshot), render_page(snapshot), to_json(snapshot.status).dump(2) + "\n"};
}

WatchObserver::WatchObserver(std::filesystem::path inventory_path, std::string shelf,
                             ObserveServer& server, std::shared_ptr<switchctl::SnmpMetrics> metrics,
                             int refresh_seconds)
    : m_inventory_path(std::move(inventory_path)),
      m_shelf(std::move(shelf)),
      m_server(server),
      m_metrics(std::move(metrics)),
      m_refresh_seconds(refresh_seconds),
      m_thread([this] { run(); }) {}

WatchObserver::~WatchObserver() {
  {
    const std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  m_thread.join();
}

void WatchObserver::round(const WatchRoundReport& report) {
  m_server.heartbeat();
  {
    const std::lock_guard lock(m_mutex);
    m_pending = report;
  }
  m_wake.notify_one();
}

void WatchObserver::run() {
  for (;;) {
    WatchRoundReport report;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [&] { return m_pending.has_value() || m_stop; });
      if (m_stop) return;
      report = std::move(*m_pending);
      m_pending.reset();
    }
    collect(report);
  }
}

// The session for the current inventory: opened again when the file changed.
ShelfSession* WatchObserver::session() {
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(m_inventory_path, ec);
  if (m_session && mtime == m_mtime) return m_session.get();
  auto inv = inventory::load(m_inventory_path);
  if (!inv || inv->find_shelf(m_shelf) == nullptr) {
    if (!inv)
      std::cerr << "picluster: warning: watch --listen: " << inv.error().message << std::endl;
    return m_session.get();  // the previous one, if any
  }
  m_mtime = mtime;
  m_session =
      std::make_unique<ShelfSession>(std::move(*inv), m_shelf, m_inventory_path, "watch", nullptr);
  count_snmp(*m_session, m_metrics);
  return m_session.get();
}

void WatchObserver::collect(const WatchRoundReport& report) {
  ShelfSession* s = session();
  if (s == nullptr) return;
  const auto now = std::chrono::system_clock::now();
  ShelfSnapshot snapshot = observe_shelf(*s, report.results, now);
  if (!report.skipped) snapshot.outage = report.outage;
  snapshot.snmp = m_metrics->counts();
  const auto finished =
      report.started + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                           std::chrono::duration<double>(report.seconds));
  snapshot.round = WatchRoundInfo{
      report.number,
      std::chrono::duration_cast<std::chrono::seconds>(finished.time_since_epoch()).count(),
      report.seconds, report.number};
  snapshot.refresh_seconds = m_refresh_seconds;
  m_server.publish(std::make_shared<const ObservedPages>(render_pages(snapshot)));
}

}  // namespace picluster::orchestrator
