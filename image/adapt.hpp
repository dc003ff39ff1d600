#pragma once
// Making a root ready to be every Pi's NFS root, for built and imported images alike:
//   - fstab: entries for SD-card/USB partitions (PARTUUID=, UUID=, LABEL=, /dev/mmcblk*, /dev/sd*)
//     and swap are dropped (the Pi's own fstab is rendered at clone time);
//   - first-boot and SD-card services masked: resize (resize2fs_once, rpi-resize), the userconfig
//     wizard, dphys-swapfile, first-boot host key generation, and dhcpcd / NetworkManager, which
//     would reconfigure eth0, the interface that carries the root; the swap file deleted;
//   - ssh enabled; SSH host keys deleted and machine-id emptied (each Pi gets its own at clone);
//   - the boot set completed from the root's kernel package (complete_boot_set, boot_set.hpp).
// Paths inside the root are never followed through a symlink the image planted: a folder on the
// way that is a symlink is refused.

#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/store.hpp"

namespace picluster::image {

struct FstabResult {
  std::string text;
  std::vector<std::string> removed;  // the lines dropped
};
FstabResult adapt_fstab(std::string_view fstab);

// The systemd units adapt_root masks.
const std::vector<std::string>& masked_units();

// Adapts the root at `root` (see above). Says what it did through options.
Result<void> adapt_root(Host& host, const std::string& root, const Options& options);

// The Debian architecture of an ELF header (the first 20 bytes): "arm64", "armhf", "amd64",
// "i386", ... or "" when it is not ELF.
std::string elf_arch(std::string_view header);

// The architecture of the programs in a root (its dpkg, busybox, systemd or sh, whichever is a
// regular file first), read with od(1); errors name the root.
Result<std::string> root_arch(Host& host, const std::string& root);

// Fails unless every folder from root down to root/rel is a real folder (not a symlink), creating
// missing ones.
Result<void> real_dirs(Host& host, const std::string& root, std::string_view rel);

// Kernel version of a root: the newest folder (version order) in usr/lib/modules (or
// lib/modules), "" if none.
Result<std::string> root_kernel(Host& host, const std::string& root);

}  // namespace picluster::image
