#pragma once
// Installing files into a Pi's root without ever leaving it. The golden image is trusted to be an
// OS image, not to be free of symlinks: etc/hostname may be a symlink to /tmp/x, and following it
// would write outside the root on the fileserver itself. So every path is checked component by
// component with lstat-semantics stat(): a folder component that is a symlink is refused, a final
// component that is a symlink is removed and replaced by a regular file.

#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/rendered_file.hpp"
#include "nfsroot/host.hpp"

namespace picluster::nfsroot {

// Checks a RenderedFile path: relative, components non-empty, no "." or "..", no NUL or newline.
Result<void> validate_relative_path(std::string_view path);

// Writes each file under `root` (owner 0:0, the file's mode), creating missing folders.
Result<void> install_files(Host& host, const std::string& root,
                           const std::vector<RenderedFile>& files);

// Gives a cloned root its own identity: etc/machine-id becomes an empty file (systemd generates a
// new id on first boot), every etc/ssh/ssh_host_* file from the golden image is deleted and new
// new Ed25519 and ECDSA host keys are generated with `ssh-keygen -t TYPE -f`.
Result<void> reset_identity(Host& host, const std::string& root);

}  // namespace picluster::nfsroot
