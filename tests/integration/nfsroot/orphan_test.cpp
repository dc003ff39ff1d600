// A killed run's local children die with it (issue 13): LocalHost starts every command with
// PR_SET_PDEATHSIG, and locked commands run under `flock --no-fork`, so the process holding the
// Pi's lock is the command itself. Nothing is left running to race the next run.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <thread>

#include "nfsroot/actions.hpp"
#include "nfsroot/local_host.hpp"

namespace picluster::nfsroot {
namespace {

namespace fs = std::filesystem;

// The pids whose parent is `parent` (from /proc).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') out.push_back(std::stoi(name));
  }
  return out;
}

bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2 && line[close + 2] != 'Z';
}

template <typename F>
bool eventually(F f) {  // bounded: at most 10 s
  for (int i = 0; i < 2000; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return f();
}

// Forks a "picluster" that runs argv through LocalHost, SIGKILLs it once the command runs, and
// says whether the command died with it.
void expect_command_dies_with_its_parent(const std::vector<std::string>& argv) {
  const pid_t run = ::fork();
  ASSERT_GE(run, 0);
  if (run == 0) {
    LocalHost host;
    RunOptions options;
    options.timeout = std::chrono::seconds(600);
    (void)host.run(argv, options);
    ::_exit(0);
  }
  pid_t command = -1;
  ASSERT_TRUE(eventually([&] {
    const auto kids = children_of(run);
    if (kids.empty()) return false;
    std::ifstream cmd("/proc/" + std::to_string(kids.front()) + "/cmdline");
    std::string text((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
    // "/usr/bin/sleep" or "sleep", once exec'd (not flock, and not the forked copy of this test)
    const std::string argv0 = text.substr(0, text.find('\0'));
    if (!argv0.ends_with("sleep")) return false;
    command = kids.front();
    return true;
  })) << "the command never started";
  ::kill(run, SIGKILL);
  ::waitpid(run, nullptr, 0);
  const bool died = eventually([&] { return !alive(command); });
  if (!died) ::kill(command, SIGKILL);
  EXPECT_TRUE(died) << "pid " << command << " outlived the killed run";
}

TEST(OrphanTest, APlainCommandDiesWithTheKilledRun) { expect_command_dies_with_its_parent({"sleep", "300"}); }

TEST(OrphanTest, ALockedCommandDiesWithTheKilledRunAndReleasesTheLock) {
  const fs::path lock = fs::temp_directory_path() / ("picluster-orphan-" + std::to_string(::getpid()) + ".lock");
  expect_command_dies_with_its_parent(locked_argv(lock.string(), {"sleep", "300"}));
  // The lock is free again at once: the next run does not wait 60 s for an orphan.
  LocalHost host;
  auto r = host.run({"flock", "--nonblock", "--exclusive", lock.string(), "true"}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_status, 0);
  fs::remove(lock);
}

}  // namespace
}  // namespace picluster::nfsroot
