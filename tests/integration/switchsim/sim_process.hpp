#pragma once
// Runs picluster-switchsim and net-snmp's tools as child processes (argv vectors, no shell),
// bounded in time.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace picluster::switchsim::testing {

struct RunResult {
  int status = -1;  // exit status, or -1 if killed by a signal / timed out
  std::string out;
  std::string err;
};

// Runs argv to completion (killed after timeout_s seconds) and captures stdout and stderr.
RunResult run(const std::vector<std::string>& argv, int timeout_s = 60);

// A free UDP port on 127.0.0.1 (bound and released; good enough for tests).
int free_udp_port();

// A fresh private folder under /tmp, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

// picluster-switchsim running on 127.0.0.1:port until stop() or destruction.
class SimProcess {
 public:
  // Starts the binary with --listen udp:127.0.0.1:<free port> plus `args`; waits (10 s max) for
  // the "ready" line. ok() tells whether it came.
  explicit SimProcess(const std::vector<std::string>& args);
  ~SimProcess();
  bool ok() const { return m_ready; }
  const std::string& address() const { return m_address; }  // "127.0.0.1:PORT"
  const std::string& ready_line() const { return m_ready_line; }
  pid_t pid() const { return m_pid; }
  // SIGTERM and wait (10 s max); returns the exit status (-1 on signal/timeout).
  int stop();

 private:
  pid_t m_pid = -1;
  int m_stdout = -1;
  bool m_ready = false;
  std::string m_address;
  std::string m_ready_line;
};

std::string switchsim_binary();

}  // namespace picluster::switchsim::testing
