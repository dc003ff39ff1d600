// Every playbook passes `ansible-playbook --syntax-check`, and the role and playbooks pass
// Debian's ansible-lint (production profile) with no warnings.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/integration/ansible/run.hpp"

namespace picluster::testing {
namespace {

std::vector<std::filesystem::path> playbooks() {
  std::vector<std::filesystem::path> found;
  for (const auto& entry : std::filesystem::directory_iterator(ansible_dir() / "playbooks"))
    if (entry.path().extension() == ".yml") found.push_back(entry.path());
  std::sort(found.begin(), found.end());
  return found;
}

TEST(AnsiblePlaybooks, TheThreePlaybooksExist) {
  std::vector<std::string> names;
  for (const auto& p : playbooks()) names.push_back(p.filename().string());
  for (const char* want : {"fileservers.yml", "golden-image.yml", "rebuild.yml"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
}

TEST(AnsiblePlaybooks, SyntaxCheck) {
  if (!have_program("ansible-playbook")) GTEST_SKIP() << "ansible-playbook not installed (apt-get install ansible)";
  const auto example = ansible_dir() / "examples" / "three-shelves.json";
  for (const auto& playbook : playbooks()) {
    // Through the dynamic inventory, so host patterns and groups resolve as in real use.
    auto r = run({"ansible-playbook", "--syntax-check", "-i", (ansible_dir() / "inventory" / "picluster.sh").string(),
                  playbook.string()},
                 with_env(ansible_env(example), 120));
    EXPECT_EQ(r.status, 0) << playbook << "\n" << r.out << r.err;
  }
}

TEST(AnsiblePlaybooks, AnsibleLintIsClean) {
  if (!have_program("ansible-lint")) GTEST_SKIP() << "ansible-lint not installed (apt-get install ansible-lint)";
  auto options = with_env({{"ANSIBLE_CONFIG", (ansible_dir() / "ansible.cfg").string()}}, 300);
  options.cwd = ansible_dir();
  auto r = run({"ansible-lint", "--nocolor", "-p", "playbooks", "roles"}, options);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "") << "ansible-lint reported:\n" << r.out;
}

}  // namespace
}  // namespace picluster::testing
