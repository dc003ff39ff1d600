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
#include "nfsroot/actions.hpp"
#include "nfsroot/host.hpp"

namespace picluster::nfsroot {

// Checks a RenderedFile path: relative, components non-empty, no "." or "..", no NUL or newline.
Result<void> validate_relative_path(std::string_view path);

// Writes each file under `root` (owner 0:0, the file's mode), creating missing folders: one read
// batch (root_file_reads), the checks of plan_root_files, one write batch.
Result<void> install_files(Host& host, const std::string& root,
                           const std::vector<RenderedFile>& files);

// What plan_root_files needs to know: every folder component of every file's path under root,
// and each installed file with its contents.
std::vector<PathRead> root_file_reads(const std::string& root, const std::vector<RenderedFile>& files);
// The actions that bring the files under `root` to `files` (make_dirs for missing folders,
// write_file with the installed contents as `previous` for changed or missing files; nothing for
// a file whose contents and mode match). Refused: an invalid path, a folder component that is a
// symlink or not a folder, a target that is a folder. A target that is a symlink is replaced.
Result<Plan> plan_root_files(const std::string& root, const std::vector<RenderedFile>& files,
                             const PathSnapshot& snapshot, const std::string& step = "install");

// Gives a cloned root its own identity: etc/machine-id becomes an empty file (systemd generates a
// new id on first boot), every etc/ssh/ssh_host_* file from the golden image is deleted and new
// new Ed25519 and ECDSA host keys are generated with `ssh-keygen -t TYPE -f`.
Result<void> reset_identity(Host& host, const std::string& root);

// The halves of install_files and reset_identity, for callers that batch the reads and writes
// of several steps (execute() pipelines them): what to read, then from the snapshot of those
// reads the writes (with the same checks), and reset_identity's commands and their check.
Result<std::vector<FileWrite>> install_writes(const std::string& root, const std::vector<RenderedFile>& files,
                                              const PathSnapshot& snapshot);
std::vector<PathRead> identity_reads(const std::string& root);
Result<std::vector<FileWrite>> identity_writes(const std::string& root, const PathSnapshot& snapshot);
std::vector<std::vector<std::string>> identity_commands(const std::string& root);
Result<void> check_identity_command(std::size_t index, const std::vector<std::string>& argv,
                                    const CommandResult& result);

}  // namespace picluster::nfsroot
