#pragma once
// What the shelf's verbs need from the image store (image/): which root a Pi is cloned from, the
// boot set staged beside it, and which Pis run an older version than their image's latest.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/store.hpp"
#include "inventory/inventory.hpp"

namespace picluster::orchestrator {

struct ImageRow {
  image::ImageMeta meta;
  std::uint64_t bytes = 0;
  std::vector<std::string> pis;  // Pi roots cloned from this version ("pi02 (previous)" too)
};
Result<std::vector<ImageRow>> list_images(image::Store& store, const inventory::Shelf& shelf);

// The root a Pi's rebuild clones from. `from` as the operator gave it: an absolute folder on the
// fileserver (used as is) or NAME / NAME@N; "" = the Pi's image, else the shelf's image, else the
// shelf's golden_image (path "" then: RootManager uses golden_image).
struct RootSource {
  std::string path;  // golden root folder on the fileserver, as RootManager takes it
  std::string ref;   // "base@2" when it is an image version, else ""
};
Result<RootSource> root_source(image::Store& store, const inventory::Shelf& shelf, const inventory::Pi& pi,
                               const std::string& from);

// Copies the boot set of the image version the Pi's live root records into its boot folder
// (<tftp_root>/<serial> for netboot, <tftp_root>/sdcard/<name> otherwise) with its rendered
// cmdline.txt and config.txt. Returns what it did ("boot set of base@2 staged in ..."), or what it
// would do on a dry run; a root without a record is left alone ("no image recorded"). When the
// set lacks what the Pi's model fetches (image::missing_for_model), the line ends with a warning
// naming those files ("...; warning: a pi5 will not find bcm2712-rpi-5-b.dtb there").
Result<std::string> stage_boot_set(image::Store& store, const inventory::Shelf& shelf, const inventory::Pi& pi,
                                   bool dry_run);

// "pi01: base@1, latest base@3" for each Pi whose live root runs an older version of the image
// its inventory entry names (NAME without @N follows the latest).
class ShelfSession;
// root_source on the session's fileserver: the path RootManager clones from ("" = golden_image)
// and the image version ("" when not an image).
Result<RootSource> root_source(ShelfSession& session, const inventory::Pi& pi, const std::string& from);
// stage_boot_set on the session's fileserver, for a Pi whose root records an image version.
Result<std::string> stage_boot_set(ShelfSession& session, const inventory::Pi& pi, bool dry_run);

Result<std::vector<std::string>> outdated_pis(image::Store& store, const inventory::Shelf& shelf);

// The same from records already read (Pi name -> "NAME@N" of its live root): the versions of every
// image they follow come in one Store::versions_of batch, so the cost does not grow with the Pis.
Result<std::vector<std::string>> outdated_pis(image::Store& store, const inventory::Shelf& shelf,
                                              const std::map<std::string, std::string>& records);
// ... on the session's fileserver (nothing to read when there are no records).
Result<std::vector<std::string>> outdated_pis(ShelfSession& session, const std::map<std::string, std::string>& records);
// The lines themselves (pure): `versions` holds each followed image's versions, ascending.
std::vector<std::string> outdated_lines(const inventory::Shelf& shelf, const std::map<std::string, std::string>& records,
                                        const std::map<std::string, std::vector<int>>& versions);

}  // namespace picluster::orchestrator
