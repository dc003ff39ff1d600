#pragma once
// A Host is the machine that serves the Pis' root filesystems: this machine (LocalHost) or the
// fileserver over SSH (SshHost). Everything nfsroot does to a fileserver goes through this small
// interface, so planners and the rebuild state machine are unit-tested against a recording fake.
//
// Contract shared by every implementation:
//   - Paths are absolute POSIX paths on the host, passed through unchanged (root_prefix is applied
//     by the callers, see nfsroot/layout.hpp).
//   - run() executes argv directly, with no shell (SshHost: argv travels framed to its remote
//     helper, which execs it). A command that starts and
//     exits non-zero is NOT an error of run(); callers use check() for that. A command that cannot
//     be started, or runs past its timeout (it is then killed), is an error.
//   - stat() never follows a symlink (lstat semantics); a missing path is FileType::none, not an
//     error.
//   - write_file() is atomic: it writes a temporary file beside `path` (O_EXCL, never following a
//     symlink), sets mode and owner, then renames it over `path`. If `path` is a symlink, the
//     symlink itself is replaced by a regular file; its target is never written. The parent folder
//     must exist; callers check that no component is a symlink (RootManager does).
//   - remove() removes one file, symlink or empty folder; a missing path is not an error.
//   - rename() is rename(2): atomic within one filesystem, fails if `to` is a non-empty folder.
//
// Batches (read_paths, write_files, list_dirs) do the work of many single calls in one go, so a
// fileserver over SSH costs a constant number of round trips per verb instead of one per file.
// Their default implementations loop over the single-path calls (LocalHost and the test fakes use
// them: a local call costs microseconds); SshHost answers each batch with one remote command.
// Planners read one snapshot with read_paths and plan locally from it; execute() sends each run
// of consecutive writes and folder creations as one write_files.
//   - read_paths() returns an entry for every asked path that exists (lstat facts) and, for those
//     asked with contents that are regular files, their contents. A missing path has no entry.
//   - write_files() creates the folders asked for (mkdir -p), then writes every file to a
//     temporary beside it (as write_file does: O_EXCL, mode and owner set, fsync), and only when
//     all of them are complete renames them into place in order. A failure or an interruption
//     before the renames changes no file; one during them leaves each file old or new, never
//     partial. (The default implementation, used by the test fakes, writes one file at a time.)
//   - list_dirs() lists several folders; a missing folder has no entry.
//   - run_all() runs several commands one after the other, each as run() would, and returns all
//     their results; a non-zero exit does not stop the ones after it (callers pick commands that
//     may all run). An error (a command that cannot start or times out) fails the whole call;
//     SshHost then gives up its channel, and at most the command queued after it may still run.
//     SshHost sends them all at once (pipelined): one round trip for the lot.
//   - read_children() reads a folder's entries (lstat facts, as read_paths) and, inside each entry
//     that is a folder, the relative paths `inside` (with contents); a missing folder gives an
//     empty snapshot. A listing and the reads that depend on it in one request.
//   - pipeline() sends several independent requests of any kind (run, read_paths, read_children,
//     list_dirs, write_files, rename, remove) at once and returns their answers in order: one
//     round trip over SSH for the lot. They are carried out in order, each as its single call
//     would be. A request marked `chained` runs only if every request before it since the last
//     unchained one succeeded (a command's exit 0, unless it is marked `tolerate`; a file request
//     without error); otherwise it is not carried out at all and its answer says `skipped`. So a
//     chain keeps the order and the stop-at-the-first-failure of doing the requests one by one
//     (the rebuild state machine relies on it: the ready marker is written only after the root is
//     complete, the swap only after the marker). A failed file request is an answer's `error`,
//     not an error of the call; an error of the call (a command that cannot start or times out, a
//     lost connection) is as for run_all, with the `what` of the request it met as its context
//     (the first request whose answer did not come, over SSH). The default implementation does
//     them one by one with the single calls (LocalHost and the test fakes use it). SshHost writes
//     every request before it reads any answer, so keep the inputs of a pipeline's requests small
//     (paths, a few files) when earlier requests answer with much data: a request whose input no
//     longer fits in the SSH window while the helper waits for room to answer would stall. Send a
//     large write_files on its own or first (execute()'s chains carry a Pi's few small files, and
//     writes come before the commands whose output is large).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "inventory/inventory.hpp"

namespace picluster::nfsroot {

struct RunOptions {
  std::string input;                                   // written to stdin, then stdin is closed
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  // Called with each chunk of stdout as it arrives (progress parsing); the chunk is also kept in
  // CommandResult::out unless discard_output is set.
  std::function<void(std::string_view)> on_output;
  bool discard_output = false;
};

struct CommandResult {
  int exit_status = 0;  // 0 = success; 128+N when killed by signal N (LocalHost)
  std::string out;
  std::string err;
};

enum class FileType { none, regular, directory, symlink, other };

struct FileStat {
  FileType type = FileType::none;
  std::uint64_t size = 0;   // bytes (regular files, symlink target length)
  unsigned mode = 0;        // permission bits only
  std::int64_t mtime = 0;   // seconds since the epoch
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

struct Owner {
  std::uint32_t uid = 0;  // numeric: a Pi root's users are not the fileserver's
  std::uint32_t gid = 0;
};

struct PathRead {
  std::string path;
  bool contents = false;  // also read the contents (regular files only)
};

struct PathFacts {
  FileStat stat;
  std::optional<std::string> contents;  // set for regular files read with contents
};

// Path -> what read_paths found there; a missing path has no entry.
using PathSnapshot = std::map<std::string, PathFacts>;

struct FileWrite {
  std::string path;
  std::string contents;
  unsigned mode = 0644;
  std::optional<Owner> owner;
  bool folder = false;  // create `path` as a folder (mkdir -p) instead of writing a file
  bool operator==(const FileWrite&) const = default;
};

// One request of Host::pipeline: `kind` says which fields are used.
struct PipelineRequest {
  enum class Kind { run, read_paths, read_children, list_dirs, write_files, rename, remove };
  Kind kind = Kind::run;
  std::vector<std::string> argv;   // run
  RunOptions options;              // run (on_output is called as output arrives)
  std::vector<PathRead> reads;     // read_paths
  std::string path;                // read_children (the folder), rename (from), remove
  std::string to;                  // rename
  std::vector<std::string> names;  // read_children: the paths read inside each entry; list_dirs: the folders
  std::vector<FileWrite> writes;   // write_files
  bool chained = false;            // carried out only if the chain before it succeeded
  bool tolerate = false;           // run: a non-zero exit does not break the chain
  std::string what;                // named (as context) in an error of the call this request met
};

struct PipelineAnswer {
  bool skipped = false;            // chained after a failure: not carried out
  CommandResult result;            // run
  PathSnapshot snapshot;           // read_paths, read_children
  std::map<std::string, std::vector<std::string>> listing;  // list_dirs
  std::optional<Error> error;      // a file request that failed
};

class Host {
 public:
  virtual ~Host() = default;
  Host() = default;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // For messages: "local" or "ssh root@fs1:22".
  [[nodiscard]] virtual std::string name() const = 0;

  virtual Result<CommandResult> run(const std::vector<std::string>& argv,
                                    const RunOptions& options = {}) = 0;
  virtual Result<std::string> read_file(const std::string& path) = 0;
  // owner nullopt = whatever the writing user gets.
  virtual Result<void> write_file(const std::string& path, std::string_view contents,
                                  unsigned mode, std::optional<Owner> owner) = 0;
  virtual Result<FileStat> stat(const std::string& path) = 0;
  // Names in a folder, without "." and "..", sorted.
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
  virtual Result<void> rename(const std::string& from, const std::string& to) = 0;
  virtual Result<void> remove(const std::string& path) = 0;
  // mkdir -p with mode 0755 for created folders; fails if a component is not a folder.
  virtual Result<void> make_dirs(const std::string& path) = 0;

  // Batches: see the contract above.
  virtual Result<PathSnapshot> read_paths(const std::vector<PathRead>& paths);
  virtual Result<void> write_files(const std::vector<FileWrite>& files);
  virtual Result<std::map<std::string, std::vector<std::string>>> list_dirs(
      const std::vector<std::string>& dirs);
  // options.input goes to every command; options.on_output is not called.
  virtual Result<std::vector<CommandResult>> run_all(const std::vector<std::vector<std::string>>& commands,
                                                     const RunOptions& options = {});

  virtual Result<PathSnapshot> read_children(const std::string& dir, const std::vector<std::string>& inside);
  virtual Result<std::vector<PipelineAnswer>> pipeline(const std::vector<PipelineRequest>& requests);

  // Round trips to the fileserver so far (operations sent and answered; 0 for a local host): what
  // a verb costs over a slow link, shown by `-v` and in `--json` as "fileserver_round_trips".
  [[nodiscard]] virtual std::uint64_t round_trips() const { return 0; }
  // SSH channels opened so far (0 for a local host): each one pays the remote login shell's
  // start-up; SshHost opens one per connection. `--json`: "fileserver_channels".
  [[nodiscard]] virtual std::uint64_t channels() const { return 0; }
  // How the connection was made, for `-v` ("" for a local host): SshHost says whether it reused
  // a connection master, started one, or connected directly and why.
  [[nodiscard]] virtual std::string how_connected() const { return {}; }
};

// Runs argv and turns a non-zero exit into ErrorCode::command_failed whose message names the
// command and its stderr: "btrfs subvolume snapshot ...: exit 1: ERROR: not a subvolume".
Result<CommandResult> check(Host& host, const std::vector<std::string>& argv,
                            const RunOptions& options = {});

// The one-line summary of a failed command used by check().
std::string describe_failure(const std::vector<std::string>& argv, const CommandResult& result);

// Connects to a shelf's fileserver: transport "local" gives a LocalHost, "ssh" an SshHost that
// resolves identity_file and known_hosts relative to inventory_dir. Errors carry "ssh <host>: ".
Result<std::unique_ptr<Host>> connect(const inventory::Fileserver& fileserver,
                                      const std::filesystem::path& inventory_dir);

struct SshTarget;
// The SSH endpoint connect() uses for an "ssh" fileserver (paths resolved, persist applied).
SshTarget ssh_target(const inventory::Fileserver& fileserver, const std::filesystem::path& inventory_dir);

}  // namespace picluster::nfsroot
