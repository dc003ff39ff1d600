// Connection reuse across verbs (nfsroot/ssh_master.hpp) over a real sshd whose root login shell
// has a noisy ~/.bashrc that sleeps 2 s: a second SshHost reuses the master's connection and
// helper (no new channel in sshd's own log, the rc file does not run again), a busy master means a
// direct connection, a client that leaves in the middle of a request ends the master (the next
// verb gets a new one), an idle master leaves, a refused host key is reported as a direct
// connection reports it, a master leaves when its sshd goes away, two fileservers (ports) or
// identity files never share a master, a program that execs its master (nfsroot_master_driver)
// starts one while a second thread runs, and one that cannot exec connects directly then.

#include <gmock/gmock.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "nfsroot/remote_helper.hpp"
#include "nfsroot/ssh_host.hpp"
#include "nfsroot/ssh_master.hpp"
#include "tests/integration/nfsroot/helpers.hpp"
#include "tests/integration/nfsroot/loopback_target.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/process.hpp"

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
    m_target = it::loopback_target(*m_sshd);
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

TEST_F(SshPersistTest, AMasterLeavesWhenItsSshdGoesAway) {
  auto first = connect();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->stat(m_dir).has_value());
  first.reset();
  ASSERT_TRUE(master::live_master(m_socket).has_value());
  m_sshd->stop();  // the listener and every session: the master's connection ends
  EXPECT_TRUE(picluster::testing::wait_until([&] { return !fs::exists(m_socket); }, std::chrono::seconds(20)));
  EXPECT_FALSE(master::live_master(m_socket).has_value());
}

TEST_F(SshPersistTest, TwoFileserversOrIdentityFilesNeverShareAMaster) {
  // The socket's name differs for every field a connection is checked with.
  std::set<std::string> paths{m_socket};
  for (int field = 0; field < 5; ++field) {
    SshTarget t = m_target;
    if (field == 0) t.host = "127.0.0.2";
    if (field == 1) t.port += 1;
    if (field == 2) t.user = "nobody";
    if (field == 3) t.identity_file += ".other";
    if (field == 4) t.known_hosts += ".other";
    auto p = master::socket_path(t);
    ASSERT_TRUE(p.has_value());
    EXPECT_TRUE(paths.insert(*p).second) << "field " << field << " shares " << *p;
  }
  auto first = connect();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->stat(m_dir).has_value());
  first.reset();  // an idle master for this sshd, port and key
  // Another sshd (another port): its own master, its own channel in its own log.
  picluster::testing::LoopbackSshd other(fs::path(m_dir) / "sshd2", picluster::testing::LoopbackSshdOptions{"", true});
  ASSERT_TRUE(other.ready()) << other.why_not();
  SshTarget t = m_target;
  t.port = other.port();
  t.identity_file = other.identity_file().string();
  t.known_hosts = other.known_hosts().string();
  auto second = SshHost::connect(t);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  ASSERT_TRUE((*second)->stat(m_dir).has_value());
  EXPECT_EQ((*second)->channels(), 1U);
  EXPECT_TRUE(picluster::testing::wait_until([&] { return other.channels_opened() == 1; }, std::chrono::seconds(10)));
  second->reset();
  // The same sshd with the same key under another file name: not the first master either.
  fs::copy_file(m_target.identity_file, m_dir + "/same_key");
  SshTarget same = m_target;
  same.identity_file = m_dir + "/same_key";
  auto third = SshHost::connect(same);
  ASSERT_TRUE(third.has_value()) << third.error().message;
  ASSERT_TRUE((*third)->stat(m_dir).has_value());
  EXPECT_EQ((*third)->channels(), 1U);
  EXPECT_THAT((*third)->how_connected(), ::testing::HasSubstr("started an SSH connection master"));
  EXPECT_TRUE(sshd_channels_become(2));
  third->reset();
  other.stop();
  if (auto p = master::socket_path(same)) {
    EXPECT_TRUE(master::stop(*p).value_or(false));
  }
}

// `picluster fileserver disconnect`: an idle master ends, and so does a busy one (SIGTERM, handled:
// it removes its socket and closes the connection; its client's next request fails).
TEST_F(SshPersistTest, StopEndsAnIdleOrABusyMaster) {
  EXPECT_EQ(master::stop(m_socket).value_or(true), false);  // none yet
  auto first = connect();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->stat(m_dir).has_value());
  first.reset();
  const auto idle = master::live_master(m_socket);
  ASSERT_TRUE(idle.has_value());
  EXPECT_EQ(master::stop(m_socket).value_or(false), true);
  EXPECT_FALSE(fs::exists(m_socket));
  std::ifstream stat("/proc/" + std::to_string(*idle) + "/stat");  // gone, or a zombie init has not reaped
  std::string line;
  EXPECT_TRUE(!std::getline(stat, line) || line.substr(line.rfind(')') + 2, 1) == "Z") << line;
  EXPECT_EQ(master::stop(m_socket).value_or(true), false);

  auto busy = connect();
  ASSERT_NE(busy, nullptr);
  ASSERT_TRUE(busy->stat(m_dir).has_value());
  EXPECT_EQ(busy->channels(), 1U);  // a new master
  EXPECT_EQ(master::stop(m_socket).value_or(false), true);
  EXPECT_FALSE(fs::exists(m_socket)) << "a SIGTERMed master must remove its socket";
  EXPECT_FALSE(busy->stat(m_dir).has_value());
  EXPECT_TRUE(sshd_channels_become(2));
}

// A test binary cannot exec its master (its main is GoogleTest's): with a second thread running it
// must not fork one (the child could deadlock on a lock that thread holds) but connect directly.
TEST_F(SshPersistTest, AProgramThatCannotExecConnectsDirectlyWhileASecondThreadRuns) {
  std::atomic<bool> done{false};
  std::thread busy([&] {
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  auto h = SshHost::connect(m_target);
  done = true;
  busy.join();
  ASSERT_TRUE(h.has_value()) << h.error().message;
  ASSERT_TRUE((*h)->stat(m_dir).has_value());
  EXPECT_EQ((*h)->channels(), 1U);
  EXPECT_THAT((*h)->how_connected(), ::testing::HasSubstr("threads and cannot exec a connection master"));
  EXPECT_FALSE(fs::exists(m_socket));
  m_socket.clear();
}

// nfsroot_master_driver calls main_if_master (as picluster does) and connects while a second
// thread allocates and locks without pause: the master is exec'd (its command line says so), the
// driver exits, and a second run reuses the master.
TEST_F(SshPersistTest, AProgramThatExecsItsMasterStartsOneWhileASecondThreadRuns) {
  const std::vector<std::string> argv{NFSROOT_MASTER_DRIVER, m_target.host, std::to_string(m_target.port),
                                      m_target.identity_file, m_target.known_hosts, "30"};
  const auto first = picluster::testing::run(argv);
  ASSERT_EQ(first.status, 0) << first.out << first.err;
  EXPECT_THAT(first.out, ::testing::HasSubstr("channels=1\nthreads=2\nhow=started an SSH connection master"));
  const auto pid = master::live_master(m_socket);
  ASSERT_TRUE(pid.has_value());
  std::ifstream cmdline("/proc/" + std::to_string(*pid) + "/cmdline");
  std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
  EXPECT_EQ(args, std::string("picluster\0", 10) + std::string(master::kMasterArgument) + '\0');
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(*pid) + "/exe"), fs::path(NFSROOT_MASTER_DRIVER));
  const auto second = picluster::testing::run(argv);
  ASSERT_EQ(second.status, 0) << second.out << second.err;
  EXPECT_THAT(second.out, ::testing::HasSubstr("channels=0\nthreads=2\nhow=reused the SSH connection master"));
  EXPECT_TRUE(sshd_channels_become(1));
}

}  // namespace
}  // namespace picluster::nfsroot
