// SwitchController over the fake: ordered fallback, injected errors, lost responses, power
// sequencing with a fake clock, MAC safety and discovery.
#include <gtest/gtest.h>

#include "fake_snmp.hpp"
#include "shelf_fixture.hpp"
#include "switchctl/controller.hpp"
#include "switchctl/mib.hpp"

namespace picluster::switchctl {
namespace {

using testing::FakeClock;
using testing::FakeSnmp;

const Value* find(const std::map<Oid, Value>& m, const Oid& o) {
  auto it = m.find(o);
  return it == m.end() ? nullptr : &it->second;
}

using testing::Rig;

TEST(Apply, StrictSwitchGetsOrderedStepsAndConverges) {
  Rig rig;
  // Strict vendor: a PVID may only change to a VLAN the port is already an untagged member of.
  rig.fake.validate = [](const std::vector<VarBind>& vbs, const std::map<Oid, Value>& before, const auto&) {
    for (std::size_t i = 0; i < vbs.size(); ++i) {
      if (!oid_starts_with(vbs[i].oid, mib::dot1qPvid)) continue;
      const auto* u = find(before, oid_cat(mib::dot1qVlanStaticUntaggedPorts, {static_cast<std::uint32_t>(vbs[i].value.number)}));
      if (u == nullptr || !decode_bits(u->bytes).contains(static_cast<int>(vbs[i].oid.back()))) {
        return PduStatus{ErrorStatus::inconsistent_value, static_cast<int>(i) + 1};
      }
    }
    return PduStatus{};
  };
  auto c = rig.make();
  auto plan = c.plan();
  ASSERT_TRUE(plan) << plan.error().message;
  auto report = c.apply(*plan, {});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->used_ordered_steps);
  EXPECT_EQ(report->ports_changed, 8);
  EXPECT_TRUE(c.plan()->empty());
}

TEST(Apply, ErrorInTheMiddleOfAPortLeavesItAsItWasAndSaysWhy) {
  Rig rig;
  const Oid pvid5 = oid_cat(mib::dot1qPvid, {5});
  rig.fake.validate = [&](const std::vector<VarBind>& vbs, const auto&, const auto&) {
    for (std::size_t i = 0; i < vbs.size(); ++i) {
      if (vbs[i].oid == pvid5) return PduStatus{ErrorStatus::commit_failed, static_cast<int>(i) + 1};
    }
    return PduStatus{};
  };
  const auto before = rig.fake.data;
  auto c = rig.make();
  auto plan = c.plan();
  ASSERT_TRUE(plan);
  auto report = c.apply(*plan, {});
  ASSERT_FALSE(report);
  const std::string& msg = report.error().message;
  EXPECT_NE(msg.find("switch 127.0.0.1:16161: pi05 (port 5): set dot1qPvid.5 (port 5): commitFailed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("port 5 left as it was"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 later port(s) not changed"), std::string::npos) << msg;
  // Port 5: still PVID 1, untagged in VLAN 1, not in its own VLAN.
  EXPECT_EQ(find(rig.fake.data, pvid5)->number, 1);
  const auto vlan1 = decode_bits(find(rig.fake.data, oid_cat(mib::dot1qVlanStaticUntaggedPorts, {1}))->bytes);
  EXPECT_TRUE(vlan1.contains(5));
  EXPECT_TRUE(vlan1.contains(6));
  EXPECT_FALSE(vlan1.contains(4));
  const int vlan5 = rig.shelf.pis[4].vlan;
  const Value* own = find(rig.fake.data, oid_cat(mib::dot1qVlanStaticEgressPorts, {static_cast<std::uint32_t>(vlan5)}));
  EXPECT_TRUE(own == nullptr || !decode_bits(own->bytes).contains(5));
}

TEST(Apply, LostResponseIsCheckedByReadingBack) {
  Rig rig;
  rig.fake.fail_next_set_transport = 1;  // the first SET is applied but its response is lost
  auto c = rig.make();
  auto report = c.apply(*c.plan(), {});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(c.plan()->empty());
}

class Power : public ::testing::Test {
 protected:
  Rig rig;
  const Oid admin5 = oid_cat(mib::pethPsePortAdminEnable, {1, 5});
  const Oid detect5 = oid_cat(mib::pethPsePortDetectionStatus, {1, 5});
  void learn(const std::string& mac, int bridge_port) {
    Oid o = oid_cat(mib::dot1qTpFdbPort, {1});
    const auto parsed = inventory::Mac::parse(mac);  // keep it alive through the loop
    for (auto b : parsed->bytes) o.push_back(b);
    rig.fake.put(o, Value::integer(bridge_port));
  }
  // PoE detection follows admin: off -> disabled, on -> searching until `delay` polls pass.
  void model_detection(int searching_polls) {
    rig.fake.after_set = [this](std::map<Oid, Value>& data) {
      data[detect5] = Value::integer(data[admin5].number == 1 ? 2 : 1);
    };
    rig.clock.on_sleep = [this, searching_polls, polls = 0]() mutable {
      const bool on = rig.fake.data[admin5].number == 1;
      if (!on) return;
      rig.fake.data[detect5] = Value::integer(++polls > searching_polls ? 3 : 2);
    };
  }
};

TEST_F(Power, CycleTurnsOffWaitsTurnsOnAndPollsUntilDelivering) {
  learn("b8:27:eb:00:00:05", 5);
  model_detection(3);
  auto c = rig.make();
  auto r = c.power("pi05", PowerAction::cycle, false);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(rig.fake.sets.size(), 2u);
  EXPECT_EQ(rig.fake.sets[0], (std::vector<VarBind>{{admin5, Value::integer(2)}}));
  EXPECT_EQ(rig.fake.sets[1], (std::vector<VarBind>{{admin5, Value::integer(1)}}));
  ASSERT_FALSE(rig.clock.sleeps.empty());
  EXPECT_EQ(rig.clock.sleeps[0], std::chrono::seconds(rig.shelf.switch_.poe_off_seconds));
  EXPECT_EQ(r->after.detection, PoeDetection::delivering_power);
  // The off time, then one poll interval after each of the four polls that saw "searching".
  EXPECT_EQ(rig.clock.sleeps.size(), 1u + 4u);
}

TEST_F(Power, CycleTimesOutWhenThePortNeverDeliversPower) {
  learn("b8:27:eb:00:00:05", 5);
  model_detection(1000000);
  auto c = rig.make();
  auto r = c.power("pi05", PowerAction::cycle, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::timeout);
  EXPECT_EQ(r.error().message, "switch 127.0.0.1:16161: pi05: port 5: PoE is on but detection status is 'searching' after 60 s");
}

TEST_F(Power, RefusesWhenAnotherMacIsLearnedOnThePortUnlessForced) {
  learn("dc:a6:32:99:99:99", 5);
  auto c = rig.make();
  auto r = c.power("pi05", PowerAction::cycle, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::refused);
  EXPECT_EQ(r.error().message,
            "switch 127.0.0.1:16161: pi05: port 5 has learned dc:a6:32:99:99:99, not pi05's b8:27:eb:00:00:05; "
            "refusing to cut power (use --force to override)");
  EXPECT_TRUE(rig.fake.sets.empty());
  auto forced = c.power("pi05", PowerAction::off, true);
  ASSERT_TRUE(forced) << forced.error().message;
  ASSERT_EQ(forced->notes.size(), 1u);
  EXPECT_EQ(forced->notes[0].rfind("forced: ", 0), 0u);
  EXPECT_EQ(rig.fake.sets.size(), 1u);
}

TEST_F(Power, RefusesWhenThePisMacIsOnAnotherPort) {
  learn("b8:27:eb:00:00:05", 7);
  auto c = rig.make();
  auto r = c.power("pi05", PowerAction::off, false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("pi05's MAC b8:27:eb:00:00:05 is learned on port 7, not on its port 5"), std::string::npos);
}

TEST_F(Power, UnknownNameIsNotFound) {
  auto c = rig.make();
  auto r = c.power("pi99", PowerAction::on, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_EQ(r.error().message, "no Pi named \"pi99\" in shelf 'shelf1'");
}

TEST_F(Power, StatusSendsNoSet) {
  auto c = rig.make();
  auto r = c.power("pi02", PowerAction::status, false);
  ASSERT_TRUE(r);
  EXPECT_TRUE(rig.fake.sets.empty());
  EXPECT_EQ(r->after.admin_on, true);
}

TEST_F(Power, DiscoveryListsPiMacsOnPortsWithoutAPi) {
  learn("dc:a6:32:01:02:03", 12);  // a Pi nobody added
  learn("00:11:22:33:44:55", 13);  // not a Pi
  learn("b8:27:eb:00:00:01", 1);   // pi01, known
  learn("e4:5f:01:aa:bb:cc", 24);  // behind the trunk
  auto c = rig.make();
  auto d = c.discover();
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->learned.size(), 4u);
  ASSERT_EQ(d->unknown_pis.size(), 1u);
  EXPECT_EQ(d->unknown_pis[0].port, 12);
  EXPECT_EQ(format_mac(d->unknown_pis[0].mac), "dc:a6:32:01:02:03");
}

TEST(RaspberryPiMac, KnownOuis) {
  for (const char* m : {"b8:27:eb:00:00:01", "dc:a6:32:00:00:01", "e4:5f:01:00:00:01", "d8:3a:dd:00:00:01", "2c:cf:67:00:00:01", "28:cd:c1:00:00:01"}) {
    EXPECT_TRUE(is_raspberry_pi_mac(*inventory::Mac::parse(m))) << m;
  }
  EXPECT_FALSE(is_raspberry_pi_mac(*inventory::Mac::parse("b8:27:ec:00:00:01")));
}

TEST(ErrorMessages, NameTheObjectAndThePort) {
  const std::vector<VarBind> vbs = {{oid_cat(mib::dot1qVlanStaticEgressPorts, {14}), Value::octets("x")},
                                    {oid_cat(mib::dot1qPvid, {5}), Value::gauge(14)}};
  EXPECT_EQ(describe_set_failure(vbs, {ErrorStatus::inconsistent_value, 2}, 5), "set dot1qPvid.5 (port 5): inconsistentValue");
  EXPECT_EQ(describe_set_failure(vbs, {ErrorStatus::gen_err, 0}, 0), "set 2 varbinds: genErr");
  EXPECT_EQ(oid_name(oid_cat(mib::pethPsePortAdminEnable, {1, 5})), "pethPsePortAdminEnable.1.5");
  EXPECT_EQ(oid_name(Oid{1, 3, 6, 1, 9}), "1.3.6.1.9");
}

}  // namespace
}  // namespace picluster::switchctl
