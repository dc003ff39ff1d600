#pragma once
// Work on the fileserver is planned first, as a list of Actions, then executed. A plan is data:
// unit tests compare it, `--dry-run` prints it with describe(), and execute() runs it step by step
// through a Host.
//
// Actions whose `live` flag is set change the running host's network or NFS server (ifup,
// exportfs, sysctl, nft, systemctl ...). With root_prefix set they are printed and reported as
// "skipped (root_prefix set)" instead of run; file work still happens under the prefix.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/rendered_file.hpp"
#include "nfsroot/host.hpp"

namespace picluster::nfsroot {

enum class ActionKind {
  run,             // argv
  make_dirs,       // path (mkdir -p)
  write_file,      // path, contents, mode (atomic, owner root)
  rename,          // path -> to
  remove_file,     // path (file, symlink or empty folder)
  remove_tree,     // path: `btrfs subvolume delete` for a subvolume, else rm -rf --one-file-system
  install_files,   // files into the root at path, never following a symlink (see install.hpp)
  reset_identity,  // root at path: empty etc/machine-id, new SSH host keys
  record_root,     // root at path: its size (du) and origin `contents` written to its record
};

struct Action {
  ActionKind kind = ActionKind::run;
  std::string step;                 // named step, e.g. "clone", "swap-in"; hooks see it
  std::vector<std::string> argv;    // run
  std::string path;                 // the object acted on
  std::string to;                   // rename target
  std::string contents;             // write_file
  unsigned mode = 0644;             // write_file
  std::vector<RenderedFile> files;  // install_files
  bool live = false;                // run: skipped with root_prefix set
  bool tolerate_failure = false;    // run: a non-zero exit or a missing program is reported, not fatal
  bool progress = false;            // run: stdout is rsync --info=progress2 output
  // run, remove_tree: a lock file held (flock) while the command runs. The command's children
  // inherit it, so a copy left running by a killed picluster keeps holding it, and whoever
  // removes that copy's folder waits for it instead of racing it.
  std::string lock;
  // write_file planned against an installed file: its contents and mode then (nullopt = the file
  // does not exist yet), so plans can show a diff. Not used when executing.
  std::optional<std::string> previous;
  unsigned previous_mode = 0;

  bool operator==(const Action&) const = default;
};

using Plan = std::vector<Action>;

// One line per action, exactly what execute() will do: "run exportfs -ra",
// "write /srv/x/etc/exports.d/picluster.exports (0644, 120 bytes)",
// "skip exportfs -ra (root_prefix set)" when prefixed and live.
std::string describe(const Action& action, bool prefixed);
std::string describe(const Plan& plan, bool prefixed);  // one line each, "\n"-terminated

struct Progress {
  std::uint64_t bytes = 0;
  int percent = 0;
  std::string rate;  // as rsync prints it, "12.34MB/s"
  std::string time;  // "0:00:10": the time left, or with `elapsed` the time taken so far
  // rsync prints the time left on updates in the middle of a file, but the time since the copy
  // started on the update that ends a file (the one with "(xfr#N, to-chk=...)"), and so on the
  // very last line.
  bool elapsed = false;
};

// Parses one rsync --info=progress2 update ("  1,234,567  45%  12.34MB/s  0:00:10 (xfr#...)").
std::optional<Progress> parse_rsync_progress(std::string_view line);

// One line for the operator: "1.2 GiB 45% 12.34MB/s ETA 0:00:10" or "... 0:00:31 elapsed".
std::string describe(const Progress& progress);

struct ExecOptions {
  bool prefixed = false;                                 // skip live actions
  std::function<void(std::string_view step)> before_step;  // called before each action
  std::function<void(const Progress&)> on_progress;        // rsync copies
  std::function<void(std::string_view line)> on_event;     // "skipped (root_prefix set): ..."
};

// How long a locked action waits for an earlier holder before it gives up with a clear error.
inline constexpr int lock_wait_seconds = 60;
// flock's exit status when the wait ran out (75 = EX_TEMPFAIL).
inline constexpr int lock_conflict_status = 75;

// The argv that runs `argv` holding `lock` (util-linux flock): {"flock", "--exclusive", ...}.
std::vector<std::string> locked_argv(const std::string& lock, const std::vector<std::string>& argv);

// A write_file or make_dirs action as an entry of a Host::write_files batch (files owned by root).
FileWrite file_write(const Action& a);

// Runs the actions in order and stops at the first failure (with the action described as
// context). Failures of tolerate_failure commands are reported through on_event.
Result<void> execute(Host& host, const Plan& plan, const ExecOptions& options);

// Removes a whole tree: `btrfs subvolume delete` when `path` is a btrfs subvolume (inode 256 on a
// btrfs filesystem), else `rm -rf --one-file-system`. A missing path is not an error.
// With `lock` set, the removal holds it (see Action::lock).
Result<void> remove_tree(Host& host, const std::string& path, const std::string& lock = {});

// Bytes used by the tree at `path` on its own filesystem (`du -s -B1 -x`).
Result<std::uint64_t> tree_size(Host& host, const std::string& path);
// The same for many trees in one command (one round trip); a missing tree has no entry.
Result<std::map<std::string, std::uint64_t>> tree_sizes(Host& host, const std::vector<std::string>& paths);

// tree_sizes' parser: "BYTES\tPATH\0" per tree.
std::map<std::string, std::uint64_t> parse_tree_sizes(std::string_view out);
// One command that measures, as tree_sizes does, the folders among `dir`'s entries named as roots
// (RFC 1123 labels) that hold no `record` file: no answer needed first, so it can be pipelined
// with the read of those records. Empty output when every one has a record.
std::vector<std::string> unrecorded_sizes_argv(const std::string& dir, std::string_view record);

// What picluster records about a root it built, in <root>/.picluster-root ("key=value" lines),
// so `status` and `plan` know a root's size and origin without walking it: built (seconds since
// the epoch), bytes (du when built; refreshed by `status --sizes`), method and golden image.
inline constexpr std::string_view kRootRecord = ".picluster-root";
struct RootRecord {
  std::int64_t built = 0;
  std::uint64_t bytes = 0;
  std::string method;
  std::string golden;
  bool operator==(const RootRecord&) const = default;
};
std::string render_root_record(const RootRecord& record);
// nullopt for a record that is not one of ours (no "built=" line).
std::optional<RootRecord> parse_root_record(std::string_view text);

}  // namespace picluster::nfsroot
