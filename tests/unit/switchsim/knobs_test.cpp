#include "lab/switchsim/dataplane.hpp"
#include "lab/switchsim/knobs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace picluster::switchsim {
namespace {

using nlohmann::json;

TEST(Knobs, ParsesEveryKey) {
  const auto knobs = parse_knobs(json::parse(R"({
    "drop_fraction": 0.3, "delay_fraction": 0.1, "delay_ms": 250, "seed": 7,
    "fail_set": [{"oid": ".1.3.6.1.2.1.17.7.1.4.5.1.1.3", "status": "commitFailed"}],
    "strict_pvid": true, "bridge_port_offset": 48, "ifindex_offset": 100, "poe_index": "ifindex",
    "ifname_prefix": "ge-0/0/", "ifdescr_prefix": "GigabitEthernet", "sys_name": "sw1",
    "pse_power_w": 120,
    "all_ports": {"device": true, "mac": "auto"},
    "ports": {"3": {"mac": "B8:27:EB:00:00:03", "device": false, "power_mw": 2500, "class": 2}}
  })"));
  ASSERT_TRUE(knobs) << knobs.error().message;
  EXPECT_DOUBLE_EQ(knobs->drop_fraction, 0.3);
  EXPECT_EQ(knobs->delay_ms, 250);
  EXPECT_EQ(knobs->seed, 7U);
  ASSERT_EQ(knobs->fail_set.size(), 1U);
  EXPECT_EQ(to_string(knobs->fail_set[0].prefix), ".1.3.6.1.2.1.17.7.1.4.5.1.1.3");
  EXPECT_EQ(knobs->fail_set[0].status, SnmpStatus::commit_failed);
  EXPECT_TRUE(knobs->strict_pvid);
  EXPECT_EQ(knobs->bridge_port(1), 49);
  EXPECT_EQ(knobs->if_index(2), 102);
  EXPECT_EQ(knobs->poe_port(2), 102);
  EXPECT_EQ(to_string(*knobs->port(3).mac), "b8:27:eb:00:00:03");
  EXPECT_FALSE(knobs->port(3).device);
  EXPECT_EQ(knobs->port(3).power_class, 2);
  EXPECT_TRUE(knobs->port(5).device);
  EXPECT_EQ(to_string(*knobs->port(5).mac), "dc:a6:32:5e:00:05");
}

TEST(Knobs, DefaultsHaveNothingPluggedIn) {
  const auto knobs = parse_knobs(json::object());
  ASSERT_TRUE(knobs);
  EXPECT_FALSE(knobs->port(1).device);
  EXPECT_FALSE(knobs->port(1).mac);
  EXPECT_EQ(knobs->bridge_port(4), 4);
  EXPECT_FALSE(knobs->strict_pvid);
}

TEST(Knobs, ErrorsNameTheKey) {
  const auto typo = parse_knobs(json::parse(R"({"strict_pvids": true})"));
  ASSERT_FALSE(typo);
  EXPECT_EQ(typo.error().message, "strict_pvids: unknown key");

  const auto mac = parse_knobs(json::parse(R"({"ports": {"2": {"mac": "b8:27:eb:00:00"}}})"));
  ASSERT_FALSE(mac);
  EXPECT_EQ(mac.error().message, "ports.2.mac: bad MAC 'b8:27:eb:00:00'");

  const auto status = parse_knobs(json::parse(R"({"fail_set": [{"oid": "1.3.6", "status": "oops"}]})"));
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "fail_set.0.status: unknown SNMP error status 'oops'");

  const auto fraction = parse_knobs(json::parse(R"({"drop_fraction": 1.5})"));
  ASSERT_FALSE(fraction);
  EXPECT_EQ(fraction.error().message, "drop_fraction: must be within 0..1");

  const auto type = parse_knobs(json::parse(R"({"delay_ms": "slow"})"));
  ASSERT_FALSE(type);
  EXPECT_EQ(type.error().message, "delay_ms: wrong type");
}

TEST(Knobs, PortKeysMustExistOnTheSwitch) {
  const auto knobs = parse_knobs(json::parse(R"({"ports": {"9": {"device": true}}})"));
  ASSERT_TRUE(knobs);
  const auto ok = validate_knobs(*knobs, 8);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message, "ports.9: the switch has only 8 ports");
  EXPECT_TRUE(validate_knobs(*knobs, 9));
}

}  // namespace
}  // namespace picluster::switchsim

namespace picluster::switchsim {
namespace {

// mac_after_poe_ms: a Pi whose MAC the switch learns only once it has power (zero-touch
// enrollment waits for it). 0 = as soon as PoE is on; a long delay = not yet.
TEST(Knobs, MacAfterPoeLearnsTheMacOnlyWhilePowered) {
  const auto knobs = parse_knobs(nlohmann::json::parse(
      R"({"ports": {"2": {"device": true, "mac": "dc:a6:32:00:00:02", "mac_after_poe_ms": 0},
                    "3": {"device": true, "mac": "dc:a6:32:00:00:03", "mac_after_poe_ms": 3600000},
                    "4": {"device": true, "mac": "dc:a6:32:00:00:04"}}})"));
  ASSERT_TRUE(knobs) << knobs.error().message;
  InMemoryDataPlane plane(DataPlaneOptions{4, *knobs, {}});
  for (int p = 1; p <= 4; ++p) ASSERT_TRUE(plane.apply_port(p, 1, {1}, {}));
  const auto ports = [&] {
    std::vector<int> out;
    for (const auto& e : plane.learned()) out.push_back(e.front_port);
    return out;
  };
  EXPECT_EQ(ports(), std::vector<int>{4}) << "unpowered: only the always-learned MAC";
  for (int p = 1; p <= 4; ++p) ASSERT_TRUE(plane.set_power(p, true));
  EXPECT_EQ(ports(), (std::vector<int>{2, 4}));
  ASSERT_TRUE(plane.set_power(2, false));
  EXPECT_EQ(ports(), std::vector<int>{4});

  const auto bad = parse_knobs(nlohmann::json::parse(R"({"ports": {"2": {"mac_after_poe_ms": -5}}})"));
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, ::testing::HasSubstr("ports.2.mac_after_poe_ms"));
}

}  // namespace
}  // namespace picluster::switchsim
