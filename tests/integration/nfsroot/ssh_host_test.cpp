// SshHost against a real sshd started by the test on a free 127.0.0.1 port, with a throwaway host
// key, a throwaway client key and a known_hosts file written by the test.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <thread>

#include "common/text.hpp"
#include "nfsroot/root_manager.hpp"
#include "nfsroot/ssh_host.hpp"
#include "tests/integration/nfsroot/helpers.hpp"
#include "tests/support/daemon.hpp"

extern char** environ;

namespace picluster::nfsroot {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using namespace std::string_literals;

int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

bool port_open(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

class SshHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || !fs::exists("/usr/sbin/sshd")) GTEST_SKIP() << "needs root and openssh-server";
    m_dir = it::make_temp_dir("sshd");
    ASSERT_FALSE(m_dir.empty());
    fs::create_directories("/run/sshd");
    it::sh({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", m_dir + "/host_key"});
    it::sh({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", m_dir + "/client_key"});
    fs::copy_file(m_dir + "/client_key.pub", m_dir + "/authorized_keys");
    m_port = free_port();
    it::spit(m_dir + "/sshd_config",
             "Port " + std::to_string(m_port) + "\nListenAddress 127.0.0.1\nHostKey " + m_dir +
                 "/host_key\nAuthorizedKeysFile " + m_dir + "/authorized_keys\nPidFile " + m_dir +
                 "/sshd.pid\nStrictModes no\nUsePAM no\nPermitRootLogin yes\n"
                 "PasswordAuthentication no\nKbdInteractiveAuthentication no\n");
    const std::string config = m_dir + "/sshd_config";
    std::vector<std::string> args{"/usr/sbin/sshd", "-D", "-e", "-f", config};
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    posix_spawn_file_actions_t actions;  // sshd's log goes to a file, not the test output
    posix_spawn_file_actions_init(&actions);
    const std::string log = m_dir + "/sshd.log";
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int rc = ::posix_spawn(&m_sshd, cargs[0], &actions, nullptr, cargs.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ASSERT_EQ(rc, 0);
    for (int i = 0; i < 200 && !port_open(m_port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    ASSERT_TRUE(port_open(m_port)) << "sshd did not start";
    const auto pub = split(it::slurp(m_dir + "/host_key.pub"), ' ');
    it::spit(m_dir + "/known_hosts", "[127.0.0.1]:" + std::to_string(m_port) + " " + pub[0] + " " + pub[1] + "\n");
  }
  void TearDown() override {
    if (m_sshd > 0) {
      ::kill(m_sshd, SIGTERM);
      ::waitpid(m_sshd, nullptr, 0);
    }
    if (!m_dir.empty()) fs::remove_all(m_dir);
  }
  SshTarget target(const std::string& known_hosts = {}) const {
    SshTarget t;
    t.host = "127.0.0.1";
    t.port = m_port;
    t.user = "root";
    t.identity_file = m_dir + "/client_key";
    t.known_hosts = known_hosts.empty() ? m_dir + "/known_hosts" : known_hosts;
    t.connect_timeout = std::chrono::seconds(10);
    return t;
  }
  std::unique_ptr<SshHost> connect() {
    auto h = SshHost::connect(target());
    EXPECT_TRUE(h.has_value()) << (h ? "" : h.error().message);
    return h ? std::move(*h) : nullptr;
  }

  std::string m_dir;
  int m_port = 0;
  pid_t m_sshd = -1;
};

const std::vector<std::string> kHostile = {"", "two words", "it's", "$(touch /tmp/picluster-pwned)",
                                           "`id`", "a; rm -rf /", "line1\nline2", "-rf", "grüße ☃",
                                           "\"q\" \\ $HOME *"};

TEST_F(SshHostTest, RunsArgvWithHostileArgumentsUnchanged) {
  auto host = connect();
  ASSERT_TRUE(host);
  std::vector<std::string> argv{"printf", "%s\\0"};
  argv.insert(argv.end(), kHostile.begin(), kHostile.end());
  auto r = host->run(argv, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  auto got = split(r->out, '\0');
  got.pop_back();
  EXPECT_EQ(got, kHostile);
  EXPECT_FALSE(fs::exists("/tmp/picluster-pwned"));
}

TEST_F(SshHostTest, ReportsStdinStderrAndExitStatus) {
  auto host = connect();
  ASSERT_TRUE(host);
  RunOptions o;
  o.input = "hello from stdin\n";
  auto r = host->run({"sh", "-c", "cat; echo oops >&2; exit 7"}, o);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->out, "hello from stdin\n");
  EXPECT_EQ(r->err, "oops\n");
  EXPECT_EQ(r->exit_status, 7);
  auto c = check(*host, {"false"});
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message, "'false': exit 1");
}

TEST_F(SshHostTest, TimesOutALongCommand) {
  auto host = connect();
  ASSERT_TRUE(host);
  RunOptions o;
  o.timeout = std::chrono::milliseconds(500);
  auto r = host->run({"sleep", "30"}, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::timeout);
}

// The Host contract: a command past its timeout is killed, with the children it started.
TEST_F(SshHostTest, ATimedOutCommandIsKilledWithItsChildren) {
  auto host = connect();
  ASSERT_TRUE(host);
  RunOptions o;
  o.timeout = std::chrono::milliseconds(500);
  const std::string pids = m_dir + "/pids";
  auto r = host->run({"sh", "-c", "sleep 300 & echo $$ $! > \"$1\"; wait", "sh", pids}, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::timeout);
  EXPECT_THAT(r.error().message, HasSubstr("killed it"));
  const auto both = split(it::slurp(pids), ' ');
  ASSERT_EQ(both.size(), 2U) << it::slurp(pids);
  for (const auto& pid : both) {
    const std::string stat = "/proc/" + std::string(pid.substr(0, pid.find('\n'))) + "/stat";
    // Gone, or a zombie its new parent has not reaped yet: either way no longer running. A process
    // SIGKILLed a moment ago may still show R until the kernel has run its exit on a loaded
    // machine (seen once in the suite), so it is given up to 10 s to get there; a process the
    // helper never killed (sleep 300) stays S and fails.
    std::string state;
    const auto dead = [&] {
      state = fs::exists(stat) ? split(it::slurp(stat), ' ').at(2) : "gone";
      return state == "gone" || state == "Z";
    };
    EXPECT_TRUE(picluster::testing::wait_until(dead, std::chrono::seconds(10)))
        << pid << " is still running (" << state << ")";
  }
  // The session still works after a kill, through the same channel (the helper killed the
  // command's process group and went on).
  auto after = host->run({"echo", "ok"}, {});
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(after->out, "ok\n");
  EXPECT_EQ(host->channels(), 1U);
}

// rename() is rename(2): across filesystems it fails and leaves both sides alone, where mv would
// silently copy and delete.
TEST_F(SshHostTest, RenameAcrossFilesystemsFailsInsteadOfCopying) {
  if (it::sh({"stat", "-c", "%d", "/dev/shm"}) == it::sh({"stat", "-c", "%d", m_dir})) {
    GTEST_SKIP() << "/dev/shm is on the same filesystem as " << m_dir;
  }
  auto host = connect();
  ASSERT_TRUE(host);
  it::spit(m_dir + "/root-file", "data\n");
  const std::string elsewhere = "/dev/shm/picluster-rename-" + std::to_string(m_port);
  auto r = host->rename(m_dir + "/root-file", elsewhere);
  const bool copied = fs::exists(elsewhere);
  fs::remove(elsewhere);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("are on different filesystems"));
  EXPECT_FALSE(copied);
  EXPECT_EQ(it::slurp(m_dir + "/root-file"), "data\n");
  // Within one filesystem it still renames.
  ASSERT_TRUE(host->rename(m_dir + "/root-file", m_dir + "/renamed").has_value());
  EXPECT_EQ(it::slurp(m_dir + "/renamed"), "data\n");
}

TEST_F(SshHostTest, FileOperationsWithHostileNames) {
  auto host = connect();
  ASSERT_TRUE(host);
  const std::string dir = m_dir + "/files";
  ASSERT_TRUE(host->make_dirs(dir + "/a b/$(x)").has_value());
  const std::string path = dir + "/a b/$(x)/it's; `f`";
  ASSERT_TRUE(host->write_file(path, "line1\n\0bin"s, 0640, Owner{0, 0}).has_value());
  EXPECT_EQ(it::slurp(path), "line1\n\0bin"s);
  auto st = host->stat(path);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->type, FileType::regular);
  EXPECT_EQ(st->mode, 0640U);
  EXPECT_EQ(st->size, 10U);
  EXPECT_EQ(*host->read_file(path), "line1\n\0bin"s);
  EXPECT_EQ(*host->list(dir + "/a b/$(x)"), std::vector<std::string>{"it's; `f`"});
  ASSERT_TRUE(host->rename(path, dir + "/moved").has_value());
  EXPECT_EQ(host->stat(path)->type, FileType::none);
  ASSERT_TRUE(host->remove(dir + "/moved").has_value());
  EXPECT_FALSE(fs::exists(dir + "/moved"));
  auto missing = host->read_file(dir + "/nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST_F(SshHostTest, WriteReplacesASymlinkAndNeverWritesItsTarget) {
  auto host = connect();
  ASSERT_TRUE(host);
  it::spit(m_dir + "/outside", "precious\n");
  fs::create_directories(m_dir + "/root/etc");
  fs::create_symlink(m_dir + "/outside", m_dir + "/root/etc/hostname");
  EXPECT_EQ(host->stat(m_dir + "/root/etc/hostname")->type, FileType::symlink);
  ASSERT_TRUE(host->write_file(m_dir + "/root/etc/hostname", "pi01\n", 0644, Owner{0, 0}).has_value());
  EXPECT_FALSE(fs::is_symlink(m_dir + "/root/etc/hostname"));
  EXPECT_EQ(it::slurp(m_dir + "/root/etc/hostname"), "pi01\n");
  EXPECT_EQ(it::slurp(m_dir + "/outside"), "precious\n");
}

TEST_F(SshHostTest, UnknownHostKeyIsRefusedWithHowToVerify) {
  it::spit(m_dir + "/empty_known_hosts", "");
  auto h = SshHost::connect(target(m_dir + "/empty_known_hosts"));
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().code, ErrorCode::refused);
  const std::string fp = it::sh({"ssh-keygen", "-lf", m_dir + "/host_key.pub"});
  const std::string sha = split(fp, ' ')[1];
  EXPECT_THAT(h.error().message, HasSubstr("is not in " + m_dir + "/empty_known_hosts"));
  EXPECT_THAT(h.error().message, HasSubstr(sha));
  EXPECT_THAT(h.error().message, HasSubstr("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"));
  EXPECT_THAT(h.error().message, HasSubstr("ssh-keyscan -p " + std::to_string(m_port) + " -t ed25519 '127.0.0.1' >> "));
}

TEST_F(SshHostTest, ChangedHostKeyIsRefusedWithAClearMessage) {
  it::sh({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", m_dir + "/other_key"});
  const auto pub = split(it::slurp(m_dir + "/other_key.pub"), ' ');
  it::spit(m_dir + "/changed_known_hosts", "[127.0.0.1]:" + std::to_string(m_port) + " " + pub[0] + " " + pub[1] + "\n");
  auto h = SshHost::connect(target(m_dir + "/changed_known_hosts"));
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().code, ErrorCode::refused);
  EXPECT_THAT(h.error().message, HasSubstr("ssh root@127.0.0.1:" + std::to_string(m_port) + ": host key for [127.0.0.1]:" +
                                           std::to_string(m_port) + " CHANGED"));
  EXPECT_THAT(h.error().message, HasSubstr("ssh-keygen -R '[127.0.0.1]:" + std::to_string(m_port) + "'"));
}

TEST_F(SshHostTest, WrongClientKeyIsPermissionDenied) {
  it::sh({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", m_dir + "/stranger"});
  auto t = target();
  t.identity_file = m_dir + "/stranger";
  auto h = SshHost::connect(t);
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().code, ErrorCode::ssh);
  EXPECT_THAT(h.error().message, HasSubstr("Permission denied"));
}

// The whole rebuild over SSH, rsync on a plain folder: files installed, symlink not followed.
TEST_F(SshHostTest, RebuildOverSshWithRsync) {
  auto host = connect();
  ASSERT_TRUE(host);
  it::make_golden(m_dir + "/srv/golden", 50, "v1");
  fs::create_directories(m_dir + "/srv/nfsroot");
  inventory::Shelf shelf;
  shelf.fileserver.nfs_root = m_dir + "/srv/nfsroot";
  shelf.fileserver.golden_image = m_dir + "/srv/golden";
  inventory::Pi pi;
  pi.name = "pi07";
  RootManager roots(*host, shelf);
  auto r = roots.rebuild(pi, {{"etc/hostname", "pi07\n", 0644}, {"etc/hosts", "127.0.1.1 pi07\n", 0644}});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->method, CloneMethod::rsync);
  const std::string live = m_dir + "/srv/nfsroot/pi07";
  EXPECT_EQ(it::slurp(live + "/etc/hostname"), "pi07\n");
  EXPECT_EQ(it::slurp(live + "/etc/hosts"), "127.0.1.1 pi07\n");
  EXPECT_FALSE(fs::exists("/tmp/picluster-escape-target"));
  EXPECT_EQ(fs::file_size(live + "/etc/machine-id"), 0U);
  EXPECT_NE(it::slurp(live + "/etc/ssh/ssh_host_ed25519_key"), "GOLDEN-KEY\n");
  EXPECT_TRUE(fs::exists(live + "/usr/share/d0/f49"));
}

}  // namespace
}  // namespace picluster::nfsroot
