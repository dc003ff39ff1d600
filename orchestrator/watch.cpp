#include "orchestrator/watch.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include "common/text.hpp"
#include "switchctl/controller.hpp"
#include "switchctl/net_snmp_session.hpp"

namespace picluster::orchestrator {
namespace {

using std::chrono::seconds;
constexpr auto kHour = std::chrono::hours(1);

long long seconds_until(WatchTime when, WatchTime now) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(when - now).count();
  return std::max<long long>(1, (left + 999) / 1000);
}

}  // namespace

std::string_view to_string(WatchAction action) {
  switch (action) {
    case WatchAction::none: return "none";
    case WatchAction::recovered: return "recovered";
    case WatchAction::failing: return "failing";
    case WatchAction::cycle: return "cycle";
    case WatchAction::backoff: return "backoff";
    case WatchAction::capped: return "capped";
    case WatchAction::guarded: return "guarded";
  }
  return "none";
}

// --- Watchdog --------------------------------------------------------------------------------

WatchDecision Watchdog::judge_failure(const ProbeResult& r, PiState& s, WatchTime now) const {
  WatchDecision d{r.pi, WatchAction::failing, ++s.failures, false, false, r.detail};
  if (s.failures < m_policy.failures) return d;
  while (!s.cycles.empty() && now - s.cycles.front() >= kHour) s.cycles.pop_front();
  if (std::ssize(s.cycles) >= m_policy.max_cycles_per_hour) {
    d.action = WatchAction::capped;
    d.detail = std::to_string(s.cycles.size()) + " cycle(s) in the last hour (cap " +
               std::to_string(m_policy.max_cycles_per_hour) + "); next allowed in " +
               std::to_string(seconds_until(s.cycles.front() + kHour, now)) + " s";
    return d;
  }
  if (s.last_cycle) {
    const int doublings = std::clamp(s.cycles_since_alive - 1, 0, 20);
    const auto wait = m_policy.backoff * (1LL << doublings);
    if (now < *s.last_cycle + wait) {
      d.action = WatchAction::backoff;
      d.detail = "backoff " + std::to_string(wait.count()) + " s since its last cycle; next allowed in " + std::to_string(seconds_until(*s.last_cycle + wait, now)) + " s";
      return d;
    }
  }
  d.action = WatchAction::cycle;
  d.detail = std::to_string(s.failures) + " failed probes in a row (last: " + r.detail + ")";
  return d;
}

WatchRound Watchdog::decide(const std::vector<ProbeResult>& results, WatchTime now) {
  WatchRound round;
  round.probed = static_cast<int>(results.size());
  round.failing = static_cast<int>(std::ranges::count_if(results, [](const auto& r) { return !r.alive; }));
  round.outage = round.failing >= m_policy.outage_min_pis &&
                 static_cast<double>(round.failing) > m_policy.outage_fraction * static_cast<double>(round.probed);
  round.outage_repeat = round.outage && m_outage;
  round.outage_ended = !round.outage && m_outage;
  m_outage = round.outage;
  for (const auto& r : results) {
    PiState& s = m_pis[r.pi];
    WatchDecision d{r.pi, WatchAction::none, s.failures, false, false, r.detail};
    if (r.alive) {
      if (s.failures > 0 || s.cycles_since_alive > 0) {
        d.action = WatchAction::recovered;
        d.was_cycled = s.cycles_since_alive > 0;
        d.detail = "alive again after " + std::to_string(s.failures) + " failed probe(s)" +
                   (d.was_cycled ? " and " + std::to_string(s.cycles_since_alive) + " power cycle(s)" : "");
      }
      s.failures = 0;
      s.cycles_since_alive = 0;
      d.failures = 0;
    } else if (round.outage) {
      d.action = WatchAction::guarded;  // counts held: the network, not the Pi, is suspect
    } else {
      d = judge_failure(r, s, now);
    }
    d.repeat = d.action == s.last && (d.action == WatchAction::backoff || d.action == WatchAction::capped);
    s.last = d.action;
    round.decisions.push_back(std::move(d));
  }
  return round;
}

void Watchdog::cycled(const std::string& pi, WatchTime now) {
  PiState& s = m_pis[pi];
  s.failures = 0;
  ++s.cycles_since_alive;
  s.last_cycle = now;
  s.cycles.push_back(now);
}

void Watchdog::recall_cycle(const std::string& pi, WatchTime when) {
  PiState& s = m_pis[pi];
  ++s.cycles_since_alive;
  s.last_cycle = when;
  s.cycles.push_back(when);
}

void Watchdog::recall_alive(const std::string& pi) { m_pis[pi].cycles_since_alive = 0; }

void Watchdog::held(const std::string& pi) {
  PiState& s = m_pis[pi];
  s.failures = 0;
  s.last = WatchAction::none;
}

// --- settings --------------------------------------------------------------------------------

namespace {

Result<double> number_field(const inventory::Json& j, const std::string& key, const std::string& where) {
  if (!j.is_number()) return fail(ErrorCode::invalid_inventory, where + "watch." + key + ": expected a number");
  return j.get<double>();
}

Result<int> int_field(const inventory::Json& j, const std::string& key, const std::string& where) {
  if (!j.is_number_integer()) return fail(ErrorCode::invalid_inventory, where + "watch." + key + ": expected an integer");
  const auto v = j.get<long long>();
  if (v < 1 || v > 1000000) return fail(ErrorCode::invalid_inventory, where + "watch." + key + ": must be 1..1000000");
  return static_cast<int>(v);
}

std::chrono::milliseconds from_seconds(double s) {
  return std::chrono::milliseconds(static_cast<long long>(std::llround(s * 1000.0)));
}

}  // namespace

Result<WatchSettings> watch_settings(const inventory::Shelf& shelf, WatchSettings s) {
  const auto it = shelf.extra.find("watch");
  if (it == shelf.extra.end()) return s;
  const std::string where = "shelf '" + shelf.name + "': ";
  if (!it->is_object()) return fail(ErrorCode::invalid_inventory, where + "watch: expected an object");
  for (const auto& [key, value] : it->items()) {
    if (key == "probe") {
      if (!value.is_string()) return fail(ErrorCode::invalid_inventory, where + "watch.probe: expected a string");
      auto spec = parse_probe_spec(value.get<std::string>());
      if (!spec) return fail(ErrorCode::invalid_inventory, where + "watch." + spec.error().message);
      s.probe = *spec;
    } else if (key == "failures" || key == "max_cycles_per_hour") {
      auto v = int_field(value, key, where);
      if (!v) return std::unexpected(v.error());
      (key == "failures" ? s.policy.failures : s.policy.max_cycles_per_hour) = *v;
    } else if (key == "interval" || key == "probe_timeout" || key == "backoff_seconds" || key == "outage_fraction") {
      auto v = number_field(value, key, where);
      if (!v) return std::unexpected(v.error());
      if (*v < 0 || *v > 1e7) return fail(ErrorCode::invalid_inventory, where + "watch." + key + ": out of range");
      if (key == "interval") s.interval = from_seconds(*v);
      if (key == "probe_timeout") s.probe_timeout = from_seconds(*v);
      if (key == "backoff_seconds") s.policy.backoff = seconds(std::llround(*v));
      if (key == "outage_fraction") s.policy.outage_fraction = *v;
    } else {
      return fail(ErrorCode::invalid_inventory,
                  where + "watch: unknown key " + printable(key) +
                      " (known: probe, probe_timeout, failures, interval, max_cycles_per_hour, backoff_seconds, "
                      "outage_fraction)");
    }
  }
  return s;
}

Result<void> check_settings(const WatchSettings& s) {
  const auto bad = [](const std::string& what) { return fail(ErrorCode::invalid_argument, "watch: " + what); };
  if (s.policy.failures < 1) return bad("--failures must be at least 1");
  if (s.policy.max_cycles_per_hour < 1) return bad("--max-cycles-per-hour must be at least 1");
  if (s.policy.backoff.count() < 0) return bad("--backoff must not be negative");
  if (!(s.policy.outage_fraction > 0.0 && s.policy.outage_fraction <= 1.0)) {
    return bad("--outage-fraction must be above 0 and at most 1");
  }
  if (s.interval.count() < 0) return bad("--interval must not be negative");
  if (s.probe_timeout.count() < 1) return bad("--probe-timeout must be positive");
  return {};
}

Result<void> check_watch_section(const inventory::Shelf& shelf) {
  auto settings = watch_settings(shelf);
  if (!settings) return std::unexpected(settings.error());
  auto ok = check_settings(*settings);
  if (ok) return ok;
  // check_settings names command-line options; the file spells them as keys.
  std::string message = ok.error().message;
  if (message.starts_with("watch: ")) message.erase(0, 7);
  for (const auto& [flag, key] : {std::pair{"--max-cycles-per-hour", "max_cycles_per_hour"},
                                  std::pair{"--outage-fraction", "outage_fraction"},
                                  std::pair{"--probe-timeout", "probe_timeout"},
                                  std::pair{"--backoff", "backoff_seconds"},
                                  std::pair{"--failures", "failures"},
                                  std::pair{"--interval", "interval"}}) {
    if (message.starts_with(flag)) {
      message = key + message.substr(std::string_view(flag).size());
      break;
    }
  }
  return fail(ErrorCode::invalid_inventory, "shelf '" + shelf.name + "': watch." + message);
}

// --- the real cycler ---------------------------------------------------------------------------

SwitchPowerCycler::SwitchPowerCycler(inventory::Shelf shelf, std::filesystem::path inventory_dir,
                                     std::filesystem::path state_dir)
    : m_shelf(std::move(shelf)), m_inventory_dir(std::move(inventory_dir)), m_state_dir(std::move(state_dir)) {}

SwitchPowerCycler::~SwitchPowerCycler() = default;

void SwitchPowerCycler::set_shelf(inventory::Shelf shelf) {
  m_session.reset();
  m_shelf = std::move(shelf);
}

Result<CycleOutcome> SwitchPowerCycler::cycle(const std::string& pi) {
  auto lock = ShelfLock::acquire(m_state_dir, m_shelf.name);
  if (!lock) return std::unexpected(lock.error());
  auto hold = PowerHolds(m_state_dir, m_shelf.name).find(pi);
  if (!hold) return std::unexpected(hold.error());
  if (*hold) return CycleOutcome{true, describe(**hold)};
  if (!m_session) {
    auto session = switchctl::open_switch_session(m_shelf, m_inventory_dir);
    if (!session) return std::unexpected(session.error());
    m_session = std::move(*session);
    if (m_metrics) m_session = std::make_unique<switchctl::CountingSession>(std::move(m_session), m_metrics);
  }
  auto controller = switchctl::SwitchController::create(m_shelf, *m_session, m_clock);
  if (!controller) return std::unexpected(controller.error());
  auto r = controller->power(pi, switchctl::PowerAction::cycle, false);
  if (!r) return std::unexpected(r.error());
  std::string text = "port " + std::to_string(r->port) + ": ";
  if (r->after.admin_on) text += *r->after.admin_on ? "on " : "off ";
  text += switchctl::to_string(r->after.detection);
  for (const auto& note : r->notes) text += "; " + note;
  return CycleOutcome{false, text};
}

// --- the loop --------------------------------------------------------------------------------

namespace {

std::string guard_detail(const WatchRound& round, double fraction) {
  std::string names;
  int listed = 0;
  for (const auto& d : round.decisions) {
    if (d.action != WatchAction::guarded) continue;
    if (listed++ == 8) {
      names += ", ...";
      break;
    }
    names += (names.empty() ? "" : ", ") + d.pi;
  }
  return std::to_string(round.failing) + " of " + std::to_string(round.probed) + " probed Pis failing (more than " +
         std::to_string(static_cast<int>(fraction * 100.0 + 0.5)) +
         "%): network outage suspected, cycling nobody (" + names + ")";
}

WatchEvent event(std::string kind, std::string pi, int failures, std::string detail, bool repeat = false) {
  WatchEvent e;
  e.kind = std::move(kind);
  e.pi = std::move(pi);
  e.failures = failures;
  e.detail = std::move(detail);
  e.repeat = repeat;
  return e;
}

// Reports an event and journals it (if it is a decision).
void publish(const WatchEvent& e, const WatchLoopOptions& options, const Journal* journal, const WatchLoopHooks& hooks) {
  if (hooks.on_event) hooks.on_event(e);
  if (journal == nullptr) return;
  auto entry = journal_entry(e, options.shelf);
  if (!entry) return;
  if (auto ok = journal->append(*entry); !ok && hooks.on_journal_error) hooks.on_journal_error(ok.error());
}

class Round {
 public:
  Round(const WatchLoopOptions& options, PowerCycler& cycler, switchctl::Clock& clock, Watchdog& dog,
        const Journal* journal, const WatchLoopHooks& hooks, int number)
      : m_options(options), m_cycler(cycler), m_clock(clock), m_dog(dog), m_journal(journal), m_hooks(hooks),
        m_number(number) {}

  void carry_out(const WatchRound& round) {
    if (round.outage) {
      emit(event("guard", "", 0, guard_detail(round, m_dog.policy().outage_fraction), round.outage_repeat));
    } else if (round.outage_ended) {
      emit(event("guard-lifted", "", 0,
                 std::to_string(round.failing) + " of " + std::to_string(round.probed) + " probed Pis failing"));
    }
    for (const auto& d : round.decisions) decision(d);
  }

 private:
  void decision(const WatchDecision& d) {
    const std::string of = " (" + std::to_string(d.failures) + "/" + std::to_string(m_dog.policy().failures) + ")";
    switch (d.action) {
      case WatchAction::none:
      case WatchAction::guarded: return;
      case WatchAction::failing: return emit(event("probe-failed", d.pi, d.failures, d.detail + of));
      case WatchAction::recovered: {
        WatchEvent e = event("recovered", d.pi, 0, d.detail);
        e.after_cycle = d.was_cycled;
        return emit(std::move(e));
      }
      case WatchAction::backoff:
      case WatchAction::capped:
        return emit(event(std::string(to_string(d.action)), d.pi, d.failures, d.detail, d.repeat));
      case WatchAction::cycle: return cycle(d);
    }
  }

  void cycle(const WatchDecision& d) {
    if (m_options.dry_run) {
      m_dog.cycled(d.pi, m_clock.now());
      return emit(event("would-cycle", d.pi, d.failures, d.detail + " (dry run, nothing powered)"));
    }
    auto r = m_cycler.cycle(d.pi);
    if (!r && r.error().code == ErrorCode::locked) {
      return emit(event("shelf-busy", d.pi, d.failures,
                        "another run holds the shelf; not cycling this round (" + r.error().message + ")"));
    }
    if (r && r->held) {
      m_dog.held(d.pi);
      return emit(event("held", d.pi, 0, r->detail + "; not probed or cycled until released"));
    }
    m_dog.cycled(d.pi, m_clock.now());
    if (!r) return emit(event("cycle-failed", d.pi, d.failures, r.error().message));
    emit(event("cycled", d.pi, d.failures, r->detail + " after " + d.detail));
  }

  void emit(WatchEvent e) {
    e.round = m_number;
    publish(e, m_options, m_journal, m_hooks);
  }

  const WatchLoopOptions& m_options;
  PowerCycler& m_cycler;
  switchctl::Clock& m_clock;
  Watchdog& m_dog;
  const Journal* m_journal;
  const WatchLoopHooks& m_hooks;
  int m_number;
};

bool stopping(const WatchLoopHooks& hooks) { return hooks.stop_requested && hooks.stop_requested(); }

// Sleeps `total` in slices so a stop request is seen within a fifth of a second.
void pause(switchctl::Clock& clock, std::chrono::milliseconds total, const WatchLoopHooks& hooks) {
  const auto end = clock.now() + total;
  for (int slices = 0; slices < 100000000 && !stopping(hooks); ++slices) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock.now());
    if (left.count() <= 0) return;
    clock.sleep_for(std::min(left, std::chrono::milliseconds(200)));
  }
}

}  // namespace

std::optional<JournalEntry> journal_entry(const WatchEvent& e, const std::string& shelf) {
  if (e.repeat || e.kind == "probe-failed" || (e.kind == "recovered" && !e.after_cycle)) return std::nullopt;
  JournalEntry j;
  j.verb = "watch";
  j.shelf = shelf;
  j.pi = e.pi;
  j.step = "power-cycle";
  j.detail = e.detail;
  if (e.kind == "cycled") {
    j.result = "ok";
  } else if (e.kind == "would-cycle") {
    j.result = "planned";
  } else if (e.kind == "cycle-failed") {
    j.result = "failed";
  } else if (e.kind == "shelf-busy" || e.kind == "backoff" || e.kind == "capped") {
    j.result = "skipped";
    j.detail = (e.kind == "shelf-busy" ? "shelf busy: " : e.kind == "backoff" ? "backoff: " : "hourly cap: ") + e.detail;
  } else if (e.kind == "guard" || e.kind == "guard-lifted") {
    j.step = "guard";
    j.result = e.kind == "guard" ? "skipped" : "ok";
  } else if (e.kind == "recovered") {
    j.step = "probe";
    j.result = "ok";
  } else if (e.kind == "held") {
    j.result = "skipped";
    j.detail = "held: " + e.detail;
  } else if (e.kind == "hold-error") {
    j.step = "hold";
    j.result = "failed";
  } else {
    return std::nullopt;
  }
  return j;
}

inventory::Json to_json(const WatchEvent& e) {
  inventory::Json j;
  j["round"] = e.round;
  j["event"] = e.kind;
  j["pi"] = e.pi.empty() ? inventory::Json(nullptr) : inventory::Json(e.pi);
  j["failures"] = e.failures;
  j["detail"] = e.detail;
  j["repeat"] = e.repeat;
  return j;
}

std::string to_text(const WatchEvent& e) {
  return "round " + std::to_string(e.round) + ": " + (e.pi.empty() ? "" : e.pi + ": ") + e.kind + ": " + e.detail;
}

namespace {

// Feeds the journal's recent watch cycles of this shelf to the watchdog; reports a "history"
// event for each Pi with cycles in the last hour. A journal that cannot be read is reported and
// otherwise ignored (the watch then starts with no memory, as before).
void recall_history(Watchdog& dog, const Journal& journal, const WatchLoopOptions& options,
                    switchctl::Clock& clock, const WatchLoopHooks& hooks) {
  auto entries = journal.read();
  if (!entries) {
    if (hooks.on_journal_error) hooks.on_journal_error(entries.error());
    return;
  }
  const auto wall_now = std::chrono::system_clock::now();
  const auto now = clock.now();
  std::map<std::string, int> last_hour;
  for (const auto& e : *entries) {
    if (e.verb != "watch" || e.pi.empty() || (!options.shelf.empty() && e.shelf != options.shelf)) continue;
    const auto when = parse_utc(e.time);
    if (!when || *when > wall_now || wall_now - *when > std::chrono::hours(24)) continue;
    const auto age = std::chrono::duration_cast<std::chrono::steady_clock::duration>(wall_now - *when);
    if (e.step == "power-cycle" && (e.result == "ok" || e.result == "failed")) {
      dog.recall_cycle(e.pi, now - age);
      if (age < std::chrono::hours(1)) ++last_hour[e.pi];
    } else if (e.step == "probe" && e.result == "ok") {
      dog.recall_alive(e.pi);
    }
  }
  if (!hooks.on_event) return;
  for (const auto& [pi, count] : last_hour) {
    WatchEvent event;
    event.kind = "history";
    event.pi = pi;
    event.detail = std::to_string(count) + " cycle(s) in the last hour, from the journal (cap " +
                   std::to_string(options.settings.policy.max_cycles_per_hour) + ")";
    hooks.on_event(event);
  }
}

// The holds seen in the previous round, to report each hold (and its release) once.
class HeldPis {
 public:
  // Drops held Pis from `targets`; false (after a `hold-error` event) when the holds cannot be read.
  bool filter(std::vector<ProbeTarget>& targets, int number, Watchdog& dog, const WatchLoopOptions& options,
              const Journal* journal, const WatchLoopHooks& hooks) {
    if (!hooks.held) return true;
    auto holds = hooks.held();
    if (!holds) {
      WatchEvent e = event("hold-error", "", 0, holds.error().message + "; cycling nobody until it can be read", m_error);
      e.round = number;
      publish(e, options, journal, hooks);
      m_error = true;
      return false;
    }
    m_error = false;
    std::set<std::string> now;
    std::erase_if(targets, [&](const ProbeTarget& t) {
      const auto it = holds->find(t.pi);
      if (it == holds->end()) {
        if (m_seen.contains(t.pi)) announce("released", t.pi, "hold released; probing again", number, options, journal, hooks);
        return false;
      }
      now.insert(t.pi);
      dog.held(t.pi);
      if (!m_seen.contains(t.pi))
        announce("held", t.pi, describe(it->second) + "; not probed or cycled until released", number, options, journal, hooks);
      return true;
    });
    m_seen = std::move(now);
    return true;
  }

 private:
  static void announce(const char* kind, const std::string& pi, std::string detail, int number,
                       const WatchLoopOptions& options, const Journal* journal, const WatchLoopHooks& hooks) {
    WatchEvent e = event(kind, pi, 0, std::move(detail));
    e.round = number;
    publish(e, options, journal, hooks);
  }
  std::set<std::string> m_seen;
  bool m_error = false;
};

}  // namespace

int run_watch(const WatchLoopOptions& options, Prober& prober, PowerCycler& cycler, switchctl::Clock& clock,
              const Journal* journal, const WatchLoopHooks& hooks) {
  Watchdog dog(options.settings.policy);
  if (journal != nullptr) recall_history(dog, *journal, options, clock, hooks);
  int done = 0;
  HeldPis held;
  for (int number = 1; options.rounds == 0 || number <= options.rounds; ++number) {
    if (stopping(hooks)) break;
    WatchRoundReport report{number, std::chrono::system_clock::now(), 0.0, false, false, {}};
    const auto started = clock.now();
    const auto round_done = [&] {
      report.seconds = std::chrono::duration<double>(clock.now() - started).count();
      if (hooks.on_round) hooks.on_round(report);
    };
    // Pis held off are left out (reported when first seen); unreadable holds skip the round.
    auto targets = hooks.targets ? hooks.targets() : std::vector<ProbeTarget>{};
    if (!held.filter(targets, number, dog, options, journal, hooks)) {
      report.skipped = true;
      round_done();
      ++done;
      if (options.rounds != 0 && number == options.rounds) break;
      pause(clock, options.settings.interval, hooks);
      continue;
    }
    // Probe every Pi at once; a stop request during probing voids the round.
    const auto results = prober.probe(targets);
    if (stopping(hooks)) break;
    // Decide, then act on the decisions, reporting and journaling each.
    const WatchRound decided = dog.decide(results, clock.now());
    Round(options, cycler, clock, dog, journal, hooks, number).carry_out(decided);
    report.outage = decided.outage;
    report.results = results;
    round_done();
    ++done;
    if (options.rounds != 0 && number == options.rounds) break;
    pause(clock, options.settings.interval, hooks);
  }
  return done;
}

}  // namespace picluster::orchestrator
