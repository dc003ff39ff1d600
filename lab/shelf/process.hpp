#pragma once
// Local processes for the lab: run a tool to completion (mmdebstrap, mkfs.ext4, ssh-keygen) or
// start a daemon (vde_switch, QEMU, the switch simulator) and later stop it by its recorded PID.
//
// Contract: argv is executed directly with execvp (never a shell); stdin is /dev/null. A PID is
// only ever signalled after checking that /proc/PID/exe still names the program we started, so a
// recycled PID of an unrelated process is never killed.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace picluster::lab {

struct RunResult {
  int exit_status = 0;  // 0 = success; 128+N when killed by signal N
  std::string out;      // stdout (empty when a log file was given)
  std::string err;      // stderr (empty when a log file was given)
};

struct RunOptions {
  std::chrono::seconds timeout{std::chrono::minutes(5)};
  // When set, stdout and stderr are appended to this file instead of being captured.
  std::optional<std::filesystem::path> log_file;
};

// Runs argv to completion. A program that cannot be started or outlives the timeout (it is then
// killed with SIGKILL) is an error; a non-zero exit status is not (see run_checked).
Result<RunResult> run(const std::vector<std::string>& argv, const RunOptions& options = {});

// As run(), but a non-zero exit is ErrorCode::command_failed naming the program and quoting the
// last line of its stderr (or of the log file).
Result<RunResult> run_checked(const std::vector<std::string>& argv, const RunOptions& options = {});

// run_checked() for callers that only care whether it worked.
Result<void> run_ok(const std::vector<std::string>& argv, const RunOptions& options = {});

// True when `pid` is alive and /proc/PID/exe has the file name `exe_name` (e.g. "vde_switch").
bool process_matches(pid_t pid, const std::string& exe_name);

// Sends SIGTERM, waits up to `grace` for the process to go, then SIGKILL. Does nothing (and
// succeeds) when the PID is gone or is no longer `exe_name`.
Result<void> stop_process(pid_t pid, const std::string& exe_name,
                          std::chrono::milliseconds grace = std::chrono::seconds(5));

// Reads a pidfile written by a daemon (vde_switch -p, qemu -pidfile). nullopt if absent/garbled.
std::optional<pid_t> read_pidfile(const std::filesystem::path& path);

// A free TCP (or UDP) port on 127.0.0.1, found by binding port 0. Racy by nature; callers bind
// soon after.
Result<int> free_loopback_port(bool udp);

}  // namespace picluster::lab
