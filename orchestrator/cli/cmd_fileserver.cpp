// Subcommands for the fileserver: `rebuild`, `rollback`, `fileserver show`, `fileserver apply`,
// `fileserver disconnect`.
// rebuild and rollback are orchestrator verbs (orchestrator/verbs.hpp); show and apply work
// through nfsroot (RootManager, FileserverConfigurator) over a Host picked by the shelf's
// fileserver.transport; this file renders the files with bootcfg, parses and prints.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "bootcfg/bootcfg.hpp"
#include "common/text.hpp"
#include "nfsroot/fileserver_config.hpp"
#include "nfsroot/root_manager.hpp"
#include "nfsroot/ssh_host.hpp"
#include "nfsroot/ssh_master.hpp"
#include "orchestrator/cli/cli.hpp"
#include "orchestrator/cli/report.hpp"
#include "orchestrator/cli/table.hpp"
#include "orchestrator/journal.hpp"
#include "orchestrator/reconcile.hpp"
#include "orchestrator/verbs.hpp"

namespace picluster::cli {

namespace {

using nlohmann::ordered_json;
using namespace nfsroot;

// Everything a fileserver subcommand needs, at stable addresses (the managers point into it).
struct FileserverContext {
  inventory::Inventory inventory;
  const inventory::Shelf* shelf = nullptr;
  std::unique_ptr<Host> host;
};

Result<std::unique_ptr<FileserverContext>> open_fileserver(const Context& ctx) {
  auto out = std::make_unique<FileserverContext>();
  auto inv = load_inventory(ctx);
  if (!inv) return std::unexpected(inv.error());
  out->inventory = std::move(*inv);
  auto shelf = select_shelf(out->inventory, ctx);
  if (!shelf) return std::unexpected(shelf.error());
  out->shelf = *shelf;
  const std::filesystem::path source = out->inventory.source.empty()
                                           ? std::filesystem::path(ctx.inventory_path)
                                           : out->inventory.source;
  const auto dir = std::filesystem::absolute(source).parent_path();
  auto host = nfsroot::connect(out->shelf->fileserver, dir);
  if (!host)
    return std::unexpected(
        host.error().with_context("fileserver of shelf '" + out->shelf->name + "'"));
  out->host = std::move(*host);
  return out;
}

struct RebuildArgs {
  std::vector<std::string> names;
  std::string from;
  bool dry_run = false;
  bool json = false;
  bool no_power = false;
};

// rebuild and rollback are orchestrator verbs (checks, PoE off, the root step, PoE on; shelf
// lock, journal); here they only get a printer (which shows a clone's progress on a terminal).
Result<int> run_rebuild(const Context& ctx, const RebuildArgs& args) {
  StepPrinter printer(args.json);
  auto done = orchestrator::rebuild_pis(verb_context(ctx, args.dry_run, printer.reporter()),
                                        args.names, args.from, !args.no_power);
  printer.finish(done);
  if (!done) return std::unexpected(done.error());
  return 0;
}

Result<int> run_rollback(const Context& ctx, const RebuildArgs& args) {
  StepPrinter printer(args.json);
  auto done = orchestrator::rollback_pi(verb_context(ctx, args.dry_run, printer.reporter()),
                                        args.names.front(), !args.no_power);
  printer.finish(done);
  if (!done) return std::unexpected(done.error());
  return 0;
}

Result<int> run_show(const Context& ctx, bool json) {
  auto fs = open_fileserver(ctx);
  if (!fs) return std::unexpected(fs.error());
  FileserverContext& f = **fs;
  FileserverConfigurator config(*f.host, f.shelf->fileserver);
  RootManager roots(*f.host, *f.shelf);
  // One round trip however many roots: one pipeline of independent requests, the installed
  // files, the roots with their records and previous roots, the interface states (without
  // root_prefix), and the sizes of roots built before records existed (measured on the
  // fileserver, which picks them itself: usually none).
  const auto files = bootcfg::render_fileserver_files(*f.shelf);
  std::vector<PipelineRequest> requests(1);
  requests[0].kind = PipelineRequest::Kind::read_paths;
  requests[0].reads = config.reads(files);
  for (auto& r : roots.roots_requests()) requests.push_back(std::move(r));
  PipelineRequest du;
  du.argv = nfsroot::unrecorded_sizes_argv(roots.layout().nfs_root(), nfsroot::kRootRecord);
  du.options.timeout = std::chrono::minutes(30);
  requests.push_back(du);
  const auto links_argv = config.inspect_links();
  if (links_argv) {
    PipelineRequest links;
    links.argv = *links_argv;
    requests.push_back(links);
  }
  auto answers = f.host->pipeline(requests);
  if (!answers) return std::unexpected(answers.error());
  PathSnapshot snapshot;
  for (auto& a : *answers) {
    if (a.error) return std::unexpected(*a.error);
    snapshot.merge(a.snapshot);
  }
  auto state = config.inspect(files, snapshot, links_argv ? &answers->back().result : nullptr);
  if (!state) return std::unexpected(state.error());
  const auto list = roots.roots_in(snapshot);
  // as tree_sizes: a root gone meanwhile makes du exit 1 and has no line
  const auto measured = nfsroot::parse_tree_sizes((*answers)[requests.size() - (links_argv ? 2 : 1)].result.out);
  ordered_json j;
  j["host"] = f.host->name();
  j["root_prefix"] = f.shelf->fileserver.root_prefix;
  j["interfaces"] = ordered_json::array();
  for (const auto& i : state->interfaces)
    j["interfaces"].push_back(
        ordered_json{{"name", i.name}, {"address", i.address}, {"state", i.state}});
  j["exports"] = ordered_json::array();
  for (const auto& e : state->exports)
    j["exports"].push_back(ordered_json{{"path", e.path}, {"clients", e.clients}});
  j["roots"] = ordered_json::array();
  for (const auto& r : list) {
    const std::uint64_t bytes =
        r.record ? r.record->bytes : (measured.contains(r.path) ? measured.at(r.path) : 0);
    j["roots"].push_back(ordered_json{{"name", r.name},
                                      {"path", r.path},
                                      {"bytes", bytes},
                                      {"modified", utc_time(r.mtime)},
                                      {"previous", r.has_previous}});
  }
  j["fileserver_round_trips"] = f.host->round_trips();
  j["fileserver_channels"] = f.host->channels();
  if (ctx.verbose) {
    std::cerr << "note: fileserver show: " << f.host->round_trips() << " fileserver round trips over "
              << f.host->channels() << " SSH channels\n";
    if (!f.host->how_connected().empty()) std::cerr << "note: fileserver show: " << f.host->how_connected() << "\n";
  }
  if (json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "fileserver: " << f.host->name()
            << (f.shelf->fileserver.root_prefix.empty()
                    ? ""
                    : " (root_prefix " + f.shelf->fileserver.root_prefix + ")")
            << "\n\n";
  Table ifaces({"INTERFACE", "ADDRESS", "STATE"});
  for (const auto& i : state->interfaces)
    ifaces.add({i.name, i.address, i.state.empty() ? "-" : i.state});
  ifaces.print(std::cout);
  std::cout << "\n";
  Table exports({"EXPORT", "CLIENTS"});
  for (const auto& e : state->exports) exports.add({e.path, e.clients});
  exports.print(std::cout);
  std::cout << "\n";
  Table table({"ROOT", "SIZE", "MODIFIED", "PREVIOUS"});
  for (const auto& r : j["roots"]) {
    table.add({r["name"].get<std::string>(), human_bytes(r["bytes"].get<std::uint64_t>()),
               r["modified"].get<std::string>(), r["previous"].get<bool>() ? "yes" : "no"});
  }
  table.print(std::cout);
  return 0;
}

// Ends the shelf's SSH connection master now (OpenSSH's `ssh -O exit`); exit 0 whether or not one
// was running.
Result<int> run_disconnect(const Context& ctx, bool json) {
  auto inv = load_inventory(ctx);
  if (!inv) return std::unexpected(inv.error());
  auto shelf = select_shelf(*inv, ctx);
  if (!shelf) return std::unexpected(shelf.error());
  const auto& fileserver = (*shelf)->fileserver;
  ordered_json j;
  j["shelf"] = (*shelf)->name;
  std::string text;
  if (fileserver.transport == inventory::Transport::local || fileserver.host.empty()) {
    j["host"] = fileserver.transport == inventory::Transport::local ? "local" : "";
    j["was_running"] = false;
    text = "fileserver: no SSH connection (" +
           std::string(fileserver.transport == inventory::Transport::local ? "transport local" : "host not set") + ")";
  } else {
    const std::filesystem::path source = inv->source.empty() ? std::filesystem::path(ctx.inventory_path) : inv->source;
    const auto target = nfsroot::ssh_target(fileserver, std::filesystem::absolute(source).parent_path());
    const std::string where = target.user + "@" + target.host + ":" + std::to_string(target.port);
    auto path = nfsroot::master::socket_path(target);
    if (!path) return std::unexpected(path.error().with_context("fileserver disconnect"));
    auto stopped = nfsroot::master::stop(*path);
    if (!stopped) return std::unexpected(stopped.error().with_context("fileserver disconnect"));
    j["host"] = "ssh " + where;
    j["was_running"] = *stopped;
    text = *stopped ? "fileserver: ended the SSH connection master for " + where
                    : "fileserver: no SSH connection master running for " + where;
  }
  if (json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << text << "\n";
  }
  return 0;
}

// Like every mutating verb: the shelf lock (none for a dry run) and a journal line.
Result<int> run_apply(const Context& ctx, bool dry_run) {
  auto session = orchestrator::open_session(verb_context(ctx, dry_run, {}), "fileserver");
  if (!session) return std::unexpected(session.error());
  auto& s = **session;
  auto lock = orchestrator::lock_shelf(verb_context(ctx, dry_run, {}), s);
  if (!lock) return std::unexpected(lock.error());
  auto config = s.configurator();
  if (!config)
    return std::unexpected(
        config.error().with_context("fileserver of shelf '" + s.shelf().name + "'"));
  auto plan = (*config)->plan(bootcfg::render_fileserver_files(s.shelf()));
  if (!plan) return std::unexpected(plan.error().with_context("fileserver apply"));
  if (plan->empty()) {
    std::cout << "fileserver: up to date, nothing to do\n";
    return 0;
  }
  const std::string described = describe(*plan, (*config)->layout().prefixed());
  std::cout << described;
  if (dry_run) return 0;
  if (auto r = (*config)->apply(*plan); !r) {
    s.report({"", "fileserver", "failed", r.error().message});
    return std::unexpected(r.error());
  }
  s.report(
      {"", "fileserver", "ok", std::to_string(plan->size()) + " actions applied\n" + described});
  std::cout << "fileserver: " << plan->size() << " actions applied\n";
  return 0;
}

}  // namespace

void register_fileserver_commands(CLI::App& app, Context& ctx) {
  auto rebuild_args = std::make_shared<RebuildArgs>();
  auto* rebuild = app.add_subcommand(
      "rebuild",
      "Rebuild Pi roots from the golden image (atomic; the old root is kept for rollback)");
  rebuild->add_option("names", rebuild_args->names, "Pi names")->required();
  rebuild->add_option("--from", rebuild_args->from,
                      "Image NAME or NAME@N, or a golden image folder on the fileserver (default: the Pi's "
                      "image, the shelf's image, else golden_image)");
  rebuild->add_flag("--dry-run", rebuild_args->dry_run, "Print the plan, change nothing");
  rebuild->add_flag("--json", rebuild_args->json, "Machine-readable output, no progress");
  rebuild->add_flag("--no-power", rebuild_args->no_power,
                    "Do not switch the Pi's PoE off and on around the rebuild");
  rebuild->callback([&ctx, rebuild_args] {
    ctx.action = [&ctx, rebuild_args] { return run_rebuild(ctx, *rebuild_args); };
  });

  auto rollback_args = std::make_shared<RebuildArgs>();
  auto* rollback = app.add_subcommand(
      "rollback", "Swap a Pi's root with the one before its last rebuild (PoE off, swap, PoE on)");
  rollback->add_option("name", rollback_args->names, "Pi name")->required()->expected(1);
  rollback->add_flag("--dry-run", rollback_args->dry_run, "Print the steps, change nothing");
  rollback->add_flag("--json", rollback_args->json, "Print the steps as JSON");
  rollback->add_flag("--no-power", rollback_args->no_power,
                     "Do not switch the Pi's PoE off and on around the swap");
  rollback->callback([&ctx, rollback_args] {
    ctx.action = [&ctx, rollback_args] { return run_rollback(ctx, *rollback_args); };
  });

  auto* fileserver =
      app.add_subcommand("fileserver", "Fileserver VLAN interfaces, exports and roots");
  fileserver->require_subcommand(1);
  auto show_json = std::make_shared<bool>(false);
  auto* show = fileserver->add_subcommand(
      "show", "Show VLAN interfaces, exports and roots with size and date");
  show->add_flag("--json", *show_json, "Machine-readable output");
  show->callback(
      [&ctx, show_json] { ctx.action = [&ctx, show_json] { return run_show(ctx, *show_json); }; });
  auto apply_dry = std::make_shared<bool>(false);
  auto* apply = fileserver->add_subcommand(
      "apply", "Install interfaces, exports and isolation files; apply changes live");
  apply->add_flag("--dry-run", *apply_dry, "Print the exact commands, change nothing");
  apply->callback(
      [&ctx, apply_dry] { ctx.action = [&ctx, apply_dry] { return run_apply(ctx, *apply_dry); }; });
  auto disconnect_json = std::make_shared<bool>(false);
  auto* disconnect = fileserver->add_subcommand(
      "disconnect", "End the SSH connection kept for the next verb (ssh_persist_seconds) now");
  disconnect->add_flag("--json", *disconnect_json, "Machine-readable output");
  disconnect->callback([&ctx, disconnect_json] {
    ctx.action = [&ctx, disconnect_json] { return run_disconnect(ctx, *disconnect_json); };
  });
}

}  // namespace picluster::cli
