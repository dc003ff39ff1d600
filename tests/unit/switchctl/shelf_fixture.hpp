#pragma once
#include <gtest/gtest.h>

#include <cstdio>

#include "fake_snmp.hpp"
#include "inventory/inventory.hpp"
#include "switchctl/controller.hpp"

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

// A shelf of `pis` Pis, a fresh 24-port Q-BRIDGE switch behind the fake session and a fake
// clock; make() builds the controller over them.
struct Rig {
  inventory::Shelf shelf;
  FakeSnmp fake = fresh_qbridge(24);
  FakeClock clock;
  explicit Rig(int pis = 8) : shelf(shelf_with(pis)) {}
  SwitchController make() {
    auto c = SwitchController::create(shelf, fake, clock);
    EXPECT_TRUE(c);
    return std::move(*c);
  }
};

}  // namespace picluster::switchctl::testing
