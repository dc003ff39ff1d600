#pragma once
// Where things live on the fileserver. Every path is taken under Fileserver::root_prefix (empty =
// "/"), so tests and the example shelf can aim picluster at a folder instead of the host's own /.
//
// Per Pi, beside each other under nfs_root (one filesystem, so renames are atomic):
//   <nfs_root>/<name>              the live root the Pi mounts
//   <nfs_root>/.staging/<name>     a rebuild in progress
//   <nfs_root>/.staging/<name>.ready  marker: the staging root is complete and may be swapped in
//   <nfs_root>/.previous/<name>    the root before the last rebuild (for rollback)
//   <nfs_root>/.rollback/<name>    holding slot while a rollback swaps live and previous
//   <nfs_root>/.trash/<name>       an old previous root being deleted
//   <nfs_root>/.archive/<name>-<UTC time>   kept by `remove --keep`
//   <nfs_root>/.locks/<name>       flock'd by whatever writes or removes .staging/<name>

#include <string>
#include <string_view>

#include "common/error.hpp"
#include "inventory/inventory.hpp"

namespace picluster::nfsroot {

struct PiPaths {
  std::string live;
  std::string staging;
  std::string ready;
  std::string previous;
  std::string rollback;
  std::string trash;
  std::string lock;
};

class Layout {
 public:
  explicit Layout(const inventory::Fileserver& fileserver);

  // A fileserver path under root_prefix: "/srv/nfsroot" -> "<prefix>/srv/nfsroot".
  [[nodiscard]] std::string host_path(std::string_view path) const;
  // True when root_prefix is set: live network/NFS changes are planned but skipped.
  [[nodiscard]] bool prefixed() const { return !m_prefix.empty(); }
  [[nodiscard]] const std::string& nfs_root() const { return m_nfs_root; }
  [[nodiscard]] std::string golden_image() const;
  // Paths for one Pi; fails with invalid_argument unless the name is an RFC 1123 label.
  [[nodiscard]] Result<PiPaths> pi(std::string_view name) const;
  [[nodiscard]] std::string archive_folder() const { return m_nfs_root + "/.archive"; }
  [[nodiscard]] std::string lock_folder() const { return m_nfs_root + "/.locks"; }

 private:
  std::string m_prefix;  // without a trailing '/', "" = none
  std::string m_nfs_root;
  std::string m_golden;
};

}  // namespace picluster::nfsroot
