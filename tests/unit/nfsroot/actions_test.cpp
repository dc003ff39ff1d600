#include <gtest/gtest.h>

#include "nfsroot/actions.hpp"
#include "nfsroot/clone.hpp"
#include "nfsroot/layout.hpp"
#include "tests/unit/nfsroot/test_shelf.hpp"

namespace picluster::nfsroot {
namespace {

TEST(RsyncProgress, ParsesAProgress2Update) {
  auto p = parse_rsync_progress("    1,234,567  45%   12.34MB/s    0:00:10 (xfr#123, to-chk=456/789)");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->bytes, 1234567U);
  EXPECT_EQ(p->percent, 45);
  EXPECT_EQ(p->rate, "12.34MB/s");
  EXPECT_EQ(p->time, "0:00:10");
  EXPECT_FALSE(parse_rsync_progress("sending incremental file list").has_value());
  EXPECT_FALSE(parse_rsync_progress("").has_value());
}

// rsync shows the time left in the middle of a file, but the time taken so far on the line that
// ends a file (with "(xfr#..."), and so on its last line: that one must not read "ETA".
TEST(RsyncProgress, TheLineEndingAFileShowsElapsedTimeNotAnEta) {
  auto middle = parse_rsync_progress("    524,288  42%  500.00kB/s    0:00:07  ");
  ASSERT_TRUE(middle.has_value());
  EXPECT_FALSE(middle->elapsed);
  EXPECT_EQ(describe(*middle), "512.0 KiB 42% 500.00kB/s ETA 0:00:07");
  auto last = parse_rsync_progress("  1,238,099 100%  146.38MB/s    0:00:31 (xfr#5, to-chk=0/6)");
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(last->elapsed);
  EXPECT_EQ(describe(*last), "1.2 MiB 100% 146.38MB/s 0:00:31 elapsed");
}

TEST(CloneArgv, OnePerMethod) {
  EXPECT_EQ(clone_argv(CloneMethod::btrfs_snapshot, "/g", "/d", true),
            (std::vector<std::string>{"btrfs", "subvolume", "snapshot", "/g", "/d"}));
  EXPECT_EQ(clone_argv(CloneMethod::reflink, "/g", "/d", true),
            (std::vector<std::string>{"cp", "-a", "--reflink=always", "--", "/g", "/d"}));
  EXPECT_EQ(clone_argv(CloneMethod::rsync, "/g", "/d", false),
            (std::vector<std::string>{"rsync", "-aHAXx", "--numeric-ids", "/g/", "/d/"}));
}

TEST(Layout, RootPrefixAppliesToEveryPath) {
  auto shelf = testing::test_shelf("/tmp/shelf/");
  Layout layout(shelf.fileserver);
  EXPECT_TRUE(layout.prefixed());
  EXPECT_EQ(layout.nfs_root(), "/tmp/shelf/srv/nfsroot");
  EXPECT_EQ(layout.golden_image(), "/tmp/shelf/srv/golden/raspios");
  EXPECT_EQ(layout.host_path("/etc/exports.d/x"), "/tmp/shelf/etc/exports.d/x");
  auto p = layout.pi("pi01");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->staging, "/tmp/shelf/srv/nfsroot/.staging/pi01");
  EXPECT_EQ(p->previous, "/tmp/shelf/srv/nfsroot/.previous/pi01");
  Layout plain(testing::test_shelf().fileserver);
  EXPECT_FALSE(plain.prefixed());
  EXPECT_EQ(plain.pi("pi01")->live, "/srv/nfsroot/pi01");
}

TEST(Layout, RejectsNamesThatCouldEscape) {
  Layout layout(testing::test_shelf().fileserver);
  for (const char* bad : {"", "..", "../x", "a/b", "PI01", "-x", "pi 1", ".staging"}) {
    auto p = layout.pi(bad);
    ASSERT_FALSE(p.has_value()) << bad;
    EXPECT_EQ(p.error().code, ErrorCode::invalid_argument);
  }
}

TEST(Describe, LiveCommandsAreSkippedOnlyWithAPrefix) {
  Action a;
  a.argv = {"exportfs", "-ra"};
  a.live = true;
  EXPECT_EQ(describe(a, false), "run 'exportfs' '-ra'");
  EXPECT_EQ(describe(a, true), "skip 'exportfs' '-ra' (root_prefix set)");
  a.live = false;
  EXPECT_EQ(describe(a, true), "run 'exportfs' '-ra'");
}

}  // namespace
}  // namespace picluster::nfsroot
