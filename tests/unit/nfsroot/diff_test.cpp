// Line diffs as plan shows them: diff -u hunks for changed, added and removed lines.
#include "nfsroot/diff.hpp"

#include <gtest/gtest.h>

namespace picluster::nfsroot {
namespace {

std::vector<std::string> text(const std::vector<DiffLine>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(to_string(l));
  return out;
}

TEST(Diff, EqualTextsHaveNoLines) {
  EXPECT_TRUE(diff_lines("a\nb\n", "a\nb\n").empty());
  EXPECT_TRUE(diff_lines("a\nb", "a\nb\n").empty());
}

TEST(Diff, AnAppendedLineIsOneAddedLineWithContext) {
  EXPECT_EQ(text(diff_lines("a\nb\nc\nd\ne\n", "a\nb\nc\nd\ne\nf\n")),
            (std::vector<std::string>{"@@ -3,3 +3,4 @@", " c", " d", " e", "+f"}));
}

TEST(Diff, AChangedLineIsRemovedThenAdded) {
  EXPECT_EQ(
      text(diff_lines("x\n/srv/pi01 172.30.0.2(rw)\ny\n", "x\n/srv/pi01 172.30.0.6(rw)\ny\n", 1)),
      (std::vector<std::string>{"@@ -1,3 +1,3 @@", " x", "-/srv/pi01 172.30.0.2(rw)",
                                "+/srv/pi01 172.30.0.6(rw)", " y"}));
}

TEST(Diff, ANewFileIsAllAdded) {
  EXPECT_EQ(text(diff_lines("", "a\nb\n")),
            (std::vector<std::string>{"@@ -0,0 +1,2 @@", "+a", "+b"}));
}

TEST(Diff, DistantChangesAreSeparateHunks) {
  std::string before, after;
  for (int i = 1; i <= 20; ++i) {
    before += std::to_string(i) + "\n";
    after += (i == 2 || i == 18 ? "changed" : std::to_string(i)) + "\n";
  }
  EXPECT_EQ(text(diff_lines(before, after, 1)),
            (std::vector<std::string>{"@@ -1,3 +1,3 @@", " 1", "-2", "+changed", " 3",
                                      "@@ -17,3 +17,3 @@", " 17", "-18", "+changed", " 19"}));
}

}  // namespace
}  // namespace picluster::nfsroot
