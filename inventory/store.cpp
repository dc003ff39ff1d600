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

#include "common/file.hpp"
#include "inventory/inventory.hpp"

namespace picluster::inventory {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

std::filesystem::path resolve_path(const std::filesystem::path& path) {
  std::filesystem::path out = path;
  std::error_code ec;
  for (int hops = 0; hops < 40 && std::filesystem::is_symlink(out, ec); ++hops) {
    const auto target = std::filesystem::read_symlink(out, ec);
    if (ec) break;
    out = target.is_absolute() ? target : out.parent_path() / target;
  }
  return out;
}

Result<Inventory> load(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return fail(ErrorCode::invalid_argument,
                path.string() + ": is a folder, not an inventory file (give the file with --inventory)");
  }
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
  return write_file_atomically(path, serialize(inventory));  // an existing file keeps its mode
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
