// libFuzzer target for the inventory parser: any byte string must either parse into an
// inventory that validates and round-trips through serialize(), or fail with an error message;
// it must never crash, hang or leak.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "inventory/inventory.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace picluster::inventory;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto inv = parse(text, "fuzz.json");
  if (!inv) {
    if (inv.error().message.empty()) std::abort();
    return 0;
  }
  const std::string once = serialize(*inv);
  auto again = parse(once, "fuzz.json");
  if (!again || serialize(*again) != once) std::abort();  // round trip must be exact
  for (auto& shelf : inv->shelves) {
    auto pi = add_pi(shelf, PiRequest{"fuzzpi", 1, PiModel::pi4, {}, {}});
    (void)pi;
  }
  return 0;
}
