#pragma once
// The SshTarget of a test's loopback sshd (tests/support/daemon.hpp): its port, key and
// known_hosts, user root, a 10 s connect timeout; persist as SshTarget's default (0).

#include <chrono>

#include "nfsroot/ssh_host.hpp"
#include "tests/support/daemon.hpp"

namespace picluster::nfsroot::it {

inline SshTarget loopback_target(const picluster::testing::LoopbackSshd& sshd) {
  SshTarget t;
  t.host = "127.0.0.1";
  t.port = sshd.port();
  t.identity_file = sshd.identity_file().string();
  t.known_hosts = sshd.known_hosts().string();
  t.connect_timeout = std::chrono::seconds(10);
  return t;
}

}  // namespace picluster::nfsroot::it
