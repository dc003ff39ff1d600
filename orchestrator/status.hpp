#pragma once
// `picluster status`: one row per Pi joining what the switch, the fileserver and the journal say.
// A part that cannot be read (switch down, fileserver unreachable) leaves its columns "unknown"
// and is named in `problems`, so status still answers during an outage. A row that is wrong (VLAN
// drift, root missing, export missing) is named in `problems` too ("pi03: root missing"), so
// `problems` empty means the shelf is as the inventory says (`picluster status` exits 0).
// A Pi held off by `picluster power off` (power_hold.hpp) is shown as held; its PoE being off is
// what the operator asked for, not a problem (its PoE being on is).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/power_hold.hpp"
#include "orchestrator/shelf_session.hpp"

namespace picluster::orchestrator {

struct PiStatus {
  std::string name;
  int port = 0;
  std::string poe = "unknown";  // "on deliveringPower", "off disabled", ...
  std::optional<bool> poe_on;   // PoE admin state, when the switch said
  std::optional<bool> poe_delivering;  // PoE detection is deliveringPower, when the switch said
  std::optional<PowerHold> hold;  // held off by `picluster power off`
  std::optional<long> power_mw;
  std::string vlan = "unknown";  // "ok" or "drift: <first change>"
  std::optional<bool> root_present;
  std::optional<std::uint64_t> root_bytes;
  std::optional<std::int64_t> root_mtime;  // seconds since the epoch
  std::optional<std::string> image;        // the image version the root records ("base@2")
  std::optional<bool> exported;            // exported to this Pi's address alone
  std::optional<bool> reachable;           // nullopt: not probed
  std::optional<JournalEntry> last_action;
};

struct ShelfStatus {
  std::string shelf;
  std::vector<PiStatus> pis;
  std::vector<std::string> problems;  // parts that could not be read, then rows that are wrong
  std::uint64_t fileserver_round_trips = 0;  // constant however many Pis: 2, 3 with sizes
  std::uint64_t fileserver_channels = 0;     // SSH channels the verb opened (1 over SSH)
};

// probe: returns whether the Pi answers (nullopt = not probed).
using StatusProbe = std::function<std::optional<bool>(const inventory::Pi&)>;

// Root sizes come from each root's record (written when it was built, nfsroot/actions.hpp), so
// status walks no root; sizes = true measures every root now (one `du` for all of them) instead.
ShelfStatus collect_status(ShelfSession& session, const StatusProbe& probe, bool sizes = false);
inventory::Json to_json(const ShelfStatus& status);

}  // namespace picluster::orchestrator
