// The demo that stays up: scripts/demo.sh leaves the switch simulator running and prints the
// export line; status and power cycle pi03 work against that inventory; example --stop leaves
// no process behind. And plan --detailed-exitcode: 0 no changes, 2 changes, 1 error.

#include <gmock/gmock.h>

#include <fstream>
#include <regex>

#include "tests/integration/orchestrator/shelf_checks.hpp"

namespace picluster::orchestrator::it {
namespace {

using ::testing::HasSubstr;

// Live (not zombie) processes whose command line mentions `needle`.
std::vector<std::string> processes_mentioning(const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(needle) != std::string::npos) found.push_back(pid + ": " + cmd);
  }
  return found;
}

TEST(DemoTest, TheDemoLeavesTheSwitchUpForStatusAndPowerCycleAndStopEndsIt) {
  testing::TempDir dir("demo");
  testing::RunOptions o;
  o.env = {{"PICLUSTER_DEMO_BINARY", testing::picluster_exe().string()}};
  o.timeout_seconds = 600;
  const auto demo = testing::run({"bash", (testing::source_dir() / "scripts/demo.sh").string(),
                                  dir.path().string()}, o);
  ASSERT_EQ(demo.status, 0) << demo.out << demo.err;
  std::smatch m;
  const std::regex exported("\n  export PICLUSTER_INVENTORY=(\\S+)\n");
  ASSERT_TRUE(std::regex_search(demo.out, m, exported)) << demo.out;
  const std::string inventory = m[1];
  EXPECT_EQ(inventory, (dir.path() / "shelf/inventory.json").string());
  for (const char* next : {" status\n", " power cycle pi03\n", " plan\n", " watch --once\n",
                           " example --stop "}) {
    EXPECT_THAT(demo.out, HasSubstr(next));
  }
  const fs::path pidfile = dir.path() / "shelf/switchsim.pid";
  ASSERT_TRUE(fs::exists(pidfile)) << demo.out;
  EXPECT_FALSE(processes_mentioning(dir.path().string()).empty());

  // As the operator would: the printed export, then the commands.
  testing::RunOptions with_inv;
  with_inv.env = {{"PICLUSTER_INVENTORY", inventory}};
  const auto status = testing::run({testing::picluster_exe().string(), "status"}, with_inv);
  EXPECT_EQ(status.status, 0) << status.out << status.err;
  EXPECT_THAT(status.out, HasSubstr("pi08"));
  const auto cycle = testing::run({testing::picluster_exe().string(), "power", "cycle", "pi03"}, with_inv);
  EXPECT_EQ(cycle.status, 0) << cycle.out << cycle.err;

  const auto stop = testing::run({testing::picluster_exe().string(), "example", "--stop",
                                  (dir.path() / "shelf").string()});
  EXPECT_EQ(stop.status, 0) << stop.out << stop.err;
  EXPECT_EQ(processes_mentioning(dir.path().string()), std::vector<std::string>{});
  EXPECT_FALSE(fs::exists(pidfile));
  // Stopping again finds nothing to stop: an error that says so.
  const auto again = testing::run({testing::picluster_exe().string(), "example", "--stop",
                                   (dir.path() / "shelf").string()});
  EXPECT_EQ(again.status, 1);
  EXPECT_THAT(again.err, HasSubstr("switchsim.pid"));
}

TEST(DemoTest, WithoutKeepNothingIsLeftRunning) {
  testing::TempDir dir("demo-nokeep");
  testing::RunOptions o;
  o.env = {{"PICLUSTER_DEMO_BINARY", testing::picluster_exe().string()}, {"PICLUSTER_DEMO_KEEP", "0"}};
  const auto demo = testing::run({"bash", (testing::source_dir() / "scripts/demo.sh").string(),
                                  dir.path().string(), }, o);
  ASSERT_EQ(demo.status, 0) << demo.out << demo.err;
  EXPECT_THAT(demo.out, ::testing::Not(HasSubstr("export PICLUSTER_INVENTORY")));
  EXPECT_EQ(processes_mentioning(dir.path().string()), std::vector<std::string>{});
}

TEST(PlanTest, DetailedExitcodeIsZeroForNoChangesTwoForChangesOneForErrors) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  ASSERT_EQ(shelf.add(1).status, 0);
  EXPECT_EQ(shelf.pic({"plan", "--detailed-exitcode"}).status, 0);
  EXPECT_EQ(shelf.pic({"plan"}).status, 0);
  ASSERT_EQ(shelf.add(2, {"--offline"}).status, 0);  // in the inventory, nowhere else yet
  const auto changes = shelf.pic({"plan", "--detailed-exitcode"});
  EXPECT_EQ(changes.status, 2) << changes.out << changes.err;
  EXPECT_THAT(changes.out, HasSubstr("pi02"));
  EXPECT_EQ(shelf.pic({"plan"}).status, 0);  // without the flag: 0 as before
  // Errors are 1, never 2: a usage error, an unknown shelf, a switch that does not answer.
  EXPECT_EQ(shelf.pic({"plan", "--detailed-exitcode", "--no-such-option"}).status, 1);
  EXPECT_EQ(shelf.pic({"plan", "--no-such-option"}).status, 2);
  EXPECT_EQ(shelf.pic({"--shelf", "nope", "plan", "--detailed-exitcode"}).status, 1);
  shelf.stop_switch();
  EXPECT_EQ(shelf.pic({"plan", "--detailed-exitcode"}).status, 1);
}

}  // namespace
}  // namespace picluster::orchestrator::it
