#pragma once
// Observing a shelf: what `picluster watch --listen` serves, `picluster metrics` prints and
// `picluster status --html` writes. A ShelfSnapshot joins, for one moment:
//   - the shelf's status (status.hpp: PoE, holds, roots, exports, last action), the same data
//     as `status --json`;
//   - the last probe of each Pi (a watch round, or one probe pass for the one-shot verbs);
//   - the cycle history read from the journal (cycles per Pi, the last one, cycles of the last
//     hour, whether the outage guard is on);
//   - what SNMP cost (switchctl/snmp_metrics.hpp) and the last watch round's duration.
// The renderers are pure: render_metrics gives the Prometheus text exposition format (0.0.4),
// render_page one self-contained HTML page (inline CSS and SVG, a few lines of plain script that
// re-fetch the page itself to refresh in place; nothing is loaded from anywhere else).
// No label or text carries a secret: only names, ports, states and times from the inventory,
// the switch's PoE table and the journal.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/journal.hpp"
#include "orchestrator/probe.hpp"
#include "orchestrator/status.hpp"
#include "switchctl/snmp_metrics.hpp"

namespace picluster::orchestrator {

// Cycles of one Pi found in the journal: watch's power-cycle steps that were carried out
// (result ok) and `picluster power cycle` (step power, result ok, "PoE cycle ...").
struct PiCycles {
  long total = 0;
  std::optional<std::int64_t> last;  // seconds since the epoch
};

struct CycleHistory {
  std::map<std::string, PiCycles> pis;
  int last_hour = 0;          // watch power-cycles tried (ok or failed) in the hour before `now`
  bool guard_active = false;  // the shelf's newest guard line is "skipped" (an outage held)
};

CycleHistory cycle_history(const std::vector<JournalEntry>& entries, const std::string& shelf,
                           std::chrono::system_clock::time_point now);

struct WatchRoundInfo {
  int number = 0;
  std::int64_t finished = 0;  // seconds since the epoch
  double seconds = 0.0;       // duration
  long rounds_total = 0;
};

struct ShelfSnapshot {
  ShelfStatus status;
  int port_count = 0;
  int trunk_port = 0;
  std::string image;  // the golden image roots are built from (its file name), for a label
  std::map<std::string, ProbeResult> probes;  // last probe by Pi; absent = not probed
  CycleHistory cycles;
  std::optional<bool> outage;  // the watch's live guard state; nullopt: from the journal
  std::optional<switchctl::SnmpCounts> snmp;
  std::optional<WatchRoundInfo> round;     // watch only
  std::vector<JournalEntry> journal_tail;  // newest last
  std::string journal_error;               // the journal could not be read (cycles then unknown)
  std::int64_t generated = 0;              // seconds since the epoch
  int refresh_seconds = 0;                 // page: re-fetch every N s; 0 = a static page
};

// The snapshot of a shelf from its status, probes and journal (the part every caller shares).
ShelfSnapshot make_snapshot(const inventory::Shelf& shelf, ShelfStatus status,
                            const std::vector<ProbeResult>& probes,
                            const std::vector<JournalEntry>& journal,
                            std::chrono::system_clock::time_point now);

// Prometheus text exposition format 0.0.4, every family with HELP and TYPE.
std::string render_metrics(const ShelfSnapshot& snapshot);
// The shelf page (HTML5, UTF-8).
std::string render_page(const ShelfSnapshot& snapshot);

// The Content-Security-Policy the page is served with (and carries in a meta tag): nothing but
// its own inline style and script, and fetches of its own origin.
inline constexpr const char* kPagePolicy =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src "
    "'self'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// Text made safe for HTML element content and attribute values.
std::string html_escape(std::string_view text);
// A Prometheus label value: backslash, double quote and newline escaped.
std::string label_escape(std::string_view text);

}  // namespace picluster::orchestrator
