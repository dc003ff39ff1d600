#include "lab/shelf/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/text.hpp"

namespace picluster::lab {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text() { return std::strerror(errno); }

// Child side of fork: wire stdio and exec. Never returns.
[[noreturn]] void exec_child(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  setpgid(0, 0);  // own process group, so a timeout kills the whole tree
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd >= 0) dup2(null_fd, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  const std::string msg = "exec " + argv[0] + ": " + std::strerror(errno) + "\n";
  (void)!write(2, msg.data(), msg.size());
  _exit(127);
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

// Drains both pipes until EOF or the deadline. Returns false on timeout.
bool drain(int out_fd, int err_fd, std::string& out, std::string& err, Clock::time_point deadline) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_count = (out_fd >= 0 ? 1 : 0) + (err_fd >= 0 ? 1 : 0);
  if (out_fd < 0) fds[0].fd = -1;
  if (err_fd < 0) fds[1].fd = -1;
  char buf[8192];
  while (open_count > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    const int n = poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) return false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        fds[i].fd = -1;
        --open_count;
        continue;
      }
      (i == 0 ? out : err).append(buf, static_cast<std::size_t>(got));
    }
  }
  return true;
}

// Waits for pid until the deadline; kills its group on timeout. nullopt = timed out.
std::optional<int> wait_until(pid_t pid, Clock::time_point deadline) {
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return decode_status(status);
    if (r < 0 && errno != EINTR) return 255;
    if (Clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  const auto pos = t.rfind('\n');
  return pos == std::string::npos ? t : t.substr(pos + 1);
}

}  // namespace

Result<RunResult> run(const std::vector<std::string>& argv, const RunOptions& options) {
  if (argv.empty()) return fail(ErrorCode::internal, "run: empty argv");
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int log_fd = -1;
  if (options.log_file) {
    log_fd = open(options.log_file->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return fail(ErrorCode::io, options.log_file->string() + ": " + errno_text());
  } else if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    return fail(ErrorCode::io, "pipe: " + errno_text());
  }
  const auto deadline = Clock::now() + options.timeout;
  const pid_t pid = fork();
  if (pid < 0) return fail(ErrorCode::io, "fork: " + errno_text());
  if (pid == 0) {
    if (log_fd >= 0) exec_child(argv, log_fd, log_fd);
    exec_child(argv, out_pipe[1], err_pipe[1]);
  }
  RunResult result;
  bool drained = true;
  if (log_fd >= 0) {
    close(log_fd);
  } else {
    close(out_pipe[1]);
    close(err_pipe[1]);
    drained = drain(out_pipe[0], err_pipe[0], result.out, result.err, deadline);
    close(out_pipe[0]);
    close(err_pipe[0]);
  }
  const auto status = wait_until(pid, drained ? deadline : Clock::now());
  if (!status) {
    return fail(ErrorCode::timeout, argv[0] + ": still running after " +
                                        std::to_string(options.timeout.count()) + " s; killed");
  }
  result.exit_status = *status;
  if (result.exit_status == 127 && result.err.starts_with("exec ")) {
    return fail(ErrorCode::io, last_line(result.err));
  }
  return result;
}

Result<RunResult> run_checked(const std::vector<std::string>& argv, const RunOptions& options) {
  auto result = run(argv, options);
  if (!result) return result;
  if (result->exit_status == 0) return result;
  std::string detail = last_line(result->err);
  if (options.log_file) {
    std::ifstream in(*options.log_file);
    std::stringstream ss;
    ss << in.rdbuf();
    detail = last_line(ss.str()) + " (log: " + options.log_file->string() + ")";
  }
  return fail(ErrorCode::command_failed, argv[0] + " exited with status " +
                                             std::to_string(result->exit_status) +
                                             (detail.empty() ? "" : ": " + detail));
}

Result<void> run_ok(const std::vector<std::string>& argv, const RunOptions& options) {
  auto result = run_checked(argv, options);
  if (!result) return std::unexpected(result.error());
  return {};
}

bool process_matches(pid_t pid, const std::string& exe_name) {
  if (pid <= 1) return false;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  if (ec) return false;
  std::string name = exe.filename().string();
  // A binary replaced on disk (apt upgrade, rebuild) shows as "name (deleted)".
  if (const auto pos = name.find(" (deleted)"); pos != std::string::npos) name.resize(pos);
  return name == exe_name;
}

Result<void> stop_process(pid_t pid, const std::string& exe_name,
                          std::chrono::milliseconds grace) {
  if (!process_matches(pid, exe_name)) return {};
  if (kill(pid, SIGTERM) != 0 && errno != ESRCH) {
    return fail(ErrorCode::io, "kill " + std::to_string(pid) + " (" + exe_name + "): " + errno_text());
  }
  const auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    int status = 0;
    waitpid(pid, &status, WNOHANG);  // reap if it is our child; harmless otherwise
    if (!process_matches(pid, exe_name)) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  for (int i = 0; i < 100 && process_matches(pid, exe_name); ++i) {
    int status = 0;
    waitpid(pid, &status, WNOHANG);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (process_matches(pid, exe_name)) {
    return fail(ErrorCode::timeout, exe_name + " (pid " + std::to_string(pid) + ") survived SIGKILL");
  }
  return {};
}

std::optional<pid_t> read_pidfile(const std::filesystem::path& path) {
  std::ifstream in(path);
  long long value = 0;
  if (!(in >> value) || value <= 1 || value > 4194304) return std::nullopt;
  return static_cast<pid_t>(value);
}

Result<int> free_loopback_port(bool udp) {
  const int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorCode::io, "socket: " + errno_text());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string msg = errno_text();
    close(fd);
    return fail(ErrorCode::io, "bind 127.0.0.1:0: " + msg);
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

}  // namespace picluster::lab
