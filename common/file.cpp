#include "common/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace picluster {
namespace {

// 0 on success, else the errno of the first failure.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

}  // namespace

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view text,
                                   std::optional<mode_t> mode) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::string tmp =
      (dir / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
  if (!mode) {
    struct stat st {};
    mode = ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0644;
  }
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, *mode);
  if (fd < 0) return fail(ErrorCode::io, path.string() + ": cannot write: " + std::strerror(errno));
  const char* step = "write";
  int err = write_all(fd, text);
  const auto check = [&](bool ok, const char* what) {
    if (err == 0 && !ok) err = errno, step = what;
  };
  if (err == 0) check(::fchmod(fd, *mode) == 0, "chmod");
  if (err == 0) check(::fsync(fd) == 0, "fsync");
  check(::close(fd) == 0, "close");
  if (err == 0) check(::rename(tmp.c_str(), path.c_str()) == 0, "rename");
  if (err != 0) {
    ::unlink(tmp.c_str());
    return fail(ErrorCode::io, path.string() + ": " + step + ": " + std::strerror(err));
  }
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);  // make the rename durable; failure here cannot un-write the file
    ::close(dfd);
  }
  return {};
}

}  // namespace picluster
