#pragma once
// Collecting what `watch --listen`, `picluster metrics` and `status --html` show. observe_shelf
// reads the shelf once (status: switch, holds, fileserver, journal) and joins it with the probes
// given. WatchObserver does that after every watch round, on its own thread: the loop hands it
// the round's report (a copy under a mutex, nothing else) and goes on; the observer reads the
// shelf through its own sessions (its SNMP requests are counted into the same SnmpMetrics as the
// cycler's) and publishes the rendered pages to the server. A round that ends while the previous
// one is still being collected replaces it: the observer always works on the newest round.

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "orchestrator/observe.hpp"
#include "orchestrator/observe_server.hpp"
#include "orchestrator/shelf_session.hpp"
#include "orchestrator/watch.hpp"

namespace picluster::orchestrator {

// Opens the session's SNMP session with every request counted into `metrics` (a switch that
// cannot be opened is left to the status read, which names the problem).
void count_snmp(ShelfSession& session, const std::shared_ptr<switchctl::SnmpMetrics>& metrics);

// One read of the shelf joined with `probes`; reachable in the status is taken from them.
ShelfSnapshot observe_shelf(ShelfSession& session, const std::vector<ProbeResult>& probes,
                            std::chrono::system_clock::time_point now, bool sizes = false);

// The three documents the server answers with.
ObservedPages render_pages(const ShelfSnapshot& snapshot);

class WatchObserver {
 public:
  // inventory_path/shelf: what watch watches (the file is re-read when it changes).
  WatchObserver(std::filesystem::path inventory_path, std::string shelf, ObserveServer& server,
                std::shared_ptr<switchctl::SnmpMetrics> metrics, int refresh_seconds);
  WatchObserver(const WatchObserver&) = delete;
  WatchObserver& operator=(const WatchObserver&) = delete;
  ~WatchObserver();  // finishes the collection in progress, then stops

  // From the watch loop at the end of a round; returns at once.
  void round(const WatchRoundReport& report);

 private:
  void run();
  void collect(const WatchRoundReport& report);
  ShelfSession* session();

  std::filesystem::path m_inventory_path;
  std::string m_shelf;
  ObserveServer& m_server;
  std::shared_ptr<switchctl::SnmpMetrics> m_metrics;
  int m_refresh_seconds;
  std::unique_ptr<ShelfSession> m_session;
  std::filesystem::file_time_type m_mtime;

  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::optional<WatchRoundReport> m_pending;
  bool m_stop = false;
  std::thread m_thread;  // last: started once everything above exists
};

}  // namespace picluster::orchestrator
