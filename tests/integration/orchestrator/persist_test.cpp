// Connection reuse is on by default (issue 16: an inventory without fileserver.ssh_persist_seconds
// keeps the SSH connection 60 s for the next verb). Over a real sshd at LogLevel DEBUG whose
// ~/.bashrc prints and sleeps: a second verb opens no channel (sshd's own log), a verb run under
// pipes read to EOF (as `$(picluster ...)`, ctest and CI do) ends although its master stays (the
// master holds none of the verb's descriptors), and `fileserver disconnect` ends the master.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>

#include "nfsroot/host.hpp"
#include "nfsroot/ssh_host.hpp"
#include "nfsroot/ssh_master.hpp"
#include "tests/integration/orchestrator/shelf_fixture.hpp"

extern char** environ;

namespace picluster::orchestrator::it {
namespace {

using ::testing::HasSubstr;

// Runs argv with stdout and stderr on pipes, reads both to EOF, then reaps it. EOF only comes
// once every holder of the pipes' write ends has closed them: a master that kept one would hold
// this until it exits (60 s after the verb). Bounded at 300 s, then the child is killed.
RunResult run_piped(const std::vector<std::string>& argv) {
  RunResult r;
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return r;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, cargs[0], &actions, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) return r;
  std::array<pollfd, 2> fds{pollfd{out[0], POLLIN, 0}, pollfd{err[0], POLLIN, 0}};
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while ((fds[0].fd >= 0 || fds[1].fd >= 0) && std::chrono::steady_clock::now() < until) {
    if (::poll(fds.data(), 2, 1000) <= 0) continue;
    for (std::size_t i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buffer, static_cast<std::size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
      }
    }
  }
  if (fds[0].fd >= 0 || fds[1].fd >= 0) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

class PersistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_shelf = std::make_unique<TestShelf>(Transport::ssh, 24,
                                          testing::LoopbackSshdOptions{testing::kNoisySlowBashrc, true});
    if (!m_shelf->ready()) GTEST_SKIP() << m_shelf->why_not();
    const auto inv = json::parse(testing::read_file(m_shelf->inventory_path()));
    ASSERT_FALSE(inv["shelves"][0]["fileserver"].contains("ssh_persist_seconds"));  // the default
    auto loaded = inventory::load(m_shelf->inventory_path());
    ASSERT_TRUE(loaded.has_value());
    auto path = nfsroot::master::socket_path(
        nfsroot::ssh_target(loaded->shelves[0].fileserver, m_shelf->inventory_path().parent_path()));
    ASSERT_TRUE(path.has_value());
    m_socket = *path;
  }
  [[nodiscard]] bool master_live() const { return nfsroot::master::live_master(m_socket).has_value(); }

  std::unique_ptr<TestShelf> m_shelf;
  std::string m_socket;
};

TEST_F(PersistTest, WithoutTheFieldASecondVerbReusesTheConnection) {
  const auto first = m_shelf->pic_json({"fileserver", "show", "--json"});
  EXPECT_EQ(first.value("fileserver_channels", 99), 1);
  EXPECT_TRUE(testing::wait_until([&] { return m_shelf->sshd_channels() == 1; }, std::chrono::seconds(10)));
  const auto second = m_shelf->pic({"-v", "fileserver", "show"});
  EXPECT_EQ(second.status, 0) << second.err;
  EXPECT_THAT(second.err, HasSubstr("over 0 SSH channels"));
  EXPECT_THAT(second.err, HasSubstr("reused the SSH connection master (kept 60 s after the last verb)"));
  EXPECT_THAT(second.out + second.err, ::testing::Not(HasSubstr("NOISE")));
  const auto status = m_shelf->pic_json({"status", "--json", "--probe", "none"});
  EXPECT_EQ(status.value("fileserver_channels", 99), 0);
  ::sleep(1);
  EXPECT_EQ(m_shelf->sshd_channels(), 1) << "a verb opened a channel (and ran the login shell) again";
}

TEST_F(PersistTest, AVerbUnderPipesReadToEofEndsWhileItsMasterStaysAndDisconnectEndsIt) {
  const auto r = run_piped(m_shelf->pic_argv({"fileserver", "show", "--json"}));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"fileserver_channels\": 1"));
  // EOF came while the master lives on: it holds none of the verb's pipes.
  ASSERT_TRUE(master_live());

  const auto ended = m_shelf->pic_json({"fileserver", "disconnect", "--json"});
  EXPECT_EQ(ended.value("was_running", false), true) << ended.dump();
  EXPECT_FALSE(master_live());
  EXPECT_FALSE(std::filesystem::exists(m_socket));
  const auto again = m_shelf->pic({"fileserver", "disconnect"});
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("no SSH connection master running for root@127.0.0.1:"));
  // The next verb connects afresh.
  const auto next = m_shelf->pic_json({"fileserver", "show", "--json"});
  EXPECT_EQ(next.value("fileserver_channels", 99), 1);
  EXPECT_TRUE(testing::wait_until([&] { return m_shelf->sshd_channels() == 2; }, std::chrono::seconds(10)));
}

TEST_F(PersistTest, AnExplicitZeroConnectsEveryVerbAndLeavesNoMaster) {
  m_shelf->set_fileserver("ssh_persist_seconds", 0);
  for (int i = 0; i < 2; ++i) {
    const auto j = m_shelf->pic_json({"fileserver", "show", "--json"});
    EXPECT_EQ(j.value("fileserver_channels", 99), 1);
  }
  EXPECT_FALSE(master_live());
  EXPECT_TRUE(testing::wait_until([&] { return m_shelf->sshd_channels() == 2; }, std::chrono::seconds(10)));
}

}  // namespace
}  // namespace picluster::orchestrator::it
