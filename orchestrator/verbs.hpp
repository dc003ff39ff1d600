#pragma once
// The operator's verbs on a whole shelf, each a checklist of named steps reported through the
// session (and so journaled). Mutating verbs hold the shelf lock for their whole run.
//
//   add      allocate (inventory) -> switch port -> fileserver VLAN interface -> root clone
//            -> export -> boot files -> PoE on
//   remove   PoE off -> boot files -> unexport + delete root -> fileserver interface/exports
//            -> switch port released -> deallocate (inventory)
//   rebuild  checks -> PoE off -> atomic rebuild (old root kept for rollback) -> PoE on
//   rollback checks -> PoE off -> swap the live and previous roots -> PoE on
//   power    on | off | cycle | status through the switch, with the MAC identity check
//
// rebuild and rollback check everything they can before the Pi loses power (the Pi is known, the
// fileserver answers, the golden image and nfs_root exist, a clone method is usable, the switch
// answers); when the root step fails after PoE off, the live root is still in place (roots are
// swapped by rename only once complete), so the Pi is powered on again and the error says so.
//
// A dry run changes nothing and takes no lock: it reports every step as `planned` with what it
// would do, and notes when another run is changing the shelf meanwhile.
//
// A verb that fails part-way says which step failed and how to finish: every step is
// idempotent, so `picluster apply` (after add) or the same verb again (remove, rebuild) completes
// the job.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "orchestrator/shelf_session.hpp"
#include "switchctl/controller.hpp"

namespace picluster::orchestrator {

struct VerbContext {
  std::filesystem::path inventory_path;
  std::string shelf;  // "" = the only shelf (or the Pi's shelf for verbs that name Pis)
  bool dry_run = false;
  Reporter reporter;
  std::string verb;  // journal verb for steps taken on behalf of another verb ("" = the verb's own)
  bool verbose = false;  // -v: fileserver round trips per stage reported as notes
};

Result<inventory::Pi> add_pi(const VerbContext& ctx, const inventory::PiRequest& request);
Result<void> remove_pi(const VerbContext& ctx, const std::string& name, bool keep, bool force);
Result<void> rebuild_pis(const VerbContext& ctx, const std::vector<std::string>& names,
                         const std::string& from, bool power);
Result<void> rollback_pi(const VerbContext& ctx, const std::string& name, bool power);
Result<std::vector<switchctl::PowerResult>> power_pis(const VerbContext& ctx,
                                                      const std::vector<std::string>& names,
                                                      switchctl::PowerAction action, bool force);
// add's steps for a caller that already holds the shelf lock (zero-touch enrollment, enroll.hpp).
Result<inventory::Pi> add_pi_locked(const VerbContext& ctx, ShelfSession& session,
                                    const inventory::PiRequest& request);
// Locks the inventory file, applies `change`, validates, saves (unless dry run); returns the result.
Result<inventory::Inventory> change_inventory(
    const VerbContext& ctx, const std::function<Result<void>(inventory::Inventory&)>& change);
// Reconcile the whole shelf (plan/apply).
Result<void> apply(const VerbContext& ctx);

// `picluster renumber`: gives the Pi another storage VLAN in the inventory (written atomically
// under the inventory and shelf locks; nothing else is changed, `picluster apply` follows). The
// new VLAN is `vlan` (checked) or picked: inside storage.vlan_range, not reserved, no other Pi's,
// not the public VLAN, and not a VLAN the switch has for another network (the switch is read when
// configured; a switch that cannot be read is an error). The old VLAN becomes the Pi's
// `previous_vlan`, which apply may take the Pi's port out of; an old VLAN that collides with the
// switch's (someone else's network) is added to storage.reserved_vlans.
struct Renumbered {
  std::string pi;
  int port = 0;
  int old_vlan = 0;
  int new_vlan = 0;
  bool reserved_old = false;  // the old VLAN was added to storage.reserved_vlans
};
Result<Renumbered> renumber_pi(const VerbContext& ctx, const std::string& name, std::optional<int> vlan);

// Opens a session for the shelf named in ctx (or the shelf that holds `pi`).
Result<std::unique_ptr<ShelfSession>> open_session(const VerbContext& ctx, const std::string& verb,
                                                   const std::string& pi = {});

// The shelf lock for a run of `session`'s shelf: held until the returned value goes. A dry run
// takes none (nullopt); when another run holds it, the dry run reports a `note` saying so.
Result<std::optional<ShelfLock>> lock_shelf(const VerbContext& ctx, ShelfSession& session);

}  // namespace picluster::orchestrator
