#pragma once
// Power holds: Pis the operator powered off on purpose (`picluster power off NAME`), which
// picluster must then leave off. A hold is recorded per shelf in the state folder, beside the
// journal and the shelf lock, as "<state>/<shelf>.holds.json":
//
//   {"holds": {"pi05": {"since": "2026-11-22T03:20:00Z", "user": "alice", "reason": "bad board"}}}
//
// While a Pi is held, apply/plan do not plan PoE on for it, watch does not probe or cycle it,
// rebuild/rollback leave it off after the root work, and status shows it as held. `power on` and
// `power cycle` release the hold; `remove` drops it with the Pi.
//
// The file is rewritten whole, atomically (a temp file in the same folder, fsync, rename, fsync of
// the folder), so a crash leaves the old holds or the new ones, never a torn file. Writers hold the
// shelf lock (every verb that powers a Pi does), so read-modify-write cycles never interleave.
// Readers take no lock: they see one complete version or the other.

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "common/error.hpp"

namespace picluster::orchestrator {

struct PowerHold {
  std::string since;   // UTC, ISO 8601, seconds (the journal's format)
  std::string user;
  std::string reason;  // may be empty
};

// "held off since 2026-11-22T03:20:00Z by alice (bad board)"
std::string describe(const PowerHold& hold);

// The holds file's text as read by PowerHolds::read (without the file name in errors). Never
// throws, whatever the text (fuzzed by tests/fuzz/holds_fuzz.cpp).
Result<std::map<std::string, PowerHold>> parse_holds(const std::string& text);

class PowerHolds {
 public:
  PowerHolds(std::filesystem::path state_dir, const std::string& shelf);

  // Every hold of the shelf, by Pi name. No file: none. A file that is not valid JSON or not in
  // the format above is an error (ErrorCode::io) naming the file and what is wrong with it: a
  // hold that cannot be read must stop a verb from powering Pis on, not be silently dropped.
  [[nodiscard]] Result<std::map<std::string, PowerHold>> read() const;
  [[nodiscard]] Result<std::optional<PowerHold>> find(const std::string& pi) const;
  // Records (or replaces) the hold of `pi`; since and user are filled in when empty.
  Result<PowerHold> hold(const std::string& pi, PowerHold hold) const;
  // Drops the hold of `pi`; returns the hold that was there, if any (no file is written then).
  Result<std::optional<PowerHold>> release(const std::string& pi) const;

  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

 private:
  Result<void> write(const std::map<std::string, PowerHold>& holds) const;

  std::filesystem::path m_dir;
  std::filesystem::path m_path;
};

}  // namespace picluster::orchestrator
