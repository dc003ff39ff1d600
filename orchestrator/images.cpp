#include "orchestrator/images.hpp"

#include <algorithm>
#include <set>

#include "bootcfg/bootcfg.hpp"
#include "common/text.hpp"
#include "image/boot_set.hpp"
#include "nfsroot/actions.hpp"
#include "nfsroot/layout.hpp"
#include "orchestrator/reconcile.hpp"
#include "orchestrator/shelf_session.hpp"

namespace picluster::orchestrator {

Result<std::vector<ImageRow>> list_images(image::Store& store, const inventory::Shelf& shelf) {
  auto records = image::root_records(store.host(), shelf);
  if (!records) return std::unexpected(records.error());
  auto names = store.names();
  if (!names) return std::unexpected(names.error());
  std::vector<ImageRow> rows;
  for (const auto& name : *names) {
    auto versions = store.versions(name);
    if (!versions) return std::unexpected(versions.error());
    for (int v : *versions) {
      ImageRow row;
      auto meta = store.meta(name, v);
      if (!meta) return std::unexpected(meta.error());
      row.meta = *meta;
      auto bytes = nfsroot::tree_size(store.host(), store.root_of(name, v));
      if (!bytes) return std::unexpected(bytes.error());
      row.bytes = *bytes;
      const std::string ref = name + "@" + std::to_string(v);
      for (const auto& [pi, rec] : *records) {
        if (rec == ref) row.pis.push_back(pi);
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

Result<RootSource> root_source(image::Store& store, const inventory::Shelf& shelf, const inventory::Pi& pi,
                               const std::string& from) {
  if (from.starts_with("/")) return RootSource{from, ""};
  const std::string wanted = from.empty() ? inventory::image_of(shelf, pi) : from;
  if (wanted.empty()) return RootSource{};
  auto ref = inventory::parse_image_ref(wanted);
  if (!ref) {
    return fail(ErrorCode::invalid_argument, printable(wanted) + " is neither a folder (/...) nor an image (NAME or NAME@N)");
  }
  auto n = store.resolve(*ref);
  if (!n) return std::unexpected(n.error().with_context(pi.name));
  // RootManager takes golden paths before root_prefix; the store's are after it.
  std::string path = store.root_of(ref->name, *n);
  const std::string& prefix = shelf.fileserver.root_prefix;
  if (!prefix.empty() && prefix != "/" && path.starts_with(prefix)) path = path.substr(prefix.size());
  return RootSource{path, ref->name + "@" + std::to_string(*n)};
}

Result<std::string> stage_boot_set(image::Store& store, const inventory::Shelf& shelf, const inventory::Pi& pi,
                                   bool dry_run) {
  nfsroot::Layout layout(shelf.fileserver);
  auto paths = layout.pi(pi.name);
  if (!paths) return std::unexpected(paths.error());
  auto record = image::read_record(store.host(), paths->live);
  if (!record) return std::unexpected(record.error().with_context(pi.name));
  if (record->empty()) return std::string("no image recorded in its root; boot set left alone");
  auto ref = inventory::parse_image_ref(*record);
  const std::string version_root = store.root_of(ref->name, *ref->version);
  const bool netboot = shelf.boot.mode == inventory::BootMode::netboot;
  if (netboot && bootcfg::tftp_path(pi).empty()) {
    return "boot set of " + *record + " not staged yet: no serial, so no TFTP folder (staged once it is known)";
  }
  const std::string dest = layout.host_path("/" + boot_folder(shelf, pi));
  if (dry_run) return "would stage the boot set of " + *record + " in " + dest;
  auto missing = image::stage_boot_set(store.host(), version_root, dest, bootcfg::render_boot_files(shelf, pi), pi.model);
  if (!missing) return std::unexpected(missing.error().with_context(pi.name + ": boot set of " + *record));
  std::string said = "boot set of " + *record + " staged in " + dest;
  if (!missing->empty()) {
    said += "; warning: a " + std::string(inventory::to_string(pi.model)) + " will not find ";
    for (std::size_t i = 0; i < missing->size(); ++i) said += (i ? ", " : "") + (*missing)[i];
    said += " there";
  }
  if (!netboot) return said;
  // A Pi 3's boot ROM asks for bootcode.bin at the TFTP root, which is its VLAN's own root.
  const std::string bootcode = dest + "/bootcode.bin";
  auto st = store.host().stat(bootcode);
  if (!st) return std::unexpected(st.error().with_context(pi.name));
  if (st->type == nfsroot::FileType::regular) {
    const std::string vlan_root = dest.substr(0, dest.rfind('/'));
    if (auto ok = nfsroot::check(store.host(), {"cp", "--", bootcode, vlan_root + "/bootcode.bin"}); !ok) {
      return std::unexpected(ok.error().with_context(pi.name + ": bootcode.bin into " + vlan_root));
    }
    said += "; bootcode.bin in " + vlan_root;
  }
  return said;
}

Result<RootSource> root_source(ShelfSession& session, const inventory::Pi& pi, const std::string& from) {
  if (from.starts_with("/") || (from.empty() && inventory::image_of(session.shelf(), pi).empty())) {
    return RootSource{from, ""};
  }
  auto host = session.host();
  if (!host) return std::unexpected(host.error());
  image::Store store(**host, session.shelf().fileserver);
  return root_source(store, session.shelf(), pi, from);
}

Result<std::string> stage_boot_set(ShelfSession& session, const inventory::Pi& pi, bool dry_run) {
  auto host = session.host();
  if (!host) return std::unexpected(host.error());
  image::Store store(**host, session.shelf().fileserver);
  return stage_boot_set(store, session.shelf(), pi, dry_run);
}

std::vector<std::string> outdated_lines(const inventory::Shelf& shelf, const std::map<std::string, std::string>& records,
                                        const std::map<std::string, std::vector<int>>& versions) {
  std::vector<std::string> out;
  for (const auto& pi : shelf.pis) {
    auto want = inventory::parse_image_ref(inventory::image_of(shelf, pi));
    if (!want) continue;  // no image: the golden_image folder
    auto it = records.find(pi.name);
    if (it == records.end()) continue;
    auto have = inventory::parse_image_ref(it->second);
    if (!have || !have->version || have->name != want->name) continue;
    if (want->version) {  // pinned: only a root on another version is listed
      if (*want->version != *have->version) out.push_back(pi.name + ": " + it->second + ", pinned " + want->str());
      continue;
    }
    auto vs = versions.find(want->name);
    if (vs != versions.end() && !vs->second.empty() && vs->second.back() > *have->version) {
      out.push_back(pi.name + ": " + it->second + ", latest " + want->name + "@" + std::to_string(vs->second.back()));
    }
  }
  return out;
}

Result<std::vector<std::string>> outdated_pis(image::Store& store, const inventory::Shelf& shelf,
                                              const std::map<std::string, std::string>& records) {
  std::set<std::string> names;
  for (const auto& pi : shelf.pis) {
    auto want = inventory::parse_image_ref(inventory::image_of(shelf, pi));
    if (want && !want->version && records.contains(pi.name)) names.insert(want->name);
  }
  if (names.empty()) return outdated_lines(shelf, records, {});
  auto versions = store.versions_of({names.begin(), names.end()});
  if (!versions) return std::unexpected(versions.error());
  return outdated_lines(shelf, records, *versions);
}

Result<std::vector<std::string>> outdated_pis(image::Store& store, const inventory::Shelf& shelf) {
  auto records = image::root_records(store.host(), shelf);
  if (!records) return std::unexpected(records.error());
  return outdated_pis(store, shelf, *records);
}

Result<std::vector<std::string>> outdated_pis(ShelfSession& session, const std::map<std::string, std::string>& records) {
  if (records.empty()) return std::vector<std::string>{};
  auto host = session.host();
  if (!host) return std::unexpected(host.error());
  image::Store store(**host, session.shelf().fileserver);
  return outdated_pis(store, session.shelf(), records);
}

}  // namespace picluster::orchestrator
