#pragma once
// Per-Pi root filesystems on the fileserver: provision, rebuild, rollback, remove, recover.
//
// Rebuild is a small state machine over the folders named in layout.hpp, so that an interruption
// at any point (SIGKILL, lost SSH connection, power cut) leaves either the old or the new root at
// <nfs_root>/<name>, never a mix, and the next run finishes or cleans up:
//   1. recover        bring any leftover state back to "live root only" (see plan_recover)
//   2. clone          golden image -> .staging/<name>
//   3. install        the Pi's rendered files; reset machine-id; new SSH host keys; the root
//                     folder's mtime set to now (when it was built)
//   4. ready          write .staging/<name>.ready: the staging root is complete
//   5. retire         .previous/<name> -> .trash/<name> (the old rollback point goes)
//   6. swap-out       <name> -> .previous/<name>
//   7. swap-in        .staging/<name> -> <name>
//   8. cleanup        remove the ready marker and .trash/<name>
// Recovery: a missing live root is restored from a ready staging root (after 6) or else from
// .previous (never happens in a rebuild; an interrupted rollback); with a live root present, any
// staging copy is deleted. Rollback swaps live and previous through .rollback/<name> and is
// recovered the same way, so rolling back twice returns to where you were.
//
// Every operation is planned first (plan_*: read-only probing of the host, returns data) and then
// executed; --dry-run prints the plan. The class knows nothing about the CLI.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/rendered_file.hpp"
#include "inventory/inventory.hpp"
#include "nfsroot/actions.hpp"
#include "nfsroot/clone.hpp"
#include "nfsroot/layout.hpp"

namespace picluster::nfsroot {

struct RootInfo {
  std::string name;
  std::string path;
  bool has_previous = false;
  std::int64_t mtime = 0;  // of the live root folder: when it was built (see plan_rebuild)
  std::optional<RootRecord> record;  // its .picluster-root, for roots built since it exists
};

struct RebuildPlan {
  Plan plan;
  CloneChoice clone;  // the method used and why
};

class RootManager {
 public:
  // Both must outlive the manager. The shelf supplies fileserver paths and the Pis' addresses.
  RootManager(Host& host, const inventory::Shelf& shelf);

  // Plans. `files` are the Pi's rendered root files (bootcfg::render_pi_root_files).
  // from: a golden image path on the fileserver ("" = the shelf's golden_image).
  Result<Plan> plan_recover(std::string_view name);
  Result<RebuildPlan> plan_rebuild(const inventory::Pi& pi, const std::vector<RenderedFile>& files,
                                   const std::string& from = {});
  Result<Plan> plan_rollback(std::string_view name);
  Result<Plan> plan_remove(const inventory::Pi& pi, bool keep);

  // Plan + execute. provision() does nothing (and succeeds) when the live root already exists.
  Result<CloneChoice> provision(const inventory::Pi& pi, const std::vector<RenderedFile>& files,
                                const ExecOptions& options = {}, const std::string& from = {});
  Result<CloneChoice> rebuild(const inventory::Pi& pi, const std::vector<RenderedFile>& files,
                              const std::string& from = {}, const ExecOptions& options = {});
  Result<void> rollback(std::string_view name, const ExecOptions& options = {});
  // Unexports the Pi's root first (exportfs -u), then deletes every folder of it, or with keep
  // moves the live root to .archive/<name>-<UTC time>.
  Result<void> remove(const inventory::Pi& pi, bool keep, const ExecOptions& options = {});
  // Recovers every Pi root found under nfs_root's working folders.
  Result<void> recover(const ExecOptions& options = {});

  // The same with the recovery scan's listing already read (recovery_listing() in a pipeline);
  // the names it found, recovered or not, go to `found` when given.
  Result<void> recover(const std::map<std::string, std::vector<std::string>>& listing,
                       const ExecOptions& options = {}, std::set<std::string>* found = nullptr);
  // The recovery scan: one list_dirs of nfs_root's working folders.
  [[nodiscard]] PipelineRequest recovery_listing() const;
  // provision() with the Pi's folders, the golden image and nfs_root taken from `known`, a
  // snapshot read before that holds provision_reads(pi) (the caller makes sure nothing changed
  // them since: no recovery of that Pi in between).
  Result<CloneChoice> provision(const inventory::Pi& pi, const std::vector<RenderedFile>& files,
                                const PathSnapshot& known, const ExecOptions& options = {});
  [[nodiscard]] std::vector<PathRead> provision_reads(const inventory::Pi& pi) const;

  // Live roots under nfs_root (folders whose name is an RFC 1123 label), sorted: one pipeline of
  // roots_requests().
  Result<std::vector<RootInfo>> list_roots();
  // The reads list_roots needs, to pipeline with others: nfs_root's entries with their records,
  // and the entries of nfs_root/.previous. roots_in() makes the list from their snapshots.
  [[nodiscard]] std::vector<PipelineRequest> roots_requests() const;
  [[nodiscard]] std::vector<RootInfo> roots_in(const PathSnapshot& snapshot) const;
  // The live roots among `names` (one read batch), or from a snapshot holding roots_reads(names).
  Result<std::vector<RootInfo>> roots_info(const std::vector<std::string>& names);
  [[nodiscard]] std::vector<PathRead> roots_reads(const std::vector<std::string>& names) const;
  [[nodiscard]] std::vector<RootInfo> roots_info(const std::vector<std::string>& names,
                                                 const PathSnapshot& snapshot) const;
  // The clone method for `golden` (probed once per manager, i.e. once per verb).
  Result<CloneChoice> clone_choice(const std::string& golden);

  [[nodiscard]] const Layout& layout() const { return m_layout; }
  // The options execute() needs for this shelf (prefixed set from root_prefix), merged with yours.
  [[nodiscard]] ExecOptions exec_options(ExecOptions options) const;

 private:
  [[nodiscard]] std::vector<PathRead> rebuild_reads(const PiPaths& p, const std::string& golden) const;
  // The rebuild plan from a snapshot holding rebuild_reads(p, golden).
  Result<RebuildPlan> plan_rebuild(const std::vector<RenderedFile>& files, const PiPaths& p,
                                   const std::string& golden, const PathSnapshot& snapshot);
  Result<std::string> golden_path(const std::string& from) const;
  Result<CloneChoice> provision(const inventory::Pi& pi, const std::vector<RenderedFile>& files,
                                const ExecOptions& options, const std::string& from, const PathSnapshot* known);

  Host& m_host;
  const inventory::Shelf& m_shelf;
  Layout m_layout;
  std::optional<std::pair<std::string, CloneChoice>> m_clone;  // golden image -> its choice
};

}  // namespace picluster::nfsroot
