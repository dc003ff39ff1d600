#include "tests/support/daemon.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/process.hpp"

extern char** environ;

namespace picluster::testing {
namespace {

namespace fs = std::filesystem;

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int free_port(int type) {
  const int s = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (s < 0) return 0;
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(s);
  return port;
}

std::string first_words(const std::string& line, int count) {
  std::string out;
  std::size_t pos = 0;
  for (int i = 0; i < count; ++i) {
    const std::size_t end = line.find_first_of(" \n", pos);
    out += (i > 0 ? " " : "") + line.substr(pos, end - pos);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return out;
}

}  // namespace

int free_tcp_port() { return free_port(SOCK_STREAM); }
int free_udp_port() { return free_port(SOCK_DGRAM); }

bool tcp_port_open(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  const sockaddr_in a = loopback(port);
  const bool ok = ::connect(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit,
                std::chrono::milliseconds step) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(step);
  }
  return true;
}

std::unique_ptr<Daemon> Daemon::start(const std::vector<std::string>& argv, const fs::path& log) {
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, cargs[0], &actions, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::ofstream(log, std::ios::app) << argv[0] << ": cannot start: " << std::strerror(rc) << "\n";
    return nullptr;
  }
  return std::unique_ptr<Daemon>(new Daemon(pid));
}

Daemon::~Daemon() { stop(SIGTERM); }

void Daemon::stop(int signal) {
  if (m_pid <= 0) return;
  ::kill(m_pid, signal);
  const bool ended = wait_until([this] { return !running(); }, std::chrono::seconds(20));
  if (!ended) {
    ::kill(m_pid, SIGKILL);
    while (::waitpid(m_pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  m_pid = -1;
}

bool Daemon::running() {
  if (m_pid <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
  if (r == m_pid) {
    m_pid = -1;
    return false;
  }
  return r == 0;
}

LoopbackSshd::LoopbackSshd(const fs::path& dir, const LoopbackSshdOptions& options) : m_dir(dir) {
  if (::geteuid() != 0 || !fs::exists("/usr/sbin/sshd") || !have_program("ssh-keygen")) {
    m_why_not = "needs root, openssh-server and openssh-client";
    return;
  }
  fs::create_directories(m_dir);
  std::error_code ec;
  fs::create_directories("/run/sshd", ec);  // sshd's privilege separation folder
  for (const char* key : {"host_key", "client_key"}) {
    const auto r = run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "picluster-test", "-f",
                        (m_dir / key).string()});
    if (r.status != 0) {
      m_why_not = "ssh-keygen failed: " + r.err;
      return;
    }
  }
  fs::copy_file(m_dir / "client_key.pub", m_dir / "authorized_keys", fs::copy_options::overwrite_existing);
  m_port = free_tcp_port();
  write_file(m_dir / "sshd_config",
             "Port " + std::to_string(m_port) + "\nListenAddress 127.0.0.1\nHostKey " +
                 (m_dir / "host_key").string() + "\nAuthorizedKeysFile " + (m_dir / "authorized_keys").string() +
                 "\nPidFile " + (m_dir / "sshd.pid").string() +
                 "\nStrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n"
                 "PasswordAuthentication no\nKbdInteractiveAuthentication no\nMaxStartups 100\n" +
                 (options.debug_log ? "LogLevel DEBUG\n" : ""));
  std::vector<std::string> argv{"/usr/sbin/sshd", "-D", "-e", "-f", (m_dir / "sshd_config").string()};
  if (!options.bashrc.empty()) {
    fs::create_directories(m_dir / "home");
    write_file(m_dir / "home" / ".bashrc", options.bashrc);
    argv = {"unshare", "--mount", "--propagation", "private", "sh", "-c",
            "mount --bind \"$1\" /root && shift && exec \"$@\"", "sh", (m_dir / "home").string()};
    argv.insert(argv.end(), {"/usr/sbin/sshd", "-D", "-e", "-f", (m_dir / "sshd_config").string()});
  }
  m_daemon = Daemon::start(argv, m_dir / "sshd.log");
  if (!m_daemon || !wait_until([this] { return tcp_port_open(m_port); }, std::chrono::seconds(10))) {
    m_why_not = "sshd did not start (see " + (m_dir / "sshd.log").string() + ")";
    m_daemon.reset();
    return;
  }
  // known_hosts pins the throwaway host key: "[127.0.0.1]:PORT ssh-ed25519 AAAA..."
  const std::string pub = first_words(read_file(m_dir / "host_key.pub"), 2);
  write_file(m_dir / "known_hosts", "[127.0.0.1]:" + std::to_string(m_port) + " " + pub + "\n");
}

namespace {

// Every descendant of `pid` (from /proc/*/stat), children before grandchildren.
std::vector<pid_t> descendants(pid_t pid) {
  std::vector<std::pair<pid_t, pid_t>> parent_of;  // (pid, ppid)
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(it->path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(line.substr(paren + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    parent_of.emplace_back(static_cast<pid_t>(std::stol(name)), ppid);
  }
  std::vector<pid_t> out{pid};
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (const auto& [child, parent] : parent_of) {
      if (parent == out[i]) out.push_back(child);
    }
  }
  out.erase(out.begin());
  return out;
}

}  // namespace

void LoopbackSshd::stop() {
  if (!m_daemon) return;
  const auto sessions = descendants(m_daemon->pid());
  m_daemon.reset();
  for (const pid_t p : sessions) ::kill(p, SIGKILL);
}

int LoopbackSshd::channels_opened() const {
  std::ifstream in(log());
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("server_input_channel_open: ctype session") != std::string::npos) ++n;
  }
  return n;
}

}  // namespace picluster::testing
