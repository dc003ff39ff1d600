#pragma once
// The lab's images, built once and cached: a Debian bookworm fileserver disk and, inside it, the
// Pi root template that becomes the shelf's golden image.
//
// How a build goes (all as root, nothing mounted):
//   1. mmdebstrap --variant=minbase the fileserver root and the Pi root into a staging folder,
//      from the Debian mirror that /etc/apt already uses.
//   2. Copy the kernel and the stock Debian initrd out of the fileserver root (the Pis boot the
//      same kernel: its initrd handles root=/dev/nfs), and copy the 802.1Q modules into the Pi
//      root (the only modules a Pi needs after switch_root), then depmod.
//   3. Generate the fileserver's SSH host key (pinned by the lab), the lab's client key
//      (authorized on the fileserver and the Pis) and the fileserver's own key for reaching Pis.
//   4. Prepare the fileserver root with the project's own Ansible role (ansible/roles/
//      picluster_fileserver through playbooks/fileservers.yml and community.general.chroot, as
//      tests/integration/ansible/role_chroot_test.cpp does): 8021q at boot, NFS and dnsmasq
//      settings, isolation hardening, the NFS root, TFTP and golden image folders, the lab's
//      client key, units enabled. The lab writes only what is lab-specific (network, hostname,
//      fstab, sshd settings, keys).
//   5. Put the Pi root at /srv/golden/pi, then make two sparse raw disk images: `mkfs.btrfs
//      --rootdir` of /srv (the fileserver mounts it on /srv, so nfsroot's automatic clone method
//      picks reflinks: a clone copies metadata only, which matters under TCG where the old rsync
//      of the whole root took minutes), and `mkfs.ext4 -d` of the rest of the fileserver root.
//      bookworm's btrfs-progs (6.2) has no `mkfs.btrfs --subvol`, so /srv/golden/pi is a plain
//      folder in the image; the role applied over SSH turns it into a subvolume (docs/lab.md).
//   6. Rename the staging folder to <cache>/<key>: a crash leaves only a staging folder behind,
//      never a half-built cache entry.
// The key is a hash of the recipe (package lists, configuration files, the role's files, recipe
// version), so changing any of them builds a new entry and never reuses a stale one.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace picluster::lab {

struct Recipe {
  std::string suite = "bookworm";
  std::string mirror;  // from /etc/apt, see default_mirror()
  std::vector<std::string> fileserver_packages;
  std::vector<std::string> pi_packages;
  // Files written into the roots after mmdebstrap: path relative to the root -> contents.
  std::vector<std::pair<std::string, std::string>> fileserver_files;
  std::vector<std::pair<std::string, std::string>> pi_files;
  // The project's ansible/ folder, and the files of it that prepare the fileserver root
  // (ansible.cfg, playbooks/fileservers.yml, roles/picluster_fileserver/**): path relative to
  // ansible_dir -> contents. The contents are part of the key; the folder's location is not.
  std::filesystem::path ansible_dir;
  std::vector<std::pair<std::string, std::string>> role_files;
  // dpkg path-exclude patterns for the Pi root (docs, man pages, locales: fewer files to clone).
  std::vector<std::string> pi_dpkg_excludes;
  std::string disk_size = "6G";      // the fileserver's root disk (ext4)
  std::string srv_disk_size = "4G";  // its /srv disk (btrfs: golden image, Pi roots, tftp)
  int version = 3;  // bump when the build steps change in a way the fields do not show
};

// The recipe the lab uses (its role files read from default_ansible_dir()). Fails when the role's
// files cannot be read.
Result<Recipe> default_recipe();

// $PICLUSTER_ANSIBLE_DIR, else the source tree's ansible/ folder (PICLUSTER_ANSIBLE_DIR at build
// time).
std::filesystem::path default_ansible_dir();

// The files under `ansible_dir` that prepare the fileserver (see Recipe::role_files), sorted by
// path. Missing files are an error naming the folder.
Result<std::vector<std::pair<std::string, std::string>>> read_role_files(const std::filesystem::path& ansible_dir);

// The Ansible inventory (JSON, which Ansible's YAML inventory plugin reads) that points the role
// at a root folder through community.general.chroot: one host `lab-fileserver` in group
// `fileservers`, with the lab's paths and `authorized_key` as picluster_ssh_public_key.
std::string role_chroot_inventory(const std::filesystem::path& root, const std::string& authorized_key);

// A fresh, empty staging folder for the cache entry `entry_dir`: <entry_dir>.stage-<pid>. A build
// fills it and renames it to `entry_dir` last, so a crash never leaves a half-built entry.
Result<std::filesystem::path> begin_stage(const std::filesystem::path& entry_dir);

// Makes `root` a lab Pi root: the recipe's pi_files (interfaces left to picluster, hostname, sshd
// settings), root's password removed and `authorized_keys` installed (the lab client and the
// fileserver), no SSH host keys (nfsroot makes each Pi's). Used for the x86 template and for the
// copy of an arm64 image (arm64.hpp).
Result<void> prepare_pi_root(const std::filesystem::path& root, const Recipe& recipe, const std::string& authorized_keys);

// The first Debian mirror for `suite` in /etc/apt/sources.list(.d) (one-line or deb822 format),
// else http://deb.debian.org/debian.
std::string default_mirror(const std::string& suite);

// 16 hex digits: FNV-1a 64 over every field of the recipe.
std::string recipe_key(const Recipe& recipe);

// What a finished cache entry holds (all paths absolute).
struct Images {
  std::filesystem::path dir;
  std::filesystem::path fileserver_disk;  // raw ext4 image (used read-only as a qcow2 backing file)
  std::filesystem::path srv_disk;         // raw btrfs image of /srv (same use)
  std::filesystem::path kernel;           // vmlinuz for the fileserver and the Pis
  std::filesystem::path initrd;           // stock Debian initrd (virtio, NFS root capable)
  std::filesystem::path client_key;       // private key authorized on the fileserver and Pis
  std::filesystem::path host_key_pub;     // the fileserver's SSH host public key ("ssh-ed25519 AAAA...")
};

// The paths a cache entry for `recipe` has under `cache_dir` (whether or not it exists).
Images images_at(const std::filesystem::path& cache_dir, const Recipe& recipe);

// The paths inside an existing cache entry folder.
Images images_at_dir(const std::filesystem::path& entry_dir);

// True when the cache entry is complete.
bool images_ready(const Images& images);

// Builds the entry unless it is already there. `progress` gets one line per step. The build log
// (mmdebstrap's output) is <cache_dir>/<key>.build.log.
Result<Images> ensure_images(const std::filesystem::path& cache_dir, const Recipe& recipe,
                             const std::function<void(const std::string&)>& progress);

}  // namespace picluster::lab
