#pragma once
// A file that picluster would install: rendered purely (bootcfg), installed by an effectful edge
// (nfsroot over a Host, or `picluster render --out DIR`).

#include <string>

namespace picluster {

struct RenderedFile {
  std::string path;      // relative to the root it lands in, e.g. "etc/hostname"; never absolute
  std::string contents;
  unsigned mode = 0644;  // permission bits
  bool operator==(const RenderedFile&) const = default;
};

}  // namespace picluster
