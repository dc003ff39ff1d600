// Watchdog decisions (pure), the watch loop with a fake prober, cycler and clock, settings from
// the inventory, and the two real probers on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>

#include "orchestrator/watch.hpp"

namespace picluster::orchestrator {
namespace {

using namespace std::chrono_literals;

std::vector<ProbeResult> round_of(const std::map<std::string, bool>& alive) {
  std::vector<ProbeResult> out;
  for (const auto& [pi, up] : alive) out.push_back({pi, up, up ? "" : "exit 1"});
  return out;
}

WatchAction action_of(const WatchRound& r, const std::string& pi) {
  for (const auto& d : r.decisions) if (d.pi == pi) return d.action;
  ADD_FAILURE() << "no decision for " << pi;
  return WatchAction::none;
}

WatchPolicy policy(int failures, int max_per_hour = 3, std::chrono::seconds backoff = 300s, double fraction = 0.5) {
  WatchPolicy p;
  p.failures = failures;
  p.max_cycles_per_hour = max_per_hour;
  p.backoff = backoff;
  p.outage_fraction = fraction;
  return p;
}

// Four Pis, pi01 failing unless said otherwise.
std::vector<ProbeResult> shelf(bool pi01, bool pi02 = true, bool pi03 = true, bool pi04 = true) {
  return round_of({{"pi01", pi01}, {"pi02", pi02}, {"pi03", pi03}, {"pi04", pi04}});
}

TEST(Watchdog, NFailuresInARowGiveOneCycle) {
  Watchdog dog(policy(3, 3, 300s, 0.5));
  const WatchTime t0{};
  EXPECT_EQ(action_of(dog.decide(shelf(false), t0), "pi01"), WatchAction::failing);
  EXPECT_EQ(action_of(dog.decide(shelf(false), t0 + 30s), "pi01"), WatchAction::failing);
  const auto third = dog.decide(shelf(false), t0 + 60s);
  EXPECT_EQ(action_of(third, "pi01"), WatchAction::cycle);
  EXPECT_EQ(third.decisions[0].failures, 3);
  EXPECT_EQ(action_of(third, "pi02"), WatchAction::none);
  dog.cycled("pi01", t0 + 60s);
  // The cycled Pi gets `failures` rounds to boot before it is judged again.
  EXPECT_EQ(action_of(dog.decide(shelf(false), t0 + 90s), "pi01"), WatchAction::failing);
}

TEST(Watchdog, APiThatRecoversBeforeNIsLeftAloneAndStartsFromZero) {
  Watchdog dog(policy(3, 3, 300s, 0.5));
  const WatchTime t0{};
  dog.decide(shelf(false), t0);
  dog.decide(shelf(false), t0 + 30s);
  const auto back = dog.decide(shelf(true), t0 + 60s);
  EXPECT_EQ(action_of(back, "pi01"), WatchAction::recovered);
  EXPECT_FALSE(back.decisions[0].was_cycled);
  // Two more failures after the recovery are still below N: the count was reset.
  EXPECT_EQ(action_of(dog.decide(shelf(false), t0 + 90s), "pi01"), WatchAction::failing);
  const auto second = dog.decide(shelf(false), t0 + 120s);
  EXPECT_EQ(action_of(second, "pi01"), WatchAction::failing);
  EXPECT_EQ(second.decisions[0].failures, 2);
}

TEST(Watchdog, BackoffDoublesPerCycleUntilThePiIsAliveAgain) {
  Watchdog dog(policy(1, 100, 100s, 0.5));
  const WatchTime t0{};
  ASSERT_EQ(action_of(dog.decide(shelf(false), t0), "pi01"), WatchAction::cycle);
  dog.cycled("pi01", t0);
  const auto wait = dog.decide(shelf(false), t0 + 99s);
  EXPECT_EQ(action_of(wait, "pi01"), WatchAction::backoff);
  EXPECT_NE(wait.decisions[0].detail.find("next allowed in 1 s"), std::string::npos) << wait.decisions[0].detail;
  EXPECT_TRUE(dog.decide(shelf(false), t0 + 99s).decisions[0].repeat);
  ASSERT_EQ(action_of(dog.decide(shelf(false), t0 + 100s), "pi01"), WatchAction::cycle);
  dog.cycled("pi01", t0 + 100s);
  // Second cycle: 200 s before the third.
  EXPECT_EQ(action_of(dog.decide(shelf(false), t0 + 299s), "pi01"), WatchAction::backoff);
  EXPECT_EQ(action_of(dog.decide(shelf(false), t0 + 300s), "pi01"), WatchAction::cycle);
  dog.cycled("pi01", t0 + 300s);
  // Alive once: the backoff starts again from 100 s.
  EXPECT_EQ(action_of(dog.decide(shelf(true), t0 + 310s), "pi01"), WatchAction::recovered);
  EXPECT_EQ(action_of(dog.decide(shelf(false), t0 + 399s), "pi01"), WatchAction::backoff);
  EXPECT_EQ(action_of(dog.decide(shelf(false), t0 + 400s), "pi01"), WatchAction::cycle);
}

TEST(Watchdog, HourlyCapHoldsUntilTheOldestCycleIsAnHourOld) {
  Watchdog dog(policy(1, 2, 0s, 0.5));
  const WatchTime t0{};
  ASSERT_EQ(action_of(dog.decide(shelf(false), t0), "pi01"), WatchAction::cycle);
  dog.cycled("pi01", t0);
  ASSERT_EQ(action_of(dog.decide(shelf(false), t0 + 60s), "pi01"), WatchAction::cycle);
  dog.cycled("pi01", t0 + 60s);
  // A recovery does not reset the cap.
  dog.decide(shelf(true), t0 + 120s);
  const auto capped = dog.decide(shelf(false), t0 + 180s);
  EXPECT_EQ(action_of(capped, "pi01"), WatchAction::capped);
  EXPECT_NE(capped.decisions[0].detail.find("2 cycle(s) in the last hour (cap 2); next allowed in 3420 s"),
            std::string::npos)
      << capped.decisions[0].detail;
  EXPECT_EQ(action_of(dog.decide(shelf(false), t0 + 3599s), "pi01"), WatchAction::capped);
  EXPECT_EQ(action_of(dog.decide(shelf(false), t0 + 3600s), "pi01"), WatchAction::cycle);
}

TEST(Watchdog, ShelfWideOutageCyclesNobodyAndHoldsTheCounts) {
  Watchdog dog(policy(2, 3, 300s, 0.5));
  const WatchTime t0{};
  dog.decide(shelf(false), t0);  // pi01: 1 failure
  for (int i = 1; i <= 5; ++i) {
    const auto r = dog.decide(shelf(false, false, false), t0 + i * 30s);  // 3 of 4 failing
    EXPECT_TRUE(r.outage);
    EXPECT_EQ(r.outage_repeat, i > 1);
    EXPECT_EQ(r.failing, 3);
    for (const auto& d : r.decisions) EXPECT_NE(d.action, WatchAction::cycle) << d.pi;
    EXPECT_EQ(action_of(r, "pi01"), WatchAction::guarded);
    EXPECT_EQ(r.decisions[0].failures, 1);
  }
  // The outage ends; pi01 still fails: it needed one more failure, not a cycle straight away.
  const auto after = dog.decide(shelf(false), t0 + 300s);
  EXPECT_TRUE(after.outage_ended);
  EXPECT_EQ(action_of(after, "pi01"), WatchAction::cycle);
  EXPECT_EQ(after.decisions[0].failures, 2);
}

TEST(Watchdog, GuardNeedsMoreThanTheFractionAndAtLeastTwoPis) {
  Watchdog half(policy(1, 3, 300s, 0.5));
  EXPECT_FALSE(half.decide(shelf(false, false), WatchTime{}).outage);  // 2 of 4 is not more than half
  Watchdog lone(policy(1, 3, 300s, 0.5));
  const auto one = lone.decide(round_of({{"pi01", false}}), WatchTime{});
  EXPECT_FALSE(one.outage);
  EXPECT_EQ(action_of(one, "pi01"), WatchAction::cycle);
  Watchdog strict(policy(1, 3, 300s, 0.25));
  EXPECT_TRUE(strict.decide(shelf(false, false), WatchTime{}).outage);
}

// --- the loop with fakes -------------------------------------------------------------------

class ScriptedProber final : public Prober {
 public:
  // rounds[i] = the Pis failing in round i+1 (later rounds repeat the last entry).
  explicit ScriptedProber(std::vector<std::vector<std::string>> rounds) : m_rounds(std::move(rounds)) {}
  std::vector<ProbeResult> probe(const std::vector<ProbeTarget>& targets) override {
    const auto& failing = m_rounds.at(std::min(m_calls++, m_rounds.size() - 1));
    std::vector<ProbeResult> out;
    for (const auto& t : targets) {
      probed.push_back(t.pi);
      const bool down = std::ranges::find(failing, t.pi) != failing.end();
      out.push_back({t.pi, !down, down ? "exit 1" : ""});
    }
    return out;
  }
  [[nodiscard]] std::string describe() const override { return "scripted"; }
  std::vector<std::string> probed;  // every Pi probed, in order

 private:
  std::vector<std::vector<std::string>> m_rounds;
  std::size_t m_calls = 0;
};

class RecordingCycler final : public PowerCycler {
 public:
  Result<CycleOutcome> cycle(const std::string& pi) override {
    calls.push_back(pi);
    if (busy > 0) {
      --busy;
      return fail(ErrorCode::locked, "shelf1.lock: held by another run");
    }
    if (held.contains(pi)) return CycleOutcome{true, "held off since 2026-11-22T03:20:00Z by alice"};
    return CycleOutcome{false, "port 1: on deliveringPower"};
  }
  std::set<std::string> held;  // Pis the cycler finds held off under the shelf lock
  std::vector<std::string> calls;
  int busy = 0;  // the next `busy` calls find the shelf locked
};

class FakeClock final : public switchctl::Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return m_now; }
  void sleep_for(std::chrono::milliseconds d) override { m_now += d; }

 private:
  std::chrono::steady_clock::time_point m_now{};
};

class WatchLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::filesystem::temp_directory_path() / ("picluster-watch-unit-" + std::to_string(::getpid()));
    std::filesystem::remove_all(m_dir);
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }

  int run(ScriptedProber& prober, int rounds, bool dry_run = false) {
    WatchLoopOptions options;
    options.settings.interval = 30s;
    options.settings.policy = policy(3, 3, 300s);
    options.rounds = rounds;
    options.dry_run = dry_run;
    options.shelf = "shelf1";
    WatchLoopHooks hooks;
    hooks.targets = [] {
      return std::vector<ProbeTarget>{{"pi01", "::1"}, {"pi02", "::2"}, {"pi03", "::3"}, {"pi04", "::4"}};
    };
    hooks.on_event = [this](const WatchEvent& e) { events.push_back(to_text(e)); };
    hooks.held = held;
    const Journal journal(m_dir);
    return run_watch(options, prober, cycler, clock, &journal, hooks);
  }
  std::vector<JournalEntry> journal() { return *Journal(m_dir).read(); }

  std::filesystem::path m_dir;
  RecordingCycler cycler;
  FakeClock clock;
  std::vector<std::string> events;
  std::function<Result<std::map<std::string, PowerHold>>()> held;  // the holds hook (unset: none)
};

int count_of(const std::vector<std::string>& v, const std::string& x) {
  return static_cast<int>(std::ranges::count(v, x));
}

TEST_F(WatchLoop, AHeldPiIsNeitherProbedNorCycledAndIsReportedOnce) {
  held = [] { return std::map<std::string, PowerHold>{{"pi01", {"2026-11-22T03:20:00Z", "alice", "bad board"}}}; };
  ScriptedProber prober({{"pi01"}});  // pi01 would fail every probe
  run(prober, 6);
  EXPECT_TRUE(cycler.calls.empty());
  EXPECT_EQ(count_of(prober.probed, "pi01"), 0);
  EXPECT_EQ(count_of(prober.probed, "pi02"), 6);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front(),
            "round 1: pi01: held: held off since 2026-11-22T03:20:00Z by alice (bad board); not probed or cycled "
            "until released");
  EXPECT_EQ(events.size(), 1u);
  const auto lines = journal();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].step, "power-cycle");
  EXPECT_EQ(lines[0].result, "skipped");
  EXPECT_EQ(lines[0].detail.rfind("held: held off since", 0), 0u) << lines[0].detail;
}

TEST_F(WatchLoop, AReleasedPiIsProbedAgainAndGetsItsFailuresBeforeACycle) {
  int round = 0;
  held = [&round]() -> Result<std::map<std::string, PowerHold>> {
    if (++round <= 2) return std::map<std::string, PowerHold>{{"pi01", {"2026-11-22T03:20:00Z", "alice", ""}}};
    return std::map<std::string, PowerHold>{};
  };
  ScriptedProber prober({{"pi01"}});
  run(prober, 5);  // held in rounds 1-2, then fails in rounds 3, 4, 5: cycled in round 5
  EXPECT_NE(std::ranges::find(events, "round 3: pi01: released: hold released; probing again"), events.end());
  EXPECT_EQ(count_of(prober.probed, "pi01"), 3);
  EXPECT_EQ(cycler.calls, std::vector<std::string>{"pi01"});
  EXPECT_EQ(events.back().rfind("round 5: pi01: cycled:", 0), 0u) << events.back();
}

TEST_F(WatchLoop, UnreadableHoldsSkipTheRoundAndCycleNobody) {
  held = []() -> Result<std::map<std::string, PowerHold>> {
    return fail(ErrorCode::io, "/state/shelf1.holds.json: line 1, column 2: not valid JSON");
  };
  ScriptedProber prober({{"pi01"}});
  EXPECT_EQ(run(prober, 4), 4);
  EXPECT_TRUE(prober.probed.empty());
  EXPECT_TRUE(cycler.calls.empty());
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0], "round 1: hold-error: /state/shelf1.holds.json: line 1, column 2: not valid JSON; cycling "
                       "nobody until it can be read");
  const auto lines = journal();
  ASSERT_EQ(lines.size(), 1u);  // journaled once, not every round
  EXPECT_EQ(lines[0].step, "hold");
  EXPECT_EQ(lines[0].result, "failed");
}

TEST_F(WatchLoop, APiHeldJustBeforeItsCycleIsNotCycledOrCounted) {
  cycler.held = {"pi01"};  // a `power off` finished between the probe and the cycle
  ScriptedProber prober({{"pi01"}});
  run(prober, 3);
  EXPECT_EQ(cycler.calls, std::vector<std::string>{"pi01"});
  EXPECT_EQ(events.back(),
            "round 3: pi01: held: held off since 2026-11-22T03:20:00Z by alice; not probed or cycled until released");
  const auto lines = journal();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].result, "skipped");
}

TEST_F(WatchLoop, CyclesTheDeadPiOnceLeavesTheFlakyOneAndJournalsTheCycle) {
  ScriptedProber prober({{"pi01", "pi02"}, {"pi01", "pi02"}, {"pi01"}, {"pi01"}, {"pi01"}});
  EXPECT_EQ(run(prober, 5), 5);
  EXPECT_EQ(cycler.calls, std::vector<std::string>{"pi01"});
  const auto lines = journal();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].verb, "watch");
  EXPECT_EQ(lines[0].pi, "pi01");
  EXPECT_EQ(lines[0].step, "power-cycle");
  EXPECT_EQ(lines[0].result, "ok");
  EXPECT_NE(lines[0].detail.find("3 failed probes in a row (last: exit 1)"), std::string::npos) << lines[0].detail;
  EXPECT_NE(std::ranges::find(events, "round 3: pi02: recovered: alive again after 2 failed probe(s)"), events.end());
  EXPECT_NE(std::ranges::find(events, "round 2: pi01: probe-failed: exit 1 (2/3)"), events.end());
}

TEST_F(WatchLoop, OutageIsOneGuardLineAndNoCycle) {
  ScriptedProber prober({{"pi01", "pi02", "pi03", "pi04"}, {"pi01", "pi02", "pi03"}});
  run(prober, 6);
  EXPECT_TRUE(cycler.calls.empty());
  const auto lines = journal();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].step, "guard");
  EXPECT_EQ(lines[0].result, "skipped");
  EXPECT_EQ(lines[0].detail,
            "4 of 4 probed Pis failing (more than 50%): network outage suspected, cycling nobody (pi01, pi02, pi03, pi04)");
  EXPECT_EQ(events.size(), 6u);  // one guard line per round on the terminal
}

TEST_F(WatchLoop, DryRunPowersNothingAndJournalsPlanned) {
  ScriptedProber prober({{"pi01"}});
  run(prober, 4, /*dry_run=*/true);
  EXPECT_TRUE(cycler.calls.empty());
  const auto lines = journal();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].result, "planned");
  EXPECT_NE(lines[0].detail.find("dry run"), std::string::npos);
}

TEST_F(WatchLoop, BusyShelfSkipsTheCycleAndTriesAgainNextRound) {
  cycler.busy = 1;
  ScriptedProber prober({{"pi01"}});
  run(prober, 4);
  EXPECT_EQ(cycler.calls, (std::vector<std::string>{"pi01", "pi01"}));
  const auto lines = journal();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].result, "skipped");
  EXPECT_EQ(lines[0].detail.rfind("shelf busy: another run holds the shelf", 0), 0u) << lines[0].detail;
  EXPECT_EQ(lines[1].result, "ok");
}

// A journal line of an earlier watch, `minutes_ago` minutes ago.
JournalEntry earlier(const std::string& pi, const std::string& step, const std::string& result, int minutes_ago,
                     const std::string& shelf = "shelf1") {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() - std::chrono::minutes(minutes_ago));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  JournalEntry e;
  e.time = text;
  e.verb = "watch";
  e.shelf = shelf;
  e.pi = pi;
  e.step = step;
  e.result = result;
  return e;
}

TEST_F(WatchLoop, ARestartedWatchKeepsTheHourlyCapFromTheJournal) {
  {
    const Journal j(m_dir);
    // Three cycles of pi01 in the last hour (cap 3) and one two hours ago; pi02 cycled twice by
    // another shelf's watch, which does not count here.
    for (int minutes : {130, 50, 30, 10}) ASSERT_TRUE(j.append(earlier("pi01", "power-cycle", "ok", minutes)));
    for (int minutes : {20, 15}) ASSERT_TRUE(j.append(earlier("pi02", "power-cycle", "ok", minutes, "shelf2")));
  }
  ScriptedProber prober(std::vector<std::vector<std::string>>{{"pi01", "pi02"}});
  run(prober, 4);
  // pi01 is capped (three cycles in the last hour, from before the restart); pi02 is cycled.
  EXPECT_EQ(cycler.calls, std::vector<std::string>{"pi02"});
  EXPECT_EQ(events.front(), "round 0: pi01: history: 3 cycle(s) in the last hour, from the journal (cap 3)");
  bool capped = false;
  for (const auto& e : events) capped = capped || e.starts_with("round 3: pi01: capped: 3 cycle(s) in the last hour");
  EXPECT_TRUE(capped) << ::testing::PrintToString(events);
}

TEST_F(WatchLoop, ARestartedWatchKeepsTheBackoffUnlessThePiWasAliveSince) {
  {
    const Journal j(m_dir);
    ASSERT_TRUE(j.append(earlier("pi01", "power-cycle", "ok", 2)));  // 300 s backoff from 2 min ago
    ASSERT_TRUE(j.append(earlier("pi03", "power-cycle", "ok", 50)));
    ASSERT_TRUE(j.append(earlier("pi03", "power-cycle", "ok", 4)));  // a 2nd cycle would mean 600 s ...
    ASSERT_TRUE(j.append(earlier("pi03", "probe", "ok", 3)));        // ... but it was alive since: 300 s
  }
  // Both fail every round (30 s apart, 3 failures needed: due from round 3, t=60 s). pi03's
  // backoff (300 s from 4 min ago) is over: cycled at round 3; pi01's (300 s from 2 min ago) runs
  // out at t=180 s: cycled at round 7. Without the journal both would be cycled at round 3; with
  // the recovery ignored, pi03 would wait until t=360 s.
  ScriptedProber prober(std::vector<std::vector<std::string>>{{"pi01", "pi03"}});
  run(prober, 8);
  EXPECT_EQ(cycler.calls, (std::vector<std::string>{"pi03", "pi01"}));
}

TEST_F(WatchLoop, StopRequestEndsBetweenRounds) {
  ScriptedProber prober(std::vector<std::vector<std::string>>{std::vector<std::string>{}});
  WatchLoopOptions options;
  options.settings.interval = 1000s;
  int asked = 0;
  WatchLoopHooks hooks;
  hooks.targets = [] { return std::vector<ProbeTarget>{{"pi01", "::1"}}; };
  hooks.stop_requested = [&] { return ++asked > 3; };
  EXPECT_EQ(run_watch(options, prober, cycler, clock, nullptr, hooks), 1);
}

// --- settings ------------------------------------------------------------------------------

TEST(WatchSettings, InventoryObjectOverridesDefaultsAndBadKeysAreNamed) {
  inventory::Shelf shelf;
  shelf.extra["watch"] = {{"probe", "exec:/usr/local/bin/ping-pi"}, {"failures", 5}, {"interval", 2.5},
                          {"backoff_seconds", 60}, {"outage_fraction", 0.75}, {"max_cycles_per_hour", 1}};
  auto s = watch_settings(shelf);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->probe.kind, ProbeSpec::Kind::exec);
  EXPECT_EQ(s->probe.program, "/usr/local/bin/ping-pi");
  EXPECT_EQ(s->policy.failures, 5);
  EXPECT_EQ(s->interval, 2500ms);
  EXPECT_EQ(s->policy.backoff, 60s);
  EXPECT_DOUBLE_EQ(s->policy.outage_fraction, 0.75);
  EXPECT_EQ(s->policy.max_cycles_per_hour, 1);

  shelf.extra["watch"] = {{"failure", 5}};
  EXPECT_EQ(watch_settings(shelf).error().message.rfind("shelf 'shelf1': watch: unknown key \"failure\"", 0), 0u)
      << watch_settings(shelf).error().message;
  shelf.extra["watch"] = {{"failures", "3"}};
  EXPECT_EQ(watch_settings(shelf).error().message, "shelf 'shelf1': watch.failures: expected an integer");
  shelf.extra["watch"] = {{"probe", "icmp"}};
  EXPECT_EQ(watch_settings(shelf).error().code, ErrorCode::invalid_inventory);
}

TEST(WatchSettings, RangeChecksNameTheOption) {
  WatchSettings s;
  s.policy.outage_fraction = 0;
  EXPECT_EQ(check_settings(s).error().message, "watch: --outage-fraction must be above 0 and at most 1");
  s.policy.outage_fraction = 1;
  EXPECT_TRUE(check_settings(s));
}

TEST(ProbeSpec, ParsesTheThreeKinds) {
  EXPECT_EQ(parse_probe_spec("tcp")->port, 22);
  EXPECT_EQ(parse_probe_spec("tcp:2222")->port, 2222);
  EXPECT_EQ(parse_probe_spec("none")->kind, ProbeSpec::Kind::none);
  EXPECT_EQ(parse_probe_spec("exec:check-pi")->program, "check-pi");
  EXPECT_EQ(parse_probe_spec("tcp:0").error().message,
            "probe \"tcp:0\": port must be 1..65535 (expected tcp[:PORT], exec:PROGRAM or none)");
  EXPECT_FALSE(parse_probe_spec("tcp:22x"));
  EXPECT_FALSE(parse_probe_spec("exec:"));
  EXPECT_FALSE(parse_probe_spec("ping"));
}

// --- the real probers on loopback ------------------------------------------------------------

TEST(TcpProber, AcceptedIsAliveRefusedIsNot) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  TcpProber prober(port, 2000ms);
  auto up = prober.probe({{"pi01", "127.0.0.1"}, {"pi02", "not-an-address"}});
  ASSERT_EQ(up.size(), 2u);
  EXPECT_TRUE(up[0].alive) << up[0].detail;
  EXPECT_FALSE(up[1].alive);
  EXPECT_EQ(up[1].detail, "not an IP address: \"not-an-address\"");
  ::close(listener);
  auto down = prober.probe({{"pi01", "127.0.0.1"}});
  EXPECT_FALSE(down[0].alive);
  EXPECT_EQ(down[0].detail, "connect: Connection refused");
}

class ExecProberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::filesystem::temp_directory_path() / ("picluster-exec-probe-" + std::to_string(::getpid()));
    std::filesystem::create_directories(m_dir);
    // Alive when a marker file named after the Pi exists; records its arguments; "hang" sleeps.
    std::ofstream(m_dir / "probe") << "#!/bin/sh\n"
                                      "echo \"$1 $2\" >> \"" << m_dir.string() << "/args\"\n"
                                      "[ \"$1\" = hang ] && exec sleep 30\n"
                                      "[ -e \"" << m_dir.string() << "/$1.up\" ]\n";
    ::chmod((m_dir / "probe").c_str(), 0755);
    std::ofstream(m_dir / "pi01.up") << "";
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }
  std::filesystem::path m_dir;
};

TEST_F(ExecProberTest, ExitZeroIsAliveOthersFailAndStragglersAreKilled) {
  ExecProber prober((m_dir / "probe").string(), 1500ms);
  auto r = prober.probe({{"pi01", "2a00::2"}, {"pi02", "2a00::3"}, {"hang", "2a00::4"}, {"pi; rm -rf x", "::5"}});
  ASSERT_EQ(r.size(), 4u);
  EXPECT_TRUE(r[0].alive) << r[0].detail;
  EXPECT_FALSE(r[1].alive);
  EXPECT_EQ(r[1].detail, "exit 1");
  EXPECT_FALSE(r[2].alive);
  EXPECT_EQ(r[2].detail, "timed out after 1500 ms");
  EXPECT_FALSE(r[3].alive);
  std::ifstream in(m_dir / "args");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(all.find("pi01 2a00::2\n"), std::string::npos);
  EXPECT_NE(all.find("pi; rm -rf x ::5\n"), std::string::npos);  // one argument, never a shell
  EXPECT_FALSE(ExecProber("/nonexistent/probe", 1s).probe({{"pi01", "::1"}})[0].alive);
}

}  // namespace
}  // namespace picluster::orchestrator
