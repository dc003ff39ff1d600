#pragma once
// The Host batches (host.hpp) as single remote commands, for a fileserver that is only reachable
// through Host::run (SshHost): each batch is one fixed sh script, its paths and contents sent on
// stdin (never pasted into the script or the command line), its answer parsed here.
//
//   read_paths   `find -files0-from` prints the lstat facts of every path (NUL-terminated
//                records), then `tar --format=gnu` streams the regular files asked with contents
//                (binary-safe, one process, symlinks never followed). Missing paths are absent.
//   write_files  records "KIND PATHLEN LEN MODE OWNER\n" + path + contents on stdin, ended by an
//                "e" record, read by one perl process (perl-base is Essential on Debian; a shell
//                script needs several forks per file, seconds per hundred files on a busy
//                fileserver): every file goes to an O_EXCL|O_NOFOLLOW temporary beside its target
//                (exact length, owner, mode, fsync), and only after the end record are they
//                renamed into place in order. Input that ends early (connection lost) renames
//                nothing and removes the temporaries.
//   list_dirs    `find -files0-from - -mindepth 1 -maxdepth 1`: folder and name per entry.
// The scripts need coreutils, findutils, tar and perl-base only (Debian's essential set). They are pure data
// and parsers, unit-tested without a fileserver; SshHost runs them.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "nfsroot/host.hpp"

namespace picluster::nfsroot::remote {

struct Command {
  std::vector<std::string> argv;
  std::string input;  // stdin
};

Command read_paths_command(const std::vector<PathRead>& paths);
Result<PathSnapshot> parse_read_paths(const std::vector<PathRead>& paths, std::string_view out);

Command write_files_command(const std::vector<FileWrite>& files);

Command list_dirs_command(const std::vector<std::string>& dirs);
Result<std::map<std::string, std::vector<std::string>>> parse_list_dirs(std::string_view out);

// Runs a batch command through host.run() and checks its exit status (the error names `what`).
Result<CommandResult> run_batch(Host& host, const Command& command, std::string_view what);

}  // namespace picluster::nfsroot::remote
