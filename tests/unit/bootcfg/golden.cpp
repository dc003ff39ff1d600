#include "tests/unit/bootcfg/golden.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

namespace picluster::bootcfg::test {

namespace fs = std::filesystem;

namespace {

fs::path golden_root() { return fs::path{PICLUSTER_SOURCE_DIR} / "tests/unit/bootcfg/golden"; }

bool update_mode() {
  const char* value = std::getenv("PICLUSTER_UPDATE_GOLDEN");
  return value != nullptr && std::string_view{value} == "1";
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void rewrite(const fs::path& dir, const std::vector<RenderedFile>& files) {
  fs::remove_all(dir);
  for (const auto& file : files) {
    const auto path = dir / file.path;
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << file.contents;
  }
}

}  // namespace

void expect_golden(const std::string& case_name, const std::vector<RenderedFile>& files) {
  const auto dir = golden_root() / case_name;
  if (update_mode()) {
    rewrite(dir, files);
    return;
  }
  ASSERT_TRUE(fs::is_directory(dir))
      << dir << " is missing: run once with PICLUSTER_UPDATE_GOLDEN=1 and review the files";
  std::set<std::string> rendered;
  for (const auto& file : files) {
    rendered.insert(file.path);
    const auto path = dir / file.path;
    if (!fs::is_regular_file(path)) {
      ADD_FAILURE() << case_name << ": " << file.path << " is rendered but has no golden file";
      continue;
    }
    EXPECT_EQ(read_all(path), file.contents)
        << case_name << ": " << file.path << " differs from its golden file "
        << "(PICLUSTER_UPDATE_GOLDEN=1 rewrites the goldens; review the diff)";
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const auto relative = fs::relative(entry.path(), dir).generic_string();
    EXPECT_TRUE(rendered.contains(relative))
        << case_name << ": golden file " << relative << " is no longer rendered";
  }
}

std::vector<RenderedFile> under(const std::string& prefix, std::vector<RenderedFile> files) {
  for (auto& file : files) file.path = prefix + "/" + file.path;
  return files;
}

}  // namespace picluster::bootcfg::test
