#pragma once
// Long-running helpers for integration tests: a child process stopped by its destructor, free
// loopback ports, a bounded wait, and a real sshd on 127.0.0.1 with throwaway keys.
//
// Everything listens on 127.0.0.1 only. Waits are bounded in time; none of them assert timing.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace picluster::testing {

// A free TCP or UDP port on 127.0.0.1 (bound, read back and released; the caller binds it next).
int free_tcp_port();
int free_udp_port();
// True when something accepts TCP connections on 127.0.0.1:port.
bool tcp_port_open(int port);

// Calls `done` every `step` until it returns true or `limit` has passed; returns its last answer.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit,
                std::chrono::milliseconds step = std::chrono::milliseconds(20));

// A child process (argv only, no shell) whose stdout and stderr go to `log` (appended).
// The destructor sends SIGTERM and waits for it.
class Daemon {
 public:
  // Returns nullptr when the program cannot be started (the reason is appended to `log`).
  static std::unique_ptr<Daemon> start(const std::vector<std::string>& argv, const std::filesystem::path& log);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon();

  [[nodiscard]] pid_t pid() const { return m_pid; }
  // Sends `signal` and waits (at most 20 s, then SIGKILL) for the process to end.
  void stop(int signal);
  // True while the process has not exited.
  [[nodiscard]] bool running();

 private:
  explicit Daemon(pid_t pid) : m_pid(pid) {}
  pid_t m_pid;
};

// A real OpenSSH server on a free 127.0.0.1 port, for the `ssh` fileserver transport: throwaway
// host and client ed25519 keys, root login by key only, and a known_hosts file that pins the host
// key. Everything lives under `dir`. ready() is false when sshd or root is missing (skip then).
struct LoopbackSshdOptions {
  // When set, sshd runs in a mount namespace of its own where /root is `dir`/home holding this
  // as .bashrc (the machine's own /root is never touched): a fileserver with noisy dotfiles.
  std::string bashrc;
  bool debug_log = false;  // LogLevel DEBUG: sshd.log shows every channel opened
};

// A ~/.bashrc (for LoopbackSshdOptions::bashrc) that prints on stdout and stderr and takes 2 s:
// what a fileserver's dotfiles may do to every command sshd starts.
inline constexpr const char* kNoisySlowBashrc =
    "echo 'NOISE from .bashrc on stdout'\n"
    "echo 'NOISE from .bashrc on stderr' >&2\n"
    "sleep 2\n";

class LoopbackSshd {
 public:
  explicit LoopbackSshd(const std::filesystem::path& dir, const LoopbackSshdOptions& options = {});
  LoopbackSshd(const LoopbackSshd&) = delete;
  LoopbackSshd& operator=(const LoopbackSshd&) = delete;
  ~LoopbackSshd() { stop(); }
  // Stops sshd and SIGKILLs its sessions (the connections it accepted and what runs in them), as a
  // fileserver going away would: a client's connection ends now (sshd's own SIGTERM would leave
  // the sessions running). The destructor does it.
  void stop();

  [[nodiscard]] bool ready() const { return m_daemon != nullptr; }
  [[nodiscard]] const std::string& why_not() const { return m_why_not; }
  [[nodiscard]] int port() const { return m_port; }
  [[nodiscard]] std::filesystem::path identity_file() const { return m_dir / "client_key"; }
  [[nodiscard]] std::filesystem::path known_hosts() const { return m_dir / "known_hosts"; }
  [[nodiscard]] std::filesystem::path log() const { return m_dir / "sshd.log"; }
  [[nodiscard]] pid_t pid() const { return m_daemon ? m_daemon->pid() : -1; }
  // SSH session channels opened so far, from the log (needs debug_log).
  [[nodiscard]] int channels_opened() const;

 private:
  std::filesystem::path m_dir;
  int m_port = 0;
  std::string m_why_not;
  std::unique_ptr<Daemon> m_daemon;
};

}  // namespace picluster::testing
