// picluster switch/power/discover against picluster-switchsim on loopback, checked with
// net-snmp's own snmpwalk where the switch's state matters.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace picluster::switchctl::it {
namespace {

const std::string kPvid = "1.3.6.1.2.1.17.7.1.4.5.1.1";
const std::string kEgress = "1.3.6.1.2.1.17.7.1.4.3.1.2";
const std::string kAdmin = "1.3.6.1.2.1.105.1.1.1.3.1";

class SwitchSim : public ::testing::Test {
 protected:
  fs::path dir;
  int port = 0;
  inventory::Inventory inv;
  std::unique_ptr<Server> sim;
  const std::string community = "c0mmunity-xyz";

  void SetUp() override {
    if (!fs::exists(kSim) || !fs::exists(kPicluster)) GTEST_SKIP() << "build picluster and picluster-switchsim first";
    dir = make_temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    port = free_udp_port();
  }
  void TearDown() override {
    sim.reset();
    if (!dir.empty()) fs::remove_all(dir);
  }
  void start(const std::string& knobs, std::vector<std::string> extra = {}, int pis = 8, int ports = 24) {
    write_file(dir / "knobs.json", knobs);
    std::vector<std::string> argv = {kSim.string(), "--listen", "udp:127.0.0.1:" + std::to_string(port),
                                     "--ports", std::to_string(ports), "--state", (dir / "state.json").string(),
                                     "--config", (dir / "knobs.json").string(), "--community", community};
    argv.insert(argv.end(), extra.begin(), extra.end());
    sim = std::make_unique<Server>(argv, dir, "sim", "ready udp:", port);
    ASSERT_TRUE(sim->ready()) << sim->log();
    inv = make_inventory(pis, port, ports);
    save_inventory();
    write_file(dir / "switch-secrets.json", R"({"community": ")" + community + R"("})");
  }
  void save_inventory() { ASSERT_TRUE(inventory::save(inv, dir / "inventory.json")); }
  Output pic(std::vector<std::string> args) {
    args.insert(args.begin(), {kPicluster.string(), "-i", (dir / "inventory.json").string()});
    return run(args, dir);
  }
  std::map<std::string, std::string> walk(const std::string& oid) { return snmpwalk(port, community, oid, dir); }
};

TEST_F(SwitchSim, ConfiguresAFresh24PortShelfFor8PisThenChangesNothing) {
  start(R"({"all_ports": {"device": true, "mac": "auto"}})");
  auto r = pic({"switch", "apply"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("changed 8 port(s) with 8 SET PDU(s); verified"), std::string::npos) << r.out;
  const auto pvid = walk(kPvid);
  const auto egress = walk(kEgress);
  const auto& shelf = inv.shelves[0];
  for (int p = 1; p <= 24; ++p) {
    const auto* pi = shelf.pi_on_port(p);
    EXPECT_EQ(pvid.at(kPvid + "." + std::to_string(p)), std::to_string(pi ? pi->vlan : 1)) << "port " << p;
  }
  for (const auto& pi : shelf.pis) {
    // Egress of the Pi's VLAN: its own port and the trunk (24), nothing else. snmpwalk prints hex octets.
    const std::string list = egress.at(kEgress + "." + std::to_string(pi.vlan));
    std::string expect;
    for (int octet = 0; octet < 3; ++octet) {
      int byte = 0;
      for (int bit = 0; bit < 8; ++bit) {
        const int port_no = octet * 8 + bit + 1;
        if (port_no == pi.port || port_no == 24) byte |= 0x80 >> bit;
      }
      char hex[4];
      std::snprintf(hex, sizeof hex, "%02X", byte);
      expect += std::string(octet ? " " : "") + hex;
    }
    EXPECT_NE(list.find(expect), std::string::npos) << pi.name << ": " << list << " vs " << expect;
  }
  const std::string state_before = slurp(dir / "state.json");
  auto again = pic({"switch", "apply"});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.out.find("in sync with the inventory, nothing to change"), std::string::npos) << again.out;
  EXPECT_EQ(slurp(dir / "state.json"), state_before);
  auto show = pic({"switch", "show", "--json"});
  ASSERT_EQ(show.status, 0) << show.err;
  const auto j = nlohmann::json::parse(show.out);
  EXPECT_EQ(j["ports"][0]["pi"], "pi01");
  EXPECT_EQ(j["ports"][0]["pvid"], shelf.pis[0].vlan);
  EXPECT_EQ(j["ports"][0]["tagged"], nlohmann::json::array({131}));
  EXPECT_TRUE(j["ports"][0]["drift"].empty());
  EXPECT_EQ(j["ports"][23]["role"], "trunk");
}

TEST_F(SwitchSim, DryRunSendsNothing) {
  start(R"({})");
  auto r = pic({"switch", "apply", "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("dot1qPvid.1 = 10"), std::string::npos) << r.out;
  EXPECT_EQ(walk(kPvid).at(kPvid + ".1"), "1");
}

TEST_F(SwitchSim, StrictPvidSwitchIsConfiguredStepByStep) {
  start(R"({"strict_pvid": true, "bridge_port_offset": 48, "ifindex_offset": 48, "poe_index": "ifindex"})");
  auto r = pic({"switch", "apply"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("(ordered steps); verified"), std::string::npos) << r.out;
  EXPECT_EQ(walk(kPvid).at(kPvid + ".49"), std::to_string(inv.shelves[0].pis[0].vlan));
}

TEST_F(SwitchSim, PowerCycleChecksTheMacThenCycles) {
  start(R"({"all_ports": {"device": true}, "ports": {"5": {"device": true, "mac": "b8:27:eb:00:00:05"},
                                                    "6": {"device": true, "mac": "dc:a6:32:66:66:66"}}})");
  auto r = pic({"power", "cycle", "pi05"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("pi05 (port 5): power cycle: on deliveringPower"), std::string::npos) << r.out;
  EXPECT_EQ(walk(kAdmin).at(kAdmin + ".5"), "1");
  const std::string log = sim->log();
  auto refused = pic({"power", "off", "pi06"});
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("port 6 has learned dc:a6:32:66:66:66, not pi06's b8:27:eb:00:00:06; refusing"), std::string::npos) << refused.err;
  EXPECT_EQ(walk(kAdmin).at(kAdmin + ".6"), "1");
  auto forced = pic({"power", "off", "pi06", "--force"});
  ASSERT_EQ(forced.status, 0) << forced.err;
  EXPECT_EQ(walk(kAdmin).at(kAdmin + ".6"), "2");
  auto status = pic({"power", "status", "pi06", "--json"});
  ASSERT_EQ(status.status, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)[0]["after"]["detection"], "disabled");
  auto none = pic({"power", "cycle"});
  EXPECT_EQ(none.status, 2);
  EXPECT_NE(none.err.find("name at least one Pi, or say --all"), std::string::npos);
}

TEST_F(SwitchSim, DiscoveryListsPisOnPortsNotInTheInventory) {
  start(R"({"ports": {"12": {"device": true, "mac": "dc:a6:32:01:02:03"},
                      "13": {"device": true, "mac": "00:11:22:33:44:55"},
                      "1": {"device": true, "mac": "b8:27:eb:00:00:01"}}})");
  auto r = pic({"discover", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["unknown_pis"].size(), 1u) << r.out;
  EXPECT_EQ(j["unknown_pis"][0]["port"], 12);
  EXPECT_EQ(j["unknown_pis"][0]["mac"], "dc:a6:32:01:02:03");
}

TEST_F(SwitchSim, V3AuthPriv) {
  start(R"({})", {"--v3-user", "picluster", "--v3-auth-pass", "authpass-123", "--v3-priv-pass", "privpass-456"});
  inv.shelves[0].switch_.version = inventory::SnmpVersion::v3;
  save_inventory();
  write_file(dir / "switch-secrets.json",
             R"({"user": "picluster", "auth_protocol": "SHA", "auth_password": "authpass-123", "priv_protocol": "AES", "priv_password": "privpass-456"})");
  auto r = pic({"switch", "apply"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(walk(kPvid).at(kPvid + ".3"), std::to_string(inv.shelves[0].pis[2].vlan));
  // A wrong password fails with a message that carries no secret.
  write_file(dir / "switch-secrets.json",
             R"({"user": "picluster", "auth_password": "wrong-pass-789", "priv_password": "privpass-456"})");
  auto bad = pic({"switch", "show"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("switch 127.0.0.1:"), std::string::npos) << bad.err;
  for (const char* secret : {"wrong-pass-789", "privpass-456", "authpass-123"}) {
    EXPECT_EQ(bad.err.find(secret), std::string::npos);
    EXPECT_EQ(bad.out.find(secret), std::string::npos);
  }
}

TEST_F(SwitchSim, ThirtyPercentRequestLossStillConverges) {
  start(R"({"drop_fraction": 0.3, "seed": 7})");
  inv.shelves[0].switch_.timeout_ms = 150;
  inv.shelves[0].switch_.retries = 8;
  save_inventory();
  auto r = pic({"switch", "apply"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto again = pic({"switch", "apply"});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.out.find("nothing to change"), std::string::npos);
}

TEST_F(SwitchSim, ErrorInTheMiddleLeavesThatPortAsItWasAndSaysWhy) {
  start(R"({"fail_set": [{"oid": ".1.3.6.1.2.1.17.7.1.4.5.1.1.5", "status": "commitFailed"}]})");
  auto r = pic({"switch", "apply"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("pi05 (port 5): set dot1qPvid.5 (port 5): commitFailed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("port 5 left as it was"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(community), std::string::npos);
  const auto pvid = walk(kPvid);
  EXPECT_EQ(pvid.at(kPvid + ".4"), std::to_string(inv.shelves[0].pis[3].vlan));
  EXPECT_EQ(pvid.at(kPvid + ".5"), "1");
  EXPECT_EQ(pvid.at(kPvid + ".6"), "1");
  const auto egress = walk(kEgress);
  EXPECT_EQ(egress.count(kEgress + "." + std::to_string(inv.shelves[0].pis[4].vlan)), 0u) << "VLAN of pi05 was created";
}

TEST_F(SwitchSim, CiscoMode) {
  start(R"({"all_ports": {"device": true, "power_mw": 3100}})", {"--mode", "cisco"});
  inv.shelves[0].switch_.profile = "cisco";
  save_inventory();
  auto r = pic({"switch", "apply"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const std::string native = "1.3.6.1.4.1.9.9.46.1.6.1.1.5";
  const auto n = walk(native);
  EXPECT_EQ(n.at(native + ".1"), std::to_string(inv.shelves[0].pis[0].vlan));
  EXPECT_EQ(n.at(native + ".9"), "1");
  auto again = pic({"switch", "apply"});
  EXPECT_NE(again.out.find("nothing to change"), std::string::npos) << again.out << again.err;
  auto status = pic({"power", "status", "pi01", "--json"});
  ASSERT_EQ(status.status, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)[0]["after"]["power_mw"], 3100);
}

}  // namespace
}  // namespace picluster::switchctl::it
