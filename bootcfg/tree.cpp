// The whole tree for `picluster render --out DIR`: every shelf's fileserver files, and each
// selected Pi's root and boot files, under one folder per shelf.

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "bootcfg/bootcfg.hpp"
#include "bootcfg/render_util.hpp"

namespace picluster::bootcfg {

using detail::safe_component;

namespace {

void append_under(std::vector<RenderedFile>& out, const std::string& prefix,
                  std::vector<RenderedFile> files) {
  for (auto& file : files) {
    file.path = prefix + "/" + file.path;
    out.push_back(std::move(file));
  }
}

bool selected(const Pi& pi, const std::vector<std::string>& names) {
  return names.empty() || std::find(names.begin(), names.end(), pi.name) != names.end();
}

// Where a Pi's boot files land: its TFTP folder for netboot, else its SD card. A netboot Pi
// without a serial has no TFTP folder yet; its files go to boot/<pi> so they can still be seen.
std::string boot_prefix(const Shelf& shelf, const Pi& pi) {
  const auto shelf_dir = safe_component(shelf.name);
  if (shelf.boot.mode == inventory::BootMode::netboot) {
    const auto folder = tftp_path(pi);
    if (!folder.empty()) return shelf_dir + "/tftp/" + folder;
  }
  return shelf_dir + "/boot/" + safe_component(pi.name);
}

void render_shelf(std::vector<RenderedFile>& out, const Shelf& shelf,
                  const std::vector<const Pi*>& pis) {
  const auto shelf_dir = safe_component(shelf.name);
  append_under(out, shelf_dir + "/fileserver", render_fileserver_files(shelf));
  for (const Pi* pi : pis) {
    append_under(out, shelf_dir + "/roots/" + safe_component(pi->name),
                 render_pi_root_files(shelf, *pi));
    append_under(out, boot_prefix(shelf, *pi), render_boot_files(shelf, *pi));
  }
}

}  // namespace

std::vector<RenderedFile> render_tree(const Inventory& inventory,
                                      const std::vector<std::string>& pi_names) {
  std::vector<const Shelf*> shelves;
  for (const auto& shelf : inventory.shelves) shelves.push_back(&shelf);
  std::sort(shelves.begin(), shelves.end(),
            [](const Shelf* a, const Shelf* b) { return a->name < b->name; });

  std::vector<RenderedFile> out;
  for (const Shelf* shelf : shelves) {
    std::vector<const Pi*> pis;
    for (const Pi* pi : detail::pis_by_vlan(*shelf)) {
      if (selected(*pi, pi_names)) pis.push_back(pi);
    }
    // Named Pis: only the shelves that hold one of them. All Pis: every shelf, even an empty one.
    if (!pi_names.empty() && pis.empty()) continue;
    std::sort(pis.begin(), pis.end(), [](const Pi* a, const Pi* b) {
      return std::tie(a->port, a->name) < std::tie(b->port, b->name);
    });
    render_shelf(out, *shelf, pis);
  }
  return out;
}

}  // namespace picluster::bootcfg
