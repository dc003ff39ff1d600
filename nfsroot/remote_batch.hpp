#pragma once
// The Host batches and file operations (host.hpp) as file requests to the remote helper
// (nfsroot/remote_helper.hpp), for a fileserver reached over SSH: the helper answers them itself
// with perl builtins, one request per batch, no process started on the fileserver. Paths and
// contents travel length-framed or NUL-separated in the request's input, never through a shell.
// Here: the requests and the parsers of their answers, pure and unit-tested (the helper itself
// runs under LocalHost in tests/unit/nfsroot/remote_helper_test.cpp); SshHost does the I/O.
//
//   read_paths   args: count of paths read with contents (they come first); input: paths, each
//                NUL-terminated. Answer per path that exists: "TYPE|SIZE|MODE|MTIME|UID|GID|LEN|"
//                path "\0", then LEN bytes of contents (LEN "-": none read). lstat facts; a
//                symlink is never followed; missing paths (ENOENT, ENOTDIR) have no record.
//   write_files  input: records "KIND PATHLEN LEN MODE OWNER\n" + path + contents, ended by an
//                "e" record: each file goes to an O_EXCL|O_NOFOLLOW temporary beside its target
//                (owner, mode, fsync) as its record arrives; after the end record they are renamed
//                into place in order. Input that ends early renames nothing.
//   list_dirs    input: folders, NUL-terminated. Answer per folder that exists: folder "\0" COUNT
//                "\0" and COUNT names, each NUL-terminated.
//   read_children  args: a folder, then paths relative to its entries. Answer: a read_paths
//                record per entry and, inside each entry that is a folder, per relative path that
//                exists (with contents). A missing folder: no records.
//   stat PATH    a read_paths record, or nothing for a missing path.
//   read PATH, list DIR, mkdir PATH, rename FROM TO, remove PATH: as the Host calls.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "nfsroot/host.hpp"

namespace picluster::nfsroot::remote {

struct Request {
  std::vector<std::string> args;  // args[0]: the operation
  std::string input;
  bool operator==(const Request&) const = default;
};

Request read_paths_request(const std::vector<PathRead>& paths);
Result<PathSnapshot> parse_read_paths(std::string_view out);

Request read_children_request(const std::string& dir, const std::vector<std::string>& inside);

Request write_files_request(const std::vector<FileWrite>& files);

Request list_dirs_request(const std::vector<std::string>& dirs);
Result<std::map<std::string, std::vector<std::string>>> parse_list_dirs(std::string_view out);

// A stat answer: FileType::none for an empty one (missing path).
Result<FileStat> parse_stat(std::string_view out);
// A list answer: names, NUL-terminated, returned sorted.
std::vector<std::string> parse_names(std::string_view out);

}  // namespace picluster::nfsroot::remote
