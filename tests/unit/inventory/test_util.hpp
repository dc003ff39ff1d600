#pragma once
// Builders for inventory tests: a seed-like shelf and JSON text edited field by field.

#include <string>

#include "inventory/inventory.hpp"

namespace picluster::inventory::testing {

// One shelf with the defaults and Pis pi01..piNN on ports 1..N.
inline Inventory seed_inventory(int pis) {
  Inventory inv = make_default("shelf1");
  inv.source = "inventory.json";
  for (int port = 1; port <= pis; ++port) {
    const std::string name = port < 10 ? "pi0" + std::to_string(port) : "pi" + std::to_string(port);
    auto added = add_pi(inv.shelves[0], PiRequest{name, port, PiModel::pi3, {}, {}});
    if (!added) throw std::runtime_error(added.error().message);
  }
  return inv;
}

// The seed inventory as JSON, for tests that poke at fields.
inline Json seed_json(int pis) { return Json::parse(serialize(seed_inventory(pis))); }

inline Result<Inventory> parse_json(const Json& j) { return parse(j.dump(2), "inventory.json"); }

}  // namespace picluster::inventory::testing
