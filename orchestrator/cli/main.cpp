// picluster: provision and netboot Raspberry Pi shelves. This file only wires the subcommands
// together; each area parses its own arguments in cmd_<area>.cpp.

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <cstdlib>
#include <iostream>

#include "nfsroot/ssh_master.hpp"
#include "orchestrator/cli/cli.hpp"
#include "orchestrator/cli/report.hpp"
#include "orchestrator/cli/version.hpp"

int main(int argc, char** argv) {
  using namespace picluster;
  // A fileserver connection master started by an earlier verb (nfsroot/ssh_master.hpp) runs here.
  if (const auto master = nfsroot::master::main_if_master(argc, argv)) return *master;
  cli::Context ctx;
  CLI::App app{"picluster: provision, netboot and heal Raspberry Pi shelves", "picluster"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "picluster " PICLUSTER_VERSION_FULL);

  // Global options, valid before or after the subcommand.
  if (const char* env = std::getenv("PICLUSTER_INVENTORY"); env != nullptr) ctx.inventory_path = env;
  if (ctx.inventory_path.empty()) ctx.inventory_path = "inventory.json";
  app.add_option("-i,--inventory", ctx.inventory_path,
                 "Inventory file (default: $PICLUSTER_INVENTORY or ./inventory.json)")
      ->envname("PICLUSTER_INVENTORY")
      ->capture_default_str();
  app.add_option("--shelf", ctx.shelf, "Shelf to act on when the inventory holds several");
  app.add_flag("-v,--verbose", ctx.verbose, "Print each step as it runs");

  cli::register_inventory_commands(app, ctx);
  cli::register_switch_commands(app, ctx);
  cli::register_fileserver_commands(app, ctx);
  cli::register_ops_commands(app, ctx);
  cli::register_lab_commands(app, ctx);
  cli::register_ansible_commands(app, ctx);
  cli::register_watch_commands(app, ctx);
  cli::register_image_commands(app, ctx);
  cli::register_doctor_commands(app, ctx);
  cli::register_renumber_command(app, ctx);
  cli::register_complete_commands(app, ctx);  // last: it reads the whole tree

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // plan --detailed-exitcode says "changes" with 2: there, a usage error is a failure (1).
    const bool detailed = std::any_of(argv, argv + argc, [](const char* a) {
      return std::string_view(a) == "--detailed-exitcode";
    });
    const int usage = detailed ? 1 : 2;
    if (const auto unknown = cli::unknown_option(app, argc, argv); unknown && e.get_exit_code() != 0) {
      std::cerr << "picluster: error: " << *unknown << "\n";
      return usage;
    }
    const int code = app.exit(e);  // prints help/version (0) or a usage error
    return code == 0 ? 0 : usage;
  }
  if (!ctx.action) return 0;
  // Once: a symlinked inventory is written through to its real file, whose lock every run shares.
  ctx.inventory_path = inventory::resolve_path(ctx.inventory_path).string();
  cli::JsonErrorFallback json_error(app);
  auto status = ctx.action();
  if (!status) {
    json_error.finish(status.error());
    std::fflush(stdout);
    std::cerr << "picluster: error: " << status.error().message << "\n";
    return exit_status(status.error());
  }
  return *status;
}
