// The state folder's files (power holds, journal) read and written without an exception or a crash
// escaping, whatever they hold (issue 13), and `validate`'s check of the watch section.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "orchestrator/journal.hpp"
#include "orchestrator/power_hold.hpp"
#include "orchestrator/watch.hpp"

namespace picluster::orchestrator {
namespace {

namespace fs = std::filesystem;

class StateFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "picluster-trust-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    m_dir = tmpl;
  }
  void TearDown() override { fs::remove_all(m_dir); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(m_dir / name) << text; }
  fs::path m_dir;
};

TEST_F(StateFiles, AHugeNumberInTheHoldsFileIsAnErrorNamingThePosition) {
  write("shelf1.holds.json", "{\"holds\": {\"pi05\": {\"since\": 1e400}}}");
  auto all = PowerHolds(m_dir, "shelf1").read();
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().message.rfind((m_dir / "shelf1.holds.json").string() +
                                          ": line 1, column 30: not valid JSON (number overflow parsing '1e400')",
                                      0),
            0u)
      << all.error().message;
}

TEST_F(StateFiles, DeepNestingInTheHoldsFileIsAnErrorNotACrash) {
  write("shelf1.holds.json", "{\"holds\": " + std::string(130000, '[') + std::string(130000, ']') + "}");
  auto all = PowerHolds(m_dir, "shelf1").read();
  ASSERT_FALSE(all);
  EXPECT_NE(all.error().message.find("line 1, column 74: not valid JSON (nesting deeper than 64 levels)"),
            std::string::npos)
      << all.error().message;
}

TEST_F(StateFiles, AReasonThatIsNotUtf8IsStoredNotThrown) {
  const PowerHolds holds(m_dir, "shelf1");
  auto held = holds.hold("pi05", {"2026-11-22T03:20:00Z", "alice", "bad \xff card"});
  ASSERT_TRUE(held) << held.error().message;
  auto back = holds.find("pi05");
  ASSERT_TRUE(back && *back);
  EXPECT_EQ((*back)->reason, "bad \xef\xbf\xbd card");
}

TEST_F(StateFiles, JournalLinesThatCannotBeReadAreSkippedAndBadBytesAreWritten) {
  const Journal journal(m_dir);
  ASSERT_TRUE(journal.append({"", "", "add", "shelf1", "pi01", "switch", "ok", "fine"}));
  std::ofstream(journal.path(), std::ios::app) << "{\"pi\": 1e400}\n"
                                               << std::string(200000, '[') << "\n"
                                               << "{\"pi\": " << std::string(100, '{') << "\n";
  // Output of a failed command can hold any byte: the line is still written, and read back.
  ASSERT_TRUE(journal.append({"", "", "add", "shelf1", "pi01", "root", "failed", "rsync: \xff\xfe"}));
  auto all = journal.read();
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].result, "failed");
}

inventory::Shelf shelf_with_watch(const inventory::Json& watch) {
  auto inv = inventory::make_default("rack1");
  inv.shelves[0].extra["watch"] = watch;
  return inv.shelves[0];
}

TEST(WatchSection, ValidateChecksWhatWatchChecksNamingTheKey) {
  EXPECT_TRUE(check_watch_section(shelf_with_watch({{"probe", "none"}, {"failures", 3}})));
  auto zero = check_watch_section(shelf_with_watch({{"failures", 0}}));
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::invalid_inventory);
  EXPECT_EQ(zero.error().message, "shelf 'rack1': watch.failures: must be 1..1000000");
  auto fraction = check_watch_section(shelf_with_watch({{"outage_fraction", 0}}));
  ASSERT_FALSE(fraction);
  EXPECT_EQ(fraction.error().message, "shelf 'rack1': watch.outage_fraction must be above 0 and at most 1");
  auto timeout = check_watch_section(shelf_with_watch({{"probe_timeout", 0}}));
  ASSERT_FALSE(timeout);
  EXPECT_EQ(timeout.error().message, "shelf 'rack1': watch.probe_timeout must be positive");
  auto unknown = check_watch_section(shelf_with_watch({{"probes", "none"}}));
  ASSERT_FALSE(unknown);
}

}  // namespace
}  // namespace picluster::orchestrator
