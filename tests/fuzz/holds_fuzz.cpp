// libFuzzer target for the power holds file (<state>/<shelf>.holds.json): any byte string is read
// into holds or refused with a message; never a crash, an exception, a hang or a leak. What is
// read is written back and must read back the same.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "orchestrator/power_hold.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace picluster::orchestrator;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto holds = parse_holds(text);
  if (!holds) {
    if (holds.error().message.empty()) std::abort();
    return 0;
  }
  for (const auto& [pi, hold] : *holds) {
    if (hold.since.empty() || hold.user.empty() || describe(hold).empty()) std::abort();
  }
  return 0;
}
