#include "image/packages.hpp"

#include "common/text.hpp"

namespace picluster::image {

Packages parse_dpkg_status(std::string_view status) {
  Packages out;
  std::string package, version, arch;
  bool installed = false;
  const auto flush = [&] {
    if (!package.empty() && installed) out[package] = version;
    package.clear();
    version.clear();
    installed = false;
  };
  for (const auto& line : split(status, '\n')) {
    if (line.empty()) {
      flush();
      continue;
    }
    if (line.starts_with("Package: ")) package = line.substr(9);
    if (line.starts_with("Version: ")) version = line.substr(9);
    if (line.starts_with("Status: ")) installed = line.substr(8) == "install ok installed";
  }
  flush();
  return out;
}

PackageDiff diff_packages(const Packages& a, const Packages& b) {
  PackageDiff d;
  for (const auto& [name, version] : a) {
    auto it = b.find(name);
    if (it == b.end()) {
      d.removed.push_back({name, version, ""});
    } else if (it->second != version) {
      d.changed.push_back({name, version, it->second});
    }
  }
  for (const auto& [name, version] : b) {
    if (!a.contains(name)) d.added.push_back({name, "", version});
  }
  return d;
}

Result<Packages> root_packages(Host& host, const std::string& root) {
  const std::string path = root + "/var/lib/dpkg/status";
  auto st = host.stat(path);
  if (!st) return std::unexpected(st.error());
  if (st->type != nfsroot::FileType::regular) return Packages{};
  auto text = host.read_file(path);
  if (!text) return std::unexpected(text.error());
  return parse_dpkg_status(*text);
}

}  // namespace picluster::image
