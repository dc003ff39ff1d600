#pragma once
// Clone methods: how a Pi's root is made from the golden image.
//   btrfs-snapshot  `btrfs subvolume snapshot GOLDEN DEST`: O(1); the golden image must be a
//                   subvolume on the same btrfs filesystem as nfs_root.
//   reflink         `cp -a --reflink=always GOLDEN DEST`: shares extents, copies only metadata
//                   (btrfs, or XFS made with reflink=1); fails rather than fall back to a copy.
//   rsync           `rsync -aHAXx --numeric-ids GOLDEN/ DEST/`: a full copy, works anywhere.
//   auto            the fastest the filesystems support, decided by probing (read-only).

#include <string>
#include <vector>

#include "common/error.hpp"
#include "inventory/inventory.hpp"
#include "nfsroot/host.hpp"

namespace picluster::nfsroot {

using inventory::CloneMethod;

struct CloneChoice {
  CloneMethod method = CloneMethod::rsync;  // never automatic
  std::string reason;                       // "golden image is a btrfs subvolume"
};

// Resolves `auto` by probing golden and nfs_root with stat(1) (filesystem type, inode number,
// mount point) and xfs_info; an explicit method is returned as is.
Result<CloneChoice> choose_clone_method(Host& host, CloneMethod wanted, const std::string& golden,
                                        const std::string& nfs_root);

// The argv that clones golden into dest (dest must not exist; its parent must).
// with_progress adds rsync's --info=progress2 (ignored by the other methods).
std::vector<std::string> clone_argv(CloneMethod method, const std::string& golden,
                                    const std::string& dest, bool with_progress);

}  // namespace picluster::nfsroot
