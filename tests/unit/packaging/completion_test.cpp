// The bash completion (packaging/completion/picluster.bash) with the real binary: verbs,
// options, choices and the Pi names of the inventory, all through `picluster __complete`.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/process.hpp"

namespace picluster::testing {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Not;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

class Completion : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_program("bash")) GTEST_SKIP() << "needs bash";
    pic({"init"});
    for (const char* pi : {"pi07", "pi09"}) {
      const auto r = pic({"add", pi, "--port", std::string(pi).substr(3), "--offline"});
      ASSERT_EQ(r.status, 0) << r.err;
    }
  }
  RunResult pic(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{picluster_exe().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions o;
    o.cwd = m_dir.path();
    return run(argv, o);
  }
  // COMPREPLY for the command line `line` (the cursor at its end), as bash would complete it.
  std::vector<std::string> complete(const std::string& line) const {
    const std::string script =
        "source \"$1\"\n"
        "read -ra COMP_WORDS <<<\"$2\"\n"
        "[[ $2 == *' ' ]] && COMP_WORDS+=('')\n"
        "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
        "COMP_LINE=$2\nCOMP_POINT=${#2}\n"
        "_picluster\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    RunOptions o;
    o.cwd = m_dir.path();
    o.env = {{"PATH", picluster_exe().parent_path().string() + ":/usr/sbin:/usr/bin:/sbin:/bin"}};
    const auto r = run({"bash", "-c", script, "bash",
                        (source_dir() / "packaging/completion/picluster.bash").string(), line}, o);
    EXPECT_EQ(r.status, 0) << r.err;
    return lines(r.out);
  }
  TempDir m_dir{"completion"};
};

TEST_F(Completion, VerbsOptionsAndChoices) {
  EXPECT_THAT(complete("picluster pow"), ::testing::ElementsAre("power"));
  EXPECT_THAT(complete("picluster "), Contains("doctor"));
  EXPECT_THAT(complete("picluster "), Not(Contains("__complete")));
  EXPECT_THAT(complete("picluster switch "), ::testing::UnorderedElementsAre("show", "probe", "apply"));
  EXPECT_THAT(complete("picluster plan --det"), ::testing::ElementsAre("--detailed-exitcode"));
  EXPECT_THAT(complete("picluster power "), ::testing::IsSupersetOf({"on", "off", "cycle", "status"}));
}

TEST_F(Completion, PiNamesOfTheCurrentInventory) {
  EXPECT_THAT(complete("picluster power cycle pi"), ::testing::ElementsAre("pi07", "pi09"));
  EXPECT_THAT(complete("picluster power cycle pi07 pi0"), Contains("pi09"));
  EXPECT_THAT(complete("picluster show pi0"), ::testing::ElementsAre("pi07", "pi09"));
  // add takes a new name: no existing ones offered.
  EXPECT_THAT(complete("picluster add pi"), IsEmpty());
  // Another inventory named on the command line is the one read.
  const auto other = m_dir.path() / "other";
  std::filesystem::create_directories(other);
  ASSERT_EQ(run({picluster_exe().string(), "-i", (other / "inv.json").string(), "init"}).status, 0);
  EXPECT_THAT(complete("picluster -i " + (other / "inv.json").string() + " power cycle pi"), IsEmpty());
}

TEST_F(Completion, AValueIsCompletedAsAFileName) {
  // After an option that takes a value, __complete offers nothing and bash falls back to files.
  const auto r = pic({"__complete", "--", "--inventory", ""});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "");
}

TEST_F(Completion, TheZshCompletionIsValidZsh) {
  if (!have_program("zsh")) GTEST_SKIP() << "needs zsh";
  const auto r = run({"zsh", "-n", (source_dir() / "packaging/completion/_picluster").string()});
  EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace
}  // namespace picluster::testing
