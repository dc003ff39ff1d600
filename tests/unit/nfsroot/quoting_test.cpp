// shell_quote/shell_join against hostile strings: each string must reach the program unchanged
// through a real POSIX shell, which is exactly what SshHost relies on.

#include <gtest/gtest.h>

#include "common/text.hpp"
#include "nfsroot/local_host.hpp"

namespace picluster {
namespace {

const std::vector<std::string> kHostile = {
    "",
    "plain",
    "two words",
    "it's",
    "'",
    "''",
    "\"double\"",
    "$(touch /tmp/picluster-pwned)",
    "`touch /tmp/picluster-pwned`",
    "$HOME ${PATH} $1 $@ $$",
    "a; rm -rf /",
    "a && b || c | d & e",
    "line1\nline2\n",
    "\ttab\r",
    "-rf",
    "--help",
    "-",
    "*?[a-z] ~ ~root",
    "\\back\\slash\\",
    "> /etc/passwd < x",
    "#comment",
    "!event",
    "grüße ☃ \xe2\x80\x8b",
    "\x01\x7f\xff",
};

TEST(ShellQuote, WrapsInSingleQuotesAndEscapesEmbeddedQuotes) {
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("$(x)"), "'$(x)'");
  EXPECT_EQ(shell_join({"echo", "a b", "-n"}), "'echo' 'a b' '-n'");
}

// Each hostile string, passed as one argument through `sh -c`, comes back byte for byte.
TEST(ShellQuote, HostileStringsSurviveARealShellUnchanged) {
  nfsroot::LocalHost host;
  for (const auto& s : kHostile) {
    const std::string line = "printf '%s' " + shell_quote(s);
    auto r = host.run({"sh", "-c", line}, {});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->exit_status, 0) << printable(s);
    EXPECT_EQ(r->out, s) << printable(s);
  }
  EXPECT_FALSE(std::filesystem::exists("/tmp/picluster-pwned"));
}

// shell_join keeps the argument count: a whole hostile argv arrives as that many arguments.
TEST(ShellJoin, HostileArgvArrivesWithTheSameElements) {
  nfsroot::LocalHost host;
  std::vector<std::string> argv{"printf", "%s\\0"};
  argv.insert(argv.end(), kHostile.begin(), kHostile.end());
  auto r = host.run({"sh", "-c", shell_join(argv)}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  std::vector<std::string> got = split(r->out, '\0');
  got.pop_back();  // after the final NUL
  EXPECT_EQ(got, kHostile);
}

}  // namespace
}  // namespace picluster
