// Reading and writing the inventory file. Writes are atomic: a temp file in the same folder,
// fsync, rename over the old file, fsync of the folder; a crash leaves either the old or the new
// file. The lock is a separate "<inventory>.lock" file held with flock(2), so it survives the
// rename and also guards the read-modify-write of a whole command.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "inventory/inventory.hpp"

namespace picluster::inventory {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

Result<void> write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::io, path + ": write: " + errno_text(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

Result<Inventory> load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) {
      return fail(ErrorCode::not_found,
                  path.string() + ": no such inventory (create one with `picluster init`)");
    }
    return fail(ErrorCode::io, path.string() + ": cannot read: " + errno_text(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

Result<void> save(const Inventory& inventory, const std::filesystem::path& path) {
  const std::string text = serialize(inventory);
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::string tmp =
      (dir / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
  mode_t mode = 0644;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;

  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    // Name the file the operator asked for; the temp file is our detail.
    return fail(ErrorCode::io, path.string() + ": cannot write: " + errno_text(errno));
  }
  auto ok = write_all(fd, text, tmp);
  if (ok && ::fchmod(fd, mode) != 0) ok = fail(ErrorCode::io, tmp + ": chmod: " + errno_text(errno));
  if (ok && ::fsync(fd) != 0) ok = fail(ErrorCode::io, tmp + ": fsync: " + errno_text(errno));
  if (::close(fd) != 0 && ok) ok = fail(ErrorCode::io, tmp + ": close: " + errno_text(errno));
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = fail(ErrorCode::io, path.string() + ": rename: " + errno_text(errno));
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return ok;
  }
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);  // make the rename durable; failure here cannot un-write the file
    ::close(dfd);
  }
  return {};
}

Result<Lock> Lock::acquire(const std::filesystem::path& inventory_path, bool wait,
                           bool inventory_may_be_missing) {
  std::error_code ec;
  if (!inventory_may_be_missing && !std::filesystem::exists(inventory_path, ec)) {
    return fail(ErrorCode::not_found,
                inventory_path.string() + ": no such inventory (create one with `picluster init`)");
  }
  const std::string lock_path = inventory_path.string() + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail(ErrorCode::io, inventory_path.string() + ": cannot open its lock file " +
                                   lock_path + ": " + errno_text(errno));
  }
  while (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return fail(ErrorCode::locked, inventory_path.string() +
                                         ": another picluster run holds the lock (" + lock_path +
                                         "); try again when it has finished");
    }
    return fail(ErrorCode::io, lock_path + ": flock: " + errno_text(err));
  }
  return Lock(fd);
}

Lock::Lock(Lock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

Lock& Lock::operator=(Lock&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
  }
  return *this;
}

Lock::~Lock() {
  if (m_fd >= 0) ::close(m_fd);  // closing the descriptor releases the flock
}

}  // namespace picluster::inventory
