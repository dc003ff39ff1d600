// A program that starts its SSH connection masters by exec (its main calls main_if_master, as
// picluster's does) and connects while a second thread runs (allocating and taking a lock all the
// time): `nfsroot_master_driver HOST PORT IDENTITY KNOWN_HOSTS PERSIST` stats "/" through
// SshHost and prints "channels=N" and "how=...". Used by ssh_persist_test.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nfsroot/ssh_host.hpp"
#include "nfsroot/ssh_master.hpp"

int main(int argc, char** argv) {
  using namespace picluster::nfsroot;
  if (const auto master = master::main_if_master(argc, argv)) return *master;
  if (argc != 6) {
    std::fprintf(stderr, "usage: nfsroot_master_driver HOST PORT IDENTITY KNOWN_HOSTS PERSIST\n");
    return 2;
  }
  std::atomic<bool> done{false};
  std::mutex lock;
  std::thread busy([&] {
    while (!done) {
      const std::lock_guard<std::mutex> held(lock);
      std::vector<std::unique_ptr<std::string>> junk;
      for (int i = 0; i < 64; ++i) junk.push_back(std::make_unique<std::string>(1000, 'x'));
    }
  });
  SshTarget target;
  target.host = argv[1];
  target.port = std::atoi(argv[2]);
  target.identity_file = argv[3];
  target.known_hosts = argv[4];
  target.persist = std::chrono::seconds(std::atoi(argv[5]));
  target.connect_timeout = std::chrono::seconds(10);
  int status = 0;
  {
    auto host = SshHost::connect(target);
    if (!host) {
      std::fprintf(stderr, "connect: %s\n", host.error().message.c_str());
      status = 1;
    } else if (auto st = (*host)->stat("/"); !st) {
      std::fprintf(stderr, "stat: %s\n", st.error().message.c_str());
      status = 1;
    } else {
      std::printf("channels=%llu\nthreads=%d\nhow=%s\n", static_cast<unsigned long long>((*host)->channels()),
                  master::thread_count(), (*host)->how_connected().c_str());
    }
  }
  done = true;
  busy.join();
  return status;
}
