#pragma once
// The boot set of an image version: the files a Pi's firmware fetches, taken from the image
// itself, in its root's boot/firmware/ (Debian's raspi-firmware fills it on build; import copies
// the image's FAT partition there): bootcode.bin (Pi 3), start*.elf and fixup*.dat, the models'
// DTBs, overlays/, the kernel and initramfs, and the image's own config.txt, which names them.
//
// Completing it (complete_boot_set, run by adapt_root on every build, import and exec) makes
// that folder hold what a Debian kernel needs without relying on raspi-firmware's kernel and
// initramfs hooks, which do not run while picluster defers update-initramfs during a build: the
// firmware from usr/lib/raspi-firmware, the newest /boot/vmlinuz-V and its /boot/initrd.img-V,
// the Pi DTBs (bcm*.dtb) and overlays/ from usr/lib/linux-image-V/broadcom (arm64) or
// usr/lib/linux-image-V (armhf), and a config.txt picluster writes (arm_64bit=1 on arm64,
// kernel=vmlinuz-V, initramfs initrd.img-V followkernel). An image's own config.txt (Raspberry Pi
// OS's, say) is kept: only a missing one, raspi-firmware's generated one or picluster's is written.
//
// Staging it for a Pi (netboot: <tftp_root>/<serial>/, sdcard: the rendered boot partition
// folder) copies those files, keeps the image's config.txt as picluster-image.txt, and writes
// picluster's own cmdline.txt and config.txt (bootcfg::render_boot_files), whose last line
// includes picluster-image.txt.

#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/rendered_file.hpp"
#include "image/store.hpp"
#include "inventory/inventory.hpp"

namespace picluster::image {

inline constexpr std::string_view kBootSetDir = "boot/firmware";
inline constexpr std::string_view kImageConfig = "picluster-image.txt";

struct BootSet {
  std::vector<std::string> files;     // names in boot/firmware (folders end in '/')
  std::string kernel;                 // from the image's config.txt "kernel=", "" = firmware default
  std::string initramfs;              // from "initramfs FILE [followkernel]", "" = none
  std::vector<std::string> dtbs;      // *.dtb
  std::vector<std::string> missing;   // of bootcode.bin, start4.elf, fixup4.dat, start.elf, fixup.dat
};

// The kernel= and initramfs names of a config.txt (the last of each wins, as in the firmware).
void parse_config_names(std::string_view config, std::string& kernel, std::string& initramfs);

Result<BootSet> read_boot_set(Host& host, const std::string& root);

// The config.txt complete_boot_set writes for kernel `kernel` (a file name in the boot set),
// initramfs `initramfs` ("" = none).
std::string render_image_config(const std::string& kernel, const std::string& initramfs, bool arm64);

// True for a config.txt picluster may rewrite: raspi-firmware's generated one or its own.
bool generated_config(std::string_view config);

// Fills root/boot/firmware from the root's kernel package and raspi-firmware (see above). Returns
// what it did, or why it left the folder alone (no kernel in /boot, the image's own config.txt).
// Only regular files are copied, from real folders (a symlink the image planted is never followed).
Result<std::string> complete_boot_set(Host& host, const std::string& root);

// What a model's firmware fetches that `set` lacks: its firmware files, a DTB for the model, the
// kernel and initramfs the config names. Empty = the model can boot from this set.
std::vector<std::string> missing_for_model(const BootSet& set, inventory::PiModel model);

// Copies the boot set of `root` into `dest` (created; files no longer in the set are deleted,
// symlinks are never copied), then the image's config.txt as picluster-image.txt, then `files`.
// Returns missing_for_model of the set: what `model` will not find there.
Result<std::vector<std::string>> stage_boot_set(Host& host, const std::string& root, const std::string& dest,
                                                const std::vector<RenderedFile>& files, inventory::PiModel model);

}  // namespace picluster::image
