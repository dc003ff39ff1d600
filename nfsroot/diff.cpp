#include "nfsroot/diff.hpp"

#include <algorithm>

namespace picluster::nfsroot {

namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The edit script: one entry per line of the merged sequence.
std::vector<DiffLine> edit_script(const std::vector<std::string_view>& a,
                                  const std::vector<std::string_view>& b) {
  std::vector<DiffLine> out;
  const std::size_t n = a.size(), m = b.size();
  if ((n + 1) * (m + 1) > kMaxDiffCells) {
    for (auto l : a) out.push_back({DiffLine::Kind::removed, std::string(l)});
    for (auto l : b) out.push_back({DiffLine::Kind::added, std::string(l)});
    return out;
  }
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  std::vector<std::size_t> lcs((n + 1) * (m + 1), 0);
  const auto at = [&](std::size_t i, std::size_t j) -> std::size_t& {
    return lcs[i * (m + 1) + j];
  };
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      at(i, j) = a[i] == b[j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      out.push_back({DiffLine::Kind::context, std::string(a[i])});
      ++i, ++j;
    } else if (j < m && (i == n || at(i, j + 1) >= at(i + 1, j))) {
      out.push_back({DiffLine::Kind::added, std::string(b[j++])});
    } else {
      out.push_back({DiffLine::Kind::removed, std::string(a[i++])});
    }
  }
  // Within each run of changes, removals before additions, as diff -u prints them.
  for (std::size_t k = 0; k < out.size();) {
    if (out[k].kind == DiffLine::Kind::context) {
      ++k;
      continue;
    }
    std::size_t end = k;
    while (end < out.size() && out[end].kind != DiffLine::Kind::context) ++end;
    std::stable_partition(out.begin() + static_cast<std::ptrdiff_t>(k),
                          out.begin() + static_cast<std::ptrdiff_t>(end),
                          [](const DiffLine& l) { return l.kind == DiffLine::Kind::removed; });
    k = end;
  }
  return out;
}

std::string range(std::size_t start, std::size_t count) {
  // diff -u: 1-based start line; an empty range names the line before it.
  const std::size_t first = count == 0 ? start : start + 1;
  return std::to_string(first) + (count == 1 ? "" : "," + std::to_string(count));
}

}  // namespace

std::vector<DiffLine> diff_lines(std::string_view before, std::string_view after, int context) {
  const auto script = edit_script(lines_of(before), lines_of(after));
  const auto ctx = static_cast<std::size_t>(std::max(context, 0));
  std::vector<DiffLine> out;
  std::size_t k = 0;
  std::size_t old_line = 0, new_line = 0;  // lines of each file before script[k]
  while (k < script.size()) {
    // Find the next change.
    std::size_t first = k;
    while (first < script.size() && script[first].kind == DiffLine::Kind::context) ++first;
    if (first == script.size()) break;
    const std::size_t skipped = first - k;
    const std::size_t lead = std::min(ctx, skipped);
    old_line += skipped - lead;
    new_line += skipped - lead;
    std::size_t begin = first - lead;
    // Extend the hunk while the next change is within 2*ctx unchanged lines.
    std::size_t end = first;
    while (end < script.size()) {
      while (end < script.size() && script[end].kind != DiffLine::Kind::context) ++end;
      std::size_t gap = end;
      while (gap < script.size() && script[gap].kind == DiffLine::Kind::context) ++gap;
      if (gap < script.size() && gap - end <= 2 * ctx) {
        end = gap;
        continue;
      }
      end = std::min(end + ctx, gap);
      break;
    }
    std::size_t old_count = 0, new_count = 0;
    for (std::size_t x = begin; x < end; ++x) {
      if (script[x].kind != DiffLine::Kind::added) ++old_count;
      if (script[x].kind != DiffLine::Kind::removed) ++new_count;
    }
    out.push_back({DiffLine::Kind::hunk, "@@ -" + range(old_line, old_count) + " +" +
                                             range(new_line, new_count) + " @@"});
    out.insert(out.end(), script.begin() + static_cast<std::ptrdiff_t>(begin),
               script.begin() + static_cast<std::ptrdiff_t>(end));
    old_line += old_count;
    new_line += new_count;
    k = end;
  }
  return out;
}

std::string to_string(const DiffLine& line) {
  switch (line.kind) {
    case DiffLine::Kind::hunk:
      return line.text;
    case DiffLine::Kind::context:
      return " " + line.text;
    case DiffLine::Kind::removed:
      return "-" + line.text;
    case DiffLine::Kind::added:
      return "+" + line.text;
  }
  return line.text;
}

}  // namespace picluster::nfsroot
