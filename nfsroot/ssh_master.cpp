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

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "nfsroot/ssh_host.hpp"

namespace picluster::nfsroot::master {
namespace {

using Clock = std::chrono::steady_clock;

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
  (*host)->serve(listener, idle);
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
  const std::string key = target.user + '\0' + target.host + '\0' + std::to_string(target.port) + '\0' +
                          target.identity_file + '\0' + target.known_hosts;
  char name[32];
  std::snprintf(name, sizeof name, "/ssh-%016llx", static_cast<unsigned long long>(fnv1a(key)));
  const std::string path = *dir + name;
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return fail(ErrorCode::io, path + ": too long for a Unix socket");
  }
  return path;
}

int connect_client(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const sockaddr_un a = address(path);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || !peer_is_us(fd) ||
      read_line(fd, std::chrono::seconds(5)) != "ready\n") {
    ::close(fd);
    return -1;
  }
  return fd;
}

Result<void> spawn(const SshTarget& target, const std::string& path) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return fail(ErrorCode::io, std::string("pipe: ") + std::strerror(errno));
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(report[0]);
    ::close(report[1]);
    return fail(ErrorCode::io, std::string("fork: ") + std::strerror(errno));
  }
  if (child == 0) {
    // Detach: a session of its own, reparented to init (the verb waits for the first child
    // only), nothing inherited but the report pipe (a caller's $(...) must not wait for it).
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (report[1] > 3) ::close_range(3, static_cast<unsigned>(report[1]) - 1, 0);
    ::close_range(static_cast<unsigned>(report[1]) + 1, ~0U, 0);
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGHUP, SIG_IGN);
    run_master(target, path, report[1]);
  }
  ::close(report[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  std::string answer;
  char buffer[4096];
  const auto until = Clock::now() + target.connect_timeout + std::chrono::seconds(75);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    pollfd p{report[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::read(report[0], buffer, sizeof buffer);
    if (n <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(report[0]);
  if (answer == "ok\n") return {};
  const auto nl = answer.find('\n');
  if (nl == std::string::npos) return fail(ErrorCode::ssh, "the SSH connection master did not start");
  const int code = std::atoi(answer.substr(0, nl).c_str());
  const bool known = code >= 0 && code <= static_cast<int>(ErrorCode::internal);
  return fail(known ? static_cast<ErrorCode>(code) : ErrorCode::ssh, answer.substr(nl + 1));
}

}  // namespace picluster::nfsroot::master
