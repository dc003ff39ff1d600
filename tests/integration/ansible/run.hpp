#pragma once
// Helpers for the Ansible integration tests on top of tests/support/process.hpp: the project's
// ansible/ folder and the environment that points Ansible at it and at the picluster under test.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/process.hpp"

namespace picluster::testing {

// Options with an environment and a time bound, in the test's own folder.
RunOptions with_env(std::vector<std::pair<std::string, std::string>> env, int timeout_seconds);

std::filesystem::path ansible_dir();

// Environment for Ansible runs against the project's ansible/ folder: its ansible.cfg, the
// picluster under test for the wrapper script, and the given picluster inventory.
std::vector<std::pair<std::string, std::string>> ansible_env(const std::filesystem::path& inventory);

}  // namespace picluster::testing
