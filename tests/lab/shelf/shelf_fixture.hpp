#pragma once
// The fixture the lab's end-to-end tests share (lab_e2e_test.cpp, lab_netboot_test.cpp,
// lab_arm64_test.cpp): the
// tool checks of SetUp, one lab folder per test process, `picluster` against the lab's
// inventory, commands on the fileserver VM (over its forwarded SSH port) and on a Pi (from the
// fileserver, over the public VLAN), the bounded wait for a Pi to answer, and TearDown's timing
// summary and `lab down`.
//
// Every wait is bounded, and all of them together by one deadline (kBudget) that leaves ctest's
// TIMEOUT (1500 s, tests/lab/shelf/CMakeLists.txt) room for TearDown's `lab down`: a test killed
// by ctest would leave QEMUs behind.
//
// Environment: PICLUSTER_LAB_CACHE (image cache, default /var/cache/picluster-lab),
// PICLUSTER_LAB_KEEP=1 (leave the lab running after the test, for debugging).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/text.hpp"
#include "lab/shelf/lab.hpp"
#include "lab/shelf/process.hpp"
#include "lab/shelf/qemu.hpp"

namespace picluster::lab::shelf_test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline const std::string kPicluster = std::string(PICLUSTER_BINARY_DIR) + "/orchestrator/picluster";
inline const std::string kPi01Ip6 = "fd00:131::1000:1:0:2";
inline const std::string kPi02Ip6 = "fd00:131::1000:2:0:2";

// Below the tests' ctest TIMEOUT (1500 s, issue 6's 25-minute bound) by a margin for TearDown's
// `lab down`.
inline constexpr std::chrono::seconds kBudget = 23min;

inline double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// How often `what` occurs in `text`.
inline std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

#define EXPECT_OK(result) EXPECT_EQ((result).exit_status, 0) << (result).out << (result).err

class LabShelfTest : public ::testing::Test {
 protected:
  // Skips unless root with every tool in `tools`; makes the lab folder /tmp/picluster-lab-TAG-PID.
  void set_up(const std::vector<const char*>& tools, const std::string& tag) {
    if (geteuid() != 0) GTEST_SKIP() << "the lab needs root";
    for (const char* tool : tools) {
      if (run({"sh", "-c", "command -v \"$0\"", tool}).value_or(RunResult{1, {}, {}}).exit_status != 0) {
        GTEST_SKIP() << tool << " is not installed";
      }
    }
    m_dir = fs::temp_directory_path() / ("picluster-lab-" + tag + "-" + std::to_string(getpid()));
    fs::create_directories(m_dir);
    const char* cache = std::getenv("PICLUSTER_LAB_CACHE");
    m_cache = cache != nullptr ? cache : "/var/cache/picluster-lab";
  }

  // The timing summary (also for a failed run: it shows how far it got) on stdout, and in
  // `summary_file` if given; then `lab down` (unless PICLUSTER_LAB_KEEP=1), which must leave no
  // process running.
  void tear_down(const std::string& title, const std::optional<fs::path>& summary_file = std::nullopt) {
    if (m_dir.empty()) return;
    std::ostringstream summary;
    summary << title << " (seconds; " << (HasFailure() ? "test FAILED" : "test passed") << "):\n";
    for (const auto& [what, secs] : m_timings) summary << "  " << what << ": " << static_cast<int>(secs) << "\n";
    std::cout << "\n" << summary.str();
    if (summary_file) std::ofstream(*summary_file, std::ios::trunc) << summary.str();
    const char* keep = std::getenv("PICLUSTER_LAB_KEEP");
    if (keep != nullptr && std::string(keep) == "1") return;
    auto down = picluster({"lab", "down", "--dir", m_dir.string()});
    EXPECT_EQ(down.exit_status, 0) << down.err;
    if (auto status = lab_status(m_dir)) {
      for (const auto& p : status->processes) EXPECT_FALSE(p.running) << p.name << " still running after lab down";
    }
    std::error_code ec;
    fs::remove_all(m_dir, ec);
  }

  // What is left of the test's budget (m_budget), at most `limit` (at least 1 s, so a late step
  // fails fast).
  std::chrono::seconds budget(std::chrono::seconds limit) const {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(m_start + m_budget - Clock::now());
    return std::max(1s, std::min(limit, left));
  }

  std::vector<std::string> picluster_argv(std::vector<std::string> args) const {
    args.insert(args.begin(), {kPicluster, "-i", (m_dir / "inventory.json").string()});
    return args;
  }

  // Runs `picluster ARGS` against the lab's inventory.
  RunResult picluster(std::vector<std::string> args, std::chrono::seconds timeout = 20min) {
    auto r = run(picluster_argv(std::move(args)), RunOptions{budget(timeout), {}});
    if (!r) return RunResult{255, {}, r.error().message};
    return *r;
  }

  std::vector<std::string> ssh_argv() const {
    return {"ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o",
            "UserKnownHostsFile=" + (m_dir / "known_hosts").string(), "-o", "ConnectTimeout=10", "-i",
            (m_dir / "keys/id_ed25519").string(), "-p", std::to_string(m_state.ssh_port), "root@127.0.0.1"};
  }

  // Runs argv on the fileserver VM (every element quoted for its shell).
  RunResult on_fileserver(const std::vector<std::string>& argv, std::chrono::seconds timeout = 120s) {
    auto full = ssh_argv();
    full.push_back(shell_join(argv));
    auto r = run(full, RunOptions{budget(timeout), {}});
    if (!r) return RunResult{255, {}, r.error().message};
    return *r;
  }

  // Runs argv on a Pi, from the fileserver, over the public VLAN (the fileserver's own key).
  RunResult on_pi(const std::string& ip6, const std::vector<std::string>& argv, std::chrono::seconds timeout = 120s) {
    return on_fileserver({"ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o",
                          "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "root@" + ip6, shell_join(argv)},
                         timeout);
  }

  // Waits until the Pi answers ping and SSH on its eth0.131 address (from the fileserver), polling
  // every `poll`. Returns the seconds waited, or -1 (a test failure) after `limit`.
  double wait_for_pi(const std::string& ip6, std::chrono::seconds limit = 15min, std::chrono::seconds poll = 5s) {
    const auto start = Clock::now();
    limit = budget(limit);
    while (Clock::now() - start < limit) {
      if (on_fileserver({"ping", "-6", "-c", "1", "-W", "2", ip6}, 30s).exit_status == 0 &&
          on_pi(ip6, {"true"}, 40s).exit_status == 0) {
        return seconds_since(start);
      }
      std::this_thread::sleep_for(poll);
    }
    ADD_FAILURE() << ip6 << " did not answer ping and SSH within " << limit.count() << " s";
    return -1;
  }

  std::optional<int> pi_pid(int port) { return running_pid(LabPaths{m_dir}.pi(port)); }

  Clock::time_point m_start = Clock::now();
  std::chrono::seconds m_budget = kBudget;  // below the test's ctest TIMEOUT, with room for `lab down`
  fs::path m_dir;
  fs::path m_cache;
  LabState m_state;
  std::map<std::string, double> m_timings;
};

}  // namespace picluster::lab::shelf_test
