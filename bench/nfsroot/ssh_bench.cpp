// ssh_bench: milliseconds per SshHost operation against an sshd (bench/nfsroot/ssh.sh starts one
// on loopback). Every operation picluster does on a fileserver is one of these, so a plan of N
// Pis costs roughly (operations per Pi) x N x these figures.
//   ssh_bench PORT IDENTITY KNOWN_HOSTS DIR [ROUNDS]
// prints "<operation> <mean ms> <min ms>" for run, stat, read_file, write_file, list.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "nfsroot/ssh_host.hpp"

namespace {

using namespace picluster;
using Clock = std::chrono::steady_clock;

void time_op(const char* name, int rounds, const std::function<bool()>& op) {
  std::vector<double> ms;
  for (int i = 0; i < rounds; ++i) {
    const auto t0 = Clock::now();
    if (!op()) {
      std::printf("%-11s failed\n", name);
      return;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  double sum = 0;
  for (double m : ms) sum += m;
  std::printf("%-11s %8.1f %8.1f\n", name, sum / static_cast<double>(ms.size()),
              *std::ranges::min_element(ms));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: ssh_bench PORT IDENTITY KNOWN_HOSTS DIR [ROUNDS]\n");
    return 2;
  }
  nfsroot::SshTarget t;
  t.host = "127.0.0.1";
  t.port = std::stoi(argv[1]);
  t.user = "root";
  t.identity_file = argv[2];
  t.known_hosts = argv[3];
  const std::string dir = argv[4];
  const int rounds = argc > 5 ? std::stoi(argv[5]) : 50;
  const auto c0 = Clock::now();
  auto host = nfsroot::SshHost::connect(t);
  if (!host) {
    std::fprintf(stderr, "%s\n", host.error().message.c_str());
    return 1;
  }
  std::printf("connect     %8.1f\n",
              std::chrono::duration<double, std::milli>(Clock::now() - c0).count());
  std::printf("%-11s %8s %8s\n", "operation", "mean_ms", "min_ms");
  auto& h = **host;
  // The first operation opens the connection's one channel: the login shell (and its rc files)
  // starts the remote helper; every operation after it is a request on that channel.
  const auto s0 = Clock::now();
  if (!h.run({"true"}, {})) return 1;
  std::printf("start       %8.1f\n", std::chrono::duration<double, std::milli>(Clock::now() - s0).count());
  const std::string file = dir + "/bench-file";
  time_op("run", rounds, [&] { return h.run({"true"}, {}).has_value(); });
  time_op("write_file", rounds,
          [&] { return h.write_file(file, "hello\n", 0644, std::nullopt).has_value(); });
  time_op("stat", rounds, [&] { return h.stat(file).has_value(); });
  time_op("read_file", rounds, [&] { return h.read_file(file).has_value(); });
  time_op("list", rounds, [&] { return h.list(dir).has_value(); });
  std::printf("channels    %8llu\n", static_cast<unsigned long long>(h.channels()));
  return 0;
}
