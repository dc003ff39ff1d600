#pragma once
// Helpers for the nfsroot integration tests: temp folders, shell-free command runs, skips.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "nfsroot/local_host.hpp"

namespace picluster::nfsroot::it {

inline std::string make_temp_dir(const std::string& tag) {
  std::string tmpl = "/tmp/picluster-" + tag + "-XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  return made == nullptr ? std::string() : std::string(made);
}

// Runs argv on this machine; fails the test (and returns "") on a non-zero exit.
inline std::string sh(const std::vector<std::string>& argv, const std::string& input = {}) {
  LocalHost host;
  RunOptions o;
  o.input = input;
  o.timeout = std::chrono::minutes(5);
  auto r = host.run(argv, o);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (!r) return {};
  EXPECT_EQ(r->exit_status, 0) << describe_failure(argv, *r);
  return r->out;
}

inline bool have(const std::string& program) {
  LocalHost host;
  auto r = host.run({"sh", "-c", "command -v \"$1\"", "sh", program}, {});
  return r && r->exit_status == 0;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// A golden image with `files` 8 KiB files (big enough not to be inlined in btrfs metadata), plus etc/ssh host keys and a hostile symlink.
inline void make_golden(const std::filesystem::path& root, int files, const std::string& version) {
  std::filesystem::create_directories(root / "etc/ssh");
  spit(root / "etc/version", version);
  spit(root / "etc/hostname", "raspberrypi\n");
  spit(root / "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  spit(root / "etc/ssh/ssh_host_ed25519_key", "GOLDEN-KEY\n");
  std::filesystem::create_symlink("/tmp/picluster-escape-target", root / "etc/hosts");
  for (int i = 0; i < files; ++i) {
    spit(root / "usr/share" / ("d" + std::to_string(i / 100)) / ("f" + std::to_string(i)), std::string(8192, 'x'));
  }
}

// Dates a golden image's top folder to 2001, as an image unpacked from an old tarball is.
inline void set_old_mtime(const std::filesystem::path& root) {
  sh({"touch", "-d", "2001-01-01 00:00:00", root.string()});
}

inline std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace picluster::nfsroot::it
