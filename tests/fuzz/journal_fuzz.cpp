// libFuzzer target for one line of the audit journal (<state>/journal.jsonl): any byte string is
// an entry or skipped; never a crash, an exception, a hang or a leak. An entry written back with
// to_json and read again is the same entry.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json.hpp"
#include "orchestrator/journal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace picluster::orchestrator;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto entry = parse_journal_line(line);
  if (!entry) return 0;
  const std::string again = picluster::dump_json(to_json(*entry));
  auto back = parse_journal_line(again);
  if (!back) std::abort();
  return 0;
}
