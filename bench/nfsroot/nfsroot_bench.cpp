// nfsroot_bench: the figures behind bench/nfsroot/run.sh.
//   nfsroot_bench make-golden DIR FILES TOTAL_MIB   synthetic golden image (random-ish data)
//   nfsroot_bench provision NFS_ROOT GOLDEN METHOD NAME
// provision rebuilds one Pi root with RootManager over a LocalHost and prints
//   "<method> clone_s=<seconds> total_s=<seconds>" where clone_s times the clone step alone.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "nfsroot/local_host.hpp"
#include "nfsroot/root_manager.hpp"

namespace {

using namespace picluster;
using Clock = std::chrono::steady_clock;

int make_golden(const std::filesystem::path& dir, long files, long total_mib) {
  std::mt19937_64 rng(42);
  const auto per_file = static_cast<std::size_t>(total_mib * 1024 * 1024 / files);
  std::string block(per_file, '\0');
  for (long i = 0; i < files; ++i) {
    for (std::size_t j = 0; j + 8 <= block.size(); j += 8) {
      const auto v = rng();
      std::memcpy(block.data() + j, &v, 8);
    }
    const auto sub = dir / "usr" / ("d" + std::to_string(i / 500));
    if (i % 500 == 0) std::filesystem::create_directories(sub);
    std::ofstream(sub / ("f" + std::to_string(i)), std::ios::binary).write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  std::filesystem::create_directories(dir / "etc/ssh");
  std::ofstream(dir / "etc/hostname") << "raspberrypi\n";
  std::ofstream(dir / "etc/ssh/ssh_host_ed25519_key") << "GOLDEN\n";
  return 0;
}

int provision(const std::string& nfs_root, const std::string& golden, const std::string& method,
              const std::string& name) {
  inventory::Shelf shelf;
  shelf.fileserver.transport = inventory::Transport::local;
  shelf.fileserver.nfs_root = nfs_root;
  shelf.fileserver.golden_image = golden;
  auto parsed = inventory::parse_clone_method(method);
  if (!parsed) {
    std::cerr << "unknown method " << method << "\n";
    return 2;
  }
  shelf.fileserver.clone_method = *parsed;
  inventory::Pi pi;
  pi.name = name;
  nfsroot::LocalHost host;
  nfsroot::RootManager roots(host, shelf);
  Clock::time_point clone_start{}, clone_end{};
  nfsroot::ExecOptions options;
  options.before_step = [&](std::string_view step) {
    if (step == "clone" && clone_start == Clock::time_point{}) clone_start = Clock::now();
    if (step == "install" && clone_end == Clock::time_point{}) clone_end = Clock::now();
  };
  const auto start = Clock::now();
  auto r = roots.rebuild(pi, {{"etc/hostname", name + "\n", 0644}}, {}, options);
  const auto end = Clock::now();
  if (!r) {
    std::cerr << r.error().message << "\n";
    return 1;
  }
  const auto secs = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  std::printf("%s clone_s=%.3f total_s=%.3f\n", std::string(inventory::to_string(r->method)).c_str(),
              secs(clone_end - clone_start), secs(end - start));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 4 && args[0] == "make-golden") return make_golden(args[1], std::stol(args[2]), std::stol(args[3]));
  if (args.size() == 5 && args[0] == "provision") return provision(args[1], args[2], args[3], args[4]);
  std::cerr << "usage: nfsroot_bench make-golden DIR FILES TOTAL_MIB | provision NFS_ROOT GOLDEN METHOD NAME\n";
  return 2;
}
