// `picluster renumber PI [--vlan N]`: gives a Pi another storage VLAN in the inventory (the fix
// for a storage VLAN that is another network's on the switch). Only the inventory changes;
// `picluster apply` then moves the switch port and the fileserver's VLAN interface.
#include <iostream>
#include <memory>
#include <optional>

#include "orchestrator/cli/cli.hpp"
#include "orchestrator/cli/report.hpp"
#include "orchestrator/verbs.hpp"

namespace picluster::cli {

namespace {

struct RenumberOptions {
  std::string name;
  std::optional<int> vlan;
  bool dry_run = false;
  bool json = false;
};

std::string next_step(const orchestrator::Renumbered& r) {
  return "run `picluster apply`: it puts port " + std::to_string(r.port) + " into VLAN " +
         std::to_string(r.new_vlan) + " (switch and fileserver VLAN interface) and takes it out of VLAN " +
         std::to_string(r.old_vlan) + ", " + r.pi + "'s previous membership (previous_vlan)";
}

Result<int> run_renumber(const Context& ctx, const RenumberOptions& o) {
  StepPrinter printer(o.json);
  auto done = orchestrator::renumber_pi(verb_context(ctx, o.dry_run, printer.reporter()), o.name, o.vlan);
  inventory::Json extra = inventory::Json::object();
  if (done) {
    extra = {{"pi", done->pi},
             {"port", done->port},
             {"old_vlan", done->old_vlan},
             {"new_vlan", done->new_vlan},
             {"reserved_old_vlan", done->reserved_old},
             {"next", next_step(*done)}};
  }
  printer.finish(done ? Result<void>{} : Result<void>(std::unexpected(done.error())), extra);
  if (!done) return std::unexpected(done.error());
  if (!o.json) {
    std::cout << (o.dry_run ? "dry run: would renumber " : "renumbered ") << done->pi << ": VLAN "
              << done->old_vlan << " -> " << done->new_vlan << " in " << ctx.inventory_path << "\n"
              << "next: " << next_step(*done) << "\n";
  }
  return 0;
}

}  // namespace

void register_renumber_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<RenumberOptions>();
  auto* cmd = app.add_subcommand(
      "renumber",
      "Give a Pi another storage VLAN in the inventory (free, not reserved, no other network's on the switch); "
      "then run apply");
  cmd->add_option("name", opts->name, "Pi name")->required();
  cmd->add_option("--vlan", opts->vlan, "The new VLAN (checked); default: picked like add picks")
      ->check(CLI::Range(1, 4094));
  cmd->add_flag("-n,--dry-run", opts->dry_run, "Show the new VLAN without writing the inventory");
  cmd->add_flag("--json", opts->json, "Print the steps and the result as JSON");
  cmd->callback([&ctx, opts] { ctx.action = [&ctx, opts] { return run_renumber(ctx, *opts); }; });
}

}  // namespace picluster::cli
