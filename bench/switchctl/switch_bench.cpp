// Brings a 96-port shelf (95 Pis + the trunk) from a factory-fresh switch to configured, against
// picluster-switchsim on loopback, twice: with picluster's client (GETBULK walks, one SET PDU per
// port) and with the same client forced to one varbind per PDU (GETNEXT walks, one SET per
// varbind). Prints PDUs (= round trips; retransmissions not counted), varbinds and wall time.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "switchctl/controller.hpp"
#include "switchctl/net_snmp_session.hpp"

extern char** environ;

namespace {

using namespace picluster;
namespace fs = std::filesystem;

int free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Sim {
  pid_t pid = -1;
  Sim(const fs::path& dir, int port, int ports) {
    const fs::path out = dir / "sim.out";
    std::vector<std::string> argv = {fs::path(PICLUSTER_BINARY_DIR) / "lab/switchsim/picluster-switchsim",
                                     "--listen", "udp:127.0.0.1:" + std::to_string(port), "--ports",
                                     std::to_string(ports), "--state", (dir / "state.json").string(),
                                     "--community", "bench"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, (dir / "sim.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 1500; ++i) {  // up to 30 s
      std::ifstream in(out);
      std::stringstream s;
      s << in.rdbuf();
      if (s.str().find("ready") != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::fprintf(stderr, "switchctl_bench: the simulator did not start\n");
    std::exit(1);
  }
  ~Sim() {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }
};

struct Figures {
  long pdus = 0, varbinds = 0, set_pdus = 0;
  double seconds = 0;
};

Figures run(bool naive, const inventory::Shelf& shelf_template) {
  const fs::path dir = fs::temp_directory_path() / ("picluster-switchctl-bench-" + std::to_string(::getpid()) + (naive ? "-naive" : ""));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const int port = free_udp_port();
  Sim sim(dir, port, shelf_template.switch_.port_count);
  inventory::Shelf shelf = shelf_template;
  switchctl::SessionConfig config{"127.0.0.1", port, 1000, 3, {inventory::SnmpVersion::v2c, "bench", {}, {}, {}}};
  auto session = switchctl::open_net_snmp_session(config);
  if (!session) {
    std::fprintf(stderr, "switchctl_bench: %s\n", session.error().message.c_str());
    std::exit(1);
  }
  switchctl::OneVarbindPerPdu split(**session);
  switchctl::SnmpSession& used = naive ? static_cast<switchctl::SnmpSession&>(split) : **session;
  switchctl::SystemClock clock;
  auto controller = switchctl::SwitchController::create(shelf, used, clock);
  const auto start = std::chrono::steady_clock::now();
  auto plan = controller->plan();
  if (!plan) {
    std::fprintf(stderr, "switchctl_bench: %s\n", plan.error().message.c_str());
    std::exit(1);
  }
  auto report = controller->apply(*plan, {});
  const auto end = std::chrono::steady_clock::now();
  if (!report) {
    std::fprintf(stderr, "switchctl_bench: %s\n", report.error().message.c_str());
    std::exit(1);
  }
  Figures f;
  f.pdus = (*session)->stats().pdus;
  f.varbinds = (*session)->stats().varbinds;
  f.set_pdus = naive ? 0 : report->pdus;
  if (naive) for (const auto& c : plan->ports) f.set_pdus += static_cast<long>(c.atomic.varbinds.size());
  f.seconds = std::chrono::duration<double>(end - start).count();
  fs::remove_all(dir);
  return f;
}

}  // namespace

int main() {
  constexpr int kPorts = 96;
  inventory::Shelf shelf = inventory::make_default("bench").shelves.at(0);
  shelf.switch_.port_count = kPorts;
  shelf.fileserver.trunk_port = kPorts;
  for (int p = 1; p < kPorts; ++p) {
    char name[16];
    std::snprintf(name, sizeof name, "pi%02d", p);
    if (!inventory::add_pi(shelf, {name, p, inventory::PiModel::pi4, std::nullopt, std::nullopt})) return 1;
  }
  const Figures ours = run(false, shelf);
  const Figures naive = run(true, shelf);
  std::printf("switchctl bench: %d-port shelf (%d Pis + trunk), empty -> configured, read back and verified\n",
              kPorts, kPorts - 1);
  std::printf("%-28s %12s %12s %12s %10s\n", "client", "PDUs(=RTTs)", "SET PDUs", "varbinds", "wall s");
  std::printf("%-28s %12ld %12ld %12ld %10.3f\n", "picluster (bulk, PDU/port)", ours.pdus, ours.set_pdus, ours.varbinds, ours.seconds);
  std::printf("%-28s %12ld %12ld %12ld %10.3f\n", "one varbind per PDU", naive.pdus, naive.set_pdus, naive.varbinds, naive.seconds);
  const double pdu_ratio = static_cast<double>(naive.pdus) / static_cast<double>(ours.pdus);
  const double sets_per_port = static_cast<double>(ours.set_pdus) / (kPorts - 1);
  std::printf("ratio: %.1fx fewer PDUs, %.1fx less wall time\n", pdu_ratio, naive.seconds / ours.seconds);
  // The targets of issue 3, each with its verdict.
  const auto verdict = [](bool met) { return met ? "MET" : "MISSED"; };
  std::printf("target: one SET PDU per changed port      %-6s (%.2f per port)\n", verdict(sets_per_port <= 1.0),
              sets_per_port);
  std::printf("target: %d-port shelf in under 1 s        %-6s (%.3f s)\n", kPorts, verdict(ours.seconds < 1.0),
              ours.seconds);
  std::printf("target: >= 10x fewer PDUs than 1 per PDU  %-6s (%.1fx)\n", verdict(pdu_ratio >= 10.0), pdu_ratio);
  const bool all = sets_per_port <= 1.0 && ours.seconds < 1.0 && pdu_ratio >= 10.0;
  return all ? 0 : 1;
}
