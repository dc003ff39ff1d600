#pragma once
// ShelfSession: everything the operator's verbs need for one shelf, opened lazily — the switch
// (SNMP session + SwitchController), the fileserver (Host + RootManager + FileserverConfigurator)
// and the journal. Verbs that never touch the switch never open an SNMP session, and a dry run
// that only plans never writes anything.
//
// Every step a verb takes is reported through a Reporter (for the terminal or --json) and
// appended to the journal, so `picluster log` shows what happened even after a crash.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "inventory/inventory.hpp"
#include "nfsroot/fileserver_config.hpp"
#include "nfsroot/host.hpp"
#include "nfsroot/root_manager.hpp"
#include "orchestrator/journal.hpp"
#include "switchctl/controller.hpp"

namespace picluster::orchestrator {

struct StepReport {
  std::string pi;      // empty for shelf-wide steps
  std::string step;    // switch, fileserver, root, exports, boot, power, inventory, ...
  // ok, unchanged, planned, skipped, failed; and two that are not changes and never journaled:
  // note (a line of detail from the fileserver) and progress (a long copy's progress, e.g.
  // "1.2 GiB 45% 12.34MB/s ETA 0:00:10", sent repeatedly while it runs; a reporter shows it on a
  // terminal only, rewriting one line, and drops it otherwise)
  std::string result;
  std::string detail;
};

using Reporter = std::function<void(const StepReport&)>;

class ShelfSession {
 public:
  // `inventory` is the loaded inventory; `shelf_name` one of its shelves.
  ShelfSession(inventory::Inventory inventory, const std::string& shelf_name,
               std::filesystem::path inventory_path, std::string verb, Reporter reporter);
  ShelfSession(const ShelfSession&) = delete;
  ShelfSession& operator=(const ShelfSession&) = delete;
  ~ShelfSession();

  [[nodiscard]] const inventory::Inventory& inventory() const { return m_inventory; }
  [[nodiscard]] const inventory::Shelf& shelf() const;
  [[nodiscard]] const std::filesystem::path& inventory_path() const { return m_inventory_path; }
  [[nodiscard]] std::filesystem::path inventory_dir() const;
  [[nodiscard]] const Journal& journal() const { return m_journal; }

  // Replaces the inventory (after add/remove changed it); resets the switch controller, which
  // points into the shelf.
  void reset_inventory(inventory::Inventory inventory);

  Result<switchctl::SwitchController*> switch_controller();
  Result<nfsroot::Host*> host();
  Result<nfsroot::RootManager*> roots();
  Result<nfsroot::FileserverConfigurator*> configurator();
  // Use these instead of connecting to the switch or the fileserver (tests, benchmarks).
  void use_snmp(std::unique_ptr<switchctl::SnmpSession> snmp);
  void use_host(std::unique_ptr<nfsroot::Host> host);

  // ExecOptions for nfsroot work: root_prefix handling, events forwarded as "note" reports and a
  // clone's progress as "progress" reports of step "root" (rsync clones report progress).
  nfsroot::ExecOptions exec_options(const std::string& pi);

  // Reports a step and journals it (journal failures are reported, never fatal).
  void report(StepReport step);
  // Journals a verb's failure that no `failed` step has journaled yet (a switch or fileserver
  // that could not be reached, a plan that could not be read), so `log` shows why the run
  // stopped. Nothing for a dry run, a run refused by the lock, or a run that failed before it
  // journaled any step (it changed nothing). Printed by nobody: main prints the error once.
  void journal_failure(const std::string& pi, const Error& error, bool dry_run);
  template <typename T>
  Result<T> journaled(const std::string& pi, Result<T> result, bool dry_run) {
    if (!result) journal_failure(pi, result.error(), dry_run);
    return result;
  }

  // Round trips to the fileserver so far (0 before it is opened, and for a local one).
  [[nodiscard]] std::uint64_t fileserver_round_trips() const;
  [[nodiscard]] std::uint64_t fileserver_channels() const;  // SSH channels opened so far
  // With verbose set (`-v`), round_trips_note() reports, as a note, the fileserver round trips
  // taken since its last call: "STEP: N fileserver round trips", plus "(M SSH channel opened)"
  // when the stage opened one.
  void set_verbose(bool verbose) { m_verbose = verbose; }
  void round_trips_note(const std::string& pi, const std::string& step);

 private:
  inventory::Inventory m_inventory;
  std::string m_shelf_name;
  std::filesystem::path m_inventory_path;
  std::string m_verb;
  Reporter m_reporter;
  Journal m_journal;
  bool m_steps_journaled = false;    // this run has changed something (journaled a step)
  bool m_failure_journaled = false;  // this run has journaled a failed step
  switchctl::SystemClock m_clock;
  std::unique_ptr<switchctl::SnmpSession> m_snmp;
  std::unique_ptr<switchctl::SwitchController> m_switch;
  std::unique_ptr<nfsroot::Host> m_host;
  std::unique_ptr<nfsroot::RootManager> m_roots;
  std::unique_ptr<nfsroot::FileserverConfigurator> m_configurator;
  bool m_verbose = false;
  std::uint64_t m_round_trips_seen = 0;
  std::uint64_t m_channels_seen = 0;
};

}  // namespace picluster::orchestrator
