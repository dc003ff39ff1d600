// LocalHost. run() drives the child with Boost.Asio: stdin is written, stdout and stderr are read
// concurrently (no deadlock on full pipes), and the io_context runs for at most the timeout, after
// which the child is killed. File writes go to an O_EXCL|O_NOFOLLOW temporary beside the target
// and are renamed into place, so a symlink at the target is replaced, never followed.

#include "nfsroot/local_host.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/text.hpp"

namespace picluster::nfsroot {
namespace {

namespace bp = boost::process;
namespace asio = boost::asio;

std::string errno_text(int err) { return std::generic_category().message(err); }

Error io_error(std::string_view what, const std::string& path, int err) {
  return Error{ErrorCode::io, std::string(what) + " " + path + ": " + errno_text(err)};
}

// Reads a pipe until EOF, appending to `sink` and forwarding each chunk to `on_chunk`.
struct PipeReader {
  bp::async_pipe& pipe;
  std::string& sink;
  bool keep;
  const std::function<void(std::string_view)>* on_chunk;
  std::array<char, 65536> buffer{};

  void start() {
    pipe.async_read_some(asio::buffer(buffer), [this](const boost::system::error_code& ec,
                                                      std::size_t n) {
      if (n > 0) {
        const std::string_view chunk(buffer.data(), n);
        if (keep) sink.append(chunk);
        if (on_chunk != nullptr && *on_chunk) (*on_chunk)(chunk);
      }
      if (!ec) start();
    });
  }
};

int decode_status(int native) {
  if (WIFEXITED(native)) return WEXITSTATUS(native);
  if (WIFSIGNALED(native)) return 128 + WTERMSIG(native);
  return 255;
}

}  // namespace

LocalHost::LocalHost() { std::signal(SIGPIPE, SIG_IGN); }

Result<CommandResult> LocalHost::run(const std::vector<std::string>& argv,
                                     const RunOptions& options) {
  if (argv.empty()) return fail(ErrorCode::internal, "run: empty argv");
  boost::filesystem::path exe = argv[0];
  if (argv[0].find('/') == std::string::npos) exe = bp::search_path(argv[0]);
  if (exe.empty()) return fail(ErrorCode::io, "cannot run " + argv[0] + ": not found in PATH");

  asio::io_context ioc;
  bp::async_pipe in(ioc), out(ioc), err(ioc);
  std::error_code spawn_error;
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  // The child dies with this process (SIGKILL on our death, even by SIGKILL): a killed run leaves
  // no rm or rsync behind to race its rerun. Locked commands run under `flock --no-fork`, so the
  // process holding the lock is this very child. getppid() catches a parent that died already.
  const pid_t parent = ::getpid();
  const auto die_with_parent = bp::extend::on_exec_setup([parent](auto&) {
    ::prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(SIGKILL));
    if (::getppid() != parent) ::_exit(137);
  });
  bp::child child(exe, bp::args(args), bp::std_in < in, bp::std_out > out, bp::std_err > err,
                  die_with_parent, spawn_error);
  if (spawn_error) return fail(ErrorCode::io, "cannot run " + argv[0] + ": " + spawn_error.message());

  CommandResult result;
  const std::function<void(std::string_view)>* no_callback = nullptr;
  PipeReader out_reader{out, result.out, !options.discard_output, &options.on_output, {}};
  PipeReader err_reader{err, result.err, true, no_callback, {}};
  out_reader.start();
  err_reader.start();
  if (options.input.empty()) {
    in.close();
  } else {
    asio::async_write(in, asio::buffer(options.input),
                      [&in](const boost::system::error_code&, std::size_t) { in.close(); });
  }
  ioc.run_for(options.timeout);
  if (!ioc.stopped()) {
    std::error_code ignored;
    child.terminate(ignored);
    return fail(ErrorCode::timeout, shell_join(argv) + ": still running after " +
                                        std::to_string(options.timeout.count() / 1000) +
                                        " s; killed");
  }
  std::error_code wait_error;
  child.wait(wait_error);
  if (wait_error) return fail(ErrorCode::io, "wait for " + argv[0] + ": " + wait_error.message());
  result.exit_status = decode_status(child.native_exit_code());
  return result;
}

Result<std::string> LocalHost::read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    return std::unexpected(Error{e == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                                 "read " + path + ": " + errno_text(e)});
  }
  std::string text;
  std::array<char, 65536> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return std::unexpected(io_error("read", path, e));
    }
    if (n == 0) break;
    text.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

namespace {

Result<void> write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(io_error("write", path, errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::string temp_name_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + ".picluster-" +
                             std::to_string(::getpid()) + "-" + std::to_string(counter++)))
      .string();
}

}  // namespace

namespace {

// Writes `contents` to a new temporary beside `path` (O_EXCL|O_NOFOLLOW, owner and mode set,
// fsync'd) and returns its name; nothing is left behind on failure.
Result<std::string> stage_temp(const std::string& path, std::string_view contents, unsigned mode,
                               std::optional<Owner> owner) {
  const std::string temp = temp_name_for(path);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected(io_error("create", temp, errno));
  auto fail_with = [&](Error error) -> Result<std::string> {
    ::close(fd);
    ::unlink(temp.c_str());
    return std::unexpected(std::move(error));
  };
  if (auto w = write_all(fd, contents, temp); !w) return fail_with(w.error());
  if (owner && ::fchown(fd, owner->uid, owner->gid) != 0) return fail_with(io_error("chown", temp, errno));
  if (::fchmod(fd, static_cast<mode_t>(mode & 07777)) != 0) return fail_with(io_error("chmod", temp, errno));
  if (::fsync(fd) != 0) return fail_with(io_error("fsync", temp, errno));
  ::close(fd);
  return temp;
}

Result<void> commit_temp(const std::string& temp, const std::string& path) {
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(temp.c_str());
    return std::unexpected(io_error("rename into place", path, e));
  }
  return {};
}

}  // namespace

Result<void> LocalHost::write_file(const std::string& path, std::string_view contents,
                                   unsigned mode, std::optional<Owner> owner) {
  auto temp = stage_temp(path, contents, mode, owner);
  if (!temp) return std::unexpected(temp.error());
  return commit_temp(*temp, path);
}

Result<void> LocalHost::write_files(const std::vector<FileWrite>& files) {
  for (const auto& f : files) {
    if (!f.folder) continue;
    if (auto m = make_dirs(f.path); !m) return m;
  }
  std::vector<std::pair<std::string, std::string>> staged;  // temp, target
  const auto discard = [&staged] {
    for (const auto& [temp, target] : staged) ::unlink(temp.c_str());
  };
  for (const auto& f : files) {
    if (f.folder) continue;
    auto temp = stage_temp(f.path, f.contents, f.mode, f.owner);
    if (!temp) {
      discard();
      return std::unexpected(temp.error());
    }
    staged.emplace_back(std::move(*temp), f.path);
  }
  for (std::size_t i = 0; i < staged.size(); ++i) {
    if (auto r = commit_temp(staged[i].first, staged[i].second); !r) {
      for (std::size_t j = i + 1; j < staged.size(); ++j) ::unlink(staged[j].first.c_str());
      return r;
    }
  }
  return {};
}

Result<FileStat> LocalHost::stat(const std::string& path) {
  struct ::stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return FileStat{};
    return std::unexpected(io_error("stat", path, errno));
  }
  FileStat out;
  if (S_ISREG(st.st_mode)) out.type = FileType::regular;
  else if (S_ISDIR(st.st_mode)) out.type = FileType::directory;
  else if (S_ISLNK(st.st_mode)) out.type = FileType::symlink;
  else out.type = FileType::other;
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.mode = static_cast<unsigned>(st.st_mode) & 07777U;
  out.mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec);
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  return out;
}

Result<std::vector<std::string>> LocalHost::list(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    const int e = errno;
    return std::unexpected(Error{e == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                                 "list " + dir + ": " + errno_text(e)});
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(d)) {
    const std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(d);
  std::ranges::sort(names);
  return names;
}

Result<void> LocalHost::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return fail(ErrorCode::io, "rename " + from + " to " + to + ": " + errno_text(errno));
  }
  return {};
}

Result<void> LocalHost::remove(const std::string& path) {
  struct ::stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return std::unexpected(io_error("remove", path, errno));
  }
  const int rc = S_ISDIR(st.st_mode) ? ::rmdir(path.c_str()) : ::unlink(path.c_str());
  if (rc != 0 && errno != ENOENT) return std::unexpected(io_error("remove", path, errno));
  return {};
}

Result<void> LocalHost::make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return fail(ErrorCode::io, "create folder " + path + ": " + ec.message());
  return {};
}

}  // namespace picluster::nfsroot
