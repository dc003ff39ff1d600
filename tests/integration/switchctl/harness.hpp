#pragma once
// Integration harness: real processes on loopback. Starts picluster-switchsim (or snmpsimd) on a
// free 127.0.0.1 UDP port and waits for it to serve, runs the real `picluster` binary and
// net-snmp's own tools with argv vectors (no shell), and cleans up. Every wait is bounded.
#include "tests/support/daemon.hpp"
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "inventory/inventory.hpp"

extern char** environ;

namespace picluster::switchctl::it {

namespace fs = std::filesystem;
using picluster::testing::free_udp_port;

inline const fs::path kBin = PICLUSTER_BINARY_DIR;
inline const fs::path kPicluster = kBin / "orchestrator" / "picluster";
inline const fs::path kSim = kBin / "lab" / "switchsim" / "picluster-switchsim";

struct Output {
  int status = -1;
  std::string out, err;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Spawns argv with stdout/stderr to files in dir; returns the pid.
inline pid_t spawn(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// Runs to completion (killed after timeout) and returns the exit status and output.
inline Output run(const std::vector<std::string>& argv, const fs::path& dir, int timeout_s = 60) {
  const fs::path o = dir / "run.out", e = dir / "run.err";
  const pid_t pid = spawn(argv, o, e);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return {-1, slurp(o), slurp(e) + "\n(killed after timeout)"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(o), slurp(e)};
}

// A background server that prints a readiness line (or just needs a moment), stopped on scope exit.
class Server {
 public:
  Server(const std::vector<std::string>& argv, const fs::path& dir, const std::string& name,
         const std::string& ready_text, int port)
      : m_out(dir / (name + ".out")), m_err(dir / (name + ".err")) {
    m_pid = spawn(argv, m_out, m_err);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (slurp(m_out).find(ready_text) != std::string::npos || slurp(m_err).find(ready_text) != std::string::npos) {
        m_ready = true;
        break;
      }
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    (void)port;
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
  }
  [[nodiscard]] bool ready() const { return m_ready; }
  [[nodiscard]] std::string log() const { return slurp(m_out) + slurp(m_err); }

 private:
  fs::path m_out, m_err;
  pid_t m_pid = -1;
  bool m_ready = false;
};

inline fs::path make_temp_dir(const std::string& tag) {
  fs::path d = fs::temp_directory_path() / ("picluster-switchctl-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

inline void write_file(const fs::path& p, const std::string& text, mode_t mode = 0600) {
  std::ofstream(p) << text;
  ::chmod(p.c_str(), mode);
}

// An inventory with `pis` Pis on ports 1..pis, the switch on 127.0.0.1:port.
inline inventory::Inventory make_inventory(int pis, int port, int port_count = 24) {
  auto inv = inventory::make_default("shelf1");
  auto& shelf = inv.shelves.at(0);
  shelf.switch_.host = "127.0.0.1";
  shelf.switch_.snmp_port = port;
  shelf.switch_.port_count = port_count;
  shelf.switch_.timeout_ms = 300;
  shelf.switch_.retries = 3;
  shelf.switch_.poe_off_seconds = 1;
  shelf.fileserver.trunk_port = port_count;
  for (int i = 1; i <= pis; ++i) {
    char name[16], mac[32];
    std::snprintf(name, sizeof name, "pi%02d", i);
    std::snprintf(mac, sizeof mac, "b8:27:eb:00:00:%02x", i);
    (void)inventory::add_pi(shelf, {name, i, inventory::PiModel::pi4, std::nullopt, inventory::Mac::parse(mac)});
  }
  return inv;
}

// snmpwalk -v2c -On -Oqe: "OID value" lines -> map (numeric OID without the leading dot).
inline std::map<std::string, std::string> snmpwalk(int port, const std::string& community,
                                                   const std::string& oid, const fs::path& dir) {
  auto r = run({"snmpwalk", "-v2c", "-c", community, "-On", "-Oq", "-Oe", "-t", "1", "-r", "5",
                "127.0.0.1:" + std::to_string(port), oid}, dir);
  std::map<std::string, std::string> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    const auto sp = line.find(' ');
    if (sp == std::string::npos || line.empty() || line[0] != '.') continue;
    out[line.substr(1, sp - 1)] = line.substr(sp + 1);
  }
  return out;
}

// picluster-switchsim with a knobs file on a free port, an inventory of `pis` Pis and the
// community in switch-secrets.json; pic() runs picluster on it, walk() snmpwalks it.
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

}  // namespace picluster::switchctl::it
