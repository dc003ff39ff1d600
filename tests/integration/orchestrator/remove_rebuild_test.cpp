// `picluster remove` undoes an add on the switch and the fileserver; `rebuild` powers a Pi off,
// replaces its root from the golden image and powers it on; `rollback` brings the old root back.

#include <gmock/gmock.h>

#include <map>

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
    std::string s = testing::read_file(m_shelf->inventory_path()) +
                    testing::read_file(m_shelf->exports_file()) +
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
    if (step == "power")
      seen.push_back(detail.find("off") != std::string::npos ? "power off" : "power on");
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

// The PoE admin state of a Pi's port as `picluster power status` reports it ("on" or "off").
std::string poe_admin(const TestShelf& shelf, const std::string& pi) {
  const json j = shelf.pic_json({"power", "status", pi, "--json"});
  return j.is_array() && !j.empty() ? j[0]["after"]["admin"].get<std::string>() : "?";
}

// The journal lines for `pi` from index `from` on, as "verb step result" (+ " off"/" on" for
// power).
std::vector<std::string> journal_steps(const TestShelf& shelf, std::size_t from,
                                       const std::string& pi) {
  std::vector<std::string> out;
  const auto lines = journal(shelf);
  for (std::size_t k = from; k < lines.size(); ++k) {
    if (lines[k]["pi"] != pi) continue;
    std::string line = lines[k]["verb"].get<std::string>() + " " +
                       lines[k]["step"].get<std::string>() + " " +
                       lines[k]["result"].get<std::string>();
    if (lines[k]["step"] == "power" && lines[k]["result"] == "ok") {
      line +=
          lines[k]["detail"].get<std::string>().find("off") != std::string::npos ? " off" : " on";
    }
    out.push_back(line);
  }
  return out;
}

// A missing golden image is found before the Pi loses power: one clear error, the Pi stays on
// with its root untouched, and nothing but the failure is journaled.
TEST_F(RemoveRebuildTest, RebuildWithAMissingGoldenImageFailsBeforePowerOff) {
  const fs::path marker = m_shelf->root("pi02") / "home/pi/marker.txt";
  testing::write_file(marker, "written by the Pi\n");
  const std::size_t journal_before = journal(*m_shelf).size();
  ASSERT_EQ(poe_admin(*m_shelf, "pi02"), "on");

  const std::vector<std::string> args{"rebuild", "pi02", "--from", "/srv/golden/missing"};
  const auto r = m_shelf->pic(args);
  EXPECT_EQ(r.status, 1) << TestShelf::describe(args, r);
  EXPECT_EQ(r.err, "picluster: error: pi02: rebuild: golden image " +
                       (m_shelf->prefix() / "srv/golden/missing").string() +
                       " does not exist on local\n");
  EXPECT_EQ(poe_admin(*m_shelf, "pi02"), "on");
  EXPECT_EQ(testing::read_file(marker), "written by the Pi\n");
  EXPECT_EQ(journal_steps(*m_shelf, journal_before, "pi02"), std::vector<std::string>{});
}

// A rebuild that fails after PoE off (here: the golden image's etc is a symlink out of the root,
// which install refuses) leaves the old root in place, so the Pi is powered on again and the
// error says so.
TEST_F(RemoveRebuildTest, RebuildThatFailsAfterPowerOffPowersThePiOnAgain) {
  const fs::path marker = m_shelf->root("pi02") / "home/pi/marker.txt";
  testing::write_file(marker, "written by the Pi\n");
  const fs::path broken = m_shelf->prefix() / "srv/golden/broken";
  fs::create_directories(broken / "usr");
  fs::create_directory_symlink("/etc", broken / "etc");
  const std::size_t journal_before = journal(*m_shelf).size();

  const std::vector<std::string> args{"rebuild", "pi02", "--from", "/srv/golden/broken"};
  const auto r = m_shelf->pic(args);
  EXPECT_EQ(r.status, 1) << TestShelf::describe(args, r);
  EXPECT_THAT(r.err, HasSubstr("symlink"));
  EXPECT_THAT(r.err, HasSubstr("is still in place and pi02 is powered on again"));
  EXPECT_EQ(poe_admin(*m_shelf, "pi02"), "on");
  EXPECT_EQ(testing::read_file(marker), "written by the Pi\n");
  EXPECT_EQ(journal_steps(*m_shelf, journal_before, "pi02"),
            (std::vector<std::string>{"rebuild power ok off", "rebuild root failed",
                                      "rebuild power ok on"}));
}

// rollback is a mutating verb like rebuild: PoE off, swap, PoE on, each journaled; --dry-run
// shows those steps and changes nothing.
TEST_F(RemoveRebuildTest, RollbackPowersOffSwapsAndPowersOn) {
  const fs::path marker = m_shelf->root("pi02") / "home/pi/marker.txt";
  testing::write_file(marker, "written by the Pi\n");
  ASSERT_EQ(m_shelf->pic({"rebuild", "pi02"}).status, 0);
  ASSERT_FALSE(fs::exists(marker));

  const json dry = m_shelf->pic_json({"rollback", "pi02", "--dry-run", "--json"});
  std::vector<std::string> planned;
  for (const auto& step : steps(dry)) {
    EXPECT_EQ(step["result"], "planned");
    planned.push_back(step["step"].get<std::string>() + ": " + step["detail"].get<std::string>());
  }
  ASSERT_EQ(planned.size(), 3U) << dry.dump(2);
  EXPECT_EQ(planned[0], "power: PoE off, port 2");
  EXPECT_THAT(planned[1], HasSubstr(".previous/pi02"));
  EXPECT_EQ(planned[2], "power: PoE on, port 2");
  EXPECT_FALSE(fs::exists(marker));

  const std::size_t journal_before = journal(*m_shelf).size();
  const auto rolled = m_shelf->pic({"rollback", "pi02"});
  ASSERT_EQ(rolled.status, 0) << TestShelf::describe({"rollback", "pi02"}, rolled);
  EXPECT_EQ(testing::read_file(marker), "written by the Pi\n");
  EXPECT_EQ(journal_steps(*m_shelf, journal_before, "pi02"),
            (std::vector<std::string>{"rollback power ok off", "rollback root ok",
                                      "rollback power ok on"}));
  EXPECT_EQ(poe_admin(*m_shelf, "pi02"), "on");
}

// remove --keep: the root is archived, and the exports, interfaces and switch port are released
// as with a plain remove.
TEST_F(RemoveRebuildTest, RemoveKeepArchivesTheRootAndReleasesTheRest) {
  const json pi03 = show_pi(*m_shelf, "pi03");
  const int vlan = pi03["vlan"].get<int>();
  testing::write_file(m_shelf->root("pi03") / "home/pi/data.txt", "pi03's data\n");

  const auto removed = m_shelf->pic({"remove", "pi03", "--keep"});
  ASSERT_EQ(removed.status, 0) << TestShelf::describe({"remove", "pi03", "--keep"}, removed);
  EXPECT_FALSE(fs::exists(m_shelf->root("pi03")));
  std::vector<fs::path> archived;
  for (const auto& e : fs::directory_iterator(m_shelf->prefix() / "srv/nfsroot/.archive")) {
    archived.push_back(e.path());
  }
  ASSERT_EQ(archived.size(), 1U);
  EXPECT_THAT(archived[0].filename().string(), ::testing::StartsWith("pi03-"));
  EXPECT_EQ(testing::read_file(archived[0] / "home/pi/data.txt"), "pi03's data\n");
  EXPECT_FALSE(exports(*m_shelf).contains("/srv/nfsroot/pi03"));
  EXPECT_THAT(testing::read_file(m_shelf->interfaces_file()),
              Not(HasSubstr("eth0." + std::to_string(vlan) + "\n")));
  EXPECT_EQ(snmp_value(*m_shelf, pvid_oid(3)), "1");
  EXPECT_THAT(snmp_value(*m_shelf, vlan_row_oid(vlan)), HasSubstr("No Such Instance"));
  EXPECT_THAT(testing::read_file(m_shelf->inventory_path()), Not(HasSubstr("\"pi03\"")));
  EXPECT_EQ(m_shelf->pic_json({"plan", "--json"})["changes"], false);
}

// remove --dry-run says what each step would do: the port, the boot folder, the root and the
// files it would touch, the switch change; and changes none of it.
TEST_F(RemoveRebuildTest, RemoveDryRunSaysWhatEachStepWouldDo) {
  const int vlan = show_pi(*m_shelf, "pi03")["vlan"].get<int>();
  const json dry = m_shelf->pic_json({"remove", "pi03", "--dry-run", "--json"});
  std::map<std::string, std::string> detail;
  for (const auto& step : steps(dry)) {
    EXPECT_EQ(step["result"], "planned") << step.dump();
    detail[step["step"].get<std::string>()] = step["detail"].get<std::string>();
  }
  EXPECT_THAT(detail["power"], HasSubstr("PoE off, port 3"));
  EXPECT_THAT(detail["boot"], HasSubstr((m_shelf->prefix() / "srv/tftp/sdcard/pi03").string()));
  EXPECT_THAT(detail["root"], HasSubstr(m_shelf->root("pi03").string()));
  EXPECT_THAT(detail["network"], HasSubstr("interfaces.d/picluster"));
  EXPECT_THAT(detail["exports"], HasSubstr("picluster.exports"));
  EXPECT_THAT(detail["switch"], HasSubstr(std::to_string(vlan)));
  EXPECT_THAT(detail["deallocate"], HasSubstr(m_shelf->inventory_path().string()));
  EXPECT_TRUE(fs::exists(m_shelf->root("pi03")));
  EXPECT_EQ(snmp_value(*m_shelf, pvid_oid(3)), std::to_string(vlan));
}

}  // namespace
}  // namespace picluster::orchestrator::it
