// The simulator's knobs and state files: every number range-checked on the JSON value, nothing
// thrown or crashed on, whatever the file holds (issue 13).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lab/switchsim/knobs.hpp"
#include "lab/switchsim/switch_state.hpp"

namespace picluster::switchsim {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string knob_error(const json& j) {
  auto k = parse_knobs(j);
  return k ? "" : k.error().message;
}

TEST(KnobNumbers, FloatsAndHugeIntegersAreRefusedNotTruncated) {
  EXPECT_EQ(knob_error(json{{"delay_ms", 1e300}}), "delay_ms: expected an integer in range, got 1e+300");
  EXPECT_EQ(knob_error(json{{"delay_ms", 4294967296ULL + 100}}), "delay_ms: expected an integer in range, got 4294967396");
  EXPECT_EQ(knob_error(json{{"seed", -1}}), "seed: expected an integer in range, got -1");
  EXPECT_EQ(knob_error(json{{"seed", 18446744073709551615ULL}}),
            "seed: expected an integer in range, got 18446744073709551615");
  EXPECT_EQ(knob_error(json{{"ports", {{"3", {{"power_mw", 2.5e12}}}}}}),
            "ports.3.power_mw: expected an integer in range, got 2500000000000.0");
  EXPECT_EQ(knob_error(json{{"drop_fraction", "x"}}), "drop_fraction: wrong type");
  EXPECT_EQ(knob_error(json{{"delay_ms", 5}, {"seed", 7}}), "");
}

class StateFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "switchsim-trust-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    m_dir = tmpl;
  }
  void TearDown() override { fs::remove_all(m_dir); }
  Result<SwitchState> load_text(const std::string& text) const {
    std::ofstream(m_dir / "state.json") << text;
    return load_state(m_dir / "state.json", 8);
  }
  fs::path m_dir;
};

TEST_F(StateFile, HugeNumbersAndDeepNestingAreErrorsNamingTheFile) {
  const std::string file = (m_dir / "state.json").string();
  auto big = load_text("{\"port_count\": 1e400}");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().message, file + ": line 1, column 16: number overflow parsing '1e400'");
  auto deep = load_text(std::string(100000, '['));
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().message, file + ": line 1, column 65: nesting deeper than 64 levels");
}

TEST_F(StateFile, IntegersOutOfRangeAreRefusedNotWrapped) {
  json j = to_json(SwitchState::make_default(8));
  j["ports"][0]["pvid"] = 4294967297ULL;  // would wrap to 1
  auto wrapped = load_text(j.dump());
  ASSERT_FALSE(wrapped);
  EXPECT_NE(wrapped.error().message.find("malformed state: 4294967297 is not an integer in 0-4095"),
            std::string::npos)
      << wrapped.error().message;
  j = to_json(SwitchState::make_default(8));
  j["vlans"][0]["egress"] = json::array({1, 1e300});
  auto egress = load_text(j.dump());
  ASSERT_FALSE(egress);
  EXPECT_NE(egress.error().message.find("1e+300 is not an integer in 1-4096"), std::string::npos)
      << egress.error().message;
  EXPECT_TRUE(load_text(to_json(SwitchState::make_default(8)).dump()));
}

}  // namespace
}  // namespace picluster::switchsim
