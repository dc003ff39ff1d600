#include "orchestrator/verbs.hpp"

#include <algorithm>

#include "bootcfg/bootcfg.hpp"
#include "common/text.hpp"
#include "orchestrator/images.hpp"
#include "orchestrator/power_hold.hpp"
#include "orchestrator/reconcile.hpp"
#include "inventory/vlans.hpp"
#include "switchctl/ownership.hpp"

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
      return fail(ErrorCode::not_found,
                  inv.source.string() + ": no shelf named " + printable(ctx.shelf));
    }
    return ctx.shelf;
  }
  if (inv.shelves.size() == 1) return inv.shelves.front().name;
  return fail(ErrorCode::invalid_argument,
              inv.source.string() + " holds several shelves: say which with --shelf");
}

}  // namespace

Result<inventory::Inventory> change_inventory(
    const VerbContext& ctx, const std::function<Result<void>(inventory::Inventory&)>& change) {
  auto lock = inventory::Lock::acquire(ctx.inventory_path, false);
  if (!lock) return std::unexpected(lock.error());
  auto inv = inventory::load(ctx.inventory_path);
  if (!inv) return std::unexpected(inv.error());
  if (auto ok = change(*inv); !ok) return std::unexpected(ok.error());
  if (auto ok = inventory::validate(*inv); !ok) return std::unexpected(ok.error());
  if (!ctx.dry_run) {
    if (auto ok = inventory::save(*inv, ctx.inventory_path); !ok)
      return std::unexpected(ok.error());
  }
  return inv;
}

namespace {

Error finish_hint(const Error& error, const std::string& how) {
  Error out = error;
  out.message += " (" + how + ")";
  return out;
}

Result<void> power_action(ShelfSession& session, const std::string& pi,
                          switchctl::PowerAction action, bool force) {
  auto sw = session.switch_controller();
  if (!sw) return std::unexpected(sw.error());
  auto result = (*sw)->power(pi, action, force);
  if (!result) {
    session.report({pi, "power", "failed", result.error().message});
    return std::unexpected(result.error());
  }
  std::string detail =
      "PoE " + std::string(switchctl::to_string(action)) + ", port " + std::to_string(result->port);
  for (const auto& note : result->notes) detail += "; " + note;
  session.report({pi, "power", "ok", detail});
  return {};
}

// The Pi named `name` on the session's shelf (a copy: the session's inventory may be replaced).
Result<inventory::Pi> known_pi(const ShelfSession& s, const std::string& name) {
  if (const auto* pi = s.shelf().find_pi(name)) return *pi;
  return fail(ErrorCode::not_found, s.inventory_path().string() + ": no pi named " +
                                        printable(name) + " on shelf " + s.shelf().name);
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

std::string port_text(const inventory::Pi& pi) { return "port " + std::to_string(pi.port); }

PowerHolds holds_of(const ShelfSession& s) {
  return PowerHolds(state_dir(s.inventory_path()), s.shelf().name);
}

// Drops the hold of a Pi that is powered on, removed or added again, and reports it (journaled).
Result<void> release_hold(ShelfSession& s, const std::string& pi, bool dry_run, const std::string& why) {
  const auto holds = holds_of(s);
  auto found = holds.find(pi);
  if (!found) return std::unexpected(found.error());
  if (!*found) return {};
  if (!dry_run) {
    if (auto released = holds.release(pi); !released) return std::unexpected(released.error());
  }
  s.report({pi, "hold", dry_run ? "planned" : "ok", "released (was " + describe(**found) + "): " + why});
  return {};
}

std::string held_text(const std::string& pi, const PowerHold& hold) {
  return describe(hold) + "; left off (`picluster power on " + pi + "` releases it)";
}

// Before PoE off: the switch answers and knows the Pi's port (reads only; no identity check).
Result<void> check_switch(ShelfSession& s, const std::string& pi) {
  auto sw = s.switch_controller();
  if (!sw) return std::unexpected(sw.error());
  auto state = (*sw)->power(pi, switchctl::PowerAction::status, false);
  if (!state) return std::unexpected(state.error());
  return {};
}

// After a failed root step with the Pi's PoE off: if its live root is still there, power the Pi on
// again and add what happened to the error; otherwise leave it off and say how to finish.
Error restore_power(ShelfSession& s, const inventory::Pi& pi, Error error, bool powered_off,
                    const std::string& again, const std::optional<PowerHold>& held) {
  std::string live_path;
  bool live = false;
  if (auto roots = s.roots(); roots) {
    if (auto paths = (*roots)->layout().pi(pi.name); paths) {
      live_path = paths->live;
      auto host = s.host();
      auto st = host ? (*host)->stat(live_path) : std::unexpected(host.error());
      live = st && st->type == nfsroot::FileType::directory;
    }
  }
  if (!live) {
    error.message += "; " + pi.name + " has no root at " +
                     (live_path.empty() ? "its root path" : live_path) +
                     (powered_off ? " and stays powered off" : "") + " (" + again + ")";
    return error;
  }
  if (!powered_off || held) {
    error.message += "; its root " + live_path + " is still in place" +
                     (held && powered_off ? " and " + pi.name + " stays off (" + describe(*held) + ")" : "");
    return error;
  }
  if (auto on = power_action(s, pi.name, switchctl::PowerAction::on, false); !on) {
    error.message += "; its root " + live_path + " is still in place, but powering " + pi.name +
                     " on again failed: " + on.error().message + " (run `picluster power on " +
                     pi.name + "`)";
    return error;
  }
  error.message +=
      "; its root " + live_path + " is still in place and " + pi.name + " is powered on again";
  return error;
}

}  // namespace

// Steps 2-4 of remove: boot files, root (unexported first), fileserver interface and exports.
static Result<void> remove_from_fileserver(ShelfSession& s, const inventory::Pi& pi, bool keep,
                                           bool dry_run);

Result<std::optional<ShelfLock>> lock_shelf(const VerbContext& ctx, ShelfSession& session) {
  auto lock = ShelfLock::acquire(state_dir(ctx.inventory_path), session.shelf().name);
  if (!ctx.dry_run) {
    if (!lock) return std::unexpected(lock.error());
    return std::optional<ShelfLock>(std::move(*lock));
  }
  // A dry run only reads: it neither needs the lock nor keeps a real run waiting for it.
  if (!lock && lock.error().code != ErrorCode::locked) return std::unexpected(lock.error());
  if (!lock) {
    session.report({"", "lock", "note",
                    "another picluster run is changing shelf " + session.shelf().name +
                        "; this dry run shows the shelf as it is now"});
  }
  return std::optional<ShelfLock>{};
}

Result<std::unique_ptr<ShelfSession>> open_session(const VerbContext& ctx, const std::string& verb,
                                                   const std::string& pi) {
  auto inv = inventory::load(ctx.inventory_path);
  if (!inv) return std::unexpected(inv.error());
  auto shelf = shelf_for(*inv, ctx, pi);
  if (!shelf) return std::unexpected(shelf.error());
  auto session = std::make_unique<ShelfSession>(std::move(*inv), *shelf, ctx.inventory_path, verb,
                                                ctx.reporter);
  session->set_verbose(ctx.verbose);
  return session;
}

// The VLAN ids on the switch that are not the shelf's, so that add never allocates one of them.
// A switch that cannot be read gives none and a note: plan and apply still refuse a collision.
static std::set<int> foreign_switch_vlans(ShelfSession& s, const std::string& pi) {
  if (!switch_configured(s.shelf())) return {};
  auto sw = s.switch_controller();
  auto state = sw ? (*sw)->read_state() : Result<switchctl::SwitchState>(std::unexpected(sw.error()));
  if (!state) {
    s.report({pi, "allocate", "note", "the switch's VLANs could not be read (" + state.error().message +
                                          "); the VLAN is allocated without avoiding them, and plan and apply "
                                          "refuse it if it collides with one"});
    return {};
  }
  std::set<int> out;
  for (const auto& [vlan, name] : switchctl::foreign_vlans(s.shelf(), *state)) out.insert(vlan);
  return out;
}

static Result<inventory::Pi> add_steps(const VerbContext& ctx, ShelfSession& s,
                                       const inventory::PiRequest& request);
static Result<void> remove_steps(const VerbContext& ctx, ShelfSession& s, const std::string& name,
                                 bool keep, bool force);

Result<inventory::Pi> add_pi(const VerbContext& ctx, const inventory::PiRequest& request) {
  auto session = open_session(ctx, "add");
  if (!session) return std::unexpected(session.error());
  return (*session)->journaled(request.name, add_steps(ctx, **session, request), ctx.dry_run);
}

static Result<inventory::Pi> add_steps(const VerbContext& ctx, ShelfSession& s,
                                       const inventory::PiRequest& request) {
  auto lock = lock_shelf(ctx, s);
  if (!lock) return std::unexpected(lock.error());
  return add_pi_locked(ctx, s, request);
}

Result<inventory::Pi> add_pi_locked(const VerbContext& ctx, ShelfSession& s,
                                    const inventory::PiRequest& request) {
  const std::string shelf_name = s.shelf().name;
  const std::set<int> foreign = foreign_switch_vlans(s, request.name);

  // 1. allocate: VLAN, /30 and IPv6 written into the inventory (never a VLAN the switch has)
  inventory::Pi added;
  auto inv = change_inventory(ctx, [&](inventory::Inventory& i) -> Result<void> {
    if (const auto* other = i.shelf_of(request.name)) {
      return fail(ErrorCode::conflict, i.source.string() + ": pi " + printable(request.name) +
                                           " already exists on shelf " + printable(other->name));
    }
    auto pi = inventory::add_pi_avoiding(*i.find_shelf(shelf_name), request, foreign);
    if (!pi) return std::unexpected(pi.error().with_context(i.source.string()));
    added = *pi;
    return {};
  });
  if (!inv) return std::unexpected(inv.error());
  s.report({added.name, "allocate", ctx.dry_run ? "planned" : "ok",
            "VLAN " + std::to_string(added.vlan) + ", " + added.storage.network.str() + "/30, " +
                added.ipv6.str()});
  s.reset_inventory(std::move(*inv));
  // A hold left under this name (a Pi removed by hand from the inventory) is not the new Pi's.
  if (auto ok = release_hold(s, added.name, ctx.dry_run, "a new Pi was added under this name"); !ok)
    return std::unexpected(ok.error());

  // 2-7. switch port, VLAN interface, root, export, boot files, PoE on
  ApplyOptions options;
  options.dry_run = ctx.dry_run;
  options.pis = {added.name};
  if (auto ok = apply_shelf(s, options); !ok) {
    return std::unexpected(finish_hint(
        ok.error(), added.name + " is in the inventory; run `picluster apply` to finish"));
  }
  return added;
}

Result<void> remove_pi(const VerbContext& ctx, const std::string& name, bool keep, bool force) {
  auto session = open_session(ctx, "remove", name);
  if (!session) return std::unexpected(session.error());
  return (*session)->journaled(name, remove_steps(ctx, **session, name, keep, force), ctx.dry_run);
}

static Result<void> remove_steps(const VerbContext& ctx, ShelfSession& s, const std::string& name,
                                 bool keep, bool force) {
  auto found = known_pi(s, name);
  if (!found) return std::unexpected(found.error());
  const inventory::Pi pi = *found;
  auto lock = lock_shelf(ctx, s);
  if (!lock) return std::unexpected(lock.error());
  const std::string again = "run `picluster remove " + name + "` again to finish";
  const auto step_failed = [&](const Error& e) {
    return std::unexpected(ctx.dry_run ? e.with_context(name)
                                       : finish_hint(e.with_context(name), again));
  };
  const std::string done = ctx.dry_run ? "planned" : "ok";
  const bool sw_ok = switch_configured(s.shelf());
  const bool fs_ok = fileserver_configured(s.shelf());
  // 1. PoE off (refused on a MAC mismatch unless --force)
  if (!sw_ok) {
    s.report({name, "power", "skipped", "switch not configured"});
  } else if (ctx.dry_run) {
    s.report(
        {name, "power", "planned",
         "PoE off, " + port_text(pi) +
             (force ? " (--force: no MAC check)" : " (if the MAC on the port is " + name + "'s)")});
  } else if (auto ok = power_action(s, name, switchctl::PowerAction::off, force); !ok) {
    return step_failed(ok.error());
  }
  // 2-4. boot files, root, fileserver interface and exports
  if (fs_ok) {
    if (auto ok = remove_from_fileserver(s, pi, keep, ctx.dry_run); !ok)
      return step_failed(ok.error());
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
    auto released = (*sw)->release(
        pi.port, pi.vlan, [](std::string_view) {}, ctx.dry_run);
    if (!released) return step_failed(released.error());
    std::string detail = port_text(pi) + " released, VLAN " + std::to_string(pi.vlan) + " removed";
    if (ctx.dry_run)
      detail =
          released->lines.empty() ? "nothing to change on the switch" : join_lines(released->lines);
    s.report({name, "switch",
              ctx.dry_run                    ? done
              : released->ports_changed == 0 ? "unchanged"
                                             : "ok",
              detail});
  } else {
    s.report({name, "switch", "skipped", "switch not configured"});
  }
  // 6. deallocate
  auto inv = change_inventory(ctx, [&](inventory::Inventory& i) -> Result<void> {
    for (auto& shelf : i.shelves) {
      if (shelf.find_pi(name) == nullptr) continue;
      if (auto removed = inventory::remove_pi(shelf, name); !removed)
        return std::unexpected(removed.error());
      return {};
    }
    return {};  // already gone: an earlier run got this far
  });
  if (!inv) return step_failed(inv.error());
  s.report({name, "deallocate", done,
            "VLAN " + std::to_string(pi.vlan) + ", " + pi.storage.network.str() + "/30 and " +
                pi.ipv6.str() + " freed; removed from " + ctx.inventory_path.string()});
  // 7. a hold goes with the Pi (a Pi added later under the same name starts unheld)
  if (auto ok = release_hold(s, name, ctx.dry_run, "removed from the inventory"); !ok) return step_failed(ok.error());
  return {};
}

static Result<void> remove_from_fileserver(ShelfSession& s, const inventory::Pi& pi, bool keep,
                                           bool dry_run) {
  const std::string& name = pi.name;
  const std::string done = dry_run ? "planned" : "ok";
  const bool prefixed = !s.shelf().fileserver.root_prefix.empty();
  // 2. boot files
  auto host = s.host();
  if (!host) return std::unexpected(host.error());
  nfsroot::Layout layout(s.shelf().fileserver);
  const std::string boot = layout.host_path("/" + boot_folder(s.shelf(), pi));
  if (!dry_run) {
    if (auto ok = nfsroot::remove_tree(**host, boot); !ok) return ok;
  }
  s.report({name, "boot", done, (dry_run ? "remove " : "removed ") + boot});
  // 3. unexport, then delete (or archive) the root
  auto roots = s.roots();
  if (!roots) return std::unexpected(roots.error());
  if (dry_run) {
    auto plan = (*roots)->plan_remove(pi, keep);
    if (!plan) return std::unexpected(plan.error());
    s.report({name, "root", done, nfsroot::describe(*plan, prefixed)});
  } else {
    if (auto ok = (*roots)->remove(pi, keep, s.exec_options(name)); !ok) return ok;
    s.report({name, "root", done, keep ? "unexported and archived" : "unexported and deleted"});
  }
  // 4. fileserver interface and exports without the Pi
  auto without = s.inventory();
  (void)inventory::remove_pi(*without.find_shelf(s.shelf().name), name);
  inventory::Shelf shelf = *without.find_shelf(s.shelf().name);
  auto cfg = s.configurator();
  if (!cfg) return std::unexpected(cfg.error());
  for (const auto& [step, files] :
       {std::pair{"network", network_files(shelf)}, std::pair{"exports", export_files(shelf)}}) {
    auto plan = (*cfg)->plan(files);
    if (!plan) return std::unexpected(plan.error());
    if (dry_run) {
      s.report(
          {name, step, plan->empty() ? "unchanged" : done, nfsroot::describe(*plan, prefixed)});
      continue;
    }
    if (auto ok = (*cfg)->apply(*plan, s.exec_options(name)); !ok) return ok;
    s.report({name, step, plan->empty() ? "unchanged" : "ok", ""});
  }
  return {};
}

namespace {

struct PiSession {
  std::unique_ptr<ShelfSession> session;
  inventory::Pi pi;
};

// A session for each named Pi (on the Pi's shelf), every name checked before any Pi is touched.
Result<std::vector<PiSession>> sessions_for(const VerbContext& ctx, const std::string& verb,
                                            const std::vector<std::string>& names) {
  std::vector<PiSession> out;
  for (const auto& name : names) {
    auto session = open_session(ctx, verb, name);
    if (!session) return std::unexpected(session.error());
    auto pi = known_pi(**session, name);
    if (!pi) return std::unexpected(pi.error());
    out.push_back({std::move(*session), *pi});
  }
  return out;
}

// One Pi's rebuild or rollback: `plan` checks what can be checked and describes the root step,
// `run` carries it out and says what it did.
struct RootSwap {
  std::function<Result<std::string>()> plan;
  std::function<Result<std::string>()> run;
};

Result<void> swap_root(const VerbContext& ctx, ShelfSession& s, const inventory::Pi& pi, bool power,
                       const RootSwap& swap, const std::string& again) {
  const std::string& name = pi.name;
  // 1. checks, before the Pi loses power: the root step's plan (fileserver, images), the switch
  auto planned = swap.plan();
  if (!planned) return std::unexpected(planned.error());
  const bool use_power = power && switch_configured(s.shelf());
  if (power && !use_power) s.report({name, "power", "skipped", "switch not configured"});
  // A Pi held off (`picluster power off`) gets its new root but stays off.
  auto held = holds_of(s).find(name);
  if (!held) return std::unexpected(held.error().with_context(name));
  if (use_power) {
    if (auto ok = check_switch(s, name); !ok) return std::unexpected(ok.error().with_context(name));
  }
  if (ctx.dry_run) {
    if (use_power) s.report({name, "power", "planned", "PoE off, " + port_text(pi)});
    s.report({name, "root", "planned", *planned});
    if (use_power && *held) s.report({name, "power", "skipped", held_text(name, **held)});
    else if (use_power) s.report({name, "power", "planned", "PoE on, " + port_text(pi)});
    return {};
  }
  // 2. PoE off: the Pi must not write to a root that is being swapped
  if (use_power) {
    if (auto ok = power_action(s, name, switchctl::PowerAction::off, false); !ok) {
      return std::unexpected(ok.error().with_context(name));
    }
  }
  // 3. the root step (atomic: the live root is replaced by rename only once the new one is whole)
  auto done = swap.run();
  if (!done) {
    s.report({name, "root", "failed", done.error().message});
    return std::unexpected(restore_power(s, pi, done.error(), use_power, again, *held));
  }
  s.report({name, "root", "ok", *done});
  // 4. PoE on: the Pi cold-boots into its new root (unless it is held off)
  if (use_power && *held) {
    s.report({name, "power", "skipped", held_text(name, **held)});
  } else if (use_power) {
    if (auto ok = power_action(s, name, switchctl::PowerAction::on, false); !ok) {
      return std::unexpected(ok.error().with_context(name));
    }
  }
  return {};
}

}  // namespace

Result<void> rebuild_pis(const VerbContext& ctx, const std::vector<std::string>& names,
                         const std::string& from, bool power) {
  auto sessions = sessions_for(ctx, "rebuild", names);
  if (!sessions) return std::unexpected(sessions.error());
  for (auto& [session, pi] : *sessions) {
    auto& s = *session;
    auto lock = lock_shelf(ctx, s);
    if (!lock) return std::unexpected(lock.error());
    const auto files = bootcfg::render_pi_root_files(s.shelf(), pi);
    const bool prefixed = !s.shelf().fileserver.root_prefix.empty();
    RootSwap swap;
    swap.plan = [&]() -> Result<std::string> {
      auto roots = s.roots();
      if (!roots) return std::unexpected(roots.error().with_context(pi.name));
      auto source = root_source(s, pi, from);
      if (!source) return std::unexpected(source.error().with_context(pi.name + ": rebuild"));
      auto plan = (*roots)->plan_rebuild(pi, files, source->path);
      if (!plan) return std::unexpected(plan.error().with_context(pi.name + ": rebuild"));
      return (source->ref.empty() ? "" : "from image " + source->ref + ": ") + "clone with " + std::string(to_string(plan->clone.method)) + " (" +
             plan->clone.reason + ")\n" + nfsroot::describe(plan->plan, prefixed);
    };
    swap.run = [&]() -> Result<std::string> {
      auto roots = s.roots();
      if (!roots) return std::unexpected(roots.error().with_context(pi.name));
      auto source = root_source(s, pi, from);
      if (!source) return std::unexpected(source.error().with_context(pi.name + ": rebuild"));
      auto choice = (*roots)->rebuild(pi, files, source->path, s.exec_options(pi.name));
      if (!choice) return std::unexpected(choice.error());
      std::string done = "rebuilt" + (source->ref.empty() ? "" : " from " + source->ref) + " with " +
                         std::string(to_string(choice->method)) + " (" + choice->reason +
                         "); previous root kept for `picluster rollback " + pi.name + "`";
      if (!source->ref.empty()) {
        auto staged = stage_boot_set(s, pi, false);
        if (!staged) return std::unexpected(staged.error());
        done += "; " + *staged;
      }
      return done;
    };
    if (auto ok = s.journaled(
            pi.name, swap_root(ctx, s, pi, power, swap, "run `picluster rebuild " + pi.name + "` again"),
            ctx.dry_run);
        !ok) {
      return ok;
    }
  }
  return {};
}

Result<void> rollback_pi(const VerbContext& ctx, const std::string& name, bool power) {
  auto sessions = sessions_for(ctx, "rollback", {name});
  if (!sessions) return std::unexpected(sessions.error());
  auto& s = *sessions->front().session;
  const inventory::Pi pi = sessions->front().pi;
  auto lock = lock_shelf(ctx, s);
  if (!lock) return std::unexpected(lock.error());
  const bool prefixed = !s.shelf().fileserver.root_prefix.empty();
  RootSwap swap;
  swap.plan = [&]() -> Result<std::string> {
    auto roots = s.roots();
    if (!roots) return std::unexpected(roots.error().with_context(name));
    auto plan = (*roots)->plan_rollback(name);
    if (!plan) return std::unexpected(plan.error().with_context(name + ": rollback"));
    return nfsroot::describe(*plan, prefixed);
  };
  swap.run = [&]() -> Result<std::string> {
    auto roots = s.roots();
    if (!roots) return std::unexpected(roots.error().with_context(name));
    if (auto ok = (*roots)->rollback(name, s.exec_options(name)); !ok)
      return std::unexpected(ok.error());
    std::string done = "rolled back; the replaced root is now the previous one (roll back again to undo)";
    // The boot set follows the root: the kernel must match the restored root's modules.
    auto staged = stage_boot_set(s, pi, false);
    if (!staged) return std::unexpected(staged.error());
    if (!staged->starts_with("no image")) done += "; " + *staged;
    return done;
  };
  return s.journaled(name, swap_root(ctx, s, pi, power, swap, "run `picluster rollback " + name + "` again"),
                     ctx.dry_run);
}

Result<std::vector<switchctl::PowerResult>> power_pis(const VerbContext& ctx,
                                                      const std::vector<std::string>& names,
                                                      switchctl::PowerAction action, bool force) {
  std::vector<switchctl::PowerResult> out;
  auto sessions = sessions_for(ctx, ctx.verb.empty() ? "power" : ctx.verb, names);
  if (!sessions) return std::unexpected(sessions.error());
  for (auto& [session, pi] : *sessions) {
    const std::string& name = pi.name;
    auto& s = *session;
    const bool releases = action == switchctl::PowerAction::on || action == switchctl::PowerAction::cycle;
    if (releases) {
      if (auto ok = release_hold(s, name, ctx.dry_run, "powered " + std::string(switchctl::to_string(action))); !ok)
        return std::unexpected(ok.error().with_context(name));
    }
    if (ctx.dry_run && action != switchctl::PowerAction::status) {
      s.report({name, "power", "planned",
                "PoE " + std::string(switchctl::to_string(action)) + ", " + port_text(pi)});
      continue;
    }
    auto sw = s.switch_controller();
    if (!sw) return std::unexpected(sw.error());
    auto result = (*sw)->power(name, action, force);
    if (!result) {
      if (action != switchctl::PowerAction::status)
        s.report({name, "power", "failed", result.error().message});
      return std::unexpected(result.error());
    }
    if (action != switchctl::PowerAction::status) {
      s.report({name, "power", "ok",
                "PoE " + std::string(switchctl::to_string(action)) + ", port " +
                    std::to_string(result->port)});
    }
    if (action == switchctl::PowerAction::off) {
      auto hold = holds_of(s).hold(name, {});
      if (!hold) return std::unexpected(hold.error().with_context(name));
      s.report({name, "hold", "ok", describe(*hold)});
    }
    out.push_back(*result);
  }
  return out;
}

Result<void> apply(const VerbContext& ctx) {
  auto session = open_session(ctx, "apply");
  if (!session) return std::unexpected(session.error());
  auto lock = lock_shelf(ctx, **session);
  if (!lock) return std::unexpected(lock.error());
  ApplyOptions options;
  options.dry_run = ctx.dry_run;
  return (*session)->journaled("", apply_shelf(**session, options), ctx.dry_run);
}

static Result<Renumbered> renumber_steps(const VerbContext& ctx, ShelfSession& s, const std::string& name,
                                        std::optional<int> vlan) {
  auto found = known_pi(s, name);
  if (!found) return std::unexpected(found.error());
  auto lock = lock_shelf(ctx, s);
  if (!lock) return std::unexpected(lock.error());
  // 1. the switch's VLANs: the new VLAN is none of another network's
  std::set<int> foreign, colliding;
  if (switch_configured(s.shelf())) {
    auto sw = s.switch_controller();
    if (!sw) return std::unexpected(sw.error());
    auto state = (*sw)->read_state();
    if (!state) {
      return std::unexpected(state.error().with_context(
          name + ": renumber: the switch's VLANs are needed to pick a VLAN that is no other network's"));
    }
    for (const auto& [v, vlan_name] : switchctl::foreign_vlans(s.shelf(), *state)) foreign.insert(v);
    colliding = (*sw)->colliding_vlans(*state);
  } else {
    s.report({name, "switch", "skipped", "switch not configured: its VLANs are not avoided"});
  }
  // 2. inventory: the new VLAN, the old one as previous_vlan (and reserved if it is another network's)
  Renumbered out{name, found->port, found->vlan, 0, colliding.contains(found->vlan)};
  const std::string shelf_name = s.shelf().name;
  auto inv = change_inventory(ctx, [&](inventory::Inventory& i) -> Result<void> {
    inventory::Shelf& shelf = *i.find_shelf(shelf_name);
    inventory::Pi* pi = shelf.find_pi(name);
    if (pi == nullptr || pi->vlan != out.old_vlan) {
      return fail(ErrorCode::conflict, i.source.string() + ": pi " + printable(name) + " changed meanwhile; run renumber again");
    }
    auto picked = inventory::pick_new_vlan(shelf, name, vlan, foreign);
    if (!picked) return std::unexpected(picked.error().with_context(i.source.string()));
    out.new_vlan = *picked;
    pi->vlan = *picked;
    pi->extra["previous_vlan"] = out.old_vlan;
    if (out.reserved_old) {
      inventory::Json& reserved = shelf.storage.extra["reserved_vlans"];
      if (!reserved.is_array()) reserved = inventory::Json::array();
      if (std::find(reserved.begin(), reserved.end(), inventory::Json(out.old_vlan)) == reserved.end())
        reserved.push_back(out.old_vlan);
    }
    return {};
  });
  if (!inv) return std::unexpected(inv.error());
  const std::string done = ctx.dry_run ? "planned" : "ok";
  s.report({name, "allocate", done,
            "VLAN " + std::to_string(out.old_vlan) + " -> " + std::to_string(out.new_vlan) + " (port " +
                std::to_string(out.port) + "; previous_vlan " + std::to_string(out.old_vlan) + ")"});
  if (out.reserved_old) {
    s.report({name, "inventory", done,
              "VLAN " + std::to_string(out.old_vlan) +
                  " is another network's on the switch: added to storage.reserved_vlans"});
  }
  return out;
}

Result<Renumbered> renumber_pi(const VerbContext& ctx, const std::string& name, std::optional<int> vlan) {
  auto session = open_session(ctx, "renumber", name);
  if (!session) return std::unexpected(session.error());
  return (*session)->journaled(name, renumber_steps(ctx, **session, name, vlan), ctx.dry_run);
}

}  // namespace picluster::orchestrator
