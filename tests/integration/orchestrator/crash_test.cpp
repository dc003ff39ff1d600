// Crash consistency (issue 13): `add`, `apply`, `rebuild` and `remove` are SIGKILLed at every step
// boundary (right after the k-th journal line of the run) and at seeded random points, against the
// simulator and a local fileserver. After each kill the recovery documented in docs/operations.md
// ("Finishing an interrupted run") runs once:
//   add, apply  -> `picluster apply`
//   rebuild     -> `picluster rebuild NAME`
//   remove      -> `picluster remove NAME` (which answers "no pi named NAME" when the killed run had
//                  already dropped it from the inventory: then it had finished)
// and then, every time: the inventory loads and validates, a second `apply` changes nothing, `plan`
// shows no change, and no staging, trash, rollback or ready marker is left on the fileserver.

#include <gmock/gmock.h>

#include <random>
#include <thread>

#include "tests/integration/orchestrator/shelf_checks.hpp"

namespace picluster::orchestrator::it {
namespace {

constexpr std::uint32_t kSeed = 20261204;
constexpr int kRandomKillsPerVerb = 7;

struct VerbCase {
  std::string name;
  std::vector<std::string> args;      // the run that gets killed
  std::vector<std::string> recovery;  // the documented way to finish it
  bool pi_present_before = true;      // pi01 fully set up before the run (else absent)
  bool offline_first = false;         // `add --offline` before the run (apply's case)
};

std::vector<VerbCase> cases() {
  const std::vector<std::string> add{"add", "pi01", "--port", "1", "--mac", pi_mac(1)};
  return {
      {"add", add, {"apply"}, false, false},
      {"apply", {"apply"}, {"apply"}, false, true},
      {"rebuild", {"rebuild", "pi01"}, {"rebuild", "pi01"}, true, false},
      {"remove", {"remove", "pi01"}, {"remove", "pi01"}, true, false},
  };
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_shelf = std::make_unique<TestShelf>(Transport::local);
    if (!m_shelf->ready()) GTEST_SKIP() << m_shelf->why_not();
  }

  [[nodiscard]] bool pi_in_inventory() const {
    auto inv = inventory::load(m_shelf->inventory_path());
    return inv && inv->shelf_of("pi01") != nullptr;
  }

  // Brings the shelf to the state the case starts from, with runs that are not killed.
  void prepare(const VerbCase& c) {
    const auto must = [&](const std::vector<std::string>& args) {
      const auto r = m_shelf->pic(args);
      ASSERT_EQ(r.status, 0) << "prepare: " << TestShelf::describe(args, r);
    };
    if (c.pi_present_before) {
      if (!pi_in_inventory()) must({"add", "pi01", "--port", "1", "--mac", pi_mac(1)});
      else must({"apply"});
      return;
    }
    if (pi_in_inventory()) must({"remove", "pi01"});
    if (c.offline_first) must({"add", "pi01", "--port", "1", "--mac", pi_mac(1), "--offline"});
  }

  [[nodiscard]] std::size_t journal_lines() const { return journal(*m_shelf).size(); }

  // Starts the case's run and kills it when `kill_now` says so (or lets it finish).
  // Returns whether it was killed, and how long the run took when it was not.
  bool run_and_kill(const VerbCase& c, const std::function<bool(std::size_t new_lines)>& kill_now,
                    const std::string& label, std::chrono::milliseconds* took = nullptr) {
    const std::size_t base = journal_lines();
    const auto start = std::chrono::steady_clock::now();
    auto run = testing::Daemon::start(m_shelf->pic_argv(c.args), m_shelf->dir() / ("run-" + label + ".log"));
    EXPECT_TRUE(run) << label;
    if (!run) return false;
    bool killed = false;
    testing::wait_until(
        [&] {
          if (!run->running()) return true;
          if (kill_now(journal_lines() - base)) {
            run->stop(SIGKILL);
            killed = true;
            return true;
          }
          return false;
        },
        std::chrono::seconds(120), std::chrono::milliseconds(1));
    if (!killed && run->running()) ADD_FAILURE() << label << ": the run did not end";
    if (took != nullptr) {
      *took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    }
    return killed;
  }

  // The documented recovery once, then the promise: valid inventory, nothing left to do, no staging.
  void recover_and_check(const VerbCase& c, const std::string& label) {
    const auto recovered = m_shelf->pic(c.recovery);
    const bool already_removed = c.name == "remove" && !pi_in_inventory() && recovered.status == 1 &&
                                 recovered.err.find("no pi named") != std::string::npos;
    ASSERT_TRUE(recovered.status == 0 || already_removed) << label << ": " << TestShelf::describe(c.recovery, recovered);

    auto inv = inventory::load(m_shelf->inventory_path());
    ASSERT_TRUE(inv) << label << ": " << inv.error().message;
    const auto second = m_shelf->pic_json({"apply", "--json"});
    for (const auto& step : steps(second)) {
      const std::string result = step["result"];
      EXPECT_TRUE(result == "unchanged" || result == "skipped" || result == "note")
          << label << ": second apply changed something: " << step.dump();
    }
    const auto plan = m_shelf->pic_json({"plan", "--json"});
    EXPECT_EQ(plan["changes"], false) << label << ": " << plan.dump();
    const fs::path roots = m_shelf->prefix() / "srv/nfsroot";
    for (const char* folder : {".staging", ".trash", ".rollback"}) {
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(roots / folder, ec)) {
        ADD_FAILURE() << label << ": left behind: " << entry.path();
      }
    }
    // The Pi is wholly there (its root made for it) or wholly gone.
    const bool present = inv->shelf_of("pi01") != nullptr;
    if (present) {
      EXPECT_EQ(testing::read_file(m_shelf->root("pi01") / "etc/hostname"), "pi01\n") << label;
    } else {
      EXPECT_FALSE(fs::exists(m_shelf->root("pi01"))) << label;
      EXPECT_FALSE(exports(*m_shelf).contains("/srv/nfsroot/pi01")) << label;
    }
  }

  std::unique_ptr<TestShelf> m_shelf;
};

TEST_F(CrashTest, KilledAtEveryStepBoundaryAndAtRandomPointsTheDocumentedRecoveryFinishes) {
  std::mt19937 rng(kSeed);
  int runs = 0, kills = 0;
  for (const auto& c : cases()) {
    // One run to completion: how long it takes (the range of the random kill points).
    prepare(c);
    if (HasFatalFailure()) return;
    std::chrono::milliseconds took{0};
    run_and_kill(c, [](std::size_t) { return false; }, c.name + "-whole", &took);
    recover_and_check(c, c.name + "-whole");
    if (HasFatalFailure()) return;

    // Every step boundary: killed right after the run's k-th journal line (k = 0: before any).
    for (std::size_t k = 0;; ++k) {
      prepare(c);
      if (HasFatalFailure()) return;
      const std::string label = c.name + "-step-" + std::to_string(k);
      const bool killed = run_and_kill(c, [k](std::size_t lines) { return lines >= k; }, label);
      ++runs;
      kills += killed ? 1 : 0;
      recover_and_check(c, label);
      if (HasFatalFailure()) return;
      if (!killed) break;  // the run finished before its k-th line: every boundary was covered
    }
    // Random points within the run's length (seeded, so a failure can be replayed).
    std::uniform_int_distribution<long long> at(0, std::max<long long>(1, took.count()) * 1000);
    for (int i = 0; i < kRandomKillsPerVerb; ++i) {
      prepare(c);
      if (HasFatalFailure()) return;
      const auto delay = std::chrono::microseconds(at(rng));
      const std::string label = c.name + "-random-" + std::to_string(i) + "-at-" + std::to_string(delay.count()) + "us";
      const auto deadline = std::chrono::steady_clock::now() + delay;
      const bool killed =
          run_and_kill(c, [deadline](std::size_t) { return std::chrono::steady_clock::now() >= deadline; }, label);
      ++runs;
      kills += killed ? 1 : 0;
      recover_and_check(c, label);
      if (HasFatalFailure()) return;
    }
  }
  std::cout << "crash test: " << runs << " runs, " << kills << " killed mid-run (seed " << kSeed << ")\n";
  EXPECT_GE(runs, 50);
  EXPECT_GE(kills, 40);
}

}  // namespace
}  // namespace picluster::orchestrator::it
