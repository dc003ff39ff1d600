#pragma once
// A small shelf for the nfsroot unit tests: paths under /srv, one Pi (pi01) on 172.30.0.0/30.

#include "inventory/inventory.hpp"

namespace picluster::nfsroot::testing {

inline inventory::Shelf test_shelf(std::string root_prefix = {}) {
  inventory::Shelf shelf;
  shelf.fileserver.transport = inventory::Transport::local;
  shelf.fileserver.nfs_root = "/srv/nfsroot";
  shelf.fileserver.golden_image = "/srv/golden/raspios";
  shelf.fileserver.root_prefix = std::move(root_prefix);
  inventory::Pi pi;
  pi.name = "pi01";
  pi.port = 1;
  pi.vlan = 10;
  pi.storage.network = *inventory::Ipv4::parse("172.30.0.0");
  pi.storage.fileserver = *inventory::Ipv4::parse("172.30.0.1");
  pi.storage.pi = *inventory::Ipv4::parse("172.30.0.2");
  pi.storage.broadcast = *inventory::Ipv4::parse("172.30.0.3");
  shelf.pis.push_back(pi);
  return shelf;
}

}  // namespace picluster::nfsroot::testing
