#pragma once
// Pure renderers: every file picluster installs, computed from the inventory alone. Nothing here
// touches a disk or a socket; golden-file tests pin the output byte for byte.
//
// Paths in a RenderedFile are relative to the root the file lands in:
//   - Pi root files:      relative to the Pi's NFS root   ("etc/hostname")
//   - boot files:         relative to the SD boot partition, or to the Pi's TFTP folder
//   - fileserver files:   relative to the fileserver's "/" (picluster applies root_prefix)

#include <string>
#include <vector>

#include "common/rendered_file.hpp"
#include "inventory/inventory.hpp"

namespace picluster::bootcfg {

using inventory::Inventory;
using inventory::Pi;
using inventory::Shelf;

// The kernel command line base of one model: boot.models.<model>.cmdline_base when set; else the
// shelf's cmdline_base as is for the Pi 3 and 3 B+ (the seed's line), and for the Pi 4 and 5 the
// same line without dwc_otg.* and with its first serial console (console=ttyAMA0,... /
// ttyS... / serial...) as console=serial0,115200 (later serial consoles dropped).
std::string cmdline_base_of(const Shelf& shelf, inventory::PiModel model);

// The one-line kernel command line: the model's cmdline_base_of() with
//   nfsroot=<fs>:<nfs_root>/<name>,<nfs_options> ip=<pi>:<fs>::255.255.255.252:<name>:eth0:off
// inserted right after "rootfstype=nfs" (or appended before "rootwait" if that is absent).
// No trailing newline.
std::string render_cmdline(const Shelf& shelf, const Pi& pi);

// The Pi's root as the fileserver exports it and the Pi mounts it: <nfs_root>/<name>, with any
// trailing '/' of nfs_root dropped ("/srv/nfsroot/" gives "/srv/nfsroot/pi01").
std::string nfs_root_of(const Shelf& shelf, const Pi& pi);

// Files inside the Pi's root: etc/hostname, etc/hosts, etc/fstab (NFS root),
// etc/network/interfaces (eth0 left to the kernel; auto eth0.131 inet6 static ...),
// etc/modules-load.d/picluster.conf (8021q).
std::vector<RenderedFile> render_pi_root_files(const Shelf& shelf, const Pi& pi);

// Boot partition (sdcard) or TFTP folder (netboot) contents: cmdline.txt (+ "\n"), config.txt
// (the model's own settings, or boot.models.<model>.config_txt; netboot or imaged Pis only).
std::vector<RenderedFile> render_boot_files(const Shelf& shelf, const Pi& pi);

// The TFTP folder of a netboot Pi, relative to tftp_root: "<serial>" (8 lower-case hex digits).
// Empty for a Pi without a serial.
std::string tftp_folder(const Pi& pi);

// The TFTP root of a Pi's storage VLAN, relative to tftp_root: "vlan-<N>". dnsmasq serves each
// storage VLAN interface from its own root (tftp-root=DIR,INTERFACE), so a Pi reaches only the
// folders under its own VLAN's root: its own <serial>/ and the Pi 3 boot ROM's bootcode.bin.
std::string tftp_vlan_root(const Pi& pi);

// A netboot Pi's boot folder relative to tftp_root: "vlan-<N>/<serial>"; empty without a serial.
std::string tftp_path(const Pi& pi);

// Files on the fileserver, for the whole shelf: the storage VLAN interfaces (ifupdown
// etc/network/interfaces.d/picluster, or systemd-networkd .netdev/.network files), the exports
// file (etc/exports.d/picluster.exports: each root to its Pi's /30 address alone), the isolation
// hardening (etc/sysctl.d/60-picluster.conf and etc/nftables.d/picluster.nft), and, for netboot,
// etc/dnsmasq.d/picluster.conf.
std::vector<RenderedFile> render_fileserver_files(const Shelf& shelf);

// The complete tree for `picluster render --out DIR`, for the named Pis (all when empty):
//   <shelf>/fileserver/<fileserver files>
//   <shelf>/roots/<pi>/<pi root files>
//   <shelf>/boot/<pi>/<boot files>            (sdcard)
//   <shelf>/tftp/vlan-<N>/<serial>/<boot files> (netboot)
std::vector<RenderedFile> render_tree(const Inventory& inventory,
                                      const std::vector<std::string>& pi_names);

}  // namespace picluster::bootcfg
