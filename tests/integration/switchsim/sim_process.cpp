#include "sim_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace picluster::switchsim::testing {

namespace {

using Clock = std::chrono::steady_clock;

pid_t spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

int wait_bounded(pid_t pid, Clock::time_point deadline) {
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    ::usleep(10000);
  }
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, int timeout_s) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  const pid_t pid = spawn(argv, out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);
  RunResult result;
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0 && Clock::now() < deadline) {
    if (::poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  result.status = wait_bounded(pid, deadline + std::chrono::seconds(1));
  return result;
}

int free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TempDir::TempDir() {
  char pattern[] = "/tmp/switchsim-it.XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp");
  m_path = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

std::string switchsim_binary() { return std::string(PICLUSTER_BINARY_DIR) + "/lab/switchsim/picluster-switchsim"; }

SimProcess::SimProcess(const std::vector<std::string>& args) {
  m_address = "127.0.0.1:" + std::to_string(free_udp_port());
  std::vector<std::string> argv{switchsim_binary(), "--listen", "udp:" + m_address};
  argv.insert(argv.end(), args.begin(), args.end());
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  m_pid = spawn(argv, out[1], devnull);
  ::close(out[1]);
  ::close(devnull);
  m_stdout = out[0];
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  std::string text;
  while (Clock::now() < deadline && text.find('\n') == std::string::npos) {
    pollfd pfd{m_stdout, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    char buf[256];
    const ssize_t n = ::read(m_stdout, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  m_ready_line = text.substr(0, text.find('\n'));
  m_ready = m_ready_line == "ready udp:" + m_address;
}

int SimProcess::stop() {
  if (m_pid <= 0) return -1;
  ::kill(m_pid, SIGTERM);
  const int status = wait_bounded(m_pid, Clock::now() + std::chrono::seconds(10));
  m_pid = -1;
  if (m_stdout >= 0) ::close(m_stdout);
  m_stdout = -1;
  return status;
}

SimProcess::~SimProcess() { stop(); }

}  // namespace picluster::switchsim::testing
