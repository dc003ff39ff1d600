// The audit journal (append, read, filter, last entry, malformed lines) and the shelf lock.

#include <gmock/gmock.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "orchestrator/journal.hpp"

namespace picluster::orchestrator {
namespace {

namespace fs = std::filesystem;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "picluster-journal-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    m_dir = tmpl;
  }
  void TearDown() override { fs::remove_all(m_dir); }
  static JournalEntry entry(const std::string& pi, const std::string& step, const std::string& result) {
    return JournalEntry{"", "", "add", "shelf1", pi, step, result, "detail of " + step};
  }
  fs::path m_dir;
};

TEST_F(JournalTest, AppendsOneJsonLinePerEntryWithTimeAndUserFilledIn) {
  const Journal journal(m_dir / "state");
  ASSERT_TRUE(journal.append(entry("pi01", "switch", "ok")).has_value());
  ASSERT_TRUE(journal.append(entry("pi02", "root", "failed")).has_value());
  std::ifstream in(journal.path());
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    const auto j = inventory::Json::parse(line);
    EXPECT_THAT(j["time"].get<std::string>(), ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"));
    EXPECT_FALSE(j["user"].get<std::string>().empty());
  }
  EXPECT_EQ(lines, 2);
}

TEST_F(JournalTest, ReadsBackInOrderFiltersByPiAndSkipsMalformedLines) {
  const Journal journal(m_dir);
  ASSERT_TRUE(journal.append(entry("pi01", "switch", "ok")).has_value());
  std::ofstream(journal.path(), std::ios::app) << "{not json\n\n";
  ASSERT_TRUE(journal.append(entry("pi02", "root", "ok")).has_value());
  ASSERT_TRUE(journal.append(entry("pi01", "boot", "ok")).has_value());

  const auto all = journal.read();
  ASSERT_TRUE(all.has_value()) << all.error().message;
  ASSERT_EQ(all->size(), 3U);
  EXPECT_EQ((*all)[1].pi, "pi02");
  const auto pi01 = journal.read("pi01");
  ASSERT_TRUE(pi01.has_value());
  ASSERT_EQ(pi01->size(), 2U);
  EXPECT_EQ((*pi01)[0].step, "switch");
  EXPECT_EQ((*pi01)[1].step, "boot");
  const auto last = journal.last_for("pi01");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->step, "boot");
  EXPECT_EQ(last->detail, "detail of boot");
  EXPECT_FALSE(journal.last_for("pi09").has_value());
}

TEST_F(JournalTest, AMissingJournalReadsAsEmpty) {
  const Journal journal(m_dir / "nothing-yet");
  const auto all = journal.read();
  ASSERT_TRUE(all.has_value()) << all.error().message;
  EXPECT_TRUE(all->empty());
}

TEST_F(JournalTest, ShelfLockRefusesASecondHolderUntilReleased) {
  {
    auto first = ShelfLock::acquire(m_dir, "shelf1");
    ASSERT_TRUE(first.has_value()) << first.error().message;
    auto second = ShelfLock::acquire(m_dir, "shelf1");
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code, ErrorCode::locked);
    EXPECT_THAT(second.error().message, ::testing::HasSubstr("shelf1"));
    auto other_shelf = ShelfLock::acquire(m_dir, "shelf2");
    EXPECT_TRUE(other_shelf.has_value());
  }
  EXPECT_TRUE(ShelfLock::acquire(m_dir, "shelf1").has_value());
}

TEST_F(JournalTest, StateDirIsBesideTheInventoryUnlessTheEnvironmentSaysOtherwise) {
  ::unsetenv("PICLUSTER_STATE_DIR");
  EXPECT_EQ(state_dir("/etc/picluster/inventory.json"), fs::path("/etc/picluster/.picluster"));
  ::setenv("PICLUSTER_STATE_DIR", (m_dir / "elsewhere").c_str(), 1);
  EXPECT_EQ(state_dir("/etc/picluster/inventory.json"), m_dir / "elsewhere");
  ::unsetenv("PICLUSTER_STATE_DIR");
}

}  // namespace
}  // namespace picluster::orchestrator
