// SwitchController::release against the real picluster-switchsim on loopback: a shelf of three
// Pis is applied, pi02 leaves the (in-memory) inventory, its port is released, and net-snmp's own
// snmpget/snmpwalk check what the switch now has. There is no CLI verb for release yet: the
// controller is driven directly over the real net-snmp session.
#include <gtest/gtest.h>

#include "harness.hpp"
#include "switchctl/controller.hpp"
#include "switchctl/net_snmp_session.hpp"

namespace picluster::switchctl::it {
namespace {

const std::string kPvid = "1.3.6.1.2.1.17.7.1.4.5.1.1";
const std::string kEgress = "1.3.6.1.2.1.17.7.1.4.3.1.2";
const std::string kUntagged = "1.3.6.1.2.1.17.7.1.4.3.1.4";
const std::string kRowStatus = "1.3.6.1.2.1.17.7.1.4.3.1.5";
const std::string kVtpVlanState = "1.3.6.1.4.1.9.9.46.1.3.1.1.2.1";
const std::string kDynamicState = "1.3.6.1.4.1.9.9.46.1.6.1.1.13";
const std::string kNative = "1.3.6.1.4.1.9.9.46.1.6.1.1.5";
const std::string kVmVlan = "1.3.6.1.4.1.9.9.68.1.2.2.1.2";

// "80 00 01" / "\"80 00 01 \"" as printed by snmpwalk -Oq -> front ports (bridge port = front).
PortSet hex_ports(const std::string& text) {
  PortSet out;
  int octet = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(text[i])) || !std::isxdigit(static_cast<unsigned char>(text[i + 1]))) continue;
    const int byte = std::stoi(text.substr(i, 2), nullptr, 16);
    for (int bit = 0; bit < 8; ++bit) if ((byte & (0x80 >> bit)) != 0) out.insert(octet * 8 + bit + 1);
    ++octet;
    ++i;
  }
  return out;
}

class ReleaseSim : public ::testing::Test {
 protected:
  fs::path dir;
  int port = 0;
  inventory::Shelf shelf;
  std::unique_ptr<Server> sim;
  std::unique_ptr<SnmpSession> session;
  SystemClock clock;
  const std::string community = "c0mmunity-rel";

  void SetUp() override {
    if (!fs::exists(kSim)) GTEST_SKIP() << "build picluster-switchsim first";
    dir = make_temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    port = free_udp_port();
  }
  void TearDown() override {
    session.reset();
    sim.reset();
    if (!dir.empty()) fs::remove_all(dir);
  }
  void start(const std::string& knobs, const std::string& mode = "qbridge") {
    write_file(dir / "knobs.json", knobs);
    sim = std::make_unique<Server>(
        std::vector<std::string>{kSim.string(), "--listen", "udp:127.0.0.1:" + std::to_string(port), "--ports", "24",
                                 "--state", (dir / "state.json").string(), "--config", (dir / "knobs.json").string(),
                                 "--community", community, "--mode", mode},
        dir, "sim", "ready udp:", port);
    ASSERT_TRUE(sim->ready()) << sim->log();
    shelf = make_inventory(3, port).shelves.at(0);
    shelf.switch_.profile = mode;
    SessionConfig config{"127.0.0.1", port, 300, 3, {}};
    config.credentials.community = community;
    auto s = open_net_snmp_session(config);
    ASSERT_TRUE(s) << s.error().message;
    session = std::move(*s);
  }
  SwitchController controller() {
    auto c = SwitchController::create(shelf, *session, clock);
    EXPECT_TRUE(c) << c.error().message;
    return std::move(*c);
  }
  // Applies the shelf of three, then takes pi02 out of the inventory; returns its VLAN.
  int apply_then_remove_pi02() {
    auto c = controller();
    auto plan = c.plan();
    EXPECT_TRUE(plan) << plan.error().message;
    auto applied = c.apply(*plan, {});
    EXPECT_TRUE(applied) << applied.error().message;
    auto removed = inventory::remove_pi(shelf, "pi02");
    EXPECT_TRUE(removed) << removed.error().message;
    return removed ? removed->vlan : 0;
  }
  std::map<std::string, std::string> walk(const std::string& oid) { return snmpwalk(port, community, oid, dir); }
  std::string get(const std::string& oid) {
    auto r = run({"snmpget", "-v2c", "-c", community, "-On", "-Oq", "-Oe", "-t", "1", "-r", "5",
                  "127.0.0.1:" + std::to_string(port), oid}, dir);
    const auto sp = r.out.find(' ');
    std::string value = sp == std::string::npos ? r.out : r.out.substr(sp + 1);
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
    return value;
  }
  // The Q-BRIDGE view of the whole switch, as snmpwalk shows it.
  struct Walked {
    std::map<std::string, std::string> pvid, egress, untagged, rows;
  };
  Walked walk_qbridge() { return {walk(kPvid), walk(kEgress), walk(kUntagged), walk(kRowStatus)}; }
  static std::string at(const std::map<std::string, std::string>& m, const std::string& root, int index) {
    auto it = m.find(root + "." + std::to_string(index));
    return it == m.end() ? "(missing)" : it->second;
  }
};

TEST_F(ReleaseSim, RemovedPisPortIsBackAtTheDefaultAndItsVlanIsGone) {
  start(R"({})");
  const int vlan = apply_then_remove_pi02();
  ASSERT_NE(vlan, 0);
  const Walked before = walk_qbridge();
  ASSERT_EQ(at(before.pvid, kPvid, 2), std::to_string(vlan));
  ASSERT_EQ(at(before.rows, kRowStatus, vlan), "1");

  auto c = controller();
  auto r = c.release(2, vlan, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->ports_changed, 1);

  const Walked after = walk_qbridge();
  EXPECT_EQ(get(kPvid + ".2"), "1");
  EXPECT_TRUE(hex_ports(at(after.untagged, kUntagged, 1)).contains(2));
  EXPECT_TRUE(hex_ports(at(after.egress, kEgress, 1)).contains(2));
  EXPECT_EQ(after.rows.count(kRowStatus + "." + std::to_string(vlan)), 0u) << "VLAN " << vlan << " row still there";
  EXPECT_EQ(after.egress.count(kEgress + "." + std::to_string(vlan)), 0u);
  EXPECT_EQ(hex_ports(at(after.egress, kEgress, 131)), (PortSet{1, 3, 24}));
  // pi01 and pi03 (and their VLANs, with the trunk) are exactly as before.
  for (const auto& pi : shelf.pis) {
    EXPECT_EQ(at(after.pvid, kPvid, pi.port), at(before.pvid, kPvid, pi.port)) << pi.name;
    EXPECT_EQ(at(after.egress, kEgress, pi.vlan), at(before.egress, kEgress, pi.vlan)) << pi.name;
    EXPECT_EQ(at(after.untagged, kUntagged, pi.vlan), at(before.untagged, kUntagged, pi.vlan)) << pi.name;
    EXPECT_EQ(hex_ports(at(after.egress, kEgress, pi.vlan)), (PortSet{pi.port, 24})) << pi.name;
  }
  EXPECT_TRUE(c.verify()) << c.verify().error().message;

  // Releasing again sends nothing: the simulator's state file does not change.
  const std::string state = slurp(dir / "state.json");
  const long requests_before = session->stats().pdus;
  auto again = c.release(2, vlan, {});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->pdus, 0);
  EXPECT_EQ(again->lines, std::vector<std::string>{"port 2: already released, nothing to change"});
  EXPECT_GT(session->stats().pdus, requests_before);  // it did read the switch
  EXPECT_EQ(slurp(dir / "state.json"), state);
}

TEST_F(ReleaseSim, StrictPvidSwitchIsReleasedStepByStep) {
  start(R"({"strict_pvid": true})");
  const int vlan = apply_then_remove_pi02();
  ASSERT_NE(vlan, 0);
  auto c = controller();
  auto r = c.release(2, vlan, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->used_ordered_steps);
  EXPECT_EQ(get(kPvid + ".2"), "1");
  const Walked after = walk_qbridge();
  EXPECT_TRUE(hex_ports(at(after.untagged, kUntagged, 1)).contains(2));
  EXPECT_EQ(after.rows.count(kRowStatus + "." + std::to_string(vlan)), 0u);
  EXPECT_EQ(get(kPvid + ".1"), std::to_string(shelf.pis[0].vlan));
  EXPECT_EQ(get(kPvid + ".3"), std::to_string(shelf.pis[1].vlan));
}

TEST_F(ReleaseSim, RefusesThePortOfAPiStillInTheInventoryAndSendsNothing) {
  start(R"({})");
  const int vlan = apply_then_remove_pi02();
  const std::string state = slurp(dir / "state.json");
  auto c = controller();
  auto r = c.release(3, vlan, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::refused);
  EXPECT_NE(r.error().message.find("pi03 of the inventory is on port 3"), std::string::npos) << r.error().message;
  auto trunk = c.release(24, vlan, {});
  ASSERT_FALSE(trunk);
  EXPECT_EQ(slurp(dir / "state.json"), state);
}

TEST_F(ReleaseSim, CiscoPortBackToAccessModeAndVlanDeleted) {
  start(R"({})", "cisco");
  const int vlan = apply_then_remove_pi02();
  ASSERT_NE(vlan, 0);
  ASSERT_EQ(get(kDynamicState + ".2"), "1");
  auto c = controller();
  auto r = c.release(2, vlan, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(get(kDynamicState + ".2"), "2");
  EXPECT_EQ(get(kNative + ".2"), "1");
  EXPECT_EQ(get(kVmVlan + ".2"), "1");
  const auto vlans = walk(kVtpVlanState);
  EXPECT_EQ(vlans.count(kVtpVlanState + "." + std::to_string(vlan)), 0u) << "VLAN " << vlan << " still in VTP";
  EXPECT_EQ(vlans.count(kVtpVlanState + "." + std::to_string(shelf.pis[0].vlan)), 1u);
  EXPECT_EQ(get(kNative + ".1"), std::to_string(shelf.pis[0].vlan));
  EXPECT_EQ(get(kNative + ".3"), std::to_string(shelf.pis[1].vlan));
  auto again = c.release(2, vlan, {});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->pdus, 0);
}

}  // namespace
}  // namespace picluster::switchctl::it
