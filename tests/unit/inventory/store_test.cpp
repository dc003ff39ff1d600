#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

#include "inventory/inventory.hpp"
#include "tests/unit/inventory/test_util.hpp"

namespace picluster::inventory {
namespace {

namespace fs = std::filesystem;

class Store : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / ("picluster-store-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }
  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  fs::path m_dir;
};

TEST_F(Store, SaveThenLoadRoundTrips) {
  const auto path = m_dir / "inventory.json";
  const auto inv = testing::seed_inventory(4);
  ASSERT_TRUE(save(inv, path));
  auto loaded = load(path);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(serialize(*loaded), serialize(inv));
  EXPECT_EQ(read(path), serialize(inv));
  // No temp files are left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(m_dir), fs::directory_iterator{}), 1);
}

TEST_F(Store, SaveKeepsTheFileMode) {
  const auto path = m_dir / "inventory.json";
  ASSERT_TRUE(save(testing::seed_inventory(1), path));
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_TRUE(save(testing::seed_inventory(2), path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
}

TEST_F(Store, MissingFileSaysHowToCreateOne) {
  const auto r = load(m_dir / "nope.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_NE(r.error().message.find("picluster init"), std::string::npos) << r.error().message;
}

TEST_F(Store, SecondProcessCannotTakeTheLock) {
  const auto path = m_dir / "inventory.json";
  ASSERT_TRUE(save(testing::seed_inventory(1), path));
  int to_parent[2];
  int to_child[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  ASSERT_EQ(::pipe(to_child), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = Lock::acquire(path, false);
    const char status = lock ? 'L' : 'E';
    (void)!::write(to_parent[1], &status, 1);
    if (!lock) ::_exit(1);
    char go;
    (void)!::read(to_child[0], &go, 1);  // hold the lock until the parent has tried
    ::_exit(0);
  }
  char status = 0;
  ASSERT_EQ(::read(to_parent[0], &status, 1), 1);
  ASSERT_EQ(status, 'L');
  const auto contended = Lock::acquire(path, false);
  ASSERT_FALSE(contended);
  EXPECT_EQ(contended.error().code, ErrorCode::locked);
  EXPECT_NE(contended.error().message.find("another picluster run holds the lock"), std::string::npos);
  (void)!::write(to_child[1], "g", 1);
  int wstatus = 0;
  ::waitpid(child, &wstatus, 0);
  // Released when the holder exits.
  EXPECT_TRUE(Lock::acquire(path, false));
}

}  // namespace
}  // namespace picluster::inventory

namespace picluster::inventory {
namespace {

TEST(StoreLock, MissingInventoryLeavesNoLockFileBehind) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("picluster-store-nolock-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto path = dir / "typo.json";
  const auto lock = Lock::acquire(path, false);
  ASSERT_FALSE(lock);
  EXPECT_EQ(lock.error().code, ErrorCode::not_found);
  EXPECT_EQ(lock.error().message,
            path.string() + ": no such inventory (create one with `picluster init`)");
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".lock"));
  // init may lock an inventory that does not exist yet.
  EXPECT_TRUE(Lock::acquire(path, false, /*inventory_may_be_missing=*/true));
  std::filesystem::remove_all(dir);
}

TEST(StoreSave, MissingFolderNamesTheInventoryNotTheTempFile) {
  const std::filesystem::path path = "/nonexistent-picluster-dir/inventory.json";
  const auto r = save(testing::seed_inventory(1), path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, path.string() + ": cannot write: No such file or directory");
}

}  // namespace
}  // namespace picluster::inventory
