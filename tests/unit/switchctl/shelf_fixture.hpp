#pragma once
#include <gtest/gtest.h>

#include <cstdio>

#include "inventory/inventory.hpp"

namespace picluster::switchctl::testing {

// A shelf with `pis` Pis on ports 1..pis (pi01, pi02, ...), MACs b8:27:eb:00:00:NN, trunk 24.
inline inventory::Shelf shelf_with(int pis, int port_count = 24) {
  inventory::Shelf shelf = inventory::make_default("shelf1").shelves.at(0);
  shelf.switch_.port_count = port_count;
  shelf.fileserver.trunk_port = port_count;
  for (int i = 1; i <= pis; ++i) {
    char name[16], mac[32];
    std::snprintf(name, sizeof name, "pi%02d", i);
    std::snprintf(mac, sizeof mac, "b8:27:eb:00:00:%02x", i);
    auto pi = inventory::add_pi(shelf, {name, i, inventory::PiModel::pi4, std::nullopt, inventory::Mac::parse(mac)});
    EXPECT_TRUE(pi) << pi.error().message;
  }
  return shelf;
}

}  // namespace picluster::switchctl::testing
