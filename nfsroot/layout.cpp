#include "nfsroot/layout.hpp"

#include "common/text.hpp"

namespace picluster::nfsroot {

Layout::Layout(const inventory::Fileserver& fileserver) : m_prefix(fileserver.root_prefix) {
  while (!m_prefix.empty() && m_prefix.back() == '/') m_prefix.pop_back();
  m_nfs_root = host_path(fileserver.nfs_root);
  m_golden = fileserver.golden_image;
}

std::string Layout::host_path(std::string_view path) const {
  std::string p(path);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (m_prefix.empty()) return p;
  if (!p.starts_with('/')) p.insert(p.begin(), '/');
  return m_prefix + p;
}

std::string Layout::golden_image() const { return host_path(m_golden); }

Result<PiPaths> Layout::pi(std::string_view name) const {
  if (!is_rfc1123_label(name)) {
    return fail(ErrorCode::invalid_argument,
                "invalid Pi name " + printable(name) + ": want 1-63 of [a-z0-9-]");
  }
  const std::string n(name);
  return PiPaths{m_nfs_root + "/" + n,           m_nfs_root + "/.staging/" + n,
                 m_nfs_root + "/.staging/" + n + ".ready", m_nfs_root + "/.previous/" + n,
                 m_nfs_root + "/.rollback/" + n, m_nfs_root + "/.trash/" + n,
                 m_nfs_root + "/.locks/" + n};
}

}  // namespace picluster::nfsroot
