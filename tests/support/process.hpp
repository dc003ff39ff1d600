#pragma once
// Shared helpers for integration tests: run a program (argv only, never a shell) with its output
// captured and a time bound, temporary folders, and the paths of the binaries under test.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace picluster::testing {

struct RunResult {
  int status = -1;  // exit status; 128+N when killed by signal N; 124 when the time bound hit
  std::string out;
  std::string err;
};

struct RunOptions {
  std::filesystem::path cwd;                             // empty: the test's own
  std::vector<std::pair<std::string, std::string>> env;  // added to the inherited environment
  std::string stdin_text;                                // fed to the program's standard input
  int timeout_seconds = 600;
};

// Runs argv under coreutils `timeout` (and `env` for cwd/environment); waits for it.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = RunOptions{});

// True when `name` is an executable on PATH.
bool have_program(const std::string& name);

std::filesystem::path source_dir();
std::filesystem::path binary_dir();
std::filesystem::path picluster_exe();
std::filesystem::path switchsim_exe();

// A fresh folder under the system temp folder, removed (recursively) by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& contents);

}  // namespace picluster::testing
