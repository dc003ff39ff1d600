#include <unistd.h>

#include <cstdio>

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

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

}  // namespace picluster::cli
