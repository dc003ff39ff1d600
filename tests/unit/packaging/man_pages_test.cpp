// The man pages never drift from the program: every verb and option the CLI really has (read
// from the binary with the hidden `picluster __cli`), every option of `picluster-switchsim
// --help`, and every inventory field the parser reads (found in its source) must be documented.
//
// picluster(1) layout the check relies on: each verb path ("switch show") has its own
// `.SS "switch show"` section listing its options; global options are in `.SH OPTIONS`.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/process.hpp"

namespace picluster::testing {
namespace {

std::string man_file(const std::string& name) {
  return read_file(source_dir() / "packaging/man" / name);
}

// roff to plain text: "\-" to "-", font escapes dropped.
std::string plain(std::string text) {
  text = std::regex_replace(text, std::regex(R"(\\f[BIRP])"), "");
  text = std::regex_replace(text, std::regex(R"(\\-)"), "-");
  return text;
}

// Sections of picluster(1): ".SS name" / ".SH NAME" title -> text up to the next heading.
std::map<std::string, std::string> sections(const std::string& roff) {
  std::map<std::string, std::string> out;
  std::string current;
  std::istringstream in(roff);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(".SS ") || line.starts_with(".SH ")) {
      current = line.substr(4);
      if (current.size() >= 2 && current.front() == '"' && current.back() == '"') {
        current = current.substr(1, current.size() - 2);
      }
      current = plain(current);
      out[current];
      continue;
    }
    out[current] += plain(line) + "\n";
  }
  return out;
}

bool has_token(const std::string& text, const std::string& token) {
  for (std::size_t at = text.find(token); at != std::string::npos; at = text.find(token, at + 1)) {
    const auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; };
    const bool left = at == 0 || !word(text[at - 1]);
    const bool right = at + token.size() >= text.size() || !word(text[at + token.size()]);
    if (left && right) return true;
  }
  return false;
}

// "verb: --option" for every verb or option of `cli` (the __cli dump) missing from `roff`.
std::vector<std::string> missing_from_picluster_1(const nlohmann::json& cli, const std::string& roff) {
  const auto secs = sections(roff);
  std::vector<std::string> missing;
  for (const auto& entry : cli) {
    const std::string path = entry["path"];
    const auto it = secs.find(path.empty() ? "OPTIONS" : path);
    if (it == secs.end()) {
      missing.push_back(path + ": no .SS section");
      continue;
    }
    for (const auto& opt : entry["options"]) {
      const std::string o = opt;
      if (o == "--help" || o == "-h") continue;  // documented once, in OPTIONS
      if (!has_token(it->second, o)) missing.push_back((path.empty() ? "global" : path) + ": " + o);
    }
  }
  return missing;
}

nlohmann::json picluster_cli() {
  const auto r = run({picluster_exe().string(), "__cli"});
  EXPECT_EQ(r.status, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

TEST(ManPages, EveryVerbAndOptionOfTheCliIsInPicluster1) {
  const auto cli = picluster_cli();
  ASSERT_GT(cli.size(), 20U);
  EXPECT_EQ(missing_from_picluster_1(cli, man_file("picluster.1")), std::vector<std::string>{})
      << "add a .SS \"VERB\" section and a .TP entry per option to packaging/man/picluster.1";
}

TEST(ManPages, TheCheckNoticesAMissingOptionAndAMissingVerb) {
  const auto cli = picluster_cli();
  std::string roff = man_file("picluster.1");
  const std::string option = ".B \\-\\-detailed\\-exitcode\n";
  ASSERT_NE(roff.find(option), std::string::npos);
  roff.erase(roff.find(option), option.size());
  const std::string verb = ".SS \"doctor\"\n";
  ASSERT_NE(roff.find(verb), std::string::npos);
  roff.replace(roff.find(verb), verb.size(), ".SS \"doctr\"\n");
  EXPECT_THAT(missing_from_picluster_1(cli, roff),
              ::testing::UnorderedElementsAre("doctor: no .SS section", "plan: --detailed-exitcode"));
}

TEST(ManPages, EveryOptionOfTheSwitchSimulatorIsInPiclusterSwitchsim1) {
  const auto r = run({switchsim_exe().string(), "--help"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string man = plain(man_file("picluster-switchsim.1"));
  std::set<std::string> options;
  const std::regex opt(R"((--[a-z0-9][a-z0-9-]*))");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), opt), end; it != end; ++it) options.insert((*it)[1]);
  ASSERT_GT(options.size(), 8U) << r.out;
  for (const auto& o : options) EXPECT_TRUE(has_token(man, o)) << o << " is not in picluster-switchsim.1";
}

// Every field name the inventory's readers take: Fields calls in the parser, the shelf's watch
// keys, and extra members read by renderers.
std::set<std::string> parser_fields() {
  std::set<std::string> fields;
  const auto scan = [&](const std::string& file, const std::string& pattern) {
    const std::string text = read_file(source_dir() / file);
    const std::regex re(pattern);
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) fields.insert((*it)[1]);
  };
  scan("inventory/serialize.cpp", R"re(\b(?:text|integer|parsed|optional|sub|opt)\(\s*"([a-z0-9_]+)")re");
  scan("orchestrator/watch.cpp", R"re(key == "([a-z0-9_]+)")re");
  scan("orchestrator/watch.cpp", R"re(extra\.find\("([a-z0-9_]+)"\))re");
  scan("bootcfg/render_util.cpp", R"re(extra\.find\("([a-z0-9_]+)"\))re");
  return fields;
}

// Words set in bold in a man page: \fBword\fR, .B word, .BR word ", " word ...
std::set<std::string> bold_words(const std::string& roff) {
  std::set<std::string> words;
  const auto add_all = [&](const std::string& s) {
    const std::regex word(R"([a-z0-9_]+)");
    for (std::sregex_iterator it(s.begin(), s.end(), word), end; it != end; ++it) words.insert((*it)[0]);
  };
  const std::regex inline_bold(R"(\\fB([^\\]*)\\f[RP])");
  for (std::sregex_iterator it(roff.begin(), roff.end(), inline_bold), end; it != end; ++it) add_all((*it)[1]);
  std::istringstream in(roff);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(".B ") || line.starts_with(".BR ")) add_all(line.substr(line.find(' ')));
  }
  return words;
}

TEST(ManPages, EveryInventoryFieldTheParserReadsIsInPiclusterInventory5) {
  const auto fields = parser_fields();
  ASSERT_GT(fields.size(), 40U);
  for (const char* known : {"trunk_port", "poe_off_seconds", "vlan_range", "fileserver_address", "max_cycles_per_hour"}) {
    EXPECT_TRUE(fields.contains(known)) << known << ": the source scan lost it";
  }
  const auto bold = bold_words(man_file("picluster-inventory.5"));
  for (const auto& f : fields) {
    EXPECT_TRUE(bold.contains(f)) << f << " is read by the parser but not in picluster-inventory.5 (as \\fB" << f << "\\fR)";
  }
}

}  // namespace
}  // namespace picluster::testing
