// `picluster watch` end to end: the real binary against the real picluster-switchsim on
// 127.0.0.1, with four Pis whose liveness comes from an exec probe that looks at marker files in
// the test's folder (the Pis' public addresses are not on this machine, so no TCP probe here).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "inventory/inventory.hpp"
#include "tests/support/process.hpp"

extern char** environ;

#include "tests/support/daemon.hpp"

namespace picluster::testing {
namespace {

namespace fs = std::filesystem;

// picluster-switchsim in the background until the object goes; ready once it says so (30 s max).
class Simulator {
 public:
  Simulator(const std::vector<std::string>& argv, const fs::path& dir) : m_out(dir / "sim.out"), m_err(dir / "sim.err") {
    std::vector<char*> args;
    std::vector<std::string> copy = argv;
    for (auto& a : copy) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, m_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, m_err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (::posix_spawn(&m_pid, args[0], &fa, nullptr, args.data(), environ) != 0) m_pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 1500 && m_pid > 0; ++i) {
      if (read_file(m_out).find("ready udp:") != std::string::npos) {
        m_ready = true;
        return;
      }
      if (::waitpid(m_pid, nullptr, WNOHANG) == m_pid) m_pid = -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;
  ~Simulator() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      if (::waitpid(m_pid, nullptr, WNOHANG) == m_pid) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
  }
  [[nodiscard]] bool ready() const { return m_ready; }
  [[nodiscard]] std::string log() const { return read_file(m_out) + read_file(m_err); }

 private:
  fs::path m_out, m_err;
  pid_t m_pid = -1;
  bool m_ready = false;
};

const std::string kAdmin = "1.3.6.1.2.1.105.1.1.1.3.1";  // pethPsePortAdminEnable.1.<port>

class Watch : public ::testing::Test {
 protected:
  TempDir tmp{"watch-it"};
  fs::path dir = tmp.path();
  int port = 0;
  std::unique_ptr<Simulator> sim;
  const std::string community = "w4tch-community";

  void SetUp() override {
    if (!fs::exists(picluster_exe()) || !fs::exists(switchsim_exe())) GTEST_SKIP() << "build picluster and picluster-switchsim";
    port = free_udp_port();
    // Four powered devices on ports 1..4, each showing its Pi's MAC (so the identity check passes).
    write_file(dir / "knobs.json", R"({"ports": {"1": {"device": true, "mac": "b8:27:eb:00:00:01"},
      "2": {"device": true, "mac": "b8:27:eb:00:00:02"}, "3": {"device": true, "mac": "b8:27:eb:00:00:03"},
      "4": {"device": true, "mac": "b8:27:eb:00:00:04"}}})");
    sim = std::make_unique<Simulator>(std::vector<std::string>{switchsim_exe().string(), "--listen",
                                                               "udp:127.0.0.1:" + std::to_string(port), "--ports", "8",
                                                               "--state", (dir / "state.json").string(), "--config",
                                                               (dir / "knobs.json").string(), "--community", community},
                                      dir);
    ASSERT_TRUE(sim->ready()) << sim->log();
    write_inventory();
    write_file(dir / "switch-secrets.json", R"({"community": ")" + community + R"("})");
    ::chmod((dir / "switch-secrets.json").c_str(), 0600);
    // The probe: alive unless NAME.down exists; NAME.flaky holds how many more times to fail.
    write_file(dir / "probe", "#!/bin/sh\n"
                              "d='" + dir.string() + "'\n"
                              "echo \"$1 $2\" >> \"$d/probe.log\"\n"
                              "[ -e \"$d/$1.down\" ] && exit 1\n"
                              "if [ -e \"$d/$1.flaky\" ]; then n=$(cat \"$d/$1.flaky\")\n"
                              "  if [ \"$n\" -gt 0 ]; then echo $((n - 1)) > \"$d/$1.flaky\"; exit 1; fi\n"
                              "fi\n"
                              "exit 0\n");
    ::chmod((dir / "probe").c_str(), 0755);
  }

  void write_inventory() {
    auto inv = inventory::make_default("shelf1");
    auto& shelf = inv.shelves.at(0);
    shelf.switch_.host = "127.0.0.1";
    shelf.switch_.snmp_port = port;
    shelf.switch_.port_count = 8;
    shelf.switch_.timeout_ms = 500;
    shelf.switch_.poe_off_seconds = 0;
    shelf.fileserver.trunk_port = 8;
    for (int i = 1; i <= 4; ++i) {
      const std::string n = std::to_string(i);
      ASSERT_TRUE(inventory::add_pi(shelf, {"pi0" + n, i, inventory::PiModel::pi4, std::nullopt,
                                            inventory::Mac::parse("b8:27:eb:00:00:0" + n)}));
    }
    ASSERT_TRUE(inventory::save(inv, dir / "inventory.json"));
  }

  RunResult watch(std::vector<std::string> args) {
    std::vector<std::string> argv{picluster_exe().string(), "-i", (dir / "inventory.json").string(), "watch",
                                  "--probe", "exec:" + (dir / "probe").string(), "--interval", "0", "--failures", "3"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions o;
    o.timeout_seconds = 120;
    return run(argv, o);
  }

  std::vector<nlohmann::json> journal(const std::string& verb = "watch") {
    std::vector<nlohmann::json> out;
    std::istringstream in(read_file(dir / ".picluster" / "journal.jsonl"));
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      if (j["verb"] == verb) out.push_back(j);
    }
    return out;
  }

  std::string admin(int p) {
    auto r = run({"snmpget", "-v2c", "-c", community, "-On", "-Oqv", "-t", "1", "-r", "3",
                  "127.0.0.1:" + std::to_string(port), kAdmin + "." + std::to_string(p)});
    return r.out.substr(0, r.out.find('\n'));
  }
};

TEST_F(Watch, CyclesThePiThatKeepsFailingAndLeavesAloneTheOneThatRecovers) {
  write_file(dir / "pi01.down", "");
  write_file(dir / "pi02.flaky", "2");
  const auto before = fs::last_write_time(dir / "state.json");
  auto r = watch({"--rounds", "4"});
  ASSERT_EQ(r.status, 0) << r.out << r.err << sim->log();
  EXPECT_NE(r.out.find("round 1: pi01: probe-failed: exit 1 (1/3)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("round 3: pi01: cycled: port 1: on deliveringPower after 3 failed probes in a row"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("round 3: pi02: recovered: alive again after 2 failed probe(s)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("pi02: cycled"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("round 4: pi01: probe-failed: exit 1 (1/3)"), std::string::npos) << r.out;  // given time to boot
  EXPECT_NE(r.out.find("watch: stopped after 4 round(s)"), std::string::npos);
  // The probe got each Pi's name and public address as two arguments.
  EXPECT_NE(read_file(dir / "probe.log").find("pi01 2a00:1098:0:84:1000:1::2\n"), std::string::npos);

  const auto lines = journal();
  ASSERT_EQ(lines.size(), 1u) << read_file(dir / ".picluster" / "journal.jsonl");
  EXPECT_EQ(lines[0]["pi"], "pi01");
  EXPECT_EQ(lines[0]["step"], "power-cycle");
  EXPECT_EQ(lines[0]["result"], "ok");
  // The switch committed SETs (the state file was rewritten) and port 1 is powered again.
  EXPECT_NE(fs::last_write_time(dir / "state.json"), before);
  EXPECT_EQ(admin(1), "1");
  EXPECT_EQ(admin(2), "1");
}

TEST_F(Watch, ShelfWideOutageCyclesNobodyAndJournalsTheGuard) {
  for (const char* pi : {"pi01", "pi02", "pi03", "pi04"}) write_file(dir / (std::string(pi) + ".down"), "");
  const auto before = fs::last_write_time(dir / "state.json");
  auto r = watch({"--rounds", "5", "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::istringstream in(r.out);
  int guards = 0;
  for (std::string line; std::getline(in, line);) {
    const auto e = nlohmann::json::parse(line);
    EXPECT_EQ(e["event"], "guard") << line;
    ++guards;
  }
  EXPECT_EQ(guards, 5);
  const auto lines = journal();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["step"], "guard");
  EXPECT_EQ(lines[0]["result"], "skipped");
  EXPECT_EQ(lines[0]["detail"],
            "4 of 4 probed Pis failing (more than 50%): network outage suspected, cycling nobody (pi01, pi02, pi03, pi04)");
  EXPECT_EQ(fs::last_write_time(dir / "state.json"), before);
  for (int p = 1; p <= 4; ++p) EXPECT_EQ(admin(p), "1");
}

TEST_F(Watch, DryRunDecidesButPowersNothing) {
  write_file(dir / "pi03.down", "");
  const auto before = fs::last_write_time(dir / "state.json");
  auto r = watch({"--rounds", "3", "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("(dry run: nothing is powered)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("round 3: pi03: would-cycle: 3 failed probes in a row (last: exit 1) (dry run, nothing powered)"),
            std::string::npos)
      << r.out;
  const auto lines = journal();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["result"], "planned");
  EXPECT_EQ(fs::last_write_time(dir / "state.json"), before);
}

TEST_F(Watch, ABusyShelfIsSkippedAndAWrongMacIsRefused) {
  write_file(dir / "pi04.down", "");
  // Another run holds the shelf lock: the cycle is skipped and journaled as such.
  fs::create_directories(dir / ".picluster");
  const int fd = ::open((dir / ".picluster" / "shelf1.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  auto busy = watch({"--rounds", "3"});
  ::close(fd);
  ASSERT_EQ(busy.status, 0) << busy.out << busy.err;
  EXPECT_NE(busy.out.find("round 3: pi04: shelf-busy: another run holds the shelf"), std::string::npos) << busy.out;
  ASSERT_EQ(journal().size(), 1u);
  EXPECT_EQ(journal()[0]["result"], "skipped");
  // A Pi whose port shows another MAC is never cycled by watch (no --force).
  ASSERT_TRUE(fs::remove(dir / "pi04.down"));
  write_file(dir / "pi02.down", "");
  auto inv = inventory::load(dir / "inventory.json");
  ASSERT_TRUE(inv);
  inv->shelves[0].find_pi("pi02")->mac = inventory::Mac::parse("b8:27:eb:99:99:99");
  ASSERT_TRUE(inventory::save(*inv, dir / "inventory.json"));
  auto refused = watch({"--rounds", "3", "pi02"});
  ASSERT_EQ(refused.status, 0) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("round 3: pi02: cycle-failed:"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("refusing to cut power"), std::string::npos) << refused.out;
  EXPECT_EQ(admin(2), "1");
}

// Issue 13: an inventory that stops loading mid-watch (a number no double holds, nesting that would
// overflow the stack) is reported and the last good one kept, like a type error; watch never aborts.
TEST_F(Watch, AnInventoryBrokenWhileWatchingKeepsTheLastGoodOne) {
  write_file(dir / "deep.json", std::string(130000, '[') + std::string(130000, ']'));
  // The probe breaks the inventory during round 1 (1e400) and round 3 (deep nesting); probes run
  // in parallel, so mkdir (atomic) marks each break as done.
  write_file(dir / "probe", "#!/bin/sh\n"
                            "d='" + dir.string() + "'\n"
                            "echo \"$1 $2\" >> \"$d/probe.log\"\n"
                            "n=$(wc -l < \"$d/probe.log\")\n"
                            "mkdir \"$d/broke1\" 2>/dev/null && sed -i 's/\"version\": 1,/\"version\": 1, \"x\": 1e400,/' \"$d/inventory.json\"\n"
                            "[ \"$n\" -ge 9 ] && mkdir \"$d/broke2\" 2>/dev/null && cp \"$d/deep.json\" \"$d/inventory.json\"\n"
                            "exit 0\n");
  ::chmod((dir / "probe").c_str(), 0755);
  auto r = watch({"--rounds", "4"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("watch: keeping the previous inventory: " + (dir / "inventory.json").string() +
                       ":1:"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("number overflow parsing '1e400'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nesting deeper than 64 levels"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("watch: stopped after 4 round(s)"), std::string::npos) << r.out;
  // Every round still probed the four Pis of the last good inventory.
  std::istringstream log(read_file(dir / "probe.log"));
  int probes = 0;
  for (std::string line; std::getline(log, line);) ++probes;
  EXPECT_EQ(probes, 16);
}

}  // namespace
}  // namespace picluster::testing
