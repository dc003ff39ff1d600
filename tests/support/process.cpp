#include "tests/support/process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace picluster::testing {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::filesystem::path& path, const std::string& contents) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  // timeout --kill-after=10 SECONDS env [-C DIR] [NAME=VALUE...] ARGV...
  std::vector<std::string> full{"timeout", "--kill-after=10",
                                std::to_string(options.timeout_seconds), "env"};
  if (!options.cwd.empty()) full.insert(full.end(), {"-C", options.cwd.string()});
  for (const auto& [name, value] : options.env) full.push_back(name + "=" + value);
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (auto& a : full) args.push_back(a.data());
  args.push_back(nullptr);

  TempDir capture("run");
  const auto in_path = capture.path() / "in";
  const auto out_path = capture.path() / "out";
  const auto err_path = capture.path() / "err";
  write_file(in_path, options.stdin_text);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  RunResult result;
  if (rc != 0) {
    result.err = "posix_spawnp failed";
    return result;
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

bool have_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::istringstream dirs{path};
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && access((std::filesystem::path(dir) / name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::filesystem::path source_dir() { return PICLUSTER_SOURCE_DIR; }
std::filesystem::path binary_dir() { return PICLUSTER_BINARY_DIR; }
std::filesystem::path picluster_exe() { return binary_dir() / "orchestrator" / "picluster"; }
std::filesystem::path switchsim_exe() {
  return binary_dir() / "lab" / "switchsim" / "picluster-switchsim";
}

TempDir::TempDir(const std::string& tag) {
  std::string templ =
      (std::filesystem::temp_directory_path() / ("picluster-" + tag + "-XXXXXX")).string();
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  m_path = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

}  // namespace picluster::testing
