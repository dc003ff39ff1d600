// The power hold store: round trip, atomic rewrite, and a bad file named in the error.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "orchestrator/power_hold.hpp"

namespace picluster::orchestrator {
namespace {

namespace fs = std::filesystem;

class PowerHoldStore : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / ("picluster-hold-unit-" + std::to_string(::getpid()));
    fs::remove_all(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  void write(const std::string& text) {
    fs::create_directories(m_dir);
    std::ofstream(m_dir / "shelf1.holds.json") << text;
  }
  std::string contents() const {
    std::ifstream in(m_dir / "shelf1.holds.json");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static ino_t inode(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
  }

  fs::path m_dir;
};

TEST_F(PowerHoldStore, NoFileMeansNoHolds) {
  const PowerHolds holds(m_dir, "shelf1");
  auto all = holds.read();
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_TRUE(all->empty());
  auto one = holds.find("pi05");
  ASSERT_TRUE(one);
  EXPECT_FALSE(*one);
  auto released = holds.release("pi05");  // nothing to release: no file is written
  ASSERT_TRUE(released);
  EXPECT_FALSE(*released);
  EXPECT_FALSE(fs::exists(holds.path()));
}

TEST_F(PowerHoldStore, RoundTripKeepsTimeUserAndReasonPerShelf) {
  const PowerHolds holds(m_dir, "shelf1");
  ASSERT_TRUE(holds.hold("pi05", {"2026-11-22T03:20:00Z", "alice", "bad board"}));
  auto filled = holds.hold("pi07", {});  // time and user filled in
  ASSERT_TRUE(filled);
  EXPECT_EQ(filled->since.size(), std::string("2026-11-22T03:20:00Z").size());
  EXPECT_FALSE(filled->user.empty());
  EXPECT_EQ(holds.path(), m_dir / "shelf1.holds.json");

  auto all = PowerHolds(m_dir, "shelf1").read();
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(describe(all->at("pi05")), "held off since 2026-11-22T03:20:00Z by alice (bad board)");
  EXPECT_EQ(all->at("pi07").reason, "");
  EXPECT_TRUE(PowerHolds(m_dir, "shelf2").read()->empty());  // another shelf, another file

  auto released = holds.release("pi05");
  ASSERT_TRUE(released);
  ASSERT_TRUE(*released);
  EXPECT_EQ((*released)->user, "alice");
  all = holds.read();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);
  EXPECT_TRUE(all->contains("pi07"));
}

TEST_F(PowerHoldStore, WritesAreANewFileRenamedIntoPlace) {
  const PowerHolds holds(m_dir, "shelf1");
  ASSERT_TRUE(holds.hold("pi05", {"2026-11-22T03:20:00Z", "alice", ""}));
  const ino_t first = inode(holds.path());
  ASSERT_TRUE(holds.hold("pi06", {"2026-11-22T03:21:00Z", "bob", ""}));
  // Replaced by rename (a new inode), never rewritten in place; no temp file left behind.
  EXPECT_NE(inode(holds.path()), first);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(m_dir)) {
    EXPECT_EQ(entry.path().filename(), "shelf1.holds.json");
    ++files;
  }
  EXPECT_EQ(files, 1);
  EXPECT_NE(contents().find("\"pi06\""), std::string::npos) << contents();
}

TEST_F(PowerHoldStore, ASyntaxErrorNamesTheFileAndThePosition) {
  write("{\n  \"holds\": {\"pi05\": \n");
  const PowerHolds holds(m_dir, "shelf1");
  auto all = holds.read();
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code, ErrorCode::io);
  EXPECT_EQ(all.error().message.rfind(holds.path().string() + ": line 3, column 1: not valid JSON", 0), 0u)
      << all.error().message;
  EXPECT_NE(all.error().message.find("delete it to release every hold"), std::string::npos);
}

TEST_F(PowerHoldStore, AWrongFieldNamesTheFileThePiAndTheField) {
  write(R"({"holds": {"pi05": {"since": 5, "user": "alice"}}})");
  auto all = PowerHolds(m_dir, "shelf1").read();
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().message.rfind((m_dir / "shelf1.holds.json").string() + ": holds.pi05.since: expected a string",
                                      0),
            0u)
      << all.error().message;
  write(R"({"pi05": {}})");
  all = PowerHolds(m_dir, "shelf1").read();
  ASSERT_FALSE(all);
  EXPECT_NE(all.error().message.find("expected {\"holds\""), std::string::npos) << all.error().message;
}

TEST_F(PowerHoldStore, ABadFileIsNeitherOverwrittenNorReleased) {
  write("not json");
  const PowerHolds holds(m_dir, "shelf1");
  EXPECT_FALSE(holds.hold("pi05", {}));
  EXPECT_FALSE(holds.release("pi05"));
  EXPECT_FALSE(holds.find("pi05"));
  EXPECT_EQ(contents(), "not json");
}

}  // namespace
}  // namespace picluster::orchestrator
