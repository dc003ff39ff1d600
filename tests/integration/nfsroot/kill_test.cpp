// SIGKILL of a real rebuild process at several points (a driver process pauses at a named step,
// or is killed while rsync copies): the live root is then wholly the old one or the new one (or,
// between the two renames, the complete new one waits in .staging with its ready marker), and
// the next run finishes cleanly.

#include <gmock/gmock.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <functional>
#include <thread>

#include "tests/integration/nfsroot/helpers.hpp"

extern char** environ;

namespace picluster::nfsroot {
namespace {

namespace fs = std::filesystem;

struct Child {
  pid_t pid = -1;
  int out = -1;
};

Child spawn_driver(const std::vector<std::string>& args) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<std::string> argv{NFSROOT_DRIVER};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (auto& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  Child c;
  EXPECT_EQ(::posix_spawn(&c.pid, cargs[0], &actions, nullptr, cargs.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  c.out = fds[0];
  return c;
}

std::string read_line(int fd) {
  std::string line;
  char ch = 0;
  while (::read(fd, &ch, 1) == 1 && ch != '\n') line += ch;
  return line;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class KillTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || !it::have("rsync")) GTEST_SKIP() << "needs root and rsync";
    m_dir = it::make_temp_dir("kill");
    m_base = m_dir;
    make_goldens();
  }
  // golden (v2, 3000 files) and golden-v1 (v1, 10 files) under m_base, then the old root built
  // from golden-v1 twice, so a previous root exists and the retire step runs.
  void make_goldens(const std::function<void(const std::string&)>& create = {}) {
    for (const char* g : {"/golden", "/golden-v1"}) {
      if (create) create(m_base + g);
    }
    it::make_golden(m_base + "/golden", 3000, "v2");
    fs::create_directories(m_base + "/nfsroot");
    it::make_golden(m_base + "/golden-v1", 10, "v1");
    for (int i = 0; i < 2; ++i) {
      Child first = spawn_driver({m_base + "/nfsroot", m_base + "/golden-v1", "pi01"});
      ::close(first.out);
      ASSERT_EQ(wait_exit(first.pid), 0);
    }
  }
  void TearDown() override {
    if (!m_mounted.empty()) {
      nfsroot::LocalHost host;
      (void)host.run({"umount", "-d", m_mounted}, {});
    }
    if (!m_dir.empty()) fs::remove_all(m_dir);
  }
  // "old", "new", or a description of what is wrong.
  std::string live_state() const {
    const std::string live = m_base + "/nfsroot/pi01";
    if (!fs::exists(live)) {
      const std::string staging = m_base + "/nfsroot/.staging/pi01";
      if (fs::exists(staging + ".ready") && it::slurp(staging + "/etc/picluster-build") == "new\n" &&
          it::slurp(staging + "/etc/version") == "v2" && fs::exists(staging + "/usr/share/d29/f2999")) {
        return "new-in-staging";
      }
      return "missing";
    }
    const std::string version = it::slurp(live + "/etc/version");
    const bool built = it::slurp(live + "/etc/picluster-build") == "new\n";
    if (version == "v1" && built && !fs::exists(live + "/usr/share/d29/f2999")) return "old";
    if (version == "v2" && built && fs::exists(live + "/usr/share/d29/f2999") &&
        fs::file_size(live + "/etc/machine-id") == 0) {
      return "new";
    }
    return "mix: version " + version;
  }
  void finish_and_check() {
    Child again = spawn_driver({m_base + "/nfsroot", m_base + "/golden", "pi01"});
    const std::string line = read_line(again.out);
    ::close(again.out);
    EXPECT_EQ(wait_exit(again.pid), 0);
    EXPECT_EQ(line, "DONE " + m_method);
    EXPECT_EQ(live_state(), "new");
    EXPECT_TRUE(fs::is_empty(m_base + "/nfsroot/.staging"));
    EXPECT_FALSE(fs::exists(m_base + "/nfsroot/.trash/pi01"));
    EXPECT_EQ(it::slurp(m_base + "/nfsroot/.previous/pi01/etc/version").empty(), false);
  }
  void kill_at_step_and_finish() {
    Child c = spawn_driver({m_base + "/nfsroot", m_base + "/golden", "pi01", GetParam()});
    const std::string line = read_line(c.out);
    ::close(c.out);
    ASSERT_EQ(line, "PAUSED " + GetParam());
    ::kill(c.pid, SIGKILL);
    EXPECT_EQ(wait_exit(c.pid), 128 + SIGKILL);
    const std::string state = live_state();
    EXPECT_TRUE(state == "old" || state == "new" || state == "new-in-staging") << state;
    if (GetParam() == "swap-in") {
      EXPECT_EQ(state, "new-in-staging");
    }
    if (GetParam() == "clone" || GetParam() == "ready") {
      EXPECT_EQ(state, "old");
    }
    finish_and_check();
  }
  std::string m_dir;
  std::string m_base;              // where golden, golden-v1 and nfsroot live
  std::string m_method = "rsync";  // the clone method the driver reports
  std::string m_mounted;           // a loop image mounted for the test
};

TEST_P(KillTest, KilledAtAStepLeavesOldOrNewAndTheNextRunFinishes) { kill_at_step_and_finish(); }

INSTANTIATE_TEST_SUITE_P(Steps, KillTest,
                         ::testing::Values("clone", "install", "ready", "retire", "swap-out",
                                           "swap-in", "cleanup"));

// The same kill points with btrfs snapshots: golden images that are subvolumes on a btrfs loop
// image, so every root is a subvolume and retire/cleanup delete subvolumes.
class BtrfsKillTest : public KillTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || !it::have("mkfs.btrfs")) GTEST_SKIP() << "needs root and mkfs.btrfs";
    m_dir = it::make_temp_dir("kill-btrfs");
    m_base = m_dir + "/mnt";
    fs::create_directories(m_base);
    it::sh({"truncate", "-s", "512M", m_dir + "/image"});
    it::sh({"mkfs.btrfs", "-q", m_dir + "/image"});
    nfsroot::LocalHost host;
    auto r = host.run({"mount", "-o", "loop", m_dir + "/image", m_base}, {});
    if (!r || r->exit_status != 0) GTEST_SKIP() << "cannot mount a loop image here";
    m_mounted = m_base;
    m_method = "btrfs-snapshot";
    make_goldens([](const std::string& golden) {
      it::sh({"btrfs", "subvolume", "create", golden});
    });
  }
};

TEST_P(BtrfsKillTest, KilledAtAStepLeavesOldOrNewAndTheNextRunFinishes) {
  kill_at_step_and_finish();
  // Nothing but the live and previous roots and the two golden images is left as a subvolume.
  const std::string subvolumes = it::sh({"btrfs", "subvolume", "list", "-o", m_base});
  EXPECT_THAT(subvolumes, ::testing::Not(::testing::HasSubstr(".staging")));
  EXPECT_THAT(subvolumes, ::testing::Not(::testing::HasSubstr(".trash")));
}

INSTANTIATE_TEST_SUITE_P(Steps, BtrfsKillTest,
                         ::testing::Values("clone", "install", "ready", "retire", "swap-out",
                                           "swap-in", "cleanup"));

TEST_F(KillTest, KilledWhileRsyncCopiesLeavesTheOldRoot) {
  Child c = spawn_driver({m_base + "/nfsroot", m_base + "/golden", "pi01"});
  const std::string staging = m_base + "/nfsroot/.staging/pi01/usr/share";
  bool seen = false;
  for (int i = 0; i < 20000 && !seen; ++i) {  // at most ~10 s
    seen = fs::exists(staging);
    if (!seen) std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  // rsync (under flock), the driver's child, goes on copying as an orphan and holds the Pi's
  // lock; the next run waits for that lock before it removes the orphan's copy.
  ::kill(c.pid, SIGKILL);
  ::close(c.out);
  wait_exit(c.pid);
  const std::string state = live_state();
  EXPECT_TRUE(state == "old" || state == "new") << state;
  if (seen) {
    EXPECT_EQ(state, "old");
  }
  finish_and_check();
}

}  // namespace
}  // namespace picluster::nfsroot
