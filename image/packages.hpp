#pragma once
// Installed packages of a root, from its var/lib/dpkg/status, and the difference between two.

#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/store.hpp"

namespace picluster::image {

using Packages = std::map<std::string, std::string>;  // package (":arch" when multi-arch) -> version

// Packages whose Status is "install ok installed".
Packages parse_dpkg_status(std::string_view status);

struct PackageChange {
  std::string package;
  std::string from;  // "" when added
  std::string to;    // "" when removed
};
struct PackageDiff {
  std::vector<PackageChange> added, removed, changed;
  [[nodiscard]] bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};
PackageDiff diff_packages(const Packages& a, const Packages& b);

// The packages of the root at `root` (none when it has no dpkg database, e.g. a busybox root).
Result<Packages> root_packages(Host& host, const std::string& root);

}  // namespace picluster::image
