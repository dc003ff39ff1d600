// The failures an operator meets: the switch does not answer, and another run holds the shelf.

#include <gmock/gmock.h>

#include "tests/integration/orchestrator/shelf_checks.hpp"

namespace picluster::orchestrator::it {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(ErrorsTest, AddWithTheSwitchDownFailsClearlyKeepsThePiAndApplyFinishesLater) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  ASSERT_EQ(shelf.add(1).status, 0);
  shelf.stop_switch();

  const auto r = shelf.add(2);
  EXPECT_EQ(r.status, 1) << TestShelf::describe({"add", "pi02"}, r);
  const auto err = lines(r.err);
  ASSERT_EQ(err.size(), 1U) << r.err;
  EXPECT_THAT(err[0], StartsWith("picluster: error: "));
  EXPECT_THAT(err[0], HasSubstr(shelf.switch_address()));
  EXPECT_THAT(err[0], HasSubstr("pi02"));
  // The Pi stays in the inventory, with its allocation.
  const json pi02 = show_pi(shelf, "pi02");
  ASSERT_TRUE(pi02.contains("vlan"));

  ASSERT_TRUE(shelf.start_switch()) << shelf.why_not();
  const auto applied = shelf.pic({"apply"});
  ASSERT_EQ(applied.status, 0) << TestShelf::describe({"apply"}, applied);
  EXPECT_EQ(snmp_value(shelf, pvid_oid(2)), std::to_string(pi02["vlan"].get<int>()));
  EXPECT_EQ(testing::read_file(shelf.root("pi02") / "etc/hostname"), "pi02\n");
  EXPECT_TRUE(exports(shelf).contains("/srv/nfsroot/pi02"));
  EXPECT_EQ(shelf.pic_json({"plan", "--json"})["changes"], false);
}

// --json is a machine-readable answer even when the verb fails before its document: plan, switch
// show, switch probe and discover printed nothing on stdout with the switch down (only stderr).
TEST(ErrorsTest, JsonVerbsGiveAJsonErrorWhenTheSwitchIsDown) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  ASSERT_EQ(shelf.add(1).status, 0);
  shelf.stop_switch();
  const std::string inventory_before = testing::read_file(shelf.inventory_path());
  for (const std::vector<std::string>& args : {std::vector<std::string>{"plan", "--json"},
                                              {"switch", "show", "--json"},
                                              {"switch", "probe", "--json"},
                                              {"discover", "--json"}}) {
    const auto r = shelf.pic(args);
    EXPECT_EQ(r.status, 1) << TestShelf::describe(args, r);
    const json j = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << TestShelf::describe(args, r);
    EXPECT_EQ(j["ok"], false) << r.out;
    EXPECT_THAT(j["error"].get<std::string>(), HasSubstr(shelf.switch_address())) << r.out;
    EXPECT_THAT(r.err, StartsWith("picluster: error: ")) << r.err;
  }
  EXPECT_EQ(testing::read_file(shelf.inventory_path()), inventory_before);
}

TEST(ErrorsTest, ASecondMutatingRunIsRefusedWhileTheShelfLockIsHeld) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  if (!testing::have_program("flock")) GTEST_SKIP() << "needs flock (util-linux)";
  ASSERT_EQ(shelf.add(1).status, 0);
  const std::string inventory_before = testing::read_file(shelf.inventory_path());

  // Another run holds the shelf's lock file (flock(2), as picluster takes it).
  const fs::path lock = shelf.dir() / ".picluster/orchtest.lock";
  ASSERT_TRUE(fs::exists(lock))
      << "the lock file picluster uses is not where the journal header says";
  // --no-fork: flock(1) execs sleep itself, so stopping that one process releases the lock.
  auto holder =
      testing::Daemon::start({"flock", "--exclusive", "--no-fork", lock.string(), "sleep", "60"},
                             shelf.dir() / "flock.log");
  ASSERT_TRUE(holder);
  // flock(1) takes the lock right after it starts; wait (bounded) until a probe cannot get it.
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return testing::run({"flock", "--nonblock", "--exclusive", lock.string(), "true"}).status !=
               0;
      },
      std::chrono::seconds(10)));

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"add", "pi02", "--port", "2", "--mac", pi_mac(2)},
        std::vector<std::string>{"apply"}, std::vector<std::string>{"remove", "pi01"}}) {
    const auto r = shelf.pic(args);
    EXPECT_EQ(r.status, 1) << TestShelf::describe(args, r);
    EXPECT_THAT(r.err, HasSubstr("another picluster run")) << TestShelf::describe(args, r);
  }
  EXPECT_EQ(testing::read_file(shelf.inventory_path()), inventory_before);
  EXPECT_TRUE(fs::exists(shelf.root("pi01")));
  // Reading is never refused.
  EXPECT_EQ(shelf.pic({"status", "--json"}).status, 0);

  holder->stop(SIGTERM);
  const auto added = shelf.add(2);
  EXPECT_EQ(added.status, 0) << TestShelf::describe({"add", "pi02"}, added);
}

// Another run holds the shelf's lock (flock(1) on the lock file, as picluster takes it).
std::unique_ptr<testing::Daemon> hold_shelf_lock(const TestShelf& shelf) {
  const fs::path lock = shelf.dir() / ".picluster/orchtest.lock";
  auto holder =
      testing::Daemon::start({"flock", "--exclusive", "--no-fork", lock.string(), "sleep", "60"},
                             shelf.dir() / "flock.log");
  if (!holder) return nullptr;
  const bool held = testing::wait_until(
      [&] {
        return testing::run({"flock", "--nonblock", "--exclusive", lock.string(), "true"}).status !=
               0;
      },
      std::chrono::seconds(10));
  return held ? std::move(holder) : nullptr;
}

// `picluster rebuild` swaps a Pi's root and powers it: a mutating run like any other.
TEST(ErrorsTest, RebuildIsRefusedWhileTheShelfLockIsHeld) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  if (!testing::have_program("flock")) GTEST_SKIP() << "needs flock (util-linux)";
  ASSERT_EQ(shelf.add(1).status, 0);
  testing::write_file(shelf.root("pi01") / "home/pi/marker.txt", "still here\n");
  const fs::path lock = shelf.dir() / ".picluster/orchtest.lock";
  auto holder =
      testing::Daemon::start({"flock", "--exclusive", "--no-fork", lock.string(), "sleep", "60"},
                             shelf.dir() / "flock.log");
  ASSERT_TRUE(holder);
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return testing::run({"flock", "--nonblock", "--exclusive", lock.string(), "true"}).status !=
               0;
      },
      std::chrono::seconds(10)));
  const auto r = shelf.pic({"rebuild", "pi01"});
  EXPECT_EQ(r.status, 1) << TestShelf::describe({"rebuild", "pi01"}, r);
  EXPECT_THAT(r.err, HasSubstr("another picluster run"))
      << TestShelf::describe({"rebuild", "pi01"}, r);
  EXPECT_EQ(testing::read_file(shelf.root("pi01") / "home/pi/marker.txt"), "still here\n");
}

// rollback (PoE off, swap, PoE on) and `fileserver apply` change the shelf too: refused while
// another run holds the lock, and nothing changed or journaled.
TEST(ErrorsTest, RollbackAndFileserverApplyAreRefusedWhileTheShelfLockIsHeld) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  if (!testing::have_program("flock")) GTEST_SKIP() << "needs flock (util-linux)";
  ASSERT_EQ(shelf.add(1).status, 0);
  ASSERT_EQ(shelf.pic({"rebuild", "pi01"}).status, 0);
  testing::write_file(shelf.root("pi01") / "home/pi/marker.txt", "new root\n");
  fs::remove(shelf.exports_file());  // something for `fileserver apply` to do
  const std::size_t journal_before = journal(shelf).size();

  auto holder = hold_shelf_lock(shelf);
  ASSERT_TRUE(holder);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"rollback", "pi01"},
                                               std::vector<std::string>{"fileserver", "apply"}}) {
    const auto r = shelf.pic(args);
    EXPECT_EQ(r.status, 1) << TestShelf::describe(args, r);
    EXPECT_THAT(r.err, HasSubstr("another picluster run")) << TestShelf::describe(args, r);
  }
  EXPECT_EQ(testing::read_file(shelf.root("pi01") / "home/pi/marker.txt"), "new root\n");
  EXPECT_FALSE(fs::exists(shelf.exports_file()));
  EXPECT_EQ(journal(shelf).size(), journal_before);

  // Dry runs change nothing, so they are not refused; they say another run is active.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"add", "pi02", "--port", "2", "--mac", pi_mac(2), "--dry-run"},
        std::vector<std::string>{"remove", "pi01", "--dry-run"},
        std::vector<std::string>{"rollback", "pi01", "--dry-run"},
        std::vector<std::string>{"rebuild", "pi01", "--dry-run"}}) {
    const auto r = shelf.pic(args);
    EXPECT_EQ(r.status, 0) << TestShelf::describe(args, r);
    EXPECT_THAT(r.out, HasSubstr("another picluster run is changing shelf orchtest"))
        << TestShelf::describe(args, r);
  }
  EXPECT_TRUE(fs::exists(shelf.root("pi01")));
  EXPECT_THAT(testing::read_file(shelf.inventory_path()), Not(HasSubstr("\"pi02\"")));

  // Once the other run is gone, fileserver apply runs and journals what it did.
  holder->stop(SIGTERM);
  const auto applied = shelf.pic({"fileserver", "apply"});
  ASSERT_EQ(applied.status, 0) << TestShelf::describe({"fileserver", "apply"}, applied);
  EXPECT_TRUE(exports(shelf).contains("/srv/nfsroot/pi01"));
  const auto lines = journal(shelf);
  ASSERT_EQ(lines.size(), journal_before + 1);
  EXPECT_EQ(lines.back()["verb"], "fileserver");
  EXPECT_EQ(lines.back()["result"], "ok");
  EXPECT_THAT(lines.back()["detail"].get<std::string>(), HasSubstr("picluster.exports"));
}

// A Pi name the inventory does not have: one error line naming it, exit 1, whether the shelf is
// named or not and with or without --dry-run; nothing journaled for it.
TEST(ErrorsTest, AnUnknownPiIsOneClearErrorForRemoveRebuildRollbackAndPower) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  ASSERT_EQ(shelf.add(1).status, 0);
  const std::string inventory_before = testing::read_file(shelf.inventory_path());
  const std::size_t journal_before = journal(shelf).size();
  for (const std::vector<std::string>& verb :
       {std::vector<std::string>{"remove", "nosuch"},
        std::vector<std::string>{"remove", "nosuch", "--keep"},
        std::vector<std::string>{"rebuild", "nosuch"},
        std::vector<std::string>{"rebuild", "pi01", "nosuch"},
        std::vector<std::string>{"rollback", "nosuch"}}) {
    for (const bool named_shelf : {false, true}) {
      for (const bool dry_run : {false, true}) {
        std::vector<std::string> args;
        if (named_shelf) args = {"--shelf", "orchtest"};
        args.insert(args.end(), verb.begin(), verb.end());
        if (dry_run) args.push_back("--dry-run");
        const auto r = shelf.pic(args);
        EXPECT_EQ(r.status, 1) << TestShelf::describe(args, r);
        const auto err = lines(r.err);
        ASSERT_EQ(err.size(), 1U) << TestShelf::describe(args, r);
        EXPECT_THAT(err[0], StartsWith("picluster: error: ")) << TestShelf::describe(args, r);
        EXPECT_THAT(err[0], HasSubstr("no pi named \"nosuch\"")) << TestShelf::describe(args, r);
      }
    }
  }
  EXPECT_EQ(testing::read_file(shelf.inventory_path()), inventory_before);
  EXPECT_EQ(journal(shelf).size(), journal_before);
  EXPECT_EQ(testing::read_file(shelf.root("pi01") / "etc/hostname"),
            "pi01\n");  // `rebuild pi01 nosuch` left it
}

// status says the same with and without --json: exit 0 when the shelf is as the inventory says,
// 1 (and the problem named) when a row is wrong.
TEST(ErrorsTest, StatusExitsOneWithAndWithoutJsonWhenARootIsMissing) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  ASSERT_EQ(shelf.add(1).status, 0);
  ASSERT_EQ(shelf.add(2).status, 0);
  const std::vector<std::string> text{"status", "--probe", "none"};
  const std::vector<std::string> as_json{"status", "--json", "--probe", "none"};
  EXPECT_EQ(shelf.pic(text).status, 0) << TestShelf::describe(text, shelf.pic(text));
  EXPECT_EQ(shelf.pic(as_json).status, 0);

  fs::remove_all(shelf.root("pi02"));
  const auto t = shelf.pic(text);
  EXPECT_EQ(t.status, 1) << TestShelf::describe(text, t);
  EXPECT_THAT(t.out, HasSubstr("warning: pi02: root missing"));
  const auto j = shelf.pic(as_json);
  EXPECT_EQ(j.status, 1) << TestShelf::describe(as_json, j);
  const json doc = json::parse(j.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << j.out;
  EXPECT_EQ(doc["problems"], json::array({"pi02: root missing"}));
}

// `example --json` is one JSON document: the steps, and the shelf's status at the end.
TEST(ErrorsTest, ExampleJsonIsOneDocumentAndAddPowersThePiOn) {
  testing::TempDir dir("orchexample");
  testing::RunOptions o;
  o.env = {{"PICLUSTER_STATE_DIR", (dir.path() / "state").string()}};
  o.timeout_seconds = 300;
  const auto r = testing::run({testing::picluster_exe().string(), "example", "--dir",
                               (dir.path() / "shelf").string(), "--pis", "1", "--json"},
                              o);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const json doc = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_EQ(doc["ok"], true);
  EXPECT_FALSE(doc["steps"].empty());
  EXPECT_EQ(doc["status"]["pis"].size(), 1U);
  EXPECT_EQ(doc["status"]["problems"], json::array());
  // The example's switch starts with the Pi ports unpowered: add's last step switches PoE on.
  ASSERT_FALSE(doc["steps"].empty());
  json first_power;
  for (const auto& s : doc["steps"]) {
    if (s["pi"] == "pi01" && s["step"] == "power") {
      first_power = s;
      break;
    }
  }
  EXPECT_EQ(first_power.value("result", ""), "ok") << doc["steps"].dump(1);
  EXPECT_EQ(first_power.value("detail", ""), "PoE on, port 1") << doc["steps"].dump(1);
}

}  // namespace
}  // namespace picluster::orchestrator::it
