#include "orchestrator/verbs.hpp"

#include "bootcfg/bootcfg.hpp"
#include "common/text.hpp"
#include "orchestrator/reconcile.hpp"

namespace picluster::orchestrator {
namespace {

Result<std::string> shelf_for(const inventory::Inventory& inv, const VerbContext& ctx,
                              const std::string& pi) {
  if (!pi.empty() && ctx.shelf.empty()) {
    if (const auto* shelf = inv.shelf_of(pi)) return shelf->name;
    return fail(ErrorCode::not_found, inv.source.string() + ": no pi named " + printable(pi));
  }
  if (!ctx.shelf.empty()) {
    if (inv.find_shelf(ctx.shelf) == nullptr) {
      return fail(ErrorCode::not_found, inv.source.string() + ": no shelf named " + printable(ctx.shelf));
    }
    return ctx.shelf;
  }
  if (inv.shelves.size() == 1) return inv.shelves.front().name;
  return fail(ErrorCode::invalid_argument,
              inv.source.string() + " holds several shelves: say which with --shelf");
}

// Lock the inventory file, apply `change`, validate, save (unless dry run); returns the result.
Result<inventory::Inventory> change_inventory(const VerbContext& ctx,
                                              const std::function<Result<void>(inventory::Inventory&)>& change) {
  auto lock = inventory::Lock::acquire(ctx.inventory_path, false);
  if (!lock) return std::unexpected(lock.error());
  auto inv = inventory::load(ctx.inventory_path);
  if (!inv) return std::unexpected(inv.error());
  if (auto ok = change(*inv); !ok) return std::unexpected(ok.error());
  if (auto ok = inventory::validate(*inv); !ok) return std::unexpected(ok.error());
  if (!ctx.dry_run) {
    if (auto ok = inventory::save(*inv, ctx.inventory_path); !ok) return std::unexpected(ok.error());
  }
  return inv;
}

Error finish_hint(const Error& error, const std::string& how) {
  Error out = error;
  out.message += " (" + how + ")";
  return out;
}

Result<void> power_action(ShelfSession& session, const std::string& pi, switchctl::PowerAction action,
                          bool force) {
  auto sw = session.switch_controller();
  if (!sw) return std::unexpected(sw.error());
  auto result = (*sw)->power(pi, action, force);
  if (!result) {
    session.report({pi, "power", "failed", result.error().message});
    return std::unexpected(result.error());
  }
  std::string detail = "PoE " + std::string(switchctl::to_string(action)) + ", port " + std::to_string(result->port);
  for (const auto& note : result->notes) detail += "; " + note;
  session.report({pi, "power", "ok", detail});
  return {};
}

}  // namespace

// Steps 2-4 of remove: boot files, root (unexported first), fileserver interface and exports.
static Result<void> remove_from_fileserver(ShelfSession& s, const inventory::Pi& pi, bool keep);

Result<std::unique_ptr<ShelfSession>> open_session(const VerbContext& ctx, const std::string& verb,
                                                   const std::string& pi) {
  auto inv = inventory::load(ctx.inventory_path);
  if (!inv) return std::unexpected(inv.error());
  auto shelf = shelf_for(*inv, ctx, pi);
  if (!shelf) return std::unexpected(shelf.error());
  return std::make_unique<ShelfSession>(std::move(*inv), *shelf, ctx.inventory_path, verb, ctx.reporter);
}

Result<inventory::Pi> add_pi(const VerbContext& ctx, const inventory::PiRequest& request) {
  auto session = open_session(ctx, "add");
  if (!session) return std::unexpected(session.error());
  auto& s = **session;
  auto lock = ShelfLock::acquire(state_dir(ctx.inventory_path), s.shelf().name);
  if (!lock) return std::unexpected(lock.error());
  const std::string shelf_name = s.shelf().name;

  // 1. allocate: VLAN, /30 and IPv6 written into the inventory
  inventory::Pi added;
  auto inv = change_inventory(ctx, [&](inventory::Inventory& i) -> Result<void> {
    if (const auto* other = i.shelf_of(request.name)) {
      return fail(ErrorCode::conflict, i.source.string() + ": pi " + printable(request.name) +
                                           " already exists on shelf " + printable(other->name));
    }
    auto pi = inventory::add_pi(*i.find_shelf(shelf_name), request);
    if (!pi) return std::unexpected(pi.error().with_context(i.source.string()));
    added = *pi;
    return {};
  });
  if (!inv) return std::unexpected(inv.error());
  s.report({added.name, "allocate", ctx.dry_run ? "planned" : "ok",
            "VLAN " + std::to_string(added.vlan) + ", " + added.storage.network.str() + "/30, " +
                added.ipv6.str()});
  s.reset_inventory(std::move(*inv));

  // 2-7. switch port, VLAN interface, root, export, boot files, PoE on
  ApplyOptions options;
  options.dry_run = ctx.dry_run;
  options.pis = {added.name};
  if (auto ok = apply_shelf(s, options); !ok) {
    return std::unexpected(finish_hint(ok.error(),
                                       added.name + " is in the inventory; run `picluster apply` to finish"));
  }
  return added;
}

Result<void> remove_pi(const VerbContext& ctx, const std::string& name, bool keep, bool force) {
  auto session = open_session(ctx, "remove", name);
  if (!session) return std::unexpected(session.error());
  auto& s = **session;
  auto lock = ShelfLock::acquire(state_dir(ctx.inventory_path), s.shelf().name);
  if (!lock) return std::unexpected(lock.error());
  const inventory::Pi pi = *s.shelf().find_pi(name);
  const std::string again = "run `picluster remove " + name + "` again to finish";
  const auto step_failed = [&](const Error& e) {
    return std::unexpected(finish_hint(e.with_context(name), again));
  };
  if (ctx.dry_run) {
    for (const char* step : {"power", "boot", "root", "network", "exports", "switch", "deallocate"}) {
      s.report({name, step, "planned", ""});
    }
    return {};
  }
  const bool sw_ok = switch_configured(s.shelf());
  const bool fs_ok = fileserver_configured(s.shelf());
  // 1. PoE off (refused on a MAC mismatch unless --force)
  if (!sw_ok) {
    s.report({name, "power", "skipped", "switch not configured"});
  } else if (auto ok = power_action(s, name, switchctl::PowerAction::off, force); !ok) {
    return step_failed(ok.error());
  }
  if (fs_ok) {
    if (auto ok = remove_from_fileserver(s, pi, keep); !ok) return step_failed(ok.error());
  } else {
    s.report({name, "fileserver", "skipped", "fileserver not configured"});
  }
  auto without = s.inventory();
  (void)inventory::remove_pi(*without.find_shelf(s.shelf().name), name);
  s.reset_inventory(without);
  // 5. switch port back to the default VLAN, the Pi's VLAN deleted
  if (sw_ok) {
    auto sw = s.switch_controller();
    if (!sw) return step_failed(sw.error());
    auto released = (*sw)->release(pi.port, pi.vlan, [](std::string_view) {});
    if (!released) return step_failed(released.error());
    s.report({name, "switch", released->ports_changed == 0 ? "unchanged" : "ok",
              "port " + std::to_string(pi.port) + " released, VLAN " + std::to_string(pi.vlan) + " removed"});
  } else {
    s.report({name, "switch", "skipped", "switch not configured"});
  }
  // 6. deallocate
  auto inv = change_inventory(ctx, [&](inventory::Inventory& i) -> Result<void> {
    for (auto& shelf : i.shelves) {
      if (shelf.find_pi(name) == nullptr) continue;
      if (auto removed = inventory::remove_pi(shelf, name); !removed) return std::unexpected(removed.error());
      return {};
    }
    return {};  // already gone: an earlier run got this far
  });
  if (!inv) return step_failed(inv.error());
  s.report({name, "deallocate", "ok", "removed from " + ctx.inventory_path.string()});
  return {};
}

static Result<void> remove_from_fileserver(ShelfSession& s, const inventory::Pi& pi, bool keep) {
  const std::string& name = pi.name;
  // 2. boot files
  auto host = s.host();
  if (!host) return std::unexpected(host.error());
  nfsroot::Layout layout(s.shelf().fileserver);
  const std::string boot = layout.host_path("/" + boot_folder(s.shelf(), pi));
  if (auto ok = nfsroot::remove_tree(**host, boot); !ok) return ok;
  s.report({name, "boot", "ok", "removed " + boot});
  // 3. unexport, then delete (or archive) the root
  auto roots = s.roots();
  if (!roots) return std::unexpected(roots.error());
  if (auto ok = (*roots)->remove(pi, keep, s.exec_options(name)); !ok) return ok;
  s.report({name, "root", "ok", keep ? "unexported and archived" : "unexported and deleted"});
  // 4. fileserver interface and exports without the Pi
  auto without = s.inventory();
  (void)inventory::remove_pi(*without.find_shelf(s.shelf().name), name);
  inventory::Shelf shelf = *without.find_shelf(s.shelf().name);
  auto cfg = s.configurator();
  if (!cfg) return std::unexpected(cfg.error());
  for (const auto& [step, files] : {std::pair{"network", network_files(shelf)},
                                    std::pair{"exports", export_files(shelf)}}) {
    auto plan = (*cfg)->plan(files);
    if (!plan) return std::unexpected(plan.error());
    if (auto ok = (*cfg)->apply(*plan, s.exec_options(name)); !ok) return ok;
    s.report({name, step, plan->empty() ? "unchanged" : "ok", ""});
  }
  return {};
}

Result<void> rebuild_pis(const VerbContext& ctx, const std::vector<std::string>& names,
                         const std::string& from, bool power) {
  for (const auto& name : names) {
    auto session = open_session(ctx, "rebuild", name);
    if (!session) return std::unexpected(session.error());
    auto& s = **session;
    auto lock = ShelfLock::acquire(state_dir(ctx.inventory_path), s.shelf().name);
    if (!lock) return std::unexpected(lock.error());
    const auto& pi = *s.shelf().find_pi(name);
    const auto files = bootcfg::render_pi_root_files(s.shelf(), pi);
    auto roots = s.roots();
    if (!roots) return std::unexpected(roots.error());
    if (ctx.dry_run) {
      auto plan = (*roots)->plan_rebuild(pi, files, from);
      if (!plan) return std::unexpected(plan.error().with_context(name));
      if (power) s.report({name, "power", "planned", "PoE off"});
      s.report({name, "root", "planned",
                nfsroot::describe(plan->plan, !s.shelf().fileserver.root_prefix.empty())});
      if (power) s.report({name, "power", "planned", "PoE on"});
      continue;
    }
    const std::string again = "the old root is intact or replaced whole; run `picluster rebuild " + name + "` again";
    // 1. PoE off: the Pi must not write to a root that is being swapped
    if (power) {
      if (auto ok = power_action(s, name, switchctl::PowerAction::off, false); !ok) {
        return std::unexpected(ok.error().with_context(name));
      }
    }
    // 2. atomic rebuild; the old root is kept for rollback
    auto choice = (*roots)->rebuild(pi, files, from, s.exec_options(name));
    if (!choice) {
      s.report({name, "root", "failed", choice.error().message});
      return std::unexpected(finish_hint(choice.error().with_context(name), again));
    }
    s.report({name, "root", "ok", "rebuilt with " + std::string(to_string(choice->method)) + " (" + choice->reason + ")"});
    // 3. PoE on: the Pi cold-boots into its new root
    if (power) {
      if (auto ok = power_action(s, name, switchctl::PowerAction::on, false); !ok) {
        return std::unexpected(ok.error().with_context(name));
      }
    }
  }
  return {};
}

Result<std::vector<switchctl::PowerResult>> power_pis(const VerbContext& ctx,
                                                      const std::vector<std::string>& names,
                                                      switchctl::PowerAction action, bool force) {
  std::vector<switchctl::PowerResult> out;
  for (const auto& name : names) {
    auto session = open_session(ctx, ctx.verb.empty() ? "power" : ctx.verb, name);
    if (!session) return std::unexpected(session.error());
    auto& s = **session;
    if (ctx.dry_run && action != switchctl::PowerAction::status) {
      s.report({name, "power", "planned", "PoE " + std::string(switchctl::to_string(action))});
      continue;
    }
    auto sw = s.switch_controller();
    if (!sw) return std::unexpected(sw.error());
    auto result = (*sw)->power(name, action, force);
    if (!result) {
      if (action != switchctl::PowerAction::status) s.report({name, "power", "failed", result.error().message});
      return std::unexpected(result.error());
    }
    if (action != switchctl::PowerAction::status) {
      s.report({name, "power", "ok", "PoE " + std::string(switchctl::to_string(action)) + ", port " +
                                         std::to_string(result->port)});
    }
    out.push_back(*result);
  }
  return out;
}

Result<void> apply(const VerbContext& ctx) {
  auto session = open_session(ctx, "apply");
  if (!session) return std::unexpected(session.error());
  auto lock = ShelfLock::acquire(state_dir(ctx.inventory_path), (*session)->shelf().name);
  if (!lock) return std::unexpected(lock.error());
  ApplyOptions options;
  options.dry_run = ctx.dry_run;
  return apply_shelf(**session, options);
}

}  // namespace picluster::orchestrator
