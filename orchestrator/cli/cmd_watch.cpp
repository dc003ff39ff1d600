// Subcommand `watch`: probe the shelf's Pis every round and power-cycle the ones that stay dead
// (orchestrator/watch.hpp has the rules). This file parses options, wires the real prober,
// cycler and journal, handles SIGINT/SIGTERM, and prints events as text or JSON lines.
#include <signal.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "orchestrator/cli/cli.hpp"
#include "orchestrator/journal.hpp"
#include "orchestrator/observer.hpp"
#include "orchestrator/power_hold.hpp"
#include "orchestrator/watch.hpp"

namespace picluster::cli {

namespace {

using namespace orchestrator;
namespace fs = std::filesystem;

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int /*signal*/) { g_stop = 1; }

// Installs the stop handlers for the object's lifetime (no SA_RESTART: a sleep ends early).
class StopSignals {
 public:
  StopSignals() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &m_old_int);
    ::sigaction(SIGTERM, &sa, &m_old_term);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals() {
    ::sigaction(SIGINT, &m_old_int, nullptr);
    ::sigaction(SIGTERM, &m_old_term, nullptr);
  }

 private:
  struct sigaction m_old_int {};
  struct sigaction m_old_term {};
};

struct WatchArgs {
  std::vector<std::string> names;
  bool dry_run = false, once = false, json = false;
  std::optional<double> interval, backoff, outage_fraction, probe_timeout;
  std::optional<int> failures, max_cycles, rounds;
  std::optional<std::string> probe;
  std::optional<std::string> listen;  // --listen ADDRESS:PORT
  bool listen_public = false;
};

Result<WatchSettings> settings_for(const inventory::Shelf& shelf, const WatchArgs& a) {
  auto s = watch_settings(shelf);
  if (!s) return s;
  const auto ms = [](double seconds) { return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0)); };
  if (a.probe) {
    auto spec = parse_probe_spec(*a.probe);
    if (!spec) return std::unexpected(spec.error().with_context("--probe"));
    s->probe = *spec;
  }
  if (a.interval) s->interval = ms(*a.interval);
  if (a.probe_timeout) s->probe_timeout = ms(*a.probe_timeout);
  if (a.backoff) s->policy.backoff = std::chrono::seconds(static_cast<long long>(*a.backoff));
  if (a.outage_fraction) s->policy.outage_fraction = *a.outage_fraction;
  if (a.failures) s->policy.failures = *a.failures;
  if (a.max_cycles) s->policy.max_cycles_per_hour = *a.max_cycles;
  if (auto ok = check_settings(*s); !ok) return std::unexpected(ok.error());
  return s;
}

// The Pis to probe: the shelf's, or only the named ones.
std::vector<ProbeTarget> targets_of(const inventory::Shelf& shelf, const std::vector<std::string>& names) {
  std::vector<ProbeTarget> out;
  for (const auto& pi : shelf.pis) {
    if (names.empty() || std::ranges::find(names, pi.name) != names.end()) out.push_back({pi.name, pi.ipv6.str()});
  }
  return out;
}

// Follows the inventory file: when it changed, reloads it so Pis added or removed are picked up.
// A file that no longer loads is reported and the previous shelf kept.
class ShelfSource {
 public:
  ShelfSource(const Context& ctx, fs::path path, inventory::Shelf shelf, SwitchPowerCycler& cycler)
      : m_ctx(ctx), m_path(std::move(path)), m_shelf(std::move(shelf)), m_cycler(cycler), m_mtime(mtime()) {}

  const inventory::Shelf& current() {
    const auto now = mtime();
    if (now == m_mtime) return m_shelf;
    m_mtime = now;
    auto inv = load_inventory(m_ctx);
    auto shelf = inv ? select_shelf(*inv, m_ctx) : Result<const inventory::Shelf*>(std::unexpected(inv.error()));
    if (!shelf) {
      std::cerr << "picluster: warning: watch: keeping the previous inventory: " << shelf.error().message << std::endl;
      return m_shelf;
    }
    m_shelf = **shelf;
    m_cycler.set_shelf(m_shelf);
    return m_shelf;
  }

 private:
  fs::file_time_type mtime() const {
    std::error_code ec;
    return fs::last_write_time(m_path, ec);
  }
  const Context& m_ctx;
  fs::path m_path;
  inventory::Shelf m_shelf;
  SwitchPowerCycler& m_cycler;
  fs::file_time_type m_mtime;
};

void print_header(const inventory::Shelf& shelf, const WatchSettings& s, std::size_t pis, bool dry_run) {
  std::cout << "watching shelf '" << shelf.name << "': " << pis << " Pi(s), probe " << s.probe.str() << ", every "
            << static_cast<double>(s.interval.count()) / 1000.0 << " s; cycle after " << s.policy.failures
            << " failed probes in a row, at most " << s.policy.max_cycles_per_hour << " per Pi per hour, backoff "
            << s.policy.backoff.count() << " s" << (dry_run ? " (dry run: nothing is powered)" : "") << std::endl;
}

Result<int> run_watch_command(const Context& ctx, const WatchArgs& a) {
  auto inv = load_inventory(ctx);
  if (!inv) return std::unexpected(inv.error());
  auto shelf = select_shelf(*inv, ctx);
  if (!shelf) return std::unexpected(shelf.error());
  for (const auto& n : a.names) {
    if ((*shelf)->find_pi(n) == nullptr) {
      return fail(ErrorCode::not_found, "watch: no Pi named " + n + " in shelf '" + (*shelf)->name + "'");
    }
  }
  auto settings = settings_for(**shelf, a);
  if (!settings) return std::unexpected(settings.error().with_context(inv->source.string()));
  auto prober = make_prober(settings->probe, settings->probe_timeout);
  if (!prober) {
    std::cout << "watch: probing is off (probe none) for shelf '" << (*shelf)->name << "'; nothing to watch" << std::endl;
    return 0;
  }
  const fs::path inventory_path = inv->source.empty() ? fs::path(ctx.inventory_path) : inv->source;
  const fs::path dir = inventory_path.parent_path().empty() ? fs::path(".") : inventory_path.parent_path();
  SwitchPowerCycler cycler(**shelf, dir, state_dir(inventory_path));
  ShelfSource source(ctx, inventory_path, **shelf, cycler);
  const Journal journal(state_dir(inventory_path));
  if (!a.json) print_header(**shelf, *settings, targets_of(**shelf, a.names).size(), a.dry_run);

  WatchLoopOptions options{*settings, a.once ? 1 : a.rounds.value_or(0), a.dry_run, (*shelf)->name};
  WatchLoopHooks hooks;
  hooks.targets = [&] { return targets_of(source.current(), a.names); };
  hooks.on_event = [&](const WatchEvent& e) {
    if (a.json) {
      std::cout << to_json(e).dump() << std::endl;
    } else {
      std::cout << to_text(e) << std::endl;
    }
  };
  hooks.stop_requested = [] { return g_stop != 0; };
  hooks.held = [&] { return PowerHolds(state_dir(inventory_path), source.current().name).read(); };
  hooks.on_journal_error = [](const Error& e) { std::cerr << "picluster: warning: journal: " << e.message << std::endl; };
  // --listen: the server and the observer feeding it run on their own threads; the loop only
  // hands each round's report over (declared after the server: the observer goes first).
  std::unique_ptr<ObserveServer> server;
  std::unique_ptr<WatchObserver> observer;
  if (a.listen) {
    auto address = parse_listen_address(*a.listen, a.listen_public);
    if (!address) return std::unexpected(address.error());
    const auto interval_s = std::chrono::duration_cast<std::chrono::seconds>(settings->interval).count();
    ServerLimits limits;
    limits.stale_after = std::chrono::seconds(
        3 * interval_s + std::chrono::duration_cast<std::chrono::seconds>(settings->probe_timeout).count() + 180);
    auto started = ObserveServer::start(*address, limits);
    if (!started) return std::unexpected(started.error());
    server = std::move(*started);
    auto metrics = std::make_shared<switchctl::SnmpMetrics>();
    cycler.set_snmp_metrics(metrics);
    observer = std::make_unique<WatchObserver>(inventory_path, (*shelf)->name, *server, metrics,
                                               static_cast<int>(std::clamp<long long>(interval_s, 2, 60)));
    hooks.on_round = [&observer](const WatchRoundReport& r) { observer->round(r); };
    ListenAddress bound = *address;
    bound.port = server->port();
    const std::string url = "http://" + bound.str() + "/";
    if (a.json) {
      std::cout << inventory::Json{{"event", "listening"}, {"url", url}}.dump() << std::endl;
    } else {
      std::cout << "watch: serving " << url << " (the shelf page), " << url << "metrics, " << url
                << "api/status, " << url << "healthz" << std::endl;
    }
  }
  switchctl::SystemClock clock;
  StopSignals signals;
  const int rounds = run_watch(options, *prober, cycler, clock, &journal, hooks);
  if (!a.json) std::cout << "watch: stopped after " << rounds << " round(s)" << std::endl;
  return 0;
}

}  // namespace

void register_watch_commands(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<WatchArgs>();
  auto* w = app.add_subcommand("watch", "Probe every Pi; power-cycle a Pi that keeps failing (with backoff, an hourly "
                                        "cap and a shelf-wide outage guard)");
  w->add_option("names", a->names, "Watch only these Pis (default: every Pi on the shelf)");
  w->add_flag("--dry-run", a->dry_run, "Decide and journal \"would-cycle\", power nothing");
  w->add_flag("--once", a->once, "One round, then exit (for cron and tests)");
  w->add_option("--rounds", a->rounds, "Stop after N rounds")->check(CLI::Range(1, 100000000));
  w->add_flag("--json", a->json, "One JSON event per line");
  w->add_option("--probe", a->probe, "tcp[:PORT] (default tcp:22), exec:PROGRAM (run as PROGRAM NAME ADDRESS; "
                                     "exit 0 = alive) or none");
  w->add_option("--probe-timeout", a->probe_timeout, "Seconds a probe may take (default 5)");
  w->add_option("--interval", a->interval, "Seconds between rounds (default 30)")->check(CLI::Range(0.0, 1e7));
  w->add_option("--failures", a->failures, "Failed probes in a row before a cycle (default 3)")->check(CLI::Range(1, 1000000));
  w->add_option("--max-cycles-per-hour", a->max_cycles, "Cap on cycles per Pi per hour (default 3)")
      ->check(CLI::Range(1, 1000000));
  w->add_option("--backoff", a->backoff, "Seconds to wait after a Pi's first cycle, doubling per further cycle "
                                         "(default 300)")->check(CLI::Range(0.0, 1e7));
  w->add_option("--outage-fraction", a->outage_fraction,
                "Cycle nobody when more than this fraction of the probed Pis fail at once (default 0.5)");
  w->add_option("--listen", a->listen,
                "Serve /metrics (Prometheus), the shelf page /, /api/status and /healthz on ADDRESS:PORT "
                "(127.0.0.1:9464, [::1]:9464; port 0 = any free port); read-only");
  w->add_flag("--listen-public", a->listen_public,
              "Allow --listen on an address other than loopback (the page is then readable from the network)");
  w->footer("Settings also come from the shelf's \"watch\" object in the inventory (probe, probe_timeout, failures, "
            "interval, max_cycles_per_hour, backoff_seconds, outage_fraction); options override them.");
  w->callback([&ctx, a] { ctx.action = [&ctx, a] { return run_watch_command(ctx, *a); }; });
}

}  // namespace picluster::cli
