#include "orchestrator/probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "common/text.hpp"

extern char** environ;

namespace picluster::orchestrator {
namespace {

using Clock = std::chrono::steady_clock;

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// A non-blocking connect in flight; fd < 0 once decided.
struct Pending {
  int fd = -1;
  std::size_t index = 0;
};

// Starts a connect; decides `out` at once when it cannot be in flight.
int start_connect(const std::string& address, int port, ProbeResult& out) {
  sockaddr_storage sa{};
  socklen_t len = 0;
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&sa);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&sa);
  if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in6);
  } else if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in);
  } else {
    out.detail = "not an IP address: " + printable(address);
    return -1;
  }
  const int fd = ::socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    out.detail = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) == 0) {
    out.alive = true;
    ::close(fd);
    return -1;
  }
  if (errno != EINPROGRESS) {
    out.detail = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

void finish_connect(int fd, ProbeResult& out) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) {
    out.alive = true;
  } else {
    out.detail = std::string("connect: ") + std::strerror(err);
  }
  ::close(fd);
}

pid_t spawn_probe(const std::string& program, const ProbeTarget& target, std::string& error) {
  std::vector<std::string> argv{program, target.pi, target.address};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd = 0; fd <= 2; ++fd) {
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  // Own process group: a Ctrl-C on the terminal stops watch between rounds but must not kill
  // the probes (which would read as failures), and a timeout can kill the probe's children too.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = program.find('/') == std::string::npos
                     ? ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ)
                     : ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    error = "cannot run " + printable(program) + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

std::string ProbeSpec::str() const {
  switch (kind) {
    case Kind::tcp: return "tcp:" + std::to_string(port);
    case Kind::exec: return "exec:" + program;
    case Kind::none: return "none";
  }
  return "none";
}

Result<ProbeSpec> parse_probe_spec(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return fail(ErrorCode::invalid_argument,
                "probe " + printable(text) + ": " + why + " (expected tcp[:PORT], exec:PROGRAM or none)");
  };
  ProbeSpec spec;
  if (text == "none") {
    spec.kind = ProbeSpec::Kind::none;
    return spec;
  }
  if (text == "tcp") return spec;
  if (text.starts_with("tcp:")) {
    const auto digits = text.substr(4);
    int port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || port < 1 || port > 65535) {
      return bad("port must be 1..65535");
    }
    spec.port = port;
    return spec;
  }
  if (text.starts_with("exec:")) {
    spec.kind = ProbeSpec::Kind::exec;
    spec.program = std::string(text.substr(5));
    if (spec.program.empty()) return bad("no program");
    if (spec.program.find('\0') != std::string::npos) return bad("program name contains NUL");
    return spec;
  }
  return bad("unknown kind");
}

std::vector<ProbeResult> TcpProber::probe(const std::vector<ProbeTarget>& targets) {
  std::vector<ProbeResult> results;
  std::vector<Pending> pending;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < targets.size(); ++i) {
    results.push_back({targets[i].pi, false, {}});
    const int fd = start_connect(targets[i].address, m_port, results.back());
    if (fd >= 0) pending.push_back({fd, i});
  }
  const auto deadline = Clock::now() + m_timeout;
  while (!pending.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    std::vector<pollfd> fds;
    for (const auto& p : pending) fds.push_back({p.fd, POLLOUT, 0});
    const int n = ::poll(fds.data(), static_cast<nfds_t>(fds.size()), static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    std::vector<Pending> still;
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents != 0) {
        finish_connect(pending[k].fd, results[pending[k].index]);
        results[pending[k].index].seconds = std::chrono::duration<double>(Clock::now() - start).count();
      } else {
        still.push_back(pending[k]);
      }
    }
    pending = std::move(still);
  }
  for (const auto& p : pending) {
    ::close(p.fd);
    results[p.index].seconds = std::chrono::duration<double>(Clock::now() - start).count();
    results[p.index].detail = "no answer on port " + std::to_string(m_port) + " within " + seconds_text(m_timeout);
  }
  return results;
}

std::vector<ProbeResult> ExecProber::probe(const std::vector<ProbeTarget>& targets) {
  std::vector<ProbeResult> results;
  std::vector<std::pair<pid_t, std::size_t>> running;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < targets.size(); ++i) {
    results.push_back({targets[i].pi, false, {}});
    const pid_t pid = spawn_probe(m_program, targets[i], results.back().detail);
    if (pid > 0) running.emplace_back(pid, i);
  }
  const auto deadline = Clock::now() + m_timeout;
  while (!running.empty() && Clock::now() < deadline) {
    std::vector<std::pair<pid_t, std::size_t>> still;
    for (const auto& [pid, index] : running) {
      int status = 0;
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        results[index].seconds = std::chrono::duration<double>(Clock::now() - start).count();
        results[index].alive = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!results[index].alive) results[index].detail = describe_status(status);
      } else if (r < 0 && errno != EINTR) {
        results[index].detail = std::string("waitpid: ") + std::strerror(errno);
      } else {
        still.emplace_back(pid, index);
      }
    }
    running = std::move(still);
    if (!running.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (const auto& [pid, index] : running) {
    ::kill(-pid, SIGKILL);  // the probe's own process group
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    results[index].seconds = std::chrono::duration<double>(Clock::now() - start).count();
    results[index].detail = "timed out after " + seconds_text(m_timeout);
  }
  return results;
}

std::unique_ptr<Prober> make_prober(const ProbeSpec& spec, std::chrono::milliseconds timeout) {
  switch (spec.kind) {
    case ProbeSpec::Kind::tcp: return std::make_unique<TcpProber>(spec.port, timeout);
    case ProbeSpec::Kind::exec: return std::make_unique<ExecProber>(spec.program, timeout);
    case ProbeSpec::Kind::none: return nullptr;
  }
  return nullptr;
}

}  // namespace picluster::orchestrator
