#pragma once
// Runs a program for the Ansible integration tests: argv only (no shell), stdout and stderr
// captured, bounded by coreutils `timeout`, optional working folder and environment through
// coreutils `env`.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace picluster::testing {

struct RunResult {
  int status = -1;  // exit status; 128+N when killed by signal N
  std::string out;
  std::string err;
};

struct RunOptions {
  std::filesystem::path cwd;                              // empty: the test's own
  std::vector<std::pair<std::string, std::string>> env;   // added to the inherited environment
  int timeout_seconds = 600;
};

RunResult run(const std::vector<std::string>& argv, const RunOptions& options = RunOptions{});

// Options with an environment and a time bound, in the test's own folder.
RunOptions with_env(std::vector<std::pair<std::string, std::string>> env, int timeout_seconds);

// True when `name` is an executable on PATH.
bool have_program(const std::string& name);

// Paths of the source tree and the picluster binary under test.
std::filesystem::path source_dir();
std::filesystem::path ansible_dir();
std::filesystem::path picluster_exe();

// Environment for Ansible runs against the project's ansible/ folder: its ansible.cfg, the
// picluster under test for the wrapper script, and the given picluster inventory.
std::vector<std::pair<std::string, std::string>> ansible_env(const std::filesystem::path& inventory);

// A fresh folder under the system temp folder, removed by the destructor.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

}  // namespace picluster::testing
