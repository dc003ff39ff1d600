#pragma once
// `picluster image import FILE.img[.xz] [NAME]`: a Raspberry Pi OS image (or any MBR/GPT image
// with a FAT boot partition and an ext4 root) becomes a new version of an image:
//   1. decompress .xz into <store>/.work (deleted afterwards)
//   2. read the partition table (sfdisk --json), pick the FAT and the Linux partition, check they
//      lie within the file (a truncated image is refused here)
//   3. attach the root partition read-only (losetup -r at its offset), mount it read-only (ext4
//      with noload: the journal is not replayed) and detach at once: the mount holds the loop
//      device, so unmounting frees it. The FAT is read with mtools (mcopy -i FILE@@OFFSET), so
//      the fileserver's kernel needs no vfat.
//   4. check the root's programs are arm64 or armhf
//   5. copy the root into a new version (rsync, with progress), the FAT into its boot/firmware
//   6. unmount, adapt for NFS root (adapt.hpp), commit
// Every failure unmounts, detaches and deletes what it made before returning one error.

#include <string>

#include "common/error.hpp"
#include "image/store.hpp"

namespace picluster::image {

struct ImportRequest {
  std::string file;  // on the host running the import (the fileserver)
  std::string name;  // "" = from the file name
};

// The image name for a file: "2024-11-19-raspios-bookworm-arm64-lite.img.xz" ->
// "2024-11-19-raspios-bookworm-arm64-lite"; "" when that is not a valid image name.
std::string name_from_file(const std::string& file);

Result<ImageMeta> import_image(Store& store, const ImportRequest& request, const Options& options);

}  // namespace picluster::image
