// libFuzzer target for the simulator's knobs and state files: any byte string is parsed (as the
// files are: depth-bounded, no exception) and then read as knobs and as a switch state; each
// either succeeds or fails with a message, never a crash, an exception, a hang or a leak.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json.hpp"
#include "lab/switchsim/knobs.hpp"
#include "lab/switchsim/switch_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace picluster::switchsim;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto j = picluster::parse_json<nlohmann::json>(text);
  if (!j) {
    if (j.error().message.empty()) std::abort();
    return 0;
  }
  auto knobs = parse_knobs(*j);
  if (knobs) {
    auto ok = validate_knobs(*knobs, 24);
    (void)ok;
  } else if (knobs.error().message.empty()) {
    std::abort();
  }
  auto state = state_from_json(*j, 24);
  if (!state && state.error().message.empty()) std::abort();
  return 0;
}
