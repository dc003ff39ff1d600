// Shelf-wide operator verbs: plan, apply, status, log. They act on the switch, the fileserver
// and the boot files together through the orchestrator.

#include <iostream>
#include <map>
#include <memory>

#include "orchestrator/cli/cli.hpp"
#include "orchestrator/cli/report.hpp"
#include "orchestrator/cli/table.hpp"
#include "common/file.hpp"
#include "orchestrator/example.hpp"
#include "orchestrator/observer.hpp"
#include "orchestrator/reconcile.hpp"
#include "orchestrator/status.hpp"
#include "orchestrator/verbs.hpp"
#include "orchestrator/watch.hpp"

namespace picluster::cli {
namespace {

using inventory::Json;

// Exit status: 0, or with --detailed-exitcode 0 = no changes, 2 = changes, 1 = any error (as
// Terraform's), so an error never reads as "changes" (a usage error becomes a failure, 1).
Result<int> run_plan(const Context& ctx, bool json, bool detailed) {
  const auto failed = [detailed](Error e) -> Result<int> {
    if (detailed && exit_status(e) != 1) e.code = ErrorCode::command_failed;
    return std::unexpected(std::move(e));
  };
  auto session = orchestrator::open_session(verb_context(ctx, true, {}), "plan");
  if (!session) return failed(session.error());
  auto plan = orchestrator::plan_shelf(**session, {});
  if (!plan) return failed(plan.error());
  if (ctx.verbose) {
    std::cerr << "note: plan: " << plan->fileserver_round_trips << " fileserver round trips over "
              << plan->fileserver_channels << " SSH channels\n";
  }
  if (json) {
    std::cout << orchestrator::to_json(*plan).dump(2) << "\n";
  } else {
    std::cout << orchestrator::describe(*plan, stdout_is_terminal());
  }
  return detailed && !plan->empty() ? 2 : 0;
}

Result<int> run_apply(const Context& ctx, bool dry_run, bool json) {
  StepPrinter printer(json);
  auto result = orchestrator::apply(verb_context(ctx, dry_run, printer.reporter()));
  printer.finish(result);
  if (!result) return std::unexpected(result.error());
  return 0;
}

std::string yes_no(const std::optional<bool>& v, const char* yes, const char* no) {
  return v ? (*v ? yes : no) : "unknown";
}

// Probes every Pi once with --probe, else the shelf's watch probe (default tcp:22); none: no probes.
Result<std::vector<orchestrator::ProbeResult>> probe_once(const inventory::Shelf& shelf,
                                                          const std::string& override_spec) {
  auto settings = orchestrator::watch_settings(shelf);
  if (!settings) return std::unexpected(settings.error());
  if (!override_spec.empty()) {
    auto spec = orchestrator::parse_probe_spec(override_spec);
    if (!spec)
      return std::unexpected(
          Error{ErrorCode::invalid_argument, "--probe: " + spec.error().message});
    settings->probe = *spec;
  }
  auto prober = orchestrator::make_prober(settings->probe, settings->probe_timeout);
  if (!prober) return std::vector<orchestrator::ProbeResult>{};
  std::vector<orchestrator::ProbeTarget> targets;
  for (const auto& pi : shelf.pis) targets.push_back({pi.name, pi.ipv6.str()});
  return prober->probe(targets);
}

// One read of the shelf (switch, holds, fileserver, journal) and one probe of every Pi, with the
// SNMP requests counted: what status, status --html and metrics show.
Result<orchestrator::ShelfSnapshot> observe_once(const Context& ctx, const std::string& probe_spec,
                                                 bool sizes = false) {
  // -v: the fileserver's round trips, on stderr (stdout may be JSON)
  const orchestrator::Reporter notes = [](const orchestrator::StepReport& r) {
    if (r.result == "note") std::cerr << "note: " << r.step << ": " << r.detail << "\n";
  };
  auto session = orchestrator::open_session(verb_context(ctx, false, notes), "status");
  if (!session) return std::unexpected(session.error());
  auto metrics = std::make_shared<switchctl::SnmpMetrics>();
  orchestrator::count_snmp(**session, metrics);
  auto probes = probe_once((*session)->shelf(), probe_spec);
  if (!probes) return std::unexpected(probes.error());
  auto snapshot = orchestrator::observe_shelf(**session, *probes, std::chrono::system_clock::now(), sizes);
  snapshot.snmp = metrics->counts();
  return snapshot;
}

Result<orchestrator::ShelfStatus> read_status(const Context& ctx, const std::string& probe_spec,
                                              bool sizes = false) {
  auto snapshot = observe_once(ctx, probe_spec, sizes);
  if (!snapshot) return std::unexpected(snapshot.error());
  return std::move(snapshot->status);
}

// Exit status 1 when anything is wrong (a part unreadable, a row with drift or a missing root or
// export), with or without --json, so scripts and operators see the same answer.
int status_exit(const orchestrator::ShelfStatus& status) { return status.problems.empty() ? 0 : 1; }

void print_status(const orchestrator::ShelfStatus& status) {
  Table t({"PI", "PORT", "POE", "POWER", "VLAN", "ROOT", "SIZE", "MODIFIED", "IMAGE", "EXPORT",
           "REACHABLE", "LAST ACTION"});
  for (const auto& st : status.pis) {
    std::string last = "-";
    if (st.last_action)
      last = st.last_action->time + " " + st.last_action->verb + "/" + st.last_action->step + " " +
             st.last_action->result;
    t.add({st.name, std::to_string(st.port), st.hold ? "held: " + st.poe : st.poe,
           st.power_mw ? std::to_string(*st.power_mw / 1000) + "." +
                             std::to_string(*st.power_mw % 1000 / 100) + " W"
                       : "-",
           st.vlan, yes_no(st.root_present, "present", "missing"),
           st.root_bytes ? human_bytes(*st.root_bytes) : "-",
           st.root_mtime ? utc_time(*st.root_mtime) : "-", st.image.value_or("-"),
           yes_no(st.exported, "ok", "missing"),
           st.reachable ? (*st.reachable ? "yes" : "no") : "not probed", last});
  }
  t.print(std::cout);
  for (const auto& st : status.pis) {
    if (st.hold) std::cout << st.name << ": " << orchestrator::describe(*st.hold) << "\n";
  }
  for (const auto& p : status.problems) std::cout << "warning: " << p << "\n";
}

// status --html FILE: the shelf page, written once (atomically); exit status as for status.
Result<int> write_status_page(const Context& ctx, const std::string& file, const std::string& probe_spec) {
  auto snapshot = observe_once(ctx, probe_spec);
  if (!snapshot) return std::unexpected(snapshot.error());
  if (auto ok = write_file_atomically(file, orchestrator::render_page(*snapshot), 0644); !ok)
    return std::unexpected(ok.error().with_context("status --html"));
  return status_exit(snapshot->status);
}

// picluster metrics: the Prometheus metrics once, on stdout or (atomically, for node_exporter's
// textfile collector) into a file.
Result<int> run_metrics(const Context& ctx, const std::string& out, const std::string& probe_spec) {
  auto snapshot = observe_once(ctx, probe_spec);
  if (!snapshot) return std::unexpected(snapshot.error());
  const std::string text = orchestrator::render_metrics(*snapshot);
  if (out.empty()) {
    std::cout << text;
  } else if (auto ok = write_file_atomically(out, text, 0644); !ok) {
    return std::unexpected(ok.error().with_context("metrics --out"));
  }
  return 0;
}

Result<int> run_status(const Context& ctx, bool json, const std::string& probe_spec = {},
                       bool sizes = false, const std::string& html = {}) {
  if (!html.empty()) return write_status_page(ctx, html, probe_spec);
  auto status = read_status(ctx, probe_spec, sizes);
  if (!status) return std::unexpected(status.error());
  if (json) {
    std::cout << orchestrator::to_json(*status).dump(2) << "\n";
  } else {
    print_status(*status);
  }
  return status_exit(*status);
}

Result<int> run_log(const Context& ctx, const std::string& name, bool json, std::size_t limit) {
  orchestrator::Journal journal(orchestrator::state_dir(ctx.inventory_path));
  auto entries = journal.read(name);
  if (!entries) return std::unexpected(entries.error());
  const std::size_t skip = limit > 0 && entries->size() > limit ? entries->size() - limit : 0;
  if (json) {
    Json out = Json::array();
    for (std::size_t i = skip; i < entries->size(); ++i)
      out.push_back(orchestrator::to_json((*entries)[i]));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  Table t({"TIME", "USER", "VERB", "PI", "STEP", "RESULT", "DETAIL"});
  for (std::size_t i = skip; i < entries->size(); ++i) {
    const auto& e = (*entries)[i];
    std::string detail = e.detail.substr(0, e.detail.find('\n'));
    t.add({e.time, e.user, e.verb, e.pi.empty() ? "-" : e.pi, e.step, e.result, detail});
  }
  t.print(std::cout);
  return 0;
}

// After `example --keep`: the line to paste and the commands to try against the running shelf.
void print_next_steps(const std::filesystem::path& dir, const std::string& inv, int pis) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string pic = ec || self == "/usr/bin/picluster" ? "picluster" : self.string();
  const std::string pi = pis >= 3 ? "pi03" : "pi01";
  std::cout << "\nThe switch simulator keeps running (pid file "
            << (dir / orchestrator::kSwitchsimPidfile).string() << "). Try:\n\n"
            << "  export PICLUSTER_INVENTORY=" << inv << "\n"
            << "  " << pic << " status\n"
            << "  " << pic << " power cycle " << pi << "\n"
            << "  " << pic << " plan\n"
            << "  " << pic << " watch --once\n"
            << "\nand stop it with:\n\n"
            << "  " << pic << " example --stop " << dir.string() << "\n";
}

Result<int> run_example(const Context& ctx, const std::string& dir, int pis, bool keep, bool json) {
  if (pis < 1 || pis > 23)
    return fail(ErrorCode::invalid_argument, "--pis: 1-23 (port 24 is the trunk)");
  StepPrinter printer(json);
  orchestrator::ExampleOptions o;
  o.dir = std::filesystem::absolute(dir);
  o.pis = pis;
  o.keep_running = keep;
  o.switchsim = orchestrator::find_switchsim(std::filesystem::read_symlink("/proc/self/exe"));
  // The shelf's status at the end: a table, or with --json a "status" member of the one document.
  int status_rc = 0;
  Json status_json = nullptr;
  o.before_stop = [&](const std::filesystem::path& inventory) {
    Context c = ctx;
    c.inventory_path = inventory.string();
    c.shelf.clear();
    if (!json) std::cout << "\n== picluster status\n";
    auto status = read_status(c, {});
    if (!status) {
      status_rc = 1;
      if (json)
        status_json = Json{{"error", status.error().message}};
      else
        std::cout << "picluster status: " << status.error().message << "\n";
      return;
    }
    status_rc = status_exit(*status);
    if (json)
      status_json = orchestrator::to_json(*status);
    else
      print_status(*status);
  };
  if (!json) {
    std::cout << "== picluster example: a " << pis << "-Pi shelf on this machine, in "
              << o.dir.string() << "\n";
  }
  auto done = orchestrator::run_example(o, printer.reporter());
  printer.finish(done, Json{{"status", status_json}});
  if (!done) return std::unexpected(done.error());
  if (!json) {
    const std::string inv = (o.dir / "inventory.json").string();
    std::cout << "\nWhat happened, and where to look:\n"
              << "  inventory:          " << inv << "\n"
              << "  fileserver files:   " << (o.dir / "fileserver/etc").string()
              << " (VLAN interfaces, exports, isolation)\n"
              << "  Pi roots:           " << (o.dir / "fileserver/srv/nfsroot").string() << "\n"
              << "  boot files:         " << (o.dir / "fileserver/srv/tftp").string() << "\n"
              << "  audit journal:      picluster --inventory " << inv << " log\n"
              << "  every rendered file: picluster --inventory " << inv << " render --out DIR\n";
    if (keep) print_next_steps(o.dir, inv, pis);
  }
  return status_rc;
}

}  // namespace

void register_ops_commands(CLI::App& app, Context& ctx) {
  struct Options {
    bool dry_run = false;
    bool json = false;
    bool detailed = false;  // plan --detailed-exitcode
    std::string name;
    std::size_t limit = 0;
    std::string probe;
    bool sizes = false;
    std::string html;  // status --html, metrics --out
  };
  auto plan_opts = std::make_shared<Options>();
  auto* plan = app.add_subcommand(
      "plan", "Show what apply would change on the switch, fileserver and boot files");
  plan->add_flag("--json", plan_opts->json, "Print JSON");
  plan->add_flag("--detailed-exitcode", plan_opts->detailed,
                 "Exit 0 when nothing would change, 2 when something would, 1 on any error");
  plan->callback([&ctx, plan_opts] {
    ctx.action = [&ctx, plan_opts] {
      return run_plan(ctx, plan_opts->json, plan_opts->detailed);
    };
  });

  auto apply_opts = std::make_shared<Options>();
  auto* apply = app.add_subcommand(
      "apply", "Bring the switch, fileserver and boot files in line with the inventory");
  apply->add_flag("-n,--dry-run", apply_opts->dry_run, "Show the plan without changing anything");
  apply->add_flag("--json", apply_opts->json, "Print the steps as JSON");
  apply->callback([&ctx, apply_opts] {
    ctx.action = [&ctx, apply_opts] {
      return run_apply(ctx, apply_opts->dry_run, apply_opts->json);
    };
  });

  auto status_opts = std::make_shared<Options>();
  auto* status =
      app.add_subcommand("status", "One row per Pi: PoE, VLANs, root, export, last action");
  status->add_flag("--json", status_opts->json, "Print JSON");
  status->add_flag("--sizes", status_opts->sizes,
                   "Measure every root now (one du of all roots) instead of the size recorded "
                   "when it was built");
  status->add_option("--probe", status_opts->probe,
                     "How to tell a Pi is reachable: tcp[:PORT], exec:PROGRAM or none (default: "
                     "the shelf's watch probe, tcp:22)");
  status->add_option("--html", status_opts->html,
                     "Write the shelf page (front panel, Pis, journal) to this file instead, once");
  status->callback([&ctx, status_opts] {
    ctx.action = [&ctx, status_opts] {
      return run_status(ctx, status_opts->json, status_opts->probe, status_opts->sizes, status_opts->html);
    };
  });

  auto metrics_opts = std::make_shared<Options>();
  auto* metrics = app.add_subcommand(
      "metrics", "Print the shelf's Prometheus metrics once (for node_exporter's textfile collector)");
  metrics->add_option("--probe", metrics_opts->probe,
                      "How to probe the Pis: tcp[:PORT], exec:PROGRAM or none (default: the shelf's watch "
                      "probe, tcp:22)");
  metrics->add_option("--out", metrics_opts->html,
                      "Write to this file (atomically: temp file and rename) instead of stdout");
  metrics->callback([&ctx, metrics_opts] {
    ctx.action = [&ctx, metrics_opts] {
      return run_metrics(ctx, metrics_opts->html, metrics_opts->probe);
    };
  });

  struct ExampleArgs {
    std::string dir = "picluster-example";
    int pis = 8;
    bool keep = false;
    bool json = false;
    std::string stop;  // --stop DIR
  };
  auto ex = std::make_shared<ExampleArgs>();
  auto* example = app.add_subcommand("example",
                                     "Run the whole job on a built-in example shelf: switch "
                                     "simulator on 127.0.0.1, this machine as fileserver");
  example->add_option("--dir", ex->dir, "Folder for the example shelf (must not hold one already)")
      ->capture_default_str();
  example->add_option("--pis", ex->pis, "How many Pis to add (1-23)")->capture_default_str();
  example->add_flag("--keep,--keep-running", ex->keep,
                    "Leave the switch simulator running afterwards (pid file in the folder), and "
                    "print the commands to try against it");
  example->add_option("--stop", ex->stop,
                      "Stop the switch simulator a kept example in this folder left running");
  example->add_flag("--json", ex->json, "Print the steps as JSON");
  example->callback([&ctx, ex] {
    ctx.action = [&ctx, ex]() -> Result<int> {
      if (!ex->stop.empty()) {
        auto stopped = orchestrator::stop_example(std::filesystem::absolute(ex->stop));
        if (!stopped) return std::unexpected(stopped.error());
        std::cout << "stopped the switch simulator of " << ex->stop << "\n";
        return 0;
      }
      return run_example(ctx, ex->dir, ex->pis, ex->keep, ex->json);
    };
  });

  auto log_opts = std::make_shared<Options>();
  auto* log = app.add_subcommand("log", "Show the audit journal (every change picluster made)");
  log->add_option("name", log_opts->name, "Only entries for this Pi");
  log->add_option("--limit", log_opts->limit, "Only the newest N entries (0: all)")
      ->check(CLI::Validator(
          [](std::string& v) { return v.starts_with("-") ? std::string("must be 0 or more (0: all entries)") : std::string(); },
          "N >= 0"));
  log->add_flag("--json", log_opts->json, "Print JSON");
  log->callback([&ctx, log_opts] {
    ctx.action = [&ctx, log_opts] {
      return run_log(ctx, log_opts->name, log_opts->json, log_opts->limit);
    };
  });
}

}  // namespace picluster::cli
