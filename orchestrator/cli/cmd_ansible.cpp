// `picluster ansible-inventory --list | --host NAME`: the inventory as an Ansible dynamic
// inventory source (see orchestrator/ansible_inventory.hpp for the groups and variables).
// Read-only: no lock is taken, nothing is written. With --shelf only that shelf is listed.
#include <iostream>
#include <memory>

#include "orchestrator/ansible_inventory.hpp"
#include "orchestrator/cli/cli.hpp"

namespace picluster::cli {

namespace {

struct AnsibleInventoryArgs {
  bool list = false;
  std::string host;
};

Result<int> run_ansible_inventory(const Context& ctx, const AnsibleInventoryArgs& args) {
  auto inv = load_inventory(ctx);
  if (!inv) return std::unexpected(inv.error());
  if (!ctx.shelf.empty()) {
    auto shelf = select_shelf(*inv, ctx);
    if (!shelf) return std::unexpected(shelf.error());
    inventory::Shelf only = **shelf;
    inv->shelves = {std::move(only)};
  }
  auto doc = args.list ? orchestrator::ansible_inventory_list(*inv, ctx.inventory_path)
                       : orchestrator::ansible_inventory_host(*inv, ctx.inventory_path, args.host);
  if (!doc) return std::unexpected(doc.error());
  std::cout << doc->dump(2) << "\n";
  return 0;
}

}  // namespace

void register_ansible_commands(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<AnsibleInventoryArgs>();
  auto* cmd = app.add_subcommand(
      "ansible-inventory",
      "Print the inventory as an Ansible dynamic inventory (JSON): groups fileservers, switches, "
      "pis, shelf_<shelf>, picluster_<shelf>_pis, with host variables");
  auto* list = cmd->add_flag("--list", args->list, "Every group and host, with _meta.hostvars");
  auto* host = cmd->add_option("--host", args->host, "The variables of one host (a Pi, <shelf>-fileserver or <shelf>-switch)");
  list->excludes(host);
  cmd->callback([&ctx, args, list, host] {
    ctx.action = [&ctx, args, list, host]() -> Result<int> {
      if (list->count() == 0 && host->count() == 0)
        return fail(ErrorCode::invalid_argument, "ansible-inventory: give --list or --host NAME");
      return run_ansible_inventory(ctx, *args);
    };
  });
}

}  // namespace picluster::cli
