// picluster-switchsim against net-snmp's own command-line tools, on a free loopback UDP port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim_process.hpp"

namespace picluster::switchsim::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* k_static = ".1.3.6.1.2.1.17.7.1.4.3.1";  // dot1qVlanStaticEntry
constexpr const char* k_pvid = ".1.3.6.1.2.1.17.7.1.4.5.1.1";   // dot1qPvid
constexpr const char* k_pse_port = ".1.3.6.1.2.1.105.1.1.1";    // pethPsePortEntry

// One TCP or UDP socket of a process, as /proc/net/{tcp,udp}{,6} list it.
struct InetSocket {
  std::string table;  // "tcp", "udp6", ...
  std::string local;  // "127.0.0.1:16161", "0.0.0.0:199", "[::]:199"
  bool loopback = false;
};

// The socket inodes the process holds open (its /proc/PID/fd links "socket:[INODE]").
std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0) out.insert(target.substr(8, target.size() - 9));
  }
  return out;
}

// The process's TCP and UDP sockets with their local addresses. The kernel prints an address as
// the in-memory words of the network-order address, so copying the parsed words back to memory
// gives the address bytes.
std::vector<InetSocket> inet_sockets(pid_t pid) {
  const std::set<std::string> inodes = socket_inodes(pid);
  std::vector<InetSocket> out;
  for (const std::string table : {"tcp", "tcp6", "udp", "udp6"}) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/net/" + table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retr, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (!inodes.contains(inode)) continue;
      const auto colon = local.find(':');
      const std::string hex = local.substr(0, colon);
      const int port = std::stoi(local.substr(colon + 1), nullptr, 16);
      unsigned char bytes[16] = {};
      for (std::size_t w = 0; w < hex.size() / 8; ++w) {
        const auto word = static_cast<std::uint32_t>(std::stoul(hex.substr(w * 8, 8), nullptr, 16));
        std::memcpy(bytes + w * 4, &word, 4);
      }
      char text[INET6_ADDRSTRLEN] = {};
      InetSocket s{table, "", false};
      if (hex.size() == 8) {
        ::inet_ntop(AF_INET, bytes, text, sizeof text);
        s.local = std::string(text) + ":" + std::to_string(port);
        s.loopback = bytes[0] == 127;
      } else {
        ::inet_ntop(AF_INET6, bytes, text, sizeof text);
        s.local = "[" + std::string(text) + "]:" + std::to_string(port);
        in6_addr a{};
        std::memcpy(&a, bytes, 16);
        s.loopback = IN6_IS_ADDR_LOOPBACK(&a) || (IN6_IS_ADDR_V4MAPPED(&a) && bytes[12] == 127);
      }
      out.push_back(s);
    }
  }
  return out;
}

class Switchsim : public ::testing::Test {
 protected:
  TempDir dir;

  std::string file(const std::string& name) const { return (dir.path() / name).string(); }

  void write_knobs(const std::string& json) const { std::ofstream(file("knobs.json")) << json; }

  std::vector<std::string> base_args(int ports = 8) const {
    return {"--ports", std::to_string(ports), "--state", file("state.json"), "--community", "sim-rw"};
  }

  static RunResult snmp(const SimProcess& sim, const std::string& tool, std::vector<std::string> args,
                        const std::vector<std::string>& auth = {"-v2c", "-c", "sim-rw"}) {
    std::vector<std::string> argv{tool};
    argv.insert(argv.end(), auth.begin(), auth.end());
    for (const char* a : {"-On", "-t", "1", "-r", "2"}) argv.emplace_back(a);
    argv.push_back(sim.address());
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
};

TEST_F(Switchsim, ListensOnNothingButItsLoopbackAddress) {
  // v3 as well: the USM and VACM modules must not open anything either.
  auto args = base_args();
  args.insert(args.end(), {"--v3-user", "sim", "--v3-auth-pass", "authpass1", "--v3-priv-pass", "privpass1"});
  SimProcess sim(args);
  ASSERT_TRUE(sim.ok()) << sim.ready_line();
  const auto get = snmp(sim, "snmpget", {".1.3.6.1.2.1.17.7.1.4.5.1.1.1"});  // serving, not only bound
  ASSERT_EQ(get.status, 0) << get.err;

  const auto sockets = inet_sockets(sim.pid());
  std::string listing;
  for (const auto& s : sockets) listing += s.table + " " + s.local + "\n";
  for (const auto& s : sockets) {
    EXPECT_TRUE(s.loopback) << "bound to a non-loopback address: " << s.table << " " << s.local;
    EXPECT_EQ(s.table.rfind("tcp", 0), std::string::npos) << "a TCP socket: " << s.local;
  }
  ASSERT_EQ(sockets.size(), 1u) << listing;
  EXPECT_EQ(sockets[0].table, "udp");
  EXPECT_EQ(sockets[0].local, sim.address());
}

TEST_F(Switchsim, WalksQBridgeAndPoeTables) {
  write_knobs(R"({"ports": {"2": {"device": true, "mac": "b8:27:eb:00:00:02", "power_mw": 4200}}})");
  auto args = base_args();
  args.insert(args.end(), {"--config", file("knobs.json")});
  SimProcess sim(args);
  ASSERT_TRUE(sim.ok()) << sim.ready_line();

  const auto vlans = snmp(sim, "snmpwalk", {k_static});
  ASSERT_EQ(vlans.status, 0) << vlans.err;
  EXPECT_THAT(vlans.out, HasSubstr(".1.3.6.1.2.1.17.7.1.4.3.1.1.1 = STRING: \"default\""));
  EXPECT_THAT(vlans.out, HasSubstr(".1.3.6.1.2.1.17.7.1.4.3.1.4.1 = Hex-STRING: FF"));
  EXPECT_THAT(vlans.out, HasSubstr(".1.3.6.1.2.1.17.7.1.4.3.1.5.1 = INTEGER: 1"));
  const auto pvids = snmp(sim, "snmpwalk", {k_pvid});
  EXPECT_THAT(pvids.out, HasSubstr(".1.3.6.1.2.1.17.7.1.4.5.1.1.8 = Gauge32: 1"));

  const auto poe = snmp(sim, "snmpwalk", {k_pse_port});
  EXPECT_THAT(poe.out, HasSubstr(".1.3.6.1.2.1.105.1.1.1.6.1.2 = INTEGER: 3"));  // deliveringPower
  EXPECT_THAT(poe.out, HasSubstr(".1.3.6.1.2.1.105.1.1.1.6.1.3 = INTEGER: 2"));  // searching
  const auto fdb = snmp(sim, "snmpwalk", {".1.3.6.1.2.1.17.7.1.2.2.1.2"});
  EXPECT_THAT(fdb.out, HasSubstr(".1.3.6.1.2.1.17.7.1.2.2.1.2.1.184.39.235.0.0.2 = INTEGER: 2"));

  // GETBULK (through net-snmp's bulk_to_next helper) sees exactly what GETNEXT sees.
  const auto bulk = snmp(sim, "snmpbulkwalk", {"-Cr7", k_pse_port});
  ASSERT_EQ(bulk.status, 0) << bulk.err;
  EXPECT_EQ(bulk.out, poe.out);
}

TEST_F(Switchsim, CreatesAVlanRowWithNameAndPortsInOneSet) {
  SimProcess sim(base_args());
  ASSERT_TRUE(sim.ok());
  const std::string s = k_static;
  const auto set = snmp(sim, "snmpset", {s + ".5.100", "i", "4", s + ".1.100", "s", "pi01-storage",
                                         s + ".2.100", "x", "81", s + ".4.100", "x", "80"});
  ASSERT_EQ(set.status, 0) << set.err;
  const auto get = snmp(sim, "snmpget", {s + ".1.100", s + ".2.100", s + ".4.100", s + ".5.100"});
  EXPECT_THAT(get.out, HasSubstr("STRING: \"pi01-storage\""));
  EXPECT_THAT(get.out, HasSubstr(".2.100 = Hex-STRING: 81"));
  EXPECT_THAT(get.out, HasSubstr(".5.100 = INTEGER: 1"));
  const auto current = snmp(sim, "snmpget", {".1.3.6.1.2.1.17.7.1.4.2.1.4.0.100"});
  EXPECT_THAT(current.out, HasSubstr("Hex-STRING: 81"));

  const auto destroy = snmp(sim, "snmpset", {s + ".5.100", "i", "6"});
  ASSERT_EQ(destroy.status, 0) << destroy.err;
  const auto gone = snmp(sim, "snmpget", {s + ".1.100"});
  EXPECT_THAT(gone.out, HasSubstr("No Such Instance"));
}

TEST_F(Switchsim, ABadVarbindLeavesEverythingUntouched) {
  SimProcess sim(base_args());
  ASSERT_TRUE(sim.ok());
  const std::string s = k_static;
  const auto set = snmp(sim, "snmpset", {s + ".5.100", "i", "4", std::string(k_pvid) + ".1", "u", "100",
                                         std::string(k_pse_port) + ".3.1.1", "i", "2",
                                         s + ".2.100", "x", "8040"});  // port 10 of 8
  EXPECT_NE(set.status, 0);
  EXPECT_THAT(set.err, HasSubstr("wrongValue"));
  EXPECT_THAT(set.err, HasSubstr("Failed object: .1.3.6.1.2.1.17.7.1.4.3.1.2.100"));
  const auto after = snmp(sim, "snmpget", {std::string(k_pvid) + ".1", std::string(k_pse_port) + ".3.1.1", s + ".5.100"});
  EXPECT_THAT(after.out, HasSubstr(".1.3.6.1.2.1.17.7.1.4.5.1.1.1 = Gauge32: 1"));
  EXPECT_THAT(after.out, HasSubstr(".1.3.6.1.2.1.105.1.1.1.3.1.1 = INTEGER: 1"));
  EXPECT_THAT(after.out, HasSubstr("No Such Instance"));

  const auto wrong_type = snmp(sim, "snmpset", {std::string(k_pvid) + ".1", "i", "1"});
  EXPECT_THAT(wrong_type.err, HasSubstr("wrongType"));
  const auto read_only = snmp(sim, "snmpset", {".1.3.6.1.2.1.1.1.0", "s", "x"});
  EXPECT_THAT(read_only.err, HasSubstr("notWritable"));
}

TEST_F(Switchsim, V3AuthPrivWorksAndAWrongPasswordIsRefused) {
  auto args = base_args();
  args.insert(args.end(), {"--v3-user", "picluster", "--v3-auth-pass", "auth-secret-1", "--v3-priv-pass",
                           "priv-secret-1"});
  SimProcess sim(args);
  ASSERT_TRUE(sim.ok());
  const std::vector<std::string> good{"-v3", "-l", "authPriv", "-u", "picluster", "-a", "SHA", "-A",
                                      "auth-secret-1", "-x", "AES", "-X", "priv-secret-1"};
  const auto set = snmp(sim, "snmpset", {std::string(k_pse_port) + ".3.1.4", "i", "2"}, good);
  ASSERT_EQ(set.status, 0) << set.err;
  const auto get = snmp(sim, "snmpget", {std::string(k_pse_port) + ".6.1.4"}, good);
  EXPECT_THAT(get.out, HasSubstr("INTEGER: 1"));  // disabled
  auto bad = good;
  bad[8] = "auth-wrong-1";
  const auto refused = snmp(sim, "snmpget", {".1.3.6.1.2.1.1.5.0"}, bad);
  EXPECT_NE(refused.status, 0);
  EXPECT_THAT(refused.err, HasSubstr("Authentication failure"));
  const auto wrong_community = run({"snmpget", "-v2c", "-c", "nope", "-On", "-t", "0.3", "-r", "0",
                                    sim.address(), ".1.3.6.1.2.1.1.5.0"});
  EXPECT_THAT(wrong_community.err, HasSubstr("Timeout"));
}

TEST_F(Switchsim, StateSurvivesARestart) {
  {
    SimProcess sim(base_args());
    ASSERT_TRUE(sim.ok());
    const std::string s = k_static;
    ASSERT_EQ(snmp(sim, "snmpset", {s + ".5.131", "i", "4", s + ".1.131", "s", "public",
                                    s + ".2.131", "x", "FF", std::string(k_pse_port) + ".3.1.5", "i", "2"})
                  .status,
              0);
    EXPECT_EQ(sim.stop(), 0);
  }
  SimProcess again(base_args());
  ASSERT_TRUE(again.ok());
  const auto get = snmp(again, "snmpget", {std::string(k_static) + ".1.131", std::string(k_pse_port) + ".3.1.5"});
  EXPECT_THAT(get.out, HasSubstr("STRING: \"public\""));
  EXPECT_THAT(get.out, HasSubstr(".1.3.6.1.2.1.105.1.1.1.3.1.5 = INTEGER: 2"));
}

TEST_F(Switchsim, DroppedRequestsTimeOutAndRetriesOvercomeThem) {
  write_knobs(R"({"drop_fraction": 0.5, "seed": 11})");
  auto args = base_args();
  args.insert(args.end(), {"--config", file("knobs.json")});
  SimProcess sim(args);
  ASSERT_TRUE(sim.ok());
  int timeouts = 0;
  for (int i = 0; i < 12; ++i) {
    const auto once = run({"snmpget", "-v2c", "-c", "sim-rw", "-On", "-t", "0.2", "-r", "0", sim.address(),
                           ".1.3.6.1.2.1.1.5.0"});
    if (once.err.find("Timeout") != std::string::npos) ++timeouts;
  }
  EXPECT_GT(timeouts, 0);
  for (int i = 0; i < 5; ++i) {
    const auto retried = run({"snmpget", "-v2c", "-c", "sim-rw", "-On", "-t", "0.2", "-r", "20", sim.address(),
                              ".1.3.6.1.2.1.1.5.0"});
    EXPECT_THAT(retried.out, HasSubstr("STRING: \"switchsim\"")) << retried.err;
  }
}

TEST_F(Switchsim, CiscoModeServesVtpTrunksAndVmVlan) {
  write_knobs(R"({"all_ports": {"device": true}, "ifindex_offset": 10100})");
  auto args = base_args();
  args.insert(args.end(), {"--mode", "cisco", "--config", file("knobs.json")});
  SimProcess sim(args);
  ASSERT_TRUE(sim.ok());
  const std::string edit_op = ".1.3.6.1.4.1.9.9.46.1.4.1.1.1.1";
  const std::string edit = ".1.3.6.1.4.1.9.9.46.1.4.2.1";
  ASSERT_EQ(snmp(sim, "snmpset", {edit_op, "i", "2"}).status, 0);
  ASSERT_EQ(snmp(sim, "snmpset", {edit + ".11.1.10", "i", "4", edit + ".4.1.10", "s", "pi01-storage"}).status, 0);
  ASSERT_EQ(snmp(sim, "snmpset", {edit_op, "i", "3"}).status, 0);
  ASSERT_EQ(snmp(sim, "snmpset", {edit_op, "i", "4"}).status, 0);

  const std::string trunk = ".1.3.6.1.4.1.9.9.46.1.6.1.1";
  const auto set = snmp(sim, "snmpset", {trunk + ".13.10101", "i", "1", trunk + ".5.10101", "i", "10",
                                         trunk + ".4.10101", "x", "0020"});  // VLAN 10 only
  ASSERT_EQ(set.status, 0) << set.err;
  const auto vtp = snmp(sim, "snmpwalk", {".1.3.6.1.4.1.9.9.46.1.3.1.1.2"});
  EXPECT_THAT(vtp.out, HasSubstr(".1.3.6.1.4.1.9.9.46.1.3.1.1.2.1.10 = INTEGER: 1"));
  const auto ports = snmp(sim, "snmpwalk", {trunk + ".14"});
  EXPECT_THAT(ports.out, HasSubstr(trunk + ".14.10101 = INTEGER: 1"));  // trunking
  EXPECT_THAT(ports.out, HasSubstr(trunk + ".14.10102 = INTEGER: 2"));
  const auto vm = snmp(sim, "snmpwalk", {".1.3.6.1.4.1.9.9.68.1.2.2.1.2"});
  EXPECT_THAT(vm.out, HasSubstr(".1.3.6.1.4.1.9.9.68.1.2.2.1.2.10108 = INTEGER: 1"));
  const auto power = snmp(sim, "snmpget", {".1.3.6.1.4.1.9.9.402.1.2.1.9.1.1"});
  EXPECT_THAT(power.out, HasSubstr("Gauge32: 4500"));
  const auto no_qbridge = snmp(sim, "snmpget", {std::string(k_pvid) + ".1"});
  EXPECT_THAT(no_qbridge.out, HasSubstr("No Such Object"));
}

TEST_F(Switchsim, StrictPvidAndOddPortNumbering) {
  write_knobs(R"({"strict_pvid": true, "bridge_port_offset": 48, "ifindex_offset": 48})");
  auto args = base_args();
  args.insert(args.end(), {"--config", file("knobs.json")});
  SimProcess sim(args);
  ASSERT_TRUE(sim.ok());
  const auto map = snmp(sim, "snmpget", {".1.3.6.1.2.1.17.1.4.1.2.49", ".1.3.6.1.2.1.31.1.1.1.1.49"});
  EXPECT_THAT(map.out, HasSubstr(".1.3.6.1.2.1.17.1.4.1.2.49 = INTEGER: 49"));
  EXPECT_THAT(map.out, HasSubstr("STRING: \"gi1\""));
  const std::string s = k_static;
  // Bridge port 49 is bit 49: octet 7, MSB.
  const std::string one_port = "00000000000080";
  const auto together = snmp(sim, "snmpset", {s + ".5.10", "i", "4", s + ".2.10", "x", one_port, s + ".4.10",
                                              "x", one_port, std::string(k_pvid) + ".49", "u", "10"});
  EXPECT_THAT(together.err, HasSubstr("inconsistentValue"));
  ASSERT_EQ(snmp(sim, "snmpset", {s + ".5.10", "i", "4", s + ".2.10", "x", one_port, s + ".4.10", "x", one_port})
                .status,
            0);
  ASSERT_EQ(snmp(sim, "snmpset", {std::string(k_pvid) + ".49", "u", "10"}).status, 0);
}

TEST_F(Switchsim, RefusesANonLoopbackAddressAndShowsHelp) {
  const auto refused = run({switchsim_binary(), "--listen", "udp:0.0.0.0:1161", "--ports", "4", "--state",
                            file("s.json")});
  EXPECT_EQ(refused.status, 2);
  EXPECT_THAT(refused.err, HasSubstr("only loopback addresses"));
  EXPECT_THAT(refused.out, Not(HasSubstr("ready")));
  const auto help = run({switchsim_binary(), "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_THAT(help.out, HasSubstr("--v3-user"));
}

}  // namespace
}  // namespace picluster::switchsim::testing
