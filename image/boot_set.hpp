#pragma once
// The boot set of an image version: the files a Pi's firmware fetches, taken from the image
// itself, in its root's boot/firmware/ (Debian's raspi-firmware fills it on build; import copies
// the image's FAT partition there): bootcode.bin (Pi 3), start*.elf and fixup*.dat, the models'
// DTBs, overlays/, the kernel and initramfs, and the image's own config.txt, which names them.
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

// Copies the boot set of `root` into `dest` (created; files no longer in the set are deleted,
// symlinks are never copied), then the image's config.txt as picluster-image.txt, then `files`.
Result<void> stage_boot_set(Host& host, const std::string& root, const std::string& dest,
                            const std::vector<RenderedFile>& files);

}  // namespace picluster::image
