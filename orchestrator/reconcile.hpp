#pragma once
// Reconcile: the inventory is the desired state; the switch (SNMP), the fileserver (its files and
// roots, over SSH or locally) and the boot files are the actual state. plan_shelf() reads all
// three and returns the differences as data; apply_shelf() carries them out in a safe order:
//
//   1. switch      VLAN rows, port memberships and PVIDs (one SET PDU per port)
//   2. network     fileserver VLAN interfaces and the isolation hardening
//   3. roots       a missing Pi root is cloned from the golden image and customised
//   3b. root files every file picluster renders into an existing root (etc/hostname, etc/hosts,
//                  etc/fstab, etc/network/interfaces, etc/modules-load.d/picluster.conf) read
//                  back, diffed and rewritten atomically; plan says when a running Pi picks each
//                  one up, and names what only a rebuild changes (the golden image a root came from)
//   4. exports     each root exported to its Pi's address alone (and dnsmasq for netboot)
//   5. boot        cmdline.txt/config.txt into the TFTP folder
//   6. power       PoE on for Pi ports that are off, except Pis held off (power_hold.hpp)
//
// The fileserver is read once, in one batch (one round trip over SSH), at the start of plan and
// apply (under the shelf lock): every stage's files, every in-scope Pi's root, its record and its
// rendered files. Each stage compares against that snapshot and changes only its own files, and
// does nothing when it is in step, so apply is idempotent: a second run reports no changes, and a run interrupted at any
// stage (SIGKILL, lost connection) is finished by running apply again.

#include <string>
#include <vector>

#include "common/rendered_file.hpp"
#include "nfsroot/actions.hpp"
#include "nfsroot/diff.hpp"
#include "orchestrator/power_hold.hpp"
#include "orchestrator/shelf_session.hpp"
#include "switchctl/state.hpp"

namespace picluster::orchestrator {

struct PowerChange {
  std::string pi;
  int port = 0;
};

// Changes to the files inside one Pi's live root.
struct RootFileChanges {
  std::string pi;
  nfsroot::Plan plan;  // make_dirs and write_file actions (write_file with `previous` for diffs)
};

struct ShelfPlan {
  switchctl::Plan switch_plan;
  nfsroot::Plan network;
  std::vector<std::string> missing_roots;  // Pis whose root does not exist yet
  std::vector<RootFileChanges> root_files;  // drift inside existing roots, per Pi
  // What apply cannot change in an existing root, one line per Pi: "pi03: root built from
  // /srv/golden-old, golden_image is now /srv/golden: only `picluster rebuild pi03` changes it".
  std::vector<std::string> rebuild_needed;
  std::uint64_t fileserver_round_trips = 0;  // taken to read the fileserver for this plan
  std::uint64_t fileserver_channels = 0;     // SSH channels the verb opened (1 over SSH)
  // Pis whose root runs an older version than their image's latest: listed, never rebuilt by
  // apply ("pi01: base@1, latest base@3"); `rebuild` stays explicit. Not a change (empty()).
  std::vector<std::string> newer_images;
  nfsroot::Plan exports;
  nfsroot::Plan boot;
  std::vector<PowerChange> power_on;
  std::map<std::string, PowerHold> held;  // Pis held off by `power off`: left off, not a change
  bool prefixed = false;  // root_prefix set: live fileserver commands are skipped

  [[nodiscard]] bool empty() const;
};

struct ApplyOptions {
  bool dry_run = false;
  bool power = true;              // stage 6
  std::vector<std::string> pis;   // limit per-Pi stages (switch ports, roots, power) to these
};

// A shelf described before its hardware: an empty switch host, or an empty fileserver host with
// the ssh transport, means "not configured yet"; the stages for it are reported as skipped.
bool switch_configured(const inventory::Shelf& shelf);
bool fileserver_configured(const inventory::Shelf& shelf);

// The fileserver files of each stage (paths relative to the fileserver's /).
std::vector<RenderedFile> network_files(const inventory::Shelf& shelf);
std::vector<RenderedFile> export_files(const inventory::Shelf& shelf);
std::vector<RenderedFile> boot_files(const inventory::Shelf& shelf);
// How a running Pi picks up a changed file of its root (path relative to the root):
// "in effect at once" for etc/hosts, else "at next boot" with what does it sooner, if anything.
std::string takes_effect(std::string_view path);
// Where a Pi's boot files land on the fileserver: <tftp_root>/vlan-<N>/<serial> for netboot
// (bootcfg::tftp_path: each storage VLAN has its own TFTP root), else
// <tftp_root>/sdcard/<name> (to copy onto the SD card's boot partition).
std::string boot_folder(const inventory::Shelf& shelf, const inventory::Pi& pi);

Result<ShelfPlan> plan_shelf(ShelfSession& session, const ApplyOptions& options);
// The plan for the operator: each stage's changes, and under each file write the diff of its
// contents in diff -u style ("@@ -3,3 +3,4 @@", " context", "-removed", "+added"). ANSI colour
// only when `colour` (the CLI passes "stdout is a terminal").
std::string describe(const ShelfPlan& plan, bool colour);
// {"changes", "switch", "network", "roots", "exports", "boot", "power_on", "held"} as lists of
// one-line descriptions, "root_files" ({"pi", "actions"} per Pi), "rebuild_needed" (lines),
// "fileserver_round_trips", plus "files": one object per file write with "stage", "path", "mode",
// "old_mode", "old" (null for a new file), "new" and "diff" (the lines describe() prints); root
// files also carry "pi" and "takes_effect".
inventory::Json to_json(const ShelfPlan& plan);
// The diff of a write_file action's contents against the installed file (all added for a new
// file); empty for other actions.
std::vector<nfsroot::DiffLine> content_diff(const nfsroot::Action& action);

// Carries out the plan stage by stage (see the header). Each stage reports one or more steps.
Result<void> apply_shelf(ShelfSession& session, const ApplyOptions& options);

}  // namespace picluster::orchestrator
