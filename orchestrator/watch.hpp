#pragma once
// `picluster watch`: probe every Pi each round, power-cycle the ones that stay dead.
//
// The decisions are made by Watchdog, a pure state machine fed with one round of probe results
// and the time; it returns what to do as data and never touches the network. Per Pi it keeps the
// consecutive failed probes, the cycles since the Pi was last seen alive (for the backoff) and
// the times of its cycles in the last hour (for the cap). A round goes:
//   1. Guard: if at least 2 Pis and more than `outage_fraction` of the probed Pis failed, the
//      network (or the watcher's own link) is the likely culprit: no Pi is cycled, failure counts
//      are held where they were, and the round reports `outage`.
//   2. A Pi that answers is reset (failures 0, backoff back to the initial value).
//   3. A Pi that fails counts one more failure; at `failures` in a row it is due a cycle, unless
//      it already had `max_cycles_per_hour` cycles in the last hour (capped) or the backoff since
//      its last cycle has not run out (backoff = initial * 2^(cycles since last alive - 1), so
//      the initial value again once the Pi has been seen alive).
// The caller carries out a `cycle` decision and reports it back with cycled(); that restarts the
// Pi's failure count, so a freshly cycled Pi gets `failures` rounds to boot before it is judged.
//
// WatchLoop runs rounds: probe (Prober), decide (Watchdog), cycle (PowerCycler), report each
// event to a sink and journal it, sleep `interval`, until `rounds` are done or stop is asked.
// Pis held off by `picluster power off` (power_hold.hpp) are neither probed nor cycled: each is
// reported once as `held` when the hold is first seen, and probed again once it is released.

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "inventory/inventory.hpp"
#include "orchestrator/journal.hpp"
#include "orchestrator/power_hold.hpp"
#include "orchestrator/probe.hpp"
#include "switchctl/snmp.hpp"
#include "switchctl/snmp_metrics.hpp"

namespace picluster::orchestrator {

using WatchTime = std::chrono::steady_clock::time_point;

struct WatchPolicy {
  int failures = 3;                      // consecutive failed probes before a cycle (>= 1)
  int max_cycles_per_hour = 3;           // per Pi, sliding hour (>= 1)
  std::chrono::seconds backoff{300};     // wait after a Pi's first cycle; doubles per further one
  double outage_fraction = 0.5;          // guard when more than this fraction fails (0 < f <= 1)
  int outage_min_pis = 2;                // ... and at least this many Pis fail
};

enum class WatchAction {
  none,       // alive and nothing to report
  recovered,  // alive after failures or cycles: counters reset
  failing,    // failed, fewer than `failures` in a row
  cycle,      // due a power cycle now
  backoff,    // due, but the backoff since its last cycle has not run out
  capped,     // due, but it had max_cycles_per_hour cycles in the last hour
  guarded,    // failed in an outage round: nothing counted, nothing cycled
};
std::string_view to_string(WatchAction action);

struct WatchDecision {
  std::string pi;
  WatchAction action = WatchAction::none;
  int failures = 0;          // consecutive failed probes after this round
  bool was_cycled = false;   // recovered: it had been power-cycled since it was last alive
  bool repeat = false;       // backoff/capped: same as this Pi's decision in the previous round
  std::string detail;        // the probe's failure text, or why a cycle waits
};

struct WatchRound {
  int probed = 0;
  int failing = 0;
  bool outage = false;        // the guard held this round
  bool outage_repeat = false; // ... and the previous round too
  bool outage_ended = false;  // the previous round was an outage, this one is not
  std::vector<WatchDecision> decisions;  // one per probe result, same order
};

class Watchdog {
 public:
  explicit Watchdog(WatchPolicy policy) : m_policy(policy) {}
  WatchRound decide(const std::vector<ProbeResult>& results, WatchTime now);
  // A cycle of `pi` was attempted at `now` (done, or failed at the switch): it counts towards
  // the backoff and the hourly cap, and the Pi's failure count starts again from 0. Not called
  // when the cycle was skipped (shelf busy), so the next round decides again.
  void cycled(const std::string& pi, WatchTime now);
  // What an earlier watch did, read back from the journal when a watch starts (a restarted watch
  // must keep the hourly cap and the backoff): a cycle attempted at `when`, or the Pi seen alive
  // again after cycles. Call in journal order.
  void recall_cycle(const std::string& pi, WatchTime when);
  void recall_alive(const std::string& pi);
  // `pi` is held off (not probed): its failure count starts again from 0 when it is released, so
  // a Pi just powered on again gets `failures` rounds to boot. Its cycle history is kept.
  void held(const std::string& pi);
  [[nodiscard]] const WatchPolicy& policy() const { return m_policy; }

 private:
  struct PiState {
    int failures = 0;
    int cycles_since_alive = 0;
    std::optional<WatchTime> last_cycle;
    std::deque<WatchTime> cycles;  // within the last hour
    WatchAction last = WatchAction::none;
  };
  WatchDecision judge_failure(const ProbeResult& r, PiState& s, WatchTime now) const;

  WatchPolicy m_policy;
  std::map<std::string, PiState> m_pis;
  bool m_outage = false;
};

// --- settings ------------------------------------------------------------------------------

struct WatchSettings {
  ProbeSpec probe;                                 // default tcp:22
  std::chrono::milliseconds probe_timeout{5000};
  std::chrono::milliseconds interval{30000};
  WatchPolicy policy;
};

// The defaults overlaid with the shelf's extra["watch"] object (keys probe, probe_timeout,
// failures, interval, max_cycles_per_hour, backoff_seconds, outage_fraction; times in seconds).
// Errors (invalid_inventory) name the shelf and key; unknown keys are refused.
Result<WatchSettings> watch_settings(const inventory::Shelf& shelf, WatchSettings defaults = {});
// Range checks (after command-line overrides); errors are invalid_argument naming the option.
Result<void> check_settings(const WatchSettings& settings);
// What `watch` checks of the shelf's "watch" section (watch_settings, then check_settings), with
// errors naming the shelf and the key as written in the file: for `picluster validate`.
Result<void> check_watch_section(const inventory::Shelf& shelf);

// --- effects ---------------------------------------------------------------------------------

struct CycleOutcome {
  bool held = false;   // nothing done: the Pi turned out to be held off (seen under the shelf lock)
  std::string detail;  // one line: "port 5: on deliveringPower", or the hold ("held off since ...")
};

// Power-cycles one Pi. Contract: returns what it did, or that the Pi is held off (nothing done);
// fails with ErrorCode::locked when another run holds the shelf (nothing was done), any other
// error when the cycle was tried and failed.
class PowerCycler {
 public:
  virtual ~PowerCycler() = default;
  virtual Result<CycleOutcome> cycle(const std::string& pi) = 0;
};

// The real cycler: takes the shelf lock (fails at once with `locked` if a mutating run holds
// it), checks under it that the Pi is not held off (a `power off` may have just finished), opens
// the switch's SNMP session on first use, and cycles through SwitchController::power (with the
// MAC identity check, never forced).
class SwitchPowerCycler final : public PowerCycler {
 public:
  SwitchPowerCycler(inventory::Shelf shelf, std::filesystem::path inventory_dir, std::filesystem::path state_dir);
  ~SwitchPowerCycler() override;
  Result<CycleOutcome> cycle(const std::string& pi) override;
  // After the inventory changed: the new shelf (the SNMP session is opened again).
  void set_shelf(inventory::Shelf shelf);
  // Times and counts every SNMP request of the cycles (watch --listen); set before the first cycle.
  void set_snmp_metrics(std::shared_ptr<switchctl::SnmpMetrics> metrics) { m_metrics = std::move(metrics); }

 private:
  inventory::Shelf m_shelf;
  std::filesystem::path m_inventory_dir;
  std::filesystem::path m_state_dir;
  std::unique_ptr<switchctl::SnmpSession> m_session;
  switchctl::SystemClock m_clock;
  std::shared_ptr<switchctl::SnmpMetrics> m_metrics;
};

// --- the loop --------------------------------------------------------------------------------

struct WatchEvent {
  int round = 0;
  // probe-failed recovered cycled would-cycle cycle-failed shelf-busy backoff capped guard
  // guard-lifted held released hold-error, and "history" (round 0: cycles of the last hour
  // recalled from the journal)
  std::string kind;
  std::string pi;  // empty for guard events
  int failures = 0;
  std::string detail;
  bool repeat = false;       // the same hold (guard, backoff, cap) as the previous round: not journaled
  bool after_cycle = false;  // recovered: the Pi had been power-cycled since it was last alive
};

// The journal line for an event, or nothing for events that are not decisions (probe-failed,
// repeats, and recovered unless the Pi had been cycled). verb "watch"; step "power-cycle" or "guard"
// (or "probe" for a recovery); result ok, planned, failed or skipped.
std::optional<JournalEntry> journal_entry(const WatchEvent& event, const std::string& shelf);
inventory::Json to_json(const WatchEvent& event);
std::string to_text(const WatchEvent& event);  // "round 3: pi01: cycled: port 1: on deliveringPower"

struct WatchLoopOptions {
  WatchSettings settings;
  int rounds = 0;        // stop after this many rounds; 0 = until stop is asked
  bool dry_run = false;  // decide and report "would-cycle", power nothing (still counts the cycle)
  std::string shelf;     // for the journal
};

// What one round saw, for observers (`watch --listen`): reported once the round's decisions were
// carried out (cycles done), before the pause.
struct WatchRoundReport {
  int number = 0;
  std::chrono::system_clock::time_point started;  // wall clock, for timestamps
  double seconds = 0.0;                           // the round's duration (probes, decisions, cycles)
  bool skipped = false;                           // the holds could not be read: nothing probed
  bool outage = false;                            // the guard held this round
  std::vector<ProbeResult> results;               // one per probed Pi (held Pis are not probed)
};

struct WatchLoopHooks {
  std::function<std::vector<ProbeTarget>()> targets;  // called each round (may reload the inventory)
  std::function<void(const WatchEvent&)> on_event;    // printing
  std::function<bool()> stop_requested;               // checked between rounds and while sleeping
  std::function<void(const Error&)> on_journal_error; // journal failures are never fatal
  // The shelf's power holds, read each round (unset: none). When they cannot be read the round
  // is skipped (a `hold-error` event): watch must not cycle a Pi the operator may have held off.
  std::function<Result<std::map<std::string, PowerHold>>()> held;
  // Called at the end of every round (unset: nothing). Must return quickly: it runs on the loop.
  std::function<void(const WatchRoundReport&)> on_round;
};

// Runs rounds until options.rounds are done or stop_requested(); returns the rounds completed.
// First it recalls from `journal` the shelf's watch cycles of the last day (power-cycle ok or
// failed, and recoveries after a cycle), so the hourly cap and the backoff survive a restart; a
// "history" event per Pi with cycles in the last hour says so.
// A round whose probing was interrupted by a stop request is discarded (a probe killed by the
// operator's Ctrl-C is no evidence against the Pi). `journal` may be null.
int run_watch(const WatchLoopOptions& options, Prober& prober, PowerCycler& cycler, switchctl::Clock& clock,
              const Journal* journal, const WatchLoopHooks& hooks);

}  // namespace picluster::orchestrator
