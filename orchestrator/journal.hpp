#pragma once
// The audit journal and the per-shelf lock, both in the state folder.
//
// State folder: $PICLUSTER_STATE_DIR if set, else "<inventory folder>/.picluster". The journal is
// "<state>/journal.jsonl": one JSON object per line, appended with O_APPEND and fsync, so lines
// from concurrent processes never interleave and a crash loses at most the line being written:
//   {"time":"2026-11-22T03:20:00Z","user":"root","verb":"add","pi":"pi09","shelf":"shelf1",
//    "step":"switch","result":"ok","detail":"port 9: VLAN 18 untagged, 131 tagged"}
// The shelf lock "<state>/<shelf>.lock" (flock) keeps two mutating runs on one shelf apart.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "inventory/inventory.hpp"

namespace picluster::orchestrator {

std::filesystem::path state_dir(const std::filesystem::path& inventory_path);

// The journal's time (UTC, ISO 8601, seconds) and user ($SUDO_USER, else the login name).
std::string now_utc();
// The journal's time ("2026-11-22T08:00:00Z") as a system clock time; nullopt if malformed.
std::optional<std::chrono::system_clock::time_point> parse_utc(const std::string& text);
std::string current_user();

struct JournalEntry {
  std::string time;  // UTC, ISO 8601, seconds
  std::string user;
  std::string verb;  // add, remove, rebuild, power, apply, watch, ...
  std::string shelf;
  std::string pi;    // may be empty for shelf-wide steps
  std::string step;  // switch, fileserver, root, exports, boot, power, ...
  std::string result;  // ok, failed, skipped, planned
  std::string detail;
};

inventory::Json to_json(const JournalEntry& entry);
// One line of the journal, or nullopt for a line that is not a JSON object (skipped by read).
// Never throws, whatever the line (fuzzed by tests/fuzz/journal_fuzz.cpp).
std::optional<JournalEntry> parse_journal_line(std::string_view line);

class Journal {
 public:
  explicit Journal(std::filesystem::path state_dir);
  // Appends one line; time and user are filled in when empty.
  Result<void> append(JournalEntry entry) const;
  // Entries in file order, optionally only those naming `pi`; malformed lines are skipped.
  [[nodiscard]] Result<std::vector<JournalEntry>> read(const std::string& pi = {}) const;
  // The newest entry naming `pi`, if any.
  [[nodiscard]] std::optional<JournalEntry> last_for(const std::string& pi) const;
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_dir;
  std::filesystem::path m_path;
};

// Exclusive per-shelf lock; fails at once with ErrorCode::locked when another run holds it.
class ShelfLock {
 public:
  static Result<ShelfLock> acquire(const std::filesystem::path& state_dir, const std::string& shelf);
  ShelfLock(ShelfLock&& other) noexcept;
  ShelfLock& operator=(ShelfLock&&) = delete;
  ShelfLock(const ShelfLock&) = delete;
  ShelfLock& operator=(const ShelfLock&) = delete;
  ~ShelfLock();

 private:
  explicit ShelfLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

}  // namespace picluster::orchestrator
