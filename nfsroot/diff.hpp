#pragma once
// Line diffs of file contents, for `plan` and `--dry-run`: what a write_file action would change,
// in the unified style of `diff -u` (hunk headers, removed lines, added lines, a little context).
//
// The diff is the classic longest-common-subsequence table over lines, which is quadratic: files
// picluster writes are at most a few hundred lines. Past kMaxDiffCells the whole old file is
// shown removed and the whole new one added, which is still correct, only less precise.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace picluster::nfsroot {

struct DiffLine {
  enum class Kind { hunk, context, removed, added };
  Kind kind = Kind::context;
  std::string text;  // the line without its newline; for a hunk "@@ -3,4 +3,5 @@"

  bool operator==(const DiffLine&) const = default;
};

inline constexpr std::size_t kMaxDiffCells = 4'000'000;

// The lines that turn `before` into `after`, grouped in hunks with `context` unchanged lines
// around each change. Empty when the texts are equal. A missing final newline is not a change.
std::vector<DiffLine> diff_lines(std::string_view before, std::string_view after, int context = 3);

// One line as `diff -u` prints it: "@@ ...", " context", "-removed", "+added".
std::string to_string(const DiffLine& line);

}  // namespace picluster::nfsroot
