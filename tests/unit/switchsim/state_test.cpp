#include "lab/switchsim/switch_state.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace picluster::switchsim {
namespace {

SwitchState sample() {
  SwitchState s = SwitchState::make_default(8);
  Vlan storage;
  storage.name = "pi01-storage";
  storage.egress = {1, 8};
  storage.untagged = {1};
  storage.status = RowStatus::active;
  s.vlans[10] = storage;
  Vlan waiting;
  waiting.status = RowStatus::not_in_service;
  s.vlans[131] = waiting;
  s.port(1).pvid = 10;
  s.port(2).poe_enabled = false;
  s.port(3).dynamic_state = 1;
  s.port(3).native_vlan = 10;
  s.port(3).trunk_vlans.reset();
  s.port(3).trunk_vlans.set(10);
  s.port(3).trunk_vlans.set(131);
  s.port(4).access_vlan = 10;
  s.vlan_deletes = 3;
  return s;
}

TEST(State, DefaultsAreVlanOneUntaggedEverywhere) {
  const SwitchState s = SwitchState::make_default(4);
  ASSERT_EQ(s.vlans.size(), 1U);
  EXPECT_EQ(s.vlans.at(1).untagged, (std::set<int>{1, 2, 3, 4}));
  EXPECT_EQ(s.port(4).pvid, 1);
  EXPECT_TRUE(s.port(4).poe_enabled);
  EXPECT_FALSE(s.port(4).trunking());
}

TEST(State, JsonRoundTripKeepsEverythingPersistent) {
  const SwitchState s = sample();
  const auto back = state_from_json(nlohmann::json::parse(to_json(s).dump()), 8);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, s);
}

TEST(State, FileRoundTripIsAtomicAndMissingFileMeansDefaults) {
  const auto dir = std::filesystem::temp_directory_path() / ("switchsim-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "state.json";
  std::filesystem::remove(path);
  auto fresh = load_state(path, 8);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(*fresh, SwitchState::make_default(8));
  ASSERT_TRUE(save_state(path, sample()));
  // No temp file left beside it: the folder holds the state file alone.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"state.json"});
  auto loaded = load_state(path, 8);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, sample());
  std::filesystem::remove_all(dir);
}

TEST(State, RefusesAFileForAnotherPortCount) {
  const auto back = state_from_json(to_json(sample()), 24);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().message, "holds 8 ports but --ports is 24");
}

TEST(State, MembershipViewPerMode) {
  const SwitchState s = sample();
  EXPECT_EQ(membership(s, 1, Mode::qbridge), (PortMembership{10, {1, 10}, {}}));
  EXPECT_EQ(membership(s, 8, Mode::qbridge), (PortMembership{1, {1}, {10}}));
  // VLAN 131 is notInService: not forwarded by anyone.
  EXPECT_EQ(membership(s, 3, Mode::cisco), (PortMembership{10, {10}, {}}));
  EXPECT_EQ(membership(s, 4, Mode::cisco), (PortMembership{10, {10}, {}}));
}

TEST(State, RangesFormatAndParse) {
  VlanBits bits;
  for (int v : {1, 2, 3, 10, 131}) bits.set(static_cast<std::size_t>(v));
  EXPECT_EQ(format_ranges(bits), "1-3,10,131");
  EXPECT_EQ(parse_ranges("1-3,10,131").value(), bits);
  EXPECT_FALSE(parse_ranges("5-2"));
  EXPECT_FALSE(parse_ranges("4096"));
}

}  // namespace
}  // namespace picluster::switchsim
