// Issue 13, end to end with the real binary: bad input never takes picluster down, a verb verifies
// what it touched, a symlinked inventory is written through, failed steps are journaled, and the
// small sharp edges of the command line are gone.

#include <gmock/gmock.h>

#include "tests/integration/orchestrator/shelf_checks.hpp"

namespace picluster::orchestrator::it {
namespace {

using ::testing::HasSubstr;

// `picluster --inventory INVENTORY ARGS...` with the shelf's state folder.
RunResult pic_at(const TestShelf& shelf, const fs::path& inventory, const std::vector<std::string>& args) {
  auto argv = shelf.pic_argv(args);
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "--inventory") argv[i + 1] = inventory.string();
  }
  return testing::run(argv);
}

TEST(TrustTest, AddAfterAnOfflineAddVerifiesItsOwnPortAndNotesTheOther) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  ASSERT_EQ(shelf.add(1, {"--offline"}).status, 0);
  const auto r = shelf.add(2);
  ASSERT_EQ(r.status, 0) << TestShelf::describe({"add", "pi02"}, r);
  // pi01's unconfigured port is a note, not a failure, and pi02 got everything.
  EXPECT_THAT(r.out, HasSubstr("note"));
  EXPECT_THAT(r.out, HasSubstr("switch: note (pi01 (port 1) ("));
  EXPECT_THAT(r.out, HasSubstr("differs from the inventory; not changed by this run"));
  EXPECT_EQ(testing::read_file(shelf.root("pi02") / "etc/hostname"), "pi02\n");
  EXPECT_TRUE(exports(shelf).contains("/srv/nfsroot/pi02"));
  EXPECT_FALSE(fs::exists(shelf.root("pi01")));
  // apply then finishes pi01, and nothing is left.
  ASSERT_EQ(shelf.pic({"apply"}).status, 0);
  EXPECT_EQ(shelf.pic_json({"plan", "--json"})["changes"], false);
}

TEST(TrustTest, AFailedAddIsJournaledWithItsErrorAndLogShowsIt) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  shelf.stop_switch();
  const auto r = shelf.add(1);
  ASSERT_EQ(r.status, 1) << TestShelf::describe({"add"}, r);
  const auto lines = journal(shelf);
  ASSERT_FALSE(lines.empty());
  const auto& last = lines.back();
  EXPECT_EQ(last["verb"], "add");
  EXPECT_EQ(last["pi"], "pi01");
  EXPECT_EQ(last["result"], "failed");
  EXPECT_THAT(last["detail"].get<std::string>(), HasSubstr(shelf.switch_address())) << last.dump();
  const auto log = shelf.pic({"log"});
  ASSERT_EQ(log.status, 0);
  EXPECT_THAT(log.out, HasSubstr("failed"));
  EXPECT_THAT(log.out, HasSubstr(shelf.switch_address()));
}

TEST(TrustTest, ASymlinkedInventoryIsWrittenThroughAndSharesTheRealFilesLock) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  const fs::path link = shelf.dir() / "link.json";
  fs::create_symlink(shelf.inventory_path().filename(), link);
  const auto added = pic_at(shelf, link, {"add", "pi01", "--port", "1", "--mac", pi_mac(1), "--offline"});
  ASSERT_EQ(added.status, 0) << added.err;
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_THAT(testing::read_file(shelf.inventory_path()), HasSubstr("\"pi01\""));
  EXPECT_FALSE(fs::exists(shelf.dir() / "link.json.lock"));
  // A run through the real path holds the inventory lock: a run through the link is refused.
  const fs::path lock = shelf.dir() / "inventory.json.lock";
  auto holder = testing::Daemon::start({"flock", "--exclusive", "--no-fork", lock.string(), "sleep", "60"},
                                       shelf.dir() / "flock.log");
  ASSERT_TRUE(holder);
  ASSERT_TRUE(testing::wait_until(
      [&] { return testing::run({"flock", "--nonblock", "--exclusive", lock.string(), "true"}).status != 0; },
      std::chrono::seconds(10)));
  const auto refused = pic_at(shelf, link, {"add", "pi02", "--port", "2", "--offline"});
  EXPECT_EQ(refused.status, 1) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("another picluster run holds the lock"));
}

TEST(TrustTest, BadInventoriesAreErrorsNotCrashes) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  const std::string good = testing::read_file(shelf.inventory_path());
  std::string huge = good;
  huge.replace(huge.find("\"version\": 1,"), 13, "\"version\": 1, \"x\": 1e400,");
  testing::write_file(shelf.inventory_path(), huge);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"list"}, {"plan"}, {"validate"}}) {
    const auto r = shelf.pic(args);
    EXPECT_EQ(r.status, 1) << TestShelf::describe(args, r);
    EXPECT_THAT(r.err, HasSubstr("number overflow parsing '1e400'")) << TestShelf::describe(args, r);
  }
  testing::write_file(shelf.inventory_path(), std::string(130000, '[') + std::string(130000, ']'));
  const auto deep = shelf.pic({"validate"});
  EXPECT_EQ(deep.status, 1) << TestShelf::describe({"validate"}, deep);
  EXPECT_THAT(deep.err, HasSubstr(":1:65: nesting deeper than 64 levels"));
  // A folder given as the inventory.
  const auto folder = pic_at(shelf, shelf.dir(), {"list"});
  EXPECT_EQ(folder.status, 2) << folder.err;
  EXPECT_THAT(folder.err, HasSubstr(shelf.dir().string() + ": is a folder, not an inventory file"));
}

TEST(TrustTest, ValidateAppliesTheWatchSectionsOwnChecks) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  auto inv = inventory::load(shelf.inventory_path());
  ASSERT_TRUE(inv);
  inv->shelves[0].extra["watch"] = json{{"probe", "none"}, {"probe_timeout", 0}};
  ASSERT_TRUE(inventory::save(*inv, shelf.inventory_path()));
  const auto r = shelf.pic({"validate"});
  EXPECT_EQ(r.status, 1) << TestShelf::describe({"validate"}, r);
  EXPECT_THAT(r.err, HasSubstr("shelf 'orchtest': watch.probe_timeout must be positive"));
  // and watch rejects the same file
  const auto w = shelf.pic({"watch", "--rounds", "1"});
  EXPECT_NE(w.status, 0);
}

TEST(TrustTest, CommandLineSharpEdges) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  const auto limit = shelf.pic({"log", "--limit", "-1"});
  EXPECT_EQ(limit.status, 2) << limit.err;
  const auto rf = shelf.pic({"add", "-rf"});
  EXPECT_EQ(rf.status, 2) << rf.err;
  EXPECT_THAT(rf.err, HasSubstr("-rf"));
}

TEST(TrustTest, AMulticastMacIsRefusedByAdd) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  const auto r = shelf.pic({"add", "pi01", "--port", "1", "--mac", "ff:ff:ff:ff:ff:ff", "--offline"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("ff:ff:ff:ff:ff:ff is the broadcast address"));
  EXPECT_THAT(testing::read_file(shelf.inventory_path()), ::testing::Not(HasSubstr("pi01")));
}

// `picluster example` hands the simulator its community in a 0600 file, never on the command line
// (where `ps` shows it to every user): a wrapper beside a copy of picluster records the argv.
TEST(TrustTest, ExamplePassesNoCommunityOnTheSimulatorsCommandLine) {
  testing::TempDir dir("orchexample-ps");
  const fs::path bin = dir.path() / "bin";
  fs::create_directories(bin);
  fs::copy_file(testing::picluster_exe(), bin / "picluster");
  testing::write_file(bin / "picluster-switchsim", "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" +
                                                      (dir.path() / "argv.log").string() + "'\nexec '" +
                                                      testing::switchsim_exe().string() + "' \"$@\"\n");
  fs::permissions(bin / "picluster-switchsim", fs::perms(0755));
  testing::RunOptions o;
  o.env = {{"PICLUSTER_STATE_DIR", (dir.path() / "state").string()}};
  o.timeout_seconds = 300;
  const auto r = testing::run({(bin / "picluster").string(), "example", "--dir", (dir.path() / "shelf").string(),
                               "--pis", "1", "--json"},
                              o);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const std::string argv = testing::read_file(dir.path() / "argv.log");
  ASSERT_THAT(argv, HasSubstr("--secrets\n"));
  EXPECT_THAT(argv, ::testing::Not(HasSubstr("--community")));
  EXPECT_THAT(argv, ::testing::Not(HasSubstr("example\n")));
  EXPECT_EQ(fs::status(dir.path() / "shelf/switch-secrets.json").permissions() & fs::perms::all, fs::perms(0600));
}

}  // namespace
}  // namespace picluster::orchestrator::it
