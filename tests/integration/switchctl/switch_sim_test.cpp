// picluster switch/power/discover against picluster-switchsim on loopback, checked with
// net-snmp's own snmpwalk where the switch's state matters.
#include <gtest/gtest.h>
#include <sys/file.h>

#include <set>

#include "harness.hpp"

namespace picluster::switchctl::it {
namespace {

const std::string kPvid = "1.3.6.1.2.1.17.7.1.4.5.1.1";
const std::string kEgress = "1.3.6.1.2.1.17.7.1.4.3.1.2";
const std::string kUntagged = "1.3.6.1.2.1.17.7.1.4.3.1.4";
const std::string kAdmin = "1.3.6.1.2.1.105.1.1.1.3.1";

// A 24-port PortList as snmpwalk prints it ("80 00 01"): bit 0x80 of octet 1 is port 1.
std::string hex_ports(const std::set<int>& ports) {
  std::string out;
  for (int octet = 0; octet < 3; ++octet) {
    int byte = 0;
    for (int bit = 0; bit < 8; ++bit) {
      if (ports.contains(octet * 8 + bit + 1)) byte |= 0x80 >> bit;
    }
    char hex[4];
    std::snprintf(hex, sizeof hex, "%02X", byte);
    out += std::string(octet ? " " : "") + hex;
  }
  return out;
}

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
  const auto untagged = walk(kUntagged);
  for (const auto& pi : shelf.pis) {
    // Egress of the Pi's VLAN: its own port and the trunk (24), nothing else; untagged: the Pi's
    // port only (the trunk carries it tagged).
    const std::string list = egress.at(kEgress + "." + std::to_string(pi.vlan));
    EXPECT_NE(list.find(hex_ports({pi.port, 24})), std::string::npos) << pi.name << ": " << list;
    const std::string untag = untagged.at(kUntagged + "." + std::to_string(pi.vlan));
    EXPECT_NE(untag.find(hex_ports({pi.port})), std::string::npos) << pi.name << ": " << untag;
  }
  // VLAN 1 keeps every port without a Pi untagged; the public VLAN is tagged everywhere.
  std::set<int> rest;
  for (int p = 9; p <= 24; ++p) rest.insert(p);
  EXPECT_NE(untagged.at(kUntagged + ".1").find(hex_ports(rest)), std::string::npos)
      << untagged.at(kUntagged + ".1");
  const std::string pub = std::to_string(shelf.public_net.vlan);
  EXPECT_NE(untagged.at(kUntagged + "." + pub).find(hex_ports({})), std::string::npos)
      << untagged.at(kUntagged + "." + pub);
  std::set<int> with_trunk = {24};
  for (int p = 1; p <= 8; ++p) with_trunk.insert(p);
  EXPECT_NE(egress.at(kEgress + "." + pub).find(hex_ports(with_trunk)), std::string::npos)
      << egress.at(kEgress + "." + pub);
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
  // The port really went off, then on again: the simulator logs each PoE change it commits.
  const std::string log = sim->log();
  const auto off = log.find("port 5: PoE off"), on = log.find("port 5: PoE on");
  ASSERT_NE(off, std::string::npos) << log;
  ASSERT_NE(on, std::string::npos) << log;
  EXPECT_LT(off, on) << log;
  EXPECT_EQ(log.find("port 6: PoE"), std::string::npos) << log;
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

TEST_F(SwitchSim, ShowFailsWhenApplyWouldFail) {
  start(R"({})");
  // The inventory's trunk port is one the 24-port switch does not have.
  inv.shelves[0].switch_.port_count = 26;
  inv.shelves[0].fileserver.trunk_port = 26;
  save_inventory();
  auto apply = pic({"switch", "apply"});
  ASSERT_EQ(apply.status, 1) << apply.out;
  const std::string why = "port 26 (trunk): not in the switch's port map";
  EXPECT_NE(apply.err.find(why), std::string::npos) << apply.err;
  auto show = pic({"switch", "show"});
  EXPECT_EQ(show.status, 1) << show.out;
  EXPECT_NE(show.out.find("PORT"), std::string::npos) << show.out;  // the table is still printed
  EXPECT_NE(show.err.find("switch apply would fail: switch 127.0.0.1:" + std::to_string(port) +
                          ": " + why),
            std::string::npos)
      << show.err;
  auto json = pic({"switch", "show", "--json"});
  EXPECT_EQ(json.status, 1);
  const auto j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j["problems"].size(), 1u) << json.out;
  EXPECT_NE(j["problems"][0].get<std::string>().find(why), std::string::npos);
}

TEST_F(SwitchSim, ShowInSyncHasNoProblems) {
  start(R"({})");
  ASSERT_EQ(pic({"switch", "apply"}).status, 0);
  auto json = pic({"switch", "show", "--json"});
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_TRUE(nlohmann::json::parse(json.out)["problems"].empty());
}

TEST_F(SwitchSim, PowerChecksEveryNameBeforeSendingAnything) {
  start(R"({"all_ports": {"device": true}})");
  auto r = pic({"power", "off", "pi01", "nosuch"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no Pi named \"nosuch\" in shelf 'shelf1'"), std::string::npos) << r.err;
  EXPECT_EQ(walk(kAdmin).at(kAdmin + ".1"), "1");  // pi01 still on
  EXPECT_EQ(sim->log().find("PoE off"), std::string::npos) << sim->log();
  // A Pi on a port the switch does not have is refused before pi01 is touched, too.
  inv.shelves[0].switch_.port_count = 48;
  inv.shelves[0].fileserver.trunk_port = 48;
  auto added = inventory::add_pi(inv.shelves[0],
                                 {"pi30", 30, inventory::PiModel::pi4, std::nullopt, std::nullopt});
  ASSERT_TRUE(added) << added.error().message;
  save_inventory();
  auto unmapped = pic({"power", "off", "pi01", "pi30"});
  EXPECT_EQ(unmapped.status, 1);
  EXPECT_NE(unmapped.err.find("pi30: port 30 is not in the switch's port map"), std::string::npos)
      << unmapped.err;
  EXPECT_EQ(walk(kAdmin).at(kAdmin + ".1"), "1");
}

TEST_F(SwitchSim, PowerAllOnAnEmptyShelfSaysSo) {
  start(R"({})", {}, 0);
  auto r = pic({"power", "cycle", "--all"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "no Pis in shelf 'shelf1'; nothing to power cycle\n");
}

TEST_F(SwitchSim, UnsetSwitchHostIsNamedNotATimeout) {
  start(R"({})");
  inv.shelves[0].switch_.host = "";
  save_inventory();
  auto r = pic({"switch", "show"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "picluster: error: shelf 'shelf1': switch.host is not set in the inventory (the "
            "switch's SNMP address)\n");
}

TEST_F(SwitchSim, TimeoutNamesTheColumnAndHintsAtTheCauses) {
  start(R"({})");
  write_file(dir / "switch-secrets.json", R"({"community": "not-the-switchs"})");
  inv.shelves[0].switch_.timeout_ms = 100;
  inv.shelves[0].switch_.retries = 1;
  save_inventory();
  auto r = pic({"switch", "show"});
  EXPECT_EQ(r.status, 1);
  const std::string endpoint = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(r.err, "picluster: error: switch " + endpoint +
                       ": read port map: walk dot1dBasePortIfIndex: get-bulk "
                       "dot1dBasePortIfIndex: no response (timeout); 2 attempt(s) of 100 ms; is "
                       "the switch reachable at " +
                       endpoint + " and is the community in the secrets file the switch's?\n");
}

TEST_F(SwitchSim, ApplyTakesTheShelfLock) {
  start(R"({})");
  fs::create_directories(dir / ".picluster");
  const int fd =
      ::open((dir / ".picluster" / "shelf1.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  auto locked = pic({"switch", "apply"});
  EXPECT_EQ(locked.status, 1);
  EXPECT_NE(locked.err.find("shelf shelf1: another picluster run is changing it"),
            std::string::npos)
      << locked.err;
  EXPECT_EQ(walk(kPvid).at(kPvid + ".1"), "1");  // nothing sent
  ::close(fd);
  auto r = pic({"switch", "apply"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(slurp(dir / ".picluster" / "journal.jsonl").find("switch apply"), std::string::npos);
}

TEST_F(SwitchSim, CiscoModeDiscoveryReadsDot1dTpFdbTable) {
  // Cisco mode serves the forwarding database as BRIDGE-MIB's dot1dTpFdbTable only.
  start(
      R"({"ports": {"12": {"device": true, "mac": "dc:a6:32:01:02:03"}, "1": {"device": true, "mac": "b8:27:eb:00:00:01"}}})",
      {"--mode", "cisco"});
  inv.shelves[0].switch_.profile = "cisco";
  save_inventory();
  auto rows = [&](const std::string& column) {
    int n = 0;
    for (const auto& [oid, value] : walk(column)) n += oid.rfind(column + ".", 0) == 0 ? 1 : 0;
    return n;
  };
  ASSERT_EQ(rows("1.3.6.1.2.1.17.7.1.2.2.1.2"), 0);  // dot1qTpFdbPort
  ASSERT_EQ(rows("1.3.6.1.2.1.17.4.3.1.2"), 2);      // dot1dTpFdbPort
  auto r = pic({"discover", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["unknown_pis"].size(), 1u) << r.out;
  EXPECT_EQ(j["unknown_pis"][0]["port"], 12);
  EXPECT_EQ(j["learned"].size(), 2u) << r.out;
}

// A Cisco-looking switch without dot1dBasePortIfIndex that answers no community@VLAN: the FDB's
// bridge ports cannot be placed on front-panel ports. discover said "no Raspberry Pi MACs on ports
// without a Pi in the inventory" although a Pi's MAC was learned (on port 12, out of its sight).
TEST_F(SwitchSim, DiscoveryNamesPiMacsItCannotPlaceInsteadOfSayingThereAreNone) {
  start(R"({"bridge_port_table": false, "ports": {"12": {"device": true, "mac": "dc:a6:32:01:02:03"}}})",
        {"--mode", "cisco"});
  inv.shelves[0].switch_.profile = "cisco";
  save_inventory();
  auto r = pic({"discover"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("no Raspberry Pi MACs on ports"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 Raspberry Pi MAC(s) on no front-panel port"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("dc:a6:32:01:02:03 on bridge port 12"), std::string::npos) << r.err;
  r = pic({"discover", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["unknown_pis"].size(), 0u) << r.out;
  ASSERT_EQ(j["unplaced_pis"].size(), 1u) << r.out;
  EXPECT_EQ(j["unplaced_pis"][0]["mac"], "dc:a6:32:01:02:03");
  EXPECT_EQ(j["unplaced_pis"][0]["bridge_port"], 12);
}

}  // namespace
}  // namespace picluster::switchctl::it
