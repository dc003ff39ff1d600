#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <set>

#include "common/text.hpp"
#include "orchestrator/cli/cli.hpp"

namespace picluster::cli {

Result<inventory::Inventory> load_inventory(const Context& ctx) {
  return inventory::load(ctx.inventory_path);
}

namespace {

template <typename Inv>
auto pick_shelf(Inv& inv, const Context& ctx) -> Result<decltype(&inv.shelves.front())> {
  if (!ctx.shelf.empty()) {
    for (auto& shelf : inv.shelves) {
      if (shelf.name == ctx.shelf) return &shelf;
    }
    return fail(ErrorCode::not_found, inv.source.string() + ": no shelf named '" + ctx.shelf + "'");
  }
  if (inv.shelves.size() == 1) return &inv.shelves.front();
  if (inv.shelves.empty()) {
    return fail(ErrorCode::invalid_inventory, inv.source.string() + ": has no shelves");
  }
  std::string names;
  for (const auto& shelf : inv.shelves) names += (names.empty() ? "" : ", ") + shelf.name;
  return fail(ErrorCode::invalid_argument,
              inv.source.string() + " holds several shelves (" + names + "): say which with --shelf");
}

}  // namespace

Result<const inventory::Shelf*> select_shelf(const inventory::Inventory& inv, const Context& ctx) {
  return pick_shelf(inv, ctx);
}

Result<inventory::Shelf*> select_shelf(inventory::Inventory& inv, const Context& ctx) {
  return pick_shelf(inv, ctx);
}

Result<void> modify_inventory(const Context& ctx, bool dry_run,
                              const std::function<Result<void>(inventory::Inventory&)>& change) {
  auto lock = inventory::Lock::acquire(ctx.inventory_path, /*wait=*/false);
  if (!lock) return std::unexpected(lock.error());
  auto inv = inventory::load(ctx.inventory_path);
  if (!inv) return std::unexpected(inv.error());
  if (auto ok = change(*inv); !ok) return ok;
  if (auto ok = inventory::validate(*inv); !ok) return ok;
  if (dry_run) return {};
  return inventory::save(*inv, ctx.inventory_path);
}

namespace {

void collect_option_names(const CLI::App& app, std::set<std::string>& longs, std::set<std::string>& shorts) {
  for (const CLI::Option* option : app.get_options()) {
    for (const auto& name : option->get_lnames()) longs.insert(name);
    for (const auto& name : option->get_snames()) shorts.insert(name);
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    collect_option_names(*sub, longs, shorts);
  }
}

}  // namespace

std::optional<std::string> unknown_option(const CLI::App& app, int argc, char** argv) {
  std::set<std::string> longs, shorts;
  collect_option_names(app, longs, shorts);
  std::string verb;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (verb.empty() && !arg.starts_with("-")) {
      for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_name() == arg) verb = arg;
      }
    }
    if (arg.size() < 2 || arg[0] != '-' || std::isdigit(static_cast<unsigned char>(arg[1])) != 0) continue;
    const bool known = arg.starts_with("--") ? longs.contains(arg.substr(2, arg.find('=') - 2))
                                             : shorts.contains(arg.substr(1, 1));
    if (!known) {
      return (verb.empty() ? std::string() : verb + ": ") + "unknown option " + printable(arg) + " (see picluster " +
             (verb.empty() ? std::string() : verb + " ") + "--help)";
    }
  }
  return std::nullopt;
}

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

}  // namespace picluster::cli
