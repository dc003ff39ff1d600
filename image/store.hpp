#pragma once
// The image store: versioned Raspberry Pi roots on the fileserver, under
// inventory::image_store_of(fileserver) (root_prefix applied):
//
//   <store>/<NAME>/<N>/root         version N's root (a btrfs subvolume, read-only, on btrfs)
//   <store>/<NAME>/<N>/image.json   what it is and where it came from (ImageMeta)
//   <store>/<NAME>/.new-<N>/        a version being made; renamed to <N> once complete
//   <store>/<NAME>/.old-<N>/        a version being removed
//   <store>/.work/                  decompressed imports and mount points (emptied after use)
//   <store>/.cache/<suite>-<arch>/  downloaded .debs kept between builds
//
// A version exists exactly when <store>/<NAME>/<N> exists: it is made in .new-<N> and renamed
// into place last, so an interrupted build, import or exec never leaves a half-written version
// (the leftover .new-<N> is deleted by the next run on that image). Versions are immutable: on
// btrfs the root is set read-only. A new version from an old one is a btrfs snapshot where the
// store is on btrfs, a reflink copy on XFS (reflink=1), a plain copy otherwise.
//
// Every root records its version in etc/picluster/image ("NAME@N\n"), so a Pi's root cloned from
// it says which version it runs, and a rollback brings the record back with the root.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "inventory/inventory.hpp"
#include "nfsroot/host.hpp"

namespace picluster::image {

using nfsroot::Host;
using Json = nlohmann::ordered_json;
using inventory::ImageRef;

inline constexpr std::string_view kRecordPath = "etc/picluster/image";

struct ImageMeta {
  std::string name;
  int version = 0;
  std::string arch;     // Debian architecture of the root: "arm64", "armhf"
  std::string created;  // UTC, "2026-12-04T14:30:00Z"
  std::string source;   // "build", "import" or "exec"
  std::string from;     // the recipe file, the image file, or "NAME@M: CMD..."
  Json recipe;          // build: the recipe as used (null otherwise)
  std::string method;   // how the root was made: "btrfs snapshot", "reflink copy", "plain copy",
                        // "new btrfs subvolume", "new folder"
  std::string kernel;   // kernel version of the root (usr/lib/modules/<kernel>), "" = none
};
Json to_json(const ImageMeta& meta);
Result<ImageMeta> meta_from_json(std::string_view text, const std::string& where);

// Progress lines and dry runs for the long operations.
struct Options {
  bool dry_run = false;
  std::function<void(const std::string&)> progress;  // one line per step / progress update
  void say(const std::string& line) const {
    if (progress) progress(line);
  }
};

// A version being made (see Store::begin); the root is at `root`.
struct NewVersion {
  std::string name;
  int version = 0;
  std::string dir;     // <store>/<NAME>/.new-<N>
  std::string root;    // dir + "/root"
  std::string method;  // ImageMeta::method
  bool committed = false;
};

class Store {
 public:
  // host must outlive the store.
  Store(Host& host, const inventory::Fileserver& fileserver);

  [[nodiscard]] const std::string& path() const { return m_path; }
  [[nodiscard]] Host& host() { return m_host; }
  [[nodiscard]] std::string name_dir(std::string_view name) const;
  [[nodiscard]] std::string version_dir(std::string_view name, int version) const;
  [[nodiscard]] std::string root_of(std::string_view name, int version) const;
  [[nodiscard]] std::string work_dir() const { return m_path + "/.work"; }
  [[nodiscard]] std::string cache_dir() const { return m_path + "/.cache"; }

  Result<std::vector<std::string>> names();
  // Complete versions of an image, ascending; empty when the image does not exist.
  Result<std::vector<int>> versions(std::string_view name);
  // versions() of several images in one Host::list_dirs batch (one round trip over SSH); an image
  // that does not exist has no versions.
  Result<std::map<std::string, std::vector<int>>> versions_of(const std::vector<std::string>& names);
  // NAME -> its latest version, NAME@N -> N if it exists; not_found names what exists.
  Result<int> resolve(const ImageRef& ref);
  Result<ImageMeta> meta(std::string_view name, int version);

  // Starts version latest+1 of `name` in .new-<N>: a fresh empty root (from nullopt) or a
  // snapshot/reflink/plain copy of version *from. Deletes leftovers of interrupted runs first.
  Result<NewVersion> begin(const std::string& name, std::optional<int> from, const Options& options);
  // Writes the record and image.json, makes the root read-only (btrfs), renames into place.
  Result<void> commit(NewVersion& version, ImageMeta meta);
  // Deletes an uncommitted version (no-op once committed); never fails, says what it left.
  void abort(NewVersion& version, const Options& options);
  // Deletes NAME@N: renamed to .old-<N> first (gone at once), then deleted.
  Result<void> remove(const std::string& name, int version);

 private:
  Result<void> clean_leftovers(const std::string& name);
  Result<bool> is_btrfs(const std::string& path);

  Host& m_host;
  std::string m_path;
};

// True when `path` is the root of a btrfs subvolume (btrfs, inode 256).
Result<bool> is_subvolume(Host& host, const std::string& path);

// Which image version each Pi root of the shelf was cloned from, read from the roots' records (one
// Host::read_paths batch): "pi01" -> "base@2" (live root), "pi01 (previous)" -> "base@1". Pis
// without a record are absent.
Result<std::map<std::string, std::string>> root_records(Host& host, const inventory::Shelf& shelf);
// The record of one root folder ("" when it has none or it is not a regular file).
Result<std::string> read_record(Host& host, const std::string& root);
// A root's record as part of a batched read (Host::read_paths): the reads to add, and the record
// found in the snapshot ("" when none, or when etc/ or etc/picluster/ is not a real folder: a
// symlink a Pi planted is never followed).
std::vector<nfsroot::PathRead> record_reads(const std::string& root);
std::string record_in(const std::string& root, const nfsroot::PathSnapshot& snapshot);
// The image reference in a record file's text ("NAME@N"), or "" when it holds none (a record a Pi
// rewrote is never shown as such).
std::string parse_record(std::string_view text);

std::string utc_now();

}  // namespace picluster::image
