// The master's process and socket handling (see the header); the relay itself is
// SshHost::serve, in ssh_host.cpp with the rest of the libssh code.

#include "nfsroot/ssh_master.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "nfsroot/remote_helper.hpp"
#include "nfsroot/ssh_host.hpp"

extern char** environ;

namespace picluster::nfsroot::master {
namespace {

using Clock = std::chrono::steady_clock;

bool g_self_exec = false;                    // main_if_master() was called: spawn by exec
volatile std::sig_atomic_t g_stop_requested = 0;  // SIGTERM in a master: leave cleanly

void on_sigterm(int) { g_stop_requested = 1; }

// A master's signals: SIGTERM ends it cleanly (socket removed, connection closed), SIGPIPE and
// SIGHUP are ignored, nothing is blocked (a caller's mask is inherited across fork and exec).
void master_signals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  struct sigaction term{};
  term.sa_handler = on_sigterm;  // no SA_RESTART: the master's poll(2) wakes up
  sigemptyset(&term.sa_mask);
  ::sigaction(SIGTERM, &term, nullptr);
}

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// The user's own folder for sockets: created 0700 if missing; refused unless it is a folder
// (not a symlink) owned by the user that nobody else may enter.
Result<std::string> private_folder() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  const std::string dir = (runtime != nullptr && runtime[0] == '/')
                              ? std::string(runtime) + "/picluster"
                              : "/tmp/picluster-" + std::to_string(::geteuid());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail(ErrorCode::io, "create " + dir + ": " + std::strerror(errno));
  }
  struct ::stat st{};
  if (::lstat(dir.c_str(), &st) != 0) return fail(ErrorCode::io, "stat " + dir + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    return fail(ErrorCode::refused, dir + " is not a folder of the user's own with mode 0700; "
                                          "not reusing SSH connections through it");
  }
  return dir;
}

sockaddr_un address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  return a;
}

// Reads one line (at most 64 bytes) within `wait`; "" on timeout, error or EOF.
std::string read_line(int fd, std::chrono::milliseconds wait) {
  std::string line;
  const auto until = Clock::now() + wait;
  while (line.size() < 64 && (line.empty() || line.back() != '\n')) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
    char c = 0;
    if (::read(fd, &c, 1) != 1) return {};
    line += c;
  }
  return line;
}

void write_text(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// A Unix socket listening on `path`: bound under a temporary name, then renamed over `path`, so a
// stale socket of a master that died is replaced atomically.
int listen_on(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const std::string temp = path + ".new-" + std::to_string(::getpid());
  ::unlink(temp.c_str());
  const sockaddr_un a = address(temp);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::chmod(temp.c_str(), 0600) != 0 ||
      ::listen(fd, 8) != 0 || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    ::close(fd);
    return -1;
  }
  return fd;
}

// The master process: connect, start the helper, listen, report, serve until idle. `report`
// receives "ok\n", or "CODE\nMESSAGE" for an error.
[[noreturn]] void run_master(SshTarget target, const std::string& path, int report) {
  const auto idle = target.persist;
  target.persist = std::chrono::seconds(0);  // this process connects directly
  auto host = SshHost::connect(target);
  Result<void> ready = host ? (*host)->warm_up() : Result<void>(std::unexpected(host.error()));
  int listener = -1;
  if (ready) {
    listener = listen_on(path);
    if (listener < 0) ready = fail(ErrorCode::io, "listen on " + path + ": " + std::strerror(errno));
  }
  if (!ready) {
    write_text(report, std::to_string(static_cast<int>(ready.error().code)) + "\n" + ready.error().message);
    ::_exit(1);
  }
  struct ::stat mine{};
  ::fstat(listener, &mine);
  struct ::stat ours{};
  ::stat(path.c_str(), &ours);
  write_text(report, "ok\n");
  ::close(report);
  (*host)->serve(listener, idle, &g_stop_requested);
  struct ::stat now{};
  if (::stat(path.c_str(), &now) == 0 && now.st_ino == ours.st_ino && now.st_dev == ours.st_dev) ::unlink(path.c_str());
  ::close(listener);
  host->reset();  // closes the helper's channel and disconnects
  ::_exit(0);
}

}  // namespace

bool peer_is_us(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  return ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == ::geteuid();
}

Result<std::string> socket_path(const SshTarget& target) {
  auto dir = private_folder();
  if (!dir) return std::unexpected(dir.error());
  // The helper's source is part of the key: a master started by an older picluster runs an older
  // helper, which would not understand (and could misread) a newer binary's requests, such as the
  // chain flags that make it stop at a failed step. After an upgrade the new binary starts its own
  // master; the old one idles out.
  const std::string key = target.user + '\0' + target.host + '\0' + std::to_string(target.port) + '\0' +
                          target.identity_file + '\0' + target.known_hosts + '\0' +
                          std::string(remote::helper_script());
  char name[32];
  std::snprintf(name, sizeof name, "/ssh-%016llx", static_cast<unsigned long long>(fnv1a(key)));
  const std::string path = *dir + name;
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return fail(ErrorCode::io, path + ": too long for a Unix socket");
  }
  return path;
}

namespace {

// The target as the exec'd master reads it on fd 3: NUL-separated fields (no field can hold a
// NUL: paths and host names come from C strings).
std::string encode_target(const SshTarget& t, const std::string& path) {
  const std::vector<std::string> fields{path, t.host, std::to_string(t.port), t.user, t.identity_file,
                                        t.known_hosts, std::to_string(t.connect_timeout.count()),
                                        std::to_string(t.persist.count())};
  std::string out;
  for (const auto& f : fields) out += f + '\0';
  return out;
}

std::optional<std::pair<SshTarget, std::string>> decode_target(const std::string& text) {
  std::vector<std::string> f;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto end = text.find('\0', pos);
    if (end == std::string::npos) return std::nullopt;
    f.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  if (f.size() != 8) return std::nullopt;
  SshTarget t;
  t.host = f[1];
  t.port = std::atoi(f[2].c_str());
  t.user = f[3];
  t.identity_file = f[4];
  t.known_hosts = f[5];
  t.connect_timeout = std::chrono::seconds(std::atoi(f[6].c_str()));
  t.persist = std::chrono::seconds(std::atoi(f[7].c_str()));
  if (f[0].empty() || t.host.empty() || t.port <= 0 || t.persist.count() <= 0) return std::nullopt;
  return std::pair{t, f[0]};
}

// Reads until EOF (at most 64 KiB, within `wait`); nothing on timeout or error.
std::optional<std::string> read_all(int fd, std::chrono::milliseconds wait) {
  std::string text;
  char buffer[4096];
  const auto until = Clock::now() + wait;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > 65536) return std::nullopt;
  }
}

// A process that exists and is not a zombie.
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

// Connects to the socket on `path` and reads the master's greeting: the descriptor, the greeting
// ("ready\n", "busy\n") and the master's pid; -1 when nothing (of the user's) listens there.
struct Knock {
  int fd = -1;
  std::string greeting;
  pid_t pid = 0;
};

Knock knock(const std::string& path) {
  Knock k;
  k.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (k.fd < 0) return k;
  const sockaddr_un a = address(path);
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::connect(k.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockopt(k.fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::geteuid()) {
    ::close(k.fd);
    k.fd = -1;
    return k;
  }
  k.pid = cred.pid;
  k.greeting = read_line(k.fd, std::chrono::seconds(5));
  return k;
}

}  // namespace

// A live master that is free: knock() with the greeting "ready".
int connect_client(const std::string& path) {
  Knock k = knock(path);
  if (k.fd >= 0 && k.greeting != "ready\n") {
    ::close(k.fd);
    return -1;
  }
  return k.fd;
}

int thread_count() {
  std::error_code ec;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

std::optional<int> main_if_master(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) != kMasterArgument) {
    g_self_exec = true;
    return std::nullopt;
  }
  master_signals();
  constexpr int report = 3;  // the socketpair spawn() left there
  auto request = read_all(report, std::chrono::seconds(10));
  auto decoded = request ? decode_target(*request) : std::nullopt;
  if (!decoded) {
    write_text(report, std::to_string(static_cast<int>(ErrorCode::internal)) +
                           "\nthe SSH connection master got no valid target");
    return 1;
  }
  run_master(decoded->first, decoded->second, report);
}

Result<Spawned> spawn(const SshTarget& target, const std::string& path) {
  const bool exec = g_self_exec;
  if (!exec && thread_count() > 1) return Spawned::not_started;
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail(ErrorCode::io, std::string("socketpair: ") + std::strerror(errno));
  }
  // Everything the child needs is prepared here: between fork and exec it calls only
  // async-signal-safe functions (another thread may hold malloc's or libssh's locks).
  char exe[] = "/proc/self/exe";
  char arg0[] = "picluster";
  std::string arg1_text(kMasterArgument);
  char* args[] = {arg0, arg1_text.data(), nullptr};
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(pair[0]);
    ::close(pair[1]);
    return fail(ErrorCode::io, std::string("fork: ") + std::strerror(errno));
  }
  if (child == 0) {
    // Detach: a session of its own, reparented to init (the verb waits for the first child
    // only), nothing inherited but the report socket (a caller's $(...) must not wait for it).
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    if (exec) {
      if (pair[1] == 3) {
        ::fcntl(3, F_SETFD, 0);
      } else if (::dup2(pair[1], 3) != 3) {
        ::_exit(127);
      }
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::close_range(4, ~0U, 0);
      ::execve(exe, args, environ);
      ::_exit(127);
    }
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (pair[1] > 3) ::close_range(3, static_cast<unsigned>(pair[1]) - 1, 0);
    ::close_range(static_cast<unsigned>(pair[1]) + 1, ~0U, 0);
    master_signals();
    run_master(target, path, pair[1]);
  }
  ::close(pair[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (exec) {
    write_text(pair[0], encode_target(target, path));
    ::shutdown(pair[0], SHUT_WR);
  }
  const auto answer = read_all(pair[0], target.connect_timeout + std::chrono::seconds(75)).value_or("");
  ::close(pair[0]);
  if (answer == "ok\n") return exec ? Spawned::exec : Spawned::fork;
  if (answer.empty()) return Spawned::died;
  const auto nl = answer.find('\n');
  if (nl == std::string::npos) return fail(ErrorCode::ssh, "the SSH connection master did not start");
  const int code = std::atoi(answer.substr(0, nl).c_str());
  const bool known = code >= 0 && code <= static_cast<int>(ErrorCode::internal);
  return fail(known ? static_cast<ErrorCode>(code) : ErrorCode::ssh, answer.substr(nl + 1));
}

std::optional<pid_t> live_master(const std::string& path) {
  Knock k = knock(path);
  if (k.fd < 0) return std::nullopt;
  if (k.greeting == "ready\n") (void)::send(k.fd, "q\n", 2, MSG_NOSIGNAL);
  ::close(k.fd);
  if (k.greeting != "ready\n" && k.greeting != "busy\n") return std::nullopt;
  return k.pid;
}

Result<bool> stop(const std::string& path) {
  Knock k = knock(path);
  if (k.fd < 0) return false;
  if (k.greeting != "ready\n" && k.greeting != "busy\n") {
    ::close(k.fd);
    return false;
  }
  if (k.greeting == "busy\n") ::kill(k.pid, SIGTERM);
  ::close(k.fd);  // an idle master left without "q": it ends
  auto until = Clock::now() + std::chrono::seconds(10);
  while (alive(k.pid) && Clock::now() < until) ::usleep(20000);
  if (alive(k.pid)) {
    ::kill(k.pid, SIGKILL);
    ::unlink(path.c_str());
  }
  return true;
}

}  // namespace picluster::nfsroot::master
