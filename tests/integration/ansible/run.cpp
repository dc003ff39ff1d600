#include "tests/integration/ansible/run.hpp"

namespace picluster::testing {

RunOptions with_env(std::vector<std::pair<std::string, std::string>> env, int timeout_seconds) {
  RunOptions options;
  options.env = std::move(env);
  options.timeout_seconds = timeout_seconds;
  return options;
}

std::filesystem::path ansible_dir() { return source_dir() / "ansible"; }

std::vector<std::pair<std::string, std::string>> ansible_env(const std::filesystem::path& inventory) {
  return {{"ANSIBLE_CONFIG", (ansible_dir() / "ansible.cfg").string()},
          {"ANSIBLE_NOCOLOR", "1"},
          {"ANSIBLE_RETRY_FILES_ENABLED", "0"},
          {"PICLUSTER_BIN", picluster_exe().string()},
          {"PICLUSTER_INVENTORY", inventory.string()}};
}

}  // namespace picluster::testing
