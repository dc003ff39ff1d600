// Connection reuse across verbs (nfsroot/ssh_master.hpp) over a real sshd whose root login shell
// has a noisy ~/.bashrc that sleeps 2 s: a second SshHost reuses the master's connection and
// helper (no new channel in sshd's own log, the rc file does not run again), a busy master means a
// direct connection, a client that leaves in the middle of a request ends the master (the next
// verb gets a new one), an idle master leaves, and a refused host key is reported as a direct
// connection reports it.

#include <gmock/gmock.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "nfsroot/remote_helper.hpp"
#include "nfsroot/ssh_host.hpp"
#include "nfsroot/ssh_master.hpp"
#include "tests/integration/nfsroot/helpers.hpp"
#include "tests/support/daemon.hpp"

namespace picluster::nfsroot {
namespace {

namespace fs = std::filesystem;

class SshPersistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = it::make_temp_dir("sshpersist");
    ASSERT_FALSE(m_dir.empty());
    m_sshd = std::make_unique<picluster::testing::LoopbackSshd>(
        fs::path(m_dir) / "sshd", picluster::testing::LoopbackSshdOptions{picluster::testing::kNoisySlowBashrc, true});
    if (!m_sshd->ready()) GTEST_SKIP() << m_sshd->why_not();
    m_target.host = "127.0.0.1";
    m_target.port = m_sshd->port();
    m_target.identity_file = m_sshd->identity_file().string();
    m_target.known_hosts = m_sshd->known_hosts().string();
    m_target.connect_timeout = std::chrono::seconds(10);
    m_target.persist = std::chrono::seconds(30);
    auto path = master::socket_path(m_target);
    ASSERT_TRUE(path.has_value()) << path.error().message;
    m_socket = *path;
  }
  void TearDown() override {
    // A client leaving without a goodbye ends the master (sshd's session processes outlive its
    // listener, so the connection would not end with it).
    if (!m_socket.empty()) {
      if (const int fd = master::connect_client(m_socket); fd >= 0) ::close(fd);
    }
    m_sshd.reset();
    if (!m_socket.empty()) {
      picluster::testing::wait_until([&] { return !fs::exists(m_socket); }, std::chrono::seconds(10));
    }
    if (!m_dir.empty()) fs::remove_all(m_dir);
  }
  std::unique_ptr<SshHost> connect() {
    auto h = SshHost::connect(m_target);
    EXPECT_TRUE(h.has_value()) << h.error().message;
    return h ? std::move(*h) : nullptr;
  }
  // sshd's own count of channels opened reaches `n` (its log is written as a channel opens).
  bool sshd_channels_become(int n) {
    return picluster::testing::wait_until([&] { return m_sshd->channels_opened() == n; }, std::chrono::seconds(10));
  }

  std::string m_dir;
  std::unique_ptr<picluster::testing::LoopbackSshd> m_sshd;
  SshTarget m_target;
  std::string m_socket;
};

TEST_F(SshPersistTest, ASecondVerbReusesTheConnectionAndItsHelper) {
  auto first = connect();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->write_file(m_dir + "/f", "one", 0644, std::nullopt).has_value());
  EXPECT_EQ(first->channels(), 1U);  // the master it started opened one for it
  EXPECT_EQ(first->round_trips(), 1U);
  first.reset();
  ASSERT_TRUE(sshd_channels_become(1));
  auto second = connect();
  ASSERT_NE(second, nullptr);
  auto r = second->run({"sh", "-c", "cat \"$1\"; echo err >&2; exit 4", "sh", m_dir + "/f"}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->out, "one");  // no rc output: the login shell did not run again
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_status, 4);
  EXPECT_EQ(*second->read_file(m_dir + "/f"), "one");
  EXPECT_EQ(second->channels(), 0U);
  EXPECT_EQ(second->round_trips(), 2U);
  second.reset();
  ::sleep(1);
  EXPECT_EQ(m_sshd->channels_opened(), 1) << "a second channel (and login shell) was opened";
}

TEST_F(SshPersistTest, WhileOneVerbUsesTheMasterAnotherConnectsDirectly) {
  auto first = connect();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->stat(m_dir).has_value());
  auto second = connect();
  ASSERT_NE(second, nullptr);
  auto st = second->stat(m_dir);
  ASSERT_TRUE(st.has_value()) << st.error().message;
  EXPECT_EQ(st->type, FileType::directory);
  EXPECT_EQ(second->channels(), 1U);  // its own connection and channel
  EXPECT_TRUE(sshd_channels_become(2));
  ASSERT_TRUE(first->stat(m_dir).has_value());  // the master still serves the first
}

TEST_F(SshPersistTest, AClientLeavingMidRequestEndsTheMasterAndTheNextVerbGetsANewOne) {
  auto first = connect();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->stat(m_dir).has_value());
  first.reset();
  // A verb killed while sending a write: half a request, then gone without a goodbye.
  const int fd = master::connect_client(m_socket);
  ASSERT_GE(fd, 0);
  // The command installs its input only after a clean EOF: cut short, it must be killed instead.
  const std::string half =
      remote::encode_run({"sh", "-c", "cat > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"", "sh", m_dir + "/half"}, 100) +
      "only part";
  ASSERT_EQ(::send(fd, half.data(), half.size(), MSG_NOSIGNAL), static_cast<ssize_t>(half.size()));
  ::close(fd);
  EXPECT_TRUE(picluster::testing::wait_until([&] { return !fs::exists(m_socket); }, std::chrono::seconds(10)));
  EXPECT_FALSE(fs::exists(m_dir + "/half")) << it::slurp(m_dir + "/half");
  auto next = connect();
  ASSERT_NE(next, nullptr);
  auto st = next->stat(m_dir);
  ASSERT_TRUE(st.has_value()) << st.error().message;
  EXPECT_TRUE(sshd_channels_become(2));
}

TEST_F(SshPersistTest, AnIdleMasterLeaves) {
  m_target.persist = std::chrono::seconds(1);
  auto first = connect();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->stat(m_dir).has_value());
  EXPECT_TRUE(fs::exists(m_socket));
  first.reset();
  EXPECT_TRUE(picluster::testing::wait_until([&] { return !fs::exists(m_socket); }, std::chrono::seconds(10)));
  EXPECT_LT(master::connect_client(m_socket), 0);
}

TEST_F(SshPersistTest, AnUnknownHostKeyIsRefusedAsWithoutAMaster) {
  it::spit(m_dir + "/empty_known_hosts", "");
  m_target.known_hosts = m_dir + "/empty_known_hosts";
  auto h = SshHost::connect(m_target);
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().code, ErrorCode::refused);
  EXPECT_THAT(h.error().message, ::testing::HasSubstr("is not in " + m_dir + "/empty_known_hosts"));
  m_socket.clear();
}

}  // namespace
}  // namespace picluster::nfsroot
