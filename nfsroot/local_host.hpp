#pragma once
// LocalHost: the fileserver is this machine. Commands run through Boost.Process with an argv
// (never a shell); file operations are plain POSIX calls. The only file using Boost.Process.

#include "nfsroot/host.hpp"

namespace picluster::nfsroot {

class LocalHost final : public Host {
 public:
  // Ignores SIGPIPE for the process (a child that exits without reading its stdin must not kill
  // picluster).
  LocalHost();
  [[nodiscard]] std::string name() const override { return "local"; }
  Result<CommandResult> run(const std::vector<std::string>& argv,
                            const RunOptions& options) override;
  Result<std::string> read_file(const std::string& path) override;
  Result<void> write_file(const std::string& path, std::string_view contents, unsigned mode,
                          std::optional<Owner> owner) override;
  Result<FileStat> stat(const std::string& path) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  Result<void> rename(const std::string& from, const std::string& to) override;
  Result<void> remove(const std::string& path) override;
  Result<void> make_dirs(const std::string& path) override;
  // All temporaries first, then the renames (see the batch contract in host.hpp).
  Result<void> write_files(const std::vector<FileWrite>& files) override;
};

}  // namespace picluster::nfsroot
