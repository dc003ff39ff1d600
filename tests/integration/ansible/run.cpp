#include "tests/integration/ansible/run.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace picluster::testing {

namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  // timeout [--kill-after] SECONDS env [-C DIR] [NAME=VALUE...] ARGV...
  std::vector<std::string> full{"timeout", "--kill-after=10", std::to_string(options.timeout_seconds), "env"};
  if (!options.cwd.empty()) full.insert(full.end(), {"-C", options.cwd.string()});
  for (const auto& [name, value] : options.env) full.push_back(name + "=" + value);
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (auto& a : full) args.push_back(a.data());
  args.push_back(nullptr);

  TempDir capture;
  const auto out_path = capture.path() / "out", err_path = capture.path() / "err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
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
  while (waitpid(pid, &wstatus, 0) < 0) {
  }
  result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  return result;
}

RunOptions with_env(std::vector<std::pair<std::string, std::string>> env, int timeout_seconds) {
  RunOptions options;
  options.env = std::move(env);
  options.timeout_seconds = timeout_seconds;
  return options;
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
std::filesystem::path ansible_dir() { return source_dir() / "ansible"; }
std::filesystem::path picluster_exe() { return PICLUSTER_EXE; }

std::vector<std::pair<std::string, std::string>> ansible_env(const std::filesystem::path& inventory) {
  return {{"ANSIBLE_CONFIG", (ansible_dir() / "ansible.cfg").string()},
          {"ANSIBLE_NOCOLOR", "1"},
          {"ANSIBLE_RETRY_FILES_ENABLED", "0"},
          {"PICLUSTER_BIN", picluster_exe().string()},
          {"PICLUSTER_INVENTORY", inventory.string()}};
}

TempDir::TempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "picluster-ansible-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  m_path = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

}  // namespace picluster::testing
