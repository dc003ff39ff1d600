// `picluster remove` undoes an add on the switch and the fileserver; `rebuild` powers a Pi off,
// replaces its root from the golden image and powers it on; `rollback` brings the old root back.

#include <gmock/gmock.h>

#include "tests/integration/orchestrator/shelf_checks.hpp"

namespace picluster::orchestrator::it {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kPis = 4;

class RemoveRebuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_shelf = std::make_unique<TestShelf>(Transport::local);
    if (!m_shelf->ready()) GTEST_SKIP() << m_shelf->why_not();
    for (int i = 1; i <= kPis; ++i) {
      const auto r = m_shelf->add(i);
      ASSERT_EQ(r.status, 0) << TestShelf::describe({"add", pi_name(i)}, r);
    }
  }
  // Everything a remove could touch, as text, to compare before and after.
  std::string snapshot() const {
    std::string s = testing::read_file(m_shelf->inventory_path()) + testing::read_file(m_shelf->exports_file()) +
                    testing::read_file(m_shelf->interfaces_file());
    for (int i = 1; i <= kPis; ++i) {
      s += pi_name(i) + (fs::exists(m_shelf->root(pi_name(i))) ? " root\n" : " no root\n");
      s += snmp_value(*m_shelf, pvid_oid(i)) + "\n";
    }
    return s;
  }
  std::unique_ptr<TestShelf> m_shelf;
};

TEST_F(RemoveRebuildTest, RemoveUndoesAddAndLeavesTheOtherPisAlone) {
  const json pi03 = show_pi(*m_shelf, "pi03");
  const int vlan = pi03["vlan"].get<int>();
  testing::write_file(m_shelf->root("pi02") / "home/pi/keep.txt", "pi02's data\n");
  ASSERT_EQ(snmp_value(*m_shelf, vlan_row_oid(vlan)), "1");  // active(1)

  const std::string before = snapshot();
  const auto dry = m_shelf->pic({"remove", "pi03", "--dry-run"});
  EXPECT_EQ(dry.status, 0) << TestShelf::describe({"remove", "pi03", "--dry-run"}, dry);
  EXPECT_EQ(snapshot(), before) << "remove --dry-run changed something";

  const auto removed = m_shelf->pic({"remove", "pi03"});
  ASSERT_EQ(removed.status, 0) << TestShelf::describe({"remove", "pi03"}, removed);
  EXPECT_FALSE(fs::exists(m_shelf->root("pi03")));
  EXPECT_FALSE(exports(*m_shelf).contains("/srv/nfsroot/pi03"));
  const std::string interfaces = testing::read_file(m_shelf->interfaces_file());
  EXPECT_THAT(interfaces, Not(HasSubstr("eth0." + std::to_string(vlan) + "\n")));
  EXPECT_THAT(interfaces, Not(HasSubstr("pi03")));
  EXPECT_EQ(snmp_value(*m_shelf, pvid_oid(3)), "1");
  EXPECT_THAT(snmp_value(*m_shelf, vlan_row_oid(vlan)), HasSubstr("No Such Instance"));
  const auto shown = m_shelf->pic({"show", "pi03"});
  EXPECT_NE(shown.status, 0);
  EXPECT_THAT(testing::read_file(m_shelf->inventory_path()), Not(HasSubstr("\"pi03\"")));

  for (const int i : {1, 2, 4}) {
    const std::string name = pi_name(i);
    SCOPED_TRACE(name);
    const json pi = show_pi(*m_shelf, name);
    EXPECT_EQ(snmp_value(*m_shelf, pvid_oid(i)), std::to_string(pi["vlan"].get<int>()));
    EXPECT_EQ(testing::read_file(m_shelf->root(name) / "etc/hostname"), name + "\n");
    EXPECT_TRUE(exports(*m_shelf).contains("/srv/nfsroot/" + name));
    EXPECT_THAT(interfaces, HasSubstr("eth0." + std::to_string(pi["vlan"].get<int>()) + "\n"));
  }
  EXPECT_EQ(testing::read_file(m_shelf->root("pi02") / "home/pi/keep.txt"), "pi02's data\n");
  EXPECT_EQ(m_shelf->pic_json({"plan", "--json"})["changes"], false);
}

TEST_F(RemoveRebuildTest, RebuildReplacesTheRootBetweenPowerOffAndOnAndRollbackRestoresIt) {
  const fs::path marker = m_shelf->root("pi02") / "home/pi/marker.txt";
  testing::write_file(marker, "written by the Pi\n");
  const std::size_t journal_before = journal(*m_shelf).size();

  const auto rebuilt = m_shelf->pic({"rebuild", "pi02"});
  ASSERT_EQ(rebuilt.status, 0) << TestShelf::describe({"rebuild", "pi02"}, rebuilt);
  EXPECT_FALSE(fs::exists(marker));
  EXPECT_EQ(testing::read_file(m_shelf->root("pi02") / "etc/hostname"), "pi02\n");

  // The journal: power off, root, power on, in that order, for pi02 (whatever verb each line has).
  std::vector<std::string> seen;
  const auto lines = journal(*m_shelf);
  for (std::size_t k = journal_before; k < lines.size(); ++k) {
    if (lines[k]["pi"] != "pi02" || lines[k]["result"] != "ok") continue;
    const std::string step = lines[k]["step"].get<std::string>();
    const std::string detail = lines[k]["detail"].get<std::string>();
    if (step == "power") seen.push_back(detail.find("off") != std::string::npos ? "power off" : "power on");
    if (step == "root") seen.push_back("root");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"power off", "root", "power on"}));
  // The same through `picluster log pi02`.
  const json log = m_shelf->pic_json({"log", "pi02", "--json"});
  ASSERT_TRUE(log.is_array());
  EXPECT_EQ(log.back()["step"], "power");
  EXPECT_THAT(log.back()["detail"].get<std::string>(), HasSubstr("on"));

  const auto rolled = m_shelf->pic({"rollback", "pi02"});
  ASSERT_EQ(rolled.status, 0) << TestShelf::describe({"rollback", "pi02"}, rolled);
  EXPECT_EQ(testing::read_file(marker), "written by the Pi\n");
}

}  // namespace
}  // namespace picluster::orchestrator::it
