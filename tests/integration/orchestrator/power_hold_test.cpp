// A Pi powered off on purpose stays off: `picluster power off` holds it, and apply, plan, watch,
// rebuild and status respect the hold until `power on` releases it. The real binary against the
// real picluster-switchsim on 127.0.0.1, this machine as the fileserver.

#include <gmock/gmock.h>

#include "tests/integration/orchestrator/shelf_checks.hpp"

namespace picluster::orchestrator::it {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PowerHoldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_shelf = std::make_unique<TestShelf>(Transport::local);
    if (!m_shelf->ready()) GTEST_SKIP() << m_shelf->why_not();
    for (int i = 1; i <= 2; ++i) {
      const auto r = m_shelf->add(i);
      ASSERT_EQ(r.status, 0) << TestShelf::describe({"add", pi_name(i)}, r);
    }
  }

  // The PoE admin state of a Pi's port as the switch reports it ("on" or "off").
  std::string poe_admin(const std::string& pi) const {
    const json j = m_shelf->pic_json({"power", "status", pi, "--json"});
    return j.is_array() && !j.empty() ? j[0]["after"]["admin"].get<std::string>() : "?";
  }
  RunResult run(const std::vector<std::string>& args, int expect = 0) const {
    const auto r = m_shelf->pic(args);
    EXPECT_EQ(r.status, expect) << TestShelf::describe(args, r);
    return r;
  }
  // `watch pi02` with a probe that always fails and a cycle after one failure.
  RunResult watch_failing(int rounds) const {
    return run({"watch", "pi02", "--probe", "exec:/bin/false", "--interval", "0", "--failures", "1",
                "--backoff", "0", "--rounds", std::to_string(rounds)});
  }
  json journal_of(const std::string& step) const {
    json out = json::array();
    for (const auto& line : journal(*m_shelf)) {
      if (line["pi"] == "pi02" && line["step"] == step) out.push_back(line);
    }
    return out;
  }

  std::unique_ptr<TestShelf> m_shelf;
};

TEST_F(PowerHoldTest, APiPoweredOffStaysOffThroughApplyPlanWatchAndStatusUntilPowerOn) {
  // power off records the hold, with the reason, and journals it.
  const auto off = run({"power", "off", "pi02", "--reason", "bad SD card"});
  EXPECT_THAT(off.out, HasSubstr("pi02 (port 2): power off: off"));
  EXPECT_THAT(off.out, HasSubstr("note: held off since "));
  EXPECT_THAT(off.out, HasSubstr("(bad SD card); apply and watch leave it off until `picluster power on pi02`"));
  EXPECT_EQ(poe_admin("pi02"), "off");
  const json holds = journal_of("hold");
  ASSERT_EQ(holds.size(), 1u);
  EXPECT_EQ(holds[0]["verb"], "power");
  EXPECT_THAT(holds[0]["detail"].get<std::string>(), HasSubstr("bad SD card"));

  // plan: no change, the held Pi listed as held; apply leaves it off and says why.
  const json plan = m_shelf->pic_json({"plan", "--json"});
  EXPECT_EQ(plan["changes"], false) << plan.dump(2);
  EXPECT_TRUE(plan["power_on"].empty());
  ASSERT_EQ(plan["held"].size(), 1u);
  EXPECT_EQ(plan["held"][0]["pi"], "pi02");
  EXPECT_EQ(plan["held"][0]["reason"], "bad SD card");
  const auto text_plan = run({"plan"});
  EXPECT_THAT(text_plan.out, HasSubstr("no changes: the shelf matches the inventory"));
  EXPECT_THAT(text_plan.out, HasSubstr("= pi02: held off since "));
  const json applied = m_shelf->pic_json({"apply", "--json"});
  bool skipped = false;
  for (const auto& s : steps(applied)) {
    if (s["pi"] == "pi02" && s["step"] == "power") {
      EXPECT_EQ(s["result"], "skipped") << s.dump();
      EXPECT_THAT(s["detail"].get<std::string>(), HasSubstr("held off since"));
      skipped = true;
    }
    EXPECT_NE(s["result"], "ok") << s.dump();  // nothing else to do either
  }
  EXPECT_TRUE(skipped) << applied.dump(2);
  EXPECT_EQ(poe_admin("pi02"), "off");
  EXPECT_EQ(poe_admin("pi01"), "on");

  // watch: never probes-to-cycle the held Pi; reports it once.
  const auto watched = watch_failing(3);
  EXPECT_THAT(watched.out, HasSubstr("round 1: pi02: held: held off since "));
  EXPECT_THAT(watched.out, Not(HasSubstr("round 2: pi02: held")));
  EXPECT_THAT(watched.out, Not(HasSubstr(": cycled:")));
  EXPECT_EQ(poe_admin("pi02"), "off");

  // status: held, and a held Pi's PoE off is not a problem (exit 0).
  const auto status = run({"status", "--probe", "none"});
  EXPECT_THAT(status.out, HasSubstr("held: off"));
  EXPECT_THAT(status.out, Not(HasSubstr("warning:")));
  const json st = m_shelf->pic_json({"status", "--json", "--probe", "none"});
  ASSERT_EQ(st["pis"].size(), 2u);
  EXPECT_EQ(st["pis"][1]["name"], "pi02");
  EXPECT_EQ(st["pis"][1]["held"]["reason"], "bad SD card");
  EXPECT_TRUE(st["pis"][0]["held"].is_null());
  EXPECT_TRUE(st["problems"].empty()) << st.dump(2);

  // power on releases the hold (said and journaled); apply, plan and watch are back to normal.
  const auto on = run({"power", "on", "pi02"});
  EXPECT_THAT(on.out, HasSubstr("note: hold released (was held off since "));
  EXPECT_EQ(poe_admin("pi02"), "on");
  EXPECT_EQ(journal_of("hold").size(), 2u);
  EXPECT_THAT(journal_of("hold")[1]["detail"].get<std::string>(), HasSubstr("released"));
  const json after = m_shelf->pic_json({"plan", "--json"});
  EXPECT_EQ(after["changes"], false);
  EXPECT_TRUE(after["held"].empty());
  const auto cycled = watch_failing(1);
  EXPECT_THAT(cycled.out, HasSubstr("round 1: pi02: cycled: port 2: on deliveringPower"));
  const json st2 = m_shelf->pic_json({"status", "--json", "--probe", "none"});
  EXPECT_TRUE(st2["pis"][1]["held"].is_null());
}

TEST_F(PowerHoldTest, ApplyPowersOnAPortTurnedOffBehindItsBackButNotAHeldOne) {
  // pi01 turned off at the switch (no hold): apply turns it on. pi02 held off: apply leaves it.
  ASSERT_EQ(m_shelf->snmpset("1.3.6.1.2.1.105.1.1.1.3.1.1", "i", "2").status, 0);
  run({"power", "off", "pi02"});
  const json plan = m_shelf->pic_json({"plan", "--json"});
  EXPECT_EQ(plan["changes"], true);
  ASSERT_EQ(plan["power_on"].size(), 1u);
  EXPECT_EQ(plan["power_on"][0]["pi"], "pi01");
  run({"apply"});
  EXPECT_EQ(poe_admin("pi01"), "on");
  EXPECT_EQ(poe_admin("pi02"), "off");
}

TEST_F(PowerHoldTest, RebuildOfAHeldPiDoesTheRootWorkAndLeavesItOff) {
  run({"power", "off", "pi02", "--reason", "maintenance"});
  const fs::path marker = m_shelf->root("pi02") / "home/pi/marker.txt";
  testing::write_file(marker, "old root\n");
  const auto rebuilt = run({"rebuild", "pi02"});
  EXPECT_FALSE(fs::exists(marker));  // the root was rebuilt
  EXPECT_THAT(rebuilt.out, HasSubstr("held off since"));
  EXPECT_EQ(poe_admin("pi02"), "off");
  const auto rolled = run({"rollback", "pi02"});
  EXPECT_EQ(testing::read_file(marker), "old root\n");
  EXPECT_EQ(poe_admin("pi02"), "off");
}

TEST_F(PowerHoldTest, PowerCycleOfAHeldPiReleasesTheHoldAndSaysSo) {
  run({"power", "off", "pi02"});
  const auto cycled = run({"power", "cycle", "pi02"});
  EXPECT_THAT(cycled.out, HasSubstr("note: hold released (was held off since "));
  EXPECT_EQ(poe_admin("pi02"), "on");
  EXPECT_TRUE(m_shelf->pic_json({"plan", "--json"})["held"].empty());
}

TEST_F(PowerHoldTest, ABrokenHoldsFileStopsApplyWithAnErrorNamingIt) {
  run({"power", "off", "pi02"});
  const fs::path file = m_shelf->dir() / ".picluster/orchtest.holds.json";
  ASSERT_TRUE(fs::exists(file));
  testing::write_file(file, "{\"holds\": ");
  const auto r = run({"apply"}, 1);
  EXPECT_THAT(r.err, HasSubstr(file.string() + ": line 1, column 11: not valid JSON"));
  EXPECT_EQ(poe_admin("pi02"), "off");  // power status still answers, with a warning
  EXPECT_THAT(run({"power", "status", "pi02"}).out, HasSubstr("note: warning: " + file.string()));
  run({"power", "on", "pi02"}, 1);  // refused: the holds cannot be rewritten safely
  EXPECT_EQ(poe_admin("pi02"), "off");
}

}  // namespace
}  // namespace picluster::orchestrator::it
