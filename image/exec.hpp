#pragma once
// `picluster image exec NAME[@N] -- CMD...`: a new version made by running CMD in a chroot of a
// snapshot of NAME@N (default: the latest). /proc, /sys and /dev are mounted into the chroot in a
// mount namespace of CMD's own (gone with CMD; nothing to unmount); services are not started (policy-rc.d); a foreign
// architecture runs through qemu-user (binfmt_misc, checked first). The version is kept only if
// CMD exits 0; it is then adapted again (an upgrade may bring back host keys) and committed.

#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/store.hpp"

namespace picluster::image {

struct ExecRequest {
  ImageRef ref;
  std::vector<std::string> argv;
};

struct ExecResult {
  ImageMeta meta;
  double setup_seconds = 0;  // from exec_image's start until CMD starts (bench/image)
};

Result<ExecResult> exec_image(Store& store, const ExecRequest& request, const Options& options);

}  // namespace picluster::image
