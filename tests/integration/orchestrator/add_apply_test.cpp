// `picluster add` of eight Pis and `apply` (idempotence, drift repair) against the real switch
// simulator and this machine as the fileserver, once with transport local and once over a real
// sshd on loopback.

#include <gmock/gmock.h>

#include "tests/integration/orchestrator/shelf_checks.hpp"

namespace picluster::orchestrator::it {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr int kPublicVlan = 131;

class AddApplyTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    m_shelf = std::make_unique<TestShelf>(GetParam());
    if (!m_shelf->ready()) GTEST_SKIP() << m_shelf->why_not();
  }
  void add_all() {
    for (int i = 1; i <= pis(); ++i) {
      const auto r = m_shelf->add(i);
      ASSERT_EQ(r.status, 0) << TestShelf::describe({"add", pi_name(i)}, r);
    }
  }
  // Eight Pis locally (the number); four over ssh, which costs seconds per operation and
  // only has to show that every step also works through SshHost.
  [[nodiscard]] int pis() const { return GetParam() == Transport::ssh ? 4 : 8; }
  std::unique_ptr<TestShelf> m_shelf;
};

TEST_P(AddApplyTest, AddEightPisConfiguresSwitchFileserverAndBootFiles) {
  add_all();
  const auto ports = switch_ports(*m_shelf);
  const auto served = exports(*m_shelf);
  std::set<int> pi_vlans;
  for (int i = 1; i <= pis(); ++i) {
    const std::string name = pi_name(i);
    SCOPED_TRACE(name);
    const json pi = show_pi(*m_shelf, name);
    ASSERT_TRUE(pi.contains("vlan"));
    const int vlan = pi["vlan"].get<int>();
    pi_vlans.insert(vlan);
    // switch: untagged on its own VLAN (PVID), tagged on the public VLAN and nothing else
    ASSERT_TRUE(ports.contains(i));
    EXPECT_EQ(ports.at(i)["pvid"], vlan);
    EXPECT_EQ(int_set(ports.at(i)["untagged"]), std::set<int>{vlan});
    EXPECT_EQ(int_set(ports.at(i)["tagged"]), std::set<int>{kPublicVlan});
    EXPECT_EQ(snmp_value(*m_shelf, pvid_oid(i)), std::to_string(vlan));
    // root: cloned and customised
    EXPECT_EQ(testing::read_file(m_shelf->root(name) / "etc/hostname"), name + "\n");
    // export: this root to this Pi's storage address alone
    const std::string root_path = "/srv/nfsroot/" + name;
    ASSERT_TRUE(served.contains(root_path)) << testing::read_file(m_shelf->exports_file());
    EXPECT_THAT(served.at(root_path), ElementsAre(StartsWith(pi["storage"]["pi"].get<std::string>() + "(")));
    // boot files: the kernel command line `show` prints
    EXPECT_EQ(testing::read_file(m_shelf->prefix() / "srv/tftp/sdcard" / name / "cmdline.txt"),
              pi["cmdline"].get<std::string>() + "\n");
  }
  EXPECT_EQ(served.size(), static_cast<std::size_t>(pis()));
  // the trunk carries every Pi VLAN and the public VLAN, tagged
  std::set<int> trunk_wants = pi_vlans;
  trunk_wants.insert(kPublicVlan);
  ASSERT_TRUE(ports.contains(24));
  const auto trunk_tagged = int_set(ports.at(24)["tagged"]);
  for (const int v : trunk_wants) EXPECT_TRUE(trunk_tagged.contains(v)) << "trunk lacks VLAN " << v;

  const json status = m_shelf->pic_json({"status", "--json"});
  ASSERT_TRUE(status.contains("pis"));
  ASSERT_EQ(status["pis"].size(), static_cast<std::size_t>(pis()));
  for (const auto& row : status["pis"]) {
    SCOPED_TRACE(row.dump());
    EXPECT_EQ(row["vlan"], "ok");
    EXPECT_EQ(row["root_present"], true);
    EXPECT_EQ(row["exported"], true);
    EXPECT_THAT(row["poe"].get<std::string>(), StartsWith("on"));
  }
}

TEST_P(AddApplyTest, SecondApplyChangesNothingAndDriftIsPlannedAndRepaired) {
  add_all();
  ASSERT_EQ(m_shelf->pic({"apply"}).status, 0);
  const json second = m_shelf->pic_json({"apply", "--json"});
  ASSERT_FALSE(steps(second).empty()) << second.dump();
  for (const auto& s : steps(second)) EXPECT_EQ(s["result"], "unchanged") << s.dump();
  EXPECT_EQ(m_shelf->pic_json({"plan", "--json"})["changes"], false);

  // Damage: a root deleted, a PVID changed behind picluster's back, the exports file deleted.
  const int pi02_vlan = show_pi(*m_shelf, "pi02")["vlan"].get<int>();
  fs::remove_all(m_shelf->root("pi04"));
  const auto set = m_shelf->snmpset(pvid_oid(2), "u", "1");
  ASSERT_EQ(set.status, 0) << set.err;
  fs::remove(m_shelf->exports_file());

  const json plan = m_shelf->pic_json({"plan", "--json"});
  EXPECT_EQ(plan["changes"], true);
  ASSERT_EQ(plan["switch"].size(), 1U) << plan.dump(2);
  EXPECT_EQ(plan["switch"][0]["port"], 2);
  EXPECT_EQ(plan["switch"][0]["pi"], "pi02");
  EXPECT_EQ(plan["roots"], json::array({"pi04"}));
  EXPECT_FALSE(plan["exports"].empty());
  EXPECT_THAT(plan["network"], IsEmpty());
  EXPECT_THAT(plan["boot"], IsEmpty());
  EXPECT_THAT(plan["power_on"], IsEmpty());

  const auto repaired = m_shelf->pic({"apply"});
  ASSERT_EQ(repaired.status, 0) << TestShelf::describe({"apply"}, repaired);
  EXPECT_EQ(testing::read_file(m_shelf->root("pi04") / "etc/hostname"), "pi04\n");
  EXPECT_EQ(snmp_value(*m_shelf, pvid_oid(2)), std::to_string(pi02_vlan));
  EXPECT_EQ(exports(*m_shelf).size(), static_cast<std::size_t>(pis()));
  EXPECT_EQ(m_shelf->pic_json({"plan", "--json"})["changes"], false);
}

INSTANTIATE_TEST_SUITE_P(Transports, AddApplyTest, ::testing::Values(Transport::local, Transport::ssh),
                         [](const auto& suite_param) { return transport_name(suite_param.param); });

}  // namespace
}  // namespace picluster::orchestrator::it
