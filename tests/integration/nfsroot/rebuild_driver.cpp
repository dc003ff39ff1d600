// Test driver for the SIGKILL tests: rebuilds one Pi root with RootManager over a LocalHost.
//   nfsroot_rebuild_driver NFS_ROOT GOLDEN NAME [PAUSE_STEP]
// With PAUSE_STEP, prints "PAUSED <step>" before the first action of that step and waits (at most
// 60 s) to be killed. Exit 0 on success, 1 on error (message on stderr), 3 if never killed.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "nfsroot/local_host.hpp"
#include "nfsroot/root_manager.hpp"

int main(int argc, char** argv) {
  using namespace picluster;
  if (argc < 4) {
    std::cerr << "usage: nfsroot_rebuild_driver NFS_ROOT GOLDEN NAME [PAUSE_STEP]\n";
    return 2;
  }
  inventory::Shelf shelf;
  shelf.fileserver.transport = inventory::Transport::local;
  shelf.fileserver.nfs_root = argv[1];
  shelf.fileserver.golden_image = argv[2];
  shelf.fileserver.clone_method = inventory::CloneMethod::automatic;
  inventory::Pi pi;
  pi.name = argv[3];
  const std::string pause_at = argc > 4 ? argv[4] : "";
  nfsroot::LocalHost host;
  nfsroot::RootManager roots(host, shelf);
  nfsroot::ExecOptions options;
  options.before_step = [&pause_at](std::string_view step) {
    if (step != pause_at) return;
    std::cout << "PAUSED " << step << std::endl;
    for (int i = 0; i < 60; ++i) ::sleep(1);
    std::_Exit(3);
  };
  const std::vector<RenderedFile> files{{"etc/hostname", pi.name + "\n", 0644},
                                        {"etc/picluster-build", "new\n", 0644}};
  auto r = roots.rebuild(pi, files, {}, options);
  if (!r) {
    std::cerr << r.error().message << "\n";
    return 1;
  }
  std::cout << "DONE " << inventory::to_string(r->method) << std::endl;
  return 0;
}
