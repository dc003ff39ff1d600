#pragma once
// The arm64 lab (`lab up --arch arm64`): the Pis are `qemu-system-aarch64 -M virt -cpu cortex-a72`
// VMs that boot a real picluster arm64 image, the one `picluster image build --arch arm64` makes
// for real Pis, with its own kernel and initramfs (MODULES=netboot, BOOT=nfs) and picluster's
// kernel command line. The fileserver VM stays x86-64: it only serves files.
//
// Two cache parts, under the lab's cache folder:
//
//   <cache>/arm64/images/lab/<N>/   an image store in picluster's own layout (image/store.hpp),
//                                   filled once by image::build_image (arm64 bookworm: about
//                                   40-55 minutes on a 2-core machine, all under qemu-user);
//                                   the latest version is used
//   <cache>/<x86 key>-arm64-lab-<N>/  vmlinuz and initrd.img of that version (what a Pi's boot
//                                   set has, unchanged) and srv.img: the fileserver's /srv disk
//                                   of the x86 entry with /srv/golden/pi replaced by a copy of
//                                   the image's root, made a lab root (prepare_pi_root: the lab's
//                                   keys, interfaces left to picluster's rendered file). Every
//                                   Pi's root is a clone of it, as for the x86 lab.
//
// The lab changes nothing that a real Pi gets: the kernel and initramfs are the image's own.
// Debian's arm64 kernel has the PL011 console, the virt board's PCIe host and virtio_mmio built in,
// and MODULES=netboot puts virtio_pci and virtio_net into the initramfs (docs/lab.md).

#include <filesystem>
#include <functional>
#include <string>

#include "common/error.hpp"
#include "lab/shelf/images.hpp"

namespace picluster::lab {

inline constexpr const char* kArm64ImageName = "lab";

struct Arm64Images {
  std::filesystem::path dir;
  std::filesystem::path kernel;    // the image's /boot/vmlinuz-V (gzip-compressed Image)
  std::filesystem::path initrd;    // the image's /boot/initrd.img-V
  std::filesystem::path srv_disk;  // raw btrfs /srv disk with the image as golden image
};

Arm64Images arm64_images_at_dir(const std::filesystem::path& dir);
bool arm64_images_ready(const Arm64Images& images);

// The arm64 image store's fileserver root_prefix: <cache>/arm64 (the store is <cache>/arm64/images).
std::filesystem::path arm64_store_prefix(const std::filesystem::path& cache_dir);

// The version folder (<store>/lab/<N>) of the latest arm64 image in the cache; builds lab@1 with
// image::build_image when there is none (the .debs kept in <store>/.cache/bookworm-arm64, seeded
// from `seed_debs` when that folder exists).
Result<std::filesystem::path> ensure_arm64_image(const std::filesystem::path& cache_dir,
                                                 const std::filesystem::path& seed_debs,
                                                 const std::function<void(const std::string&)>& progress);

// The lab entry for `image_version` (a <store>/lab/<N> folder) on top of the x86 entry `x86`
// (whose /srv disk gives the folders the role made and whose keys the Pis authorize). Built
// unless already there.
Result<Arm64Images> ensure_arm64_images(const std::filesystem::path& cache_dir, const Images& x86,
                                        const Recipe& recipe, const std::filesystem::path& image_version,
                                        const std::function<void(const std::string&)>& progress);

}  // namespace picluster::lab
