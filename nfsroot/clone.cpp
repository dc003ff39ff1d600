#include "nfsroot/clone.hpp"

namespace picluster::nfsroot {

namespace {

struct FsFacts {
  std::string type;   // "btrfs", "xfs", "ext2/ext3", ...
  std::string inode;  // "256" for a btrfs subvolume root
  std::string mount;  // mount point (as stat %m reports it)
  std::string source; // the device the filesystem is on (findmnt SOURCE)
};

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// The three commands that describe where `path` lives: filesystem type, inode and mount point,
// and the device (findmnt walks up to the mount that holds the path; df reports "-" inside a
// btrfs subvolume).
std::vector<std::vector<std::string>> probe_commands(const std::string& path) {
  return {{"stat", "-f", "-c", "%T", "--", path},
          {"stat", "-c", "%i %m", "--", path},
          {"findmnt", "-n", "-o", "SOURCE", "--target", path}};
}

Result<FsFacts> facts_from(const std::vector<std::vector<std::string>>& argv,
                           const std::vector<CommandResult>& results) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (results[i].exit_status != 0) return fail(ErrorCode::command_failed, describe_failure(argv[i], results[i]));
  }
  FsFacts facts;
  facts.type = first_line(results[0].out);
  const std::string line = first_line(results[1].out);
  const auto space = line.find(' ');
  facts.inode = line.substr(0, space);
  facts.mount = space == std::string::npos ? "" : line.substr(space + 1);
  // a btrfs source names its mounted subvolume in brackets: "/dev/vdb[/roots]".
  facts.source = first_line(results[2].out);
  facts.source = facts.source.substr(0, facts.source.find('['));
  return facts;
}

bool xfs_has_reflink(Host& host, const std::string& mount) {
  auto info = host.run({"xfs_info", mount});
  return info && info->exit_status == 0 && info->out.find("reflink=1") != std::string::npos;
}

}  // namespace

Result<CloneChoice> choose_clone_method(Host& host, CloneMethod wanted, const std::string& golden,
                                        const std::string& nfs_root) {
  if (wanted != CloneMethod::automatic) return CloneChoice{wanted, "set in the inventory"};
  // Both paths in one go (one round trip over SSH).
  const auto golden_probe = probe_commands(golden);
  const auto root_probe = probe_commands(nfs_root);
  auto all = golden_probe;
  all.insert(all.end(), root_probe.begin(), root_probe.end());
  auto results = host.run_all(all);
  if (!results) return std::unexpected(results.error().with_context("probe golden image and nfs_root"));
  const std::vector<CommandResult> golden_results(results->begin(), results->begin() + 3);
  const std::vector<CommandResult> root_results(results->begin() + 3, results->end());
  auto g = facts_from(golden_probe, golden_results);
  if (!g) return std::unexpected(g.error().with_context("probe golden image"));
  auto r = facts_from(root_probe, root_results);
  if (!r) return std::unexpected(r.error().with_context("probe nfs_root"));
  // Snapshots and reflinks only work within one filesystem: one source device for both paths.
  const bool same_fs = g->type == r->type && !g->source.empty() && g->source == r->source;
  if (g->type == r->type && (g->type == "btrfs" || g->type == "xfs") && !same_fs) {
    return CloneChoice{CloneMethod::rsync, "golden image (" + g->source + ") and nfs_root (" + r->source +
                                               ") are on different " + g->type + " filesystems"};
  }
  if (g->type == "btrfs" && r->type == "btrfs") {
    if (g->inode == "256") {
      return CloneChoice{CloneMethod::btrfs_snapshot, "golden image is a btrfs subvolume"};
    }
    return CloneChoice{CloneMethod::reflink, "btrfs, but the golden image is a plain folder"};
  }
  if (g->type == "xfs" && r->type == "xfs" && xfs_has_reflink(host, g->mount)) {
    return CloneChoice{CloneMethod::reflink, "XFS with reflink=1"};
  }
  return CloneChoice{CloneMethod::rsync, "no snapshot or reflink support (" + g->type + ")"};
}

std::vector<std::string> clone_argv(CloneMethod method, const std::string& golden,
                                    const std::string& dest, bool with_progress) {
  switch (method) {
    case CloneMethod::btrfs_snapshot: return {"btrfs", "subvolume", "snapshot", golden, dest};
    case CloneMethod::reflink: return {"cp", "-a", "--reflink=always", "--", golden, dest};
    case CloneMethod::automatic:
    case CloneMethod::rsync: break;
  }
  std::vector<std::string> argv{"rsync", "-aHAXx", "--numeric-ids"};
  if (with_progress) {
    argv.emplace_back("--info=progress2");
    argv.emplace_back("--no-inc-recursive");
  }
  argv.push_back(golden + "/");
  argv.push_back(dest + "/");
  return argv;
}

}  // namespace picluster::nfsroot
