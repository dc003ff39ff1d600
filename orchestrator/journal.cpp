#include "orchestrator/journal.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>

#include "common/json.hpp"

namespace picluster::orchestrator {
namespace {

Result<void> ensure_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::io, dir.string() + ": cannot create state folder: " + ec.message());
  return {};
}

}  // namespace

std::string now_utc() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_utc(const std::string& text) {
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

std::string current_user() {
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') return sudo;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr) return pw->pw_name;
  return std::to_string(::getuid());
}

std::filesystem::path state_dir(const std::filesystem::path& inventory_path) {
  if (const char* env = std::getenv("PICLUSTER_STATE_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  const auto parent = inventory_path.parent_path();
  return (parent.empty() ? std::filesystem::path(".") : parent) / ".picluster";
}

inventory::Json to_json(const JournalEntry& e) {
  inventory::Json j;
  j["time"] = e.time;
  j["user"] = e.user;
  j["verb"] = e.verb;
  j["shelf"] = e.shelf;
  j["pi"] = e.pi;
  j["step"] = e.step;
  j["result"] = e.result;
  j["detail"] = e.detail;
  return j;
}

std::optional<JournalEntry> parse_journal_line(std::string_view line) {
  const auto parsed = parse_json<inventory::Json>(line);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  const inventory::Json& j = *parsed;
  const auto get = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  JournalEntry e;
  e.time = get("time");
  e.user = get("user");
  e.verb = get("verb");
  e.shelf = get("shelf");
  e.pi = get("pi");
  e.step = get("step");
  e.result = get("result");
  e.detail = get("detail");
  return e;
}

Journal::Journal(std::filesystem::path dir) : m_dir(std::move(dir)), m_path(m_dir / "journal.jsonl") {}

Result<void> Journal::append(JournalEntry entry) const {
  if (entry.time.empty()) entry.time = now_utc();
  if (entry.user.empty()) entry.user = current_user();
  if (auto ok = ensure_dir(m_dir); !ok) return ok;
  const std::string line = dump_json(to_json(entry)) + "\n";
  const int fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::io, m_path.string() + ": " + std::strerror(errno));
  // One write(2) with O_APPEND: lines from concurrent writers never interleave.
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int err = errno;
  ::fsync(fd);
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    return fail(ErrorCode::io, m_path.string() + ": short write: " + std::strerror(err));
  }
  return {};
}

Result<std::vector<JournalEntry>> Journal::read(const std::string& pi) const {
  std::vector<JournalEntry> out;
  std::ifstream in(m_path);
  if (!in) return out;  // no journal yet: nothing happened
  for (std::string line; std::getline(in, line);) {
    auto parsed = parse_journal_line(line);
    if (!parsed) continue;
    JournalEntry& e = *parsed;
    if (!pi.empty() && e.pi != pi) continue;
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<JournalEntry> Journal::last_for(const std::string& pi) const {
  auto entries = read(pi);
  if (!entries || entries->empty()) return std::nullopt;
  return entries->back();
}

Result<ShelfLock> ShelfLock::acquire(const std::filesystem::path& dir, const std::string& shelf) {
  if (auto ok = ensure_dir(dir); !ok) return std::unexpected(ok.error());
  const auto path = dir / (shelf + ".lock");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::io, path.string() + ": " + std::strerror(errno));
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return fail(ErrorCode::locked, "shelf " + shelf + ": another picluster run is changing it (" +
                                         path.string() + "); try again when it has finished");
    }
    return fail(ErrorCode::io, path.string() + ": flock: " + std::strerror(err));
  }
  return ShelfLock(fd);
}

ShelfLock::ShelfLock(ShelfLock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

ShelfLock::~ShelfLock() {
  if (m_fd >= 0) ::close(m_fd);
}

}  // namespace picluster::orchestrator
