#pragma once
// Shared plumbing for the `picluster` command line. Each area registers its own subcommands in
// its own file (cmd_<area>.cpp); a subcommand's callback stores its work in Context::action,
// which main runs after parsing, so errors are printed in exactly one place.

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "inventory/inventory.hpp"

namespace picluster::cli {

struct Context {
  std::string inventory_path;  // --inventory, else $PICLUSTER_INVENTORY, else ./inventory.json
  std::string shelf;           // --shelf; empty = the only shelf
  bool verbose = false;
  std::function<Result<int>()> action;  // set by the chosen subcommand; returns the exit status
};

void register_inventory_commands(CLI::App& app, Context& ctx);   // init add remove list show validate render
void register_switch_commands(CLI::App& app, Context& ctx);      // switch show/apply, power, discover
void register_fileserver_commands(CLI::App& app, Context& ctx);  // fileserver show/apply, rebuild, rollback
void register_ops_commands(CLI::App& app, Context& ctx);         // plan apply status watch log example
void register_lab_commands(CLI::App& app, Context& ctx);         // lab up/down/status/console
void register_ansible_commands(CLI::App& app, Context& ctx);     // ansible-inventory
void register_watch_commands(CLI::App& app, Context& ctx);       // watch
void register_image_commands(CLI::App& app, Context& ctx);       // image build/import/list/show/remove/exec/diff/stage
void register_doctor_commands(CLI::App& app, Context& ctx);      // doctor
void register_complete_commands(CLI::App& app, Context& ctx);    // hidden: __complete, __cli
void register_renumber_command(CLI::App& app, Context& ctx);     // renumber

// For a usage error: the first argument that looks like an option but is none of any subcommand's
// ("-rf"), as a message naming it; nullopt when there is none. CLI11 reports a missing positional
// ("name is required") before an unknown option, which hides the real mistake.
std::optional<std::string> unknown_option(const CLI::App& app, int argc, char** argv);

// Loads the inventory named by the context (no lock: read-only use).
Result<inventory::Inventory> load_inventory(const Context& ctx);

// The shelf named by --shelf, or the only shelf; an error naming the choices otherwise.
Result<const inventory::Shelf*> select_shelf(const inventory::Inventory& inv, const Context& ctx);
Result<inventory::Shelf*> select_shelf(inventory::Inventory& inv, const Context& ctx);

// Lock, load, let `change` edit the inventory, validate, and save atomically. When dry_run is
// set, nothing is written. The inventory file is untouched if `change` or validation fails.
Result<void> modify_inventory(const Context& ctx, bool dry_run,
                              const std::function<Result<void>(inventory::Inventory&)>& change);

// True when stdout is a terminal (for colour and progress output).
bool stdout_is_terminal();

}  // namespace picluster::cli
