// Subcommands for the fileserver: `rebuild`, `rollback`, `fileserver show`, `fileserver apply`.
// All work goes through nfsroot (RootManager, FileserverConfigurator) over a Host picked by the
// shelf's fileserver.transport; this file renders the files with bootcfg, parses and prints.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "bootcfg/bootcfg.hpp"
#include "common/text.hpp"
#include "nfsroot/fileserver_config.hpp"
#include "nfsroot/root_manager.hpp"
#include "orchestrator/cli/cli.hpp"
#include "orchestrator/journal.hpp"
#include "orchestrator/reconcile.hpp"
#include "orchestrator/verbs.hpp"
#include "orchestrator/cli/table.hpp"

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
  const std::filesystem::path source =
      out->inventory.source.empty() ? std::filesystem::path(ctx.inventory_path) : out->inventory.source;
  const auto dir = std::filesystem::absolute(source).parent_path();
  auto host = nfsroot::connect(out->shelf->fileserver, dir);
  if (!host) return std::unexpected(host.error().with_context("fileserver of shelf '" + out->shelf->name + "'"));
  out->host = std::move(*host);
  return out;
}

// Progress on a terminal only, never with --json: one line rewritten in place.
ExecOptions progress_options(const std::string& name, bool json, std::vector<std::string>& events) {
  ExecOptions options;
  options.on_event = [&events, name, json](std::string_view e) {
    events.emplace_back(e);
    if (!json) std::cout << name << ": " << e << "\n";
  };
  if (!json && stdout_is_terminal()) {
    options.on_progress = [name](const Progress& p) {
      std::cout << "\r\033[K" << name << ": clone " << describe(p) << std::flush;
    };
    options.before_step = [name](std::string_view step) {
      if (step == "install") std::cout << "\r\033[K" << std::flush;
    };
  }
  return options;
}

struct RebuildArgs {
  std::vector<std::string> names;
  std::string from;
  bool dry_run = false;
  bool json = false;
  bool no_power = false;
};

// Rebuild is power off -> atomic rebuild -> power on, each step journaled like every other verb.
Result<void> rebuild_power(const Context& ctx, const inventory::Shelf& shelf, const std::string& name,
                           switchctl::PowerAction action, bool json) {
  if (!orchestrator::switch_configured(shelf)) return {};
  orchestrator::VerbContext v;
  v.inventory_path = ctx.inventory_path;
  v.shelf = shelf.name;
  v.verb = "rebuild";
  v.reporter = [json](const orchestrator::StepReport& step) {
    if (!json) std::cout << step.pi << ": " << step.step << ": " << step.result << " (" << step.detail << ")\n";
  };
  auto done = orchestrator::power_pis(v, {name}, action, false);
  if (!done) return std::unexpected(done.error().with_context(name));
  return {};
}

void journal_rebuild(const Context& ctx, const std::string& shelf, const std::string& name,
                     const std::string& result, const std::string& detail) {
  orchestrator::JournalEntry e;
  e.verb = "rebuild";
  e.shelf = shelf;
  e.pi = name;
  e.step = "root";
  e.result = result;
  e.detail = detail;
  (void)orchestrator::Journal(orchestrator::state_dir(ctx.inventory_path)).append(e);
}

Result<int> run_rebuild(const Context& ctx, const RebuildArgs& args) {
  std::optional<inventory::Lock> lock;
  if (!args.dry_run) {  // one rebuild per inventory at a time
    auto l = inventory::Lock::acquire(ctx.inventory_path, false);
    if (!l) return std::unexpected(l.error());
    lock.emplace(std::move(*l));
  }
  auto fs = open_fileserver(ctx);
  if (!fs) return std::unexpected(fs.error());
  FileserverContext& f = **fs;
  std::optional<orchestrator::ShelfLock> shelf_lock;  // no apply, add or power run meanwhile
  if (!args.dry_run) {
    auto l = orchestrator::ShelfLock::acquire(orchestrator::state_dir(ctx.inventory_path), f.shelf->name);
    if (!l) return std::unexpected(l.error());
    shelf_lock.emplace(std::move(*l));
  }
  RootManager roots(*f.host, *f.shelf);
  ordered_json out = ordered_json::array();
  for (const auto& name : args.names) {
    const inventory::Pi* pi = f.shelf->find_pi(name);
    if (pi == nullptr) return fail(ErrorCode::not_found, "no Pi named " + printable(name) + " in shelf '" + f.shelf->name + "'");
    const auto files = bootcfg::render_pi_root_files(*f.shelf, *pi);
    ordered_json j;
    j["name"] = name;
    if (args.dry_run) {
      auto plan = roots.plan_rebuild(*pi, files, args.from);
      if (!plan) return std::unexpected(plan.error().with_context(name + ": rebuild"));
      j["method"] = std::string(inventory::to_string(plan->clone.method));
      j["reason"] = plan->clone.reason;
      j["plan"] = split(describe(plan->plan, roots.layout().prefixed()), '\n');
      j["plan"].erase(j["plan"].size() - 1);
      if (!args.json) {
        std::cout << name << ": clone with " << inventory::to_string(plan->clone.method) << " ("
                  << plan->clone.reason << ")\n" << describe(plan->plan, roots.layout().prefixed());
      }
    } else {
      std::vector<std::string> events;
      // 1. PoE off: the Pi must not write into a root that is being swapped
      if (!args.no_power) {
        if (auto ok = rebuild_power(ctx, *f.shelf, name, switchctl::PowerAction::off, args.json); !ok) {
          return std::unexpected(ok.error());
        }
      }
      // 2. atomic rebuild, the old root kept for rollback
      auto done = roots.rebuild(*pi, files, args.from, progress_options(name, args.json, events));
      if (!done) {
        journal_rebuild(ctx, f.shelf->name, name, "failed", done.error().message);
        return std::unexpected(done.error());
      }
      journal_rebuild(ctx, f.shelf->name, name, "ok",
                      "rebuilt with " + std::string(inventory::to_string(done->method)));
      // 3. PoE on: the Pi cold-boots into its new root
      if (!args.no_power) {
        if (auto ok = rebuild_power(ctx, *f.shelf, name, switchctl::PowerAction::on, args.json); !ok) {
          return std::unexpected(ok.error());
        }
      }
      j["method"] = std::string(inventory::to_string(done->method));
      j["reason"] = done->reason;
      j["events"] = events;
      if (!args.json) {
        std::cout << name << ": rebuilt with " << inventory::to_string(done->method) << " ("
                  << done->reason << "); previous root kept for `picluster rollback " << name << "`\n";
      }
    }
    out.push_back(j);
  }
  if (args.json) std::cout << out.dump(2) << "\n";
  return 0;
}

Result<int> run_rollback(const Context& ctx, const std::string& name, bool dry_run) {
  std::optional<inventory::Lock> lock;
  if (!dry_run) {
    auto l = inventory::Lock::acquire(ctx.inventory_path, false);
    if (!l) return std::unexpected(l.error());
    lock.emplace(std::move(*l));
  }
  auto fs = open_fileserver(ctx);
  if (!fs) return std::unexpected(fs.error());
  FileserverContext& f = **fs;
  if (f.shelf->find_pi(name) == nullptr) {
    return fail(ErrorCode::not_found, "no Pi named " + printable(name) + " in shelf '" + f.shelf->name + "'");
  }
  RootManager roots(*f.host, *f.shelf);
  if (dry_run) {
    auto plan = roots.plan_rollback(name);
    if (!plan) return std::unexpected(plan.error().with_context(name + ": rollback"));
    std::cout << describe(*plan, roots.layout().prefixed());
    return 0;
  }
  if (auto r = roots.rollback(name); !r) return std::unexpected(r.error());
  std::cout << name << ": rolled back; the replaced root is now the previous one (roll back again to undo)\n";
  return 0;
}

Result<int> run_show(const Context& ctx, bool json) {
  auto fs = open_fileserver(ctx);
  if (!fs) return std::unexpected(fs.error());
  FileserverContext& f = **fs;
  FileserverConfigurator config(*f.host, f.shelf->fileserver);
  RootManager roots(*f.host, *f.shelf);
  auto state = config.inspect(bootcfg::render_fileserver_files(*f.shelf));
  if (!state) return std::unexpected(state.error());
  auto list = roots.list_roots();
  if (!list) return std::unexpected(list.error());
  ordered_json j;
  j["host"] = f.host->name();
  j["root_prefix"] = f.shelf->fileserver.root_prefix;
  j["interfaces"] = ordered_json::array();
  for (const auto& i : state->interfaces) j["interfaces"].push_back(ordered_json{{"name", i.name}, {"address", i.address}, {"state", i.state}});
  j["exports"] = ordered_json::array();
  for (const auto& e : state->exports) j["exports"].push_back(ordered_json{{"path", e.path}, {"clients", e.clients}});
  j["roots"] = ordered_json::array();
  for (const auto& r : *list) {
    auto size = nfsroot::tree_size(*f.host, r.path);
    if (!size) return std::unexpected(size.error());
    j["roots"].push_back(ordered_json{{"name", r.name}, {"path", r.path}, {"bytes", *size}, {"modified", utc_time(r.mtime)},
                          {"previous", r.has_previous}});
  }
  if (json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "fileserver: " << f.host->name()
            << (f.shelf->fileserver.root_prefix.empty() ? "" : " (root_prefix " + f.shelf->fileserver.root_prefix + ")") << "\n\n";
  Table ifaces({"INTERFACE", "ADDRESS", "STATE"});
  for (const auto& i : state->interfaces) ifaces.add({i.name, i.address, i.state.empty() ? "-" : i.state});
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

Result<int> run_apply(const Context& ctx, bool dry_run) {
  auto fs = open_fileserver(ctx);
  if (!fs) return std::unexpected(fs.error());
  FileserverContext& f = **fs;
  FileserverConfigurator config(*f.host, f.shelf->fileserver);
  auto plan = config.plan(bootcfg::render_fileserver_files(*f.shelf));
  if (!plan) return std::unexpected(plan.error().with_context("fileserver apply"));
  if (plan->empty()) {
    std::cout << "fileserver: up to date, nothing to do\n";
    return 0;
  }
  std::cout << describe(*plan, config.layout().prefixed());
  if (dry_run) return 0;
  std::vector<std::string> events;
  if (auto r = config.apply(*plan); !r) return std::unexpected(r.error());
  std::cout << "fileserver: " << plan->size() << " actions applied\n";
  return 0;
}

}  // namespace

void register_fileserver_commands(CLI::App& app, Context& ctx) {
  auto rebuild_args = std::make_shared<RebuildArgs>();
  auto* rebuild = app.add_subcommand("rebuild", "Rebuild Pi roots from the golden image (atomic; the old root is kept for rollback)");
  rebuild->add_option("names", rebuild_args->names, "Pi names")->required();
  rebuild->add_option("--from", rebuild_args->from, "Golden image folder on the fileserver (default: the shelf's golden_image)");
  rebuild->add_flag("--dry-run", rebuild_args->dry_run, "Print the plan, change nothing");
  rebuild->add_flag("--json", rebuild_args->json, "Machine-readable output, no progress");
  rebuild->add_flag("--no-power", rebuild_args->no_power, "Do not switch the Pi's PoE off and on around the rebuild");
  rebuild->callback([&ctx, rebuild_args] { ctx.action = [&ctx, rebuild_args] { return run_rebuild(ctx, *rebuild_args); }; });

  auto rollback_name = std::make_shared<std::string>();
  auto rollback_dry = std::make_shared<bool>(false);
  auto* rollback = app.add_subcommand("rollback", "Swap a Pi's root with the one before its last rebuild");
  rollback->add_option("name", *rollback_name, "Pi name")->required();
  rollback->add_flag("--dry-run", *rollback_dry, "Print the plan, change nothing");
  rollback->callback([&ctx, rollback_name, rollback_dry] {
    ctx.action = [&ctx, rollback_name, rollback_dry] { return run_rollback(ctx, *rollback_name, *rollback_dry); };
  });

  auto* fileserver = app.add_subcommand("fileserver", "Fileserver VLAN interfaces, exports and roots");
  fileserver->require_subcommand(1);
  auto show_json = std::make_shared<bool>(false);
  auto* show = fileserver->add_subcommand("show", "Show VLAN interfaces, exports and roots with size and date");
  show->add_flag("--json", *show_json, "Machine-readable output");
  show->callback([&ctx, show_json] { ctx.action = [&ctx, show_json] { return run_show(ctx, *show_json); }; });
  auto apply_dry = std::make_shared<bool>(false);
  auto* apply = fileserver->add_subcommand("apply", "Install interfaces, exports and isolation files; apply changes live");
  apply->add_flag("--dry-run", *apply_dry, "Print the exact commands, change nothing");
  apply->callback([&ctx, apply_dry] { ctx.action = [&ctx, apply_dry] { return run_apply(ctx, *apply_dry); }; });
}

}  // namespace picluster::cli
