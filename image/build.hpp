#pragma once
// `picluster image build`: a Debian root for the Pis made with mmdebstrap on the fileserver.
//
// A recipe (JSON) makes a build reproducible and is stored with the image:
//   {"suite": "bookworm", "arch": "arm64", "mirror": "http://deb.debian.org/debian",
//    "packages": ["htop"], "files": {"etc/motd": "hello\n"}}
// Every root gets the base set (kernel, raspi-firmware, initramfs-tools, systemd, ssh, ifupdown,
// vlan, ...) from components main and non-free-firmware. Foreign architectures run their
// maintainer scripts through qemu-user-static and binfmt_misc, checked first.
//
// What makes the build quicker under qemu-user: documentation, man pages and locales are never
// unpacked (dpkg path-exclude), Recommends are not installed, update-initramfs is diverted while
// packages are configured and run once at the end (MODULES=netboot, BOOT=nfs, gzip), and the
// downloaded .debs are kept in <store>/.cache/<suite>-<arch>/ for the next build.

#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/store.hpp"

namespace picluster::image {

struct Recipe {
  std::string suite = "bookworm";
  std::string arch = "arm64";
  std::string mirror = "http://deb.debian.org/debian";
  std::vector<std::string> packages;             // on top of base_packages(arch)
  std::map<std::string, std::string> files;      // path in the root -> contents
};

Result<Recipe> parse_recipe(std::string_view json, const std::string& where);
Json to_json(const Recipe& recipe);

// The packages every Pi root gets.
std::vector<std::string> base_packages(const std::string& arch);

// Facts about the build host that decide whether a foreign-architecture build can run.
struct HostFacts {
  std::string native_arch;     // dpkg --print-architecture
  bool mmdebstrap = false;
  bool binfmt_mounted = false; // /proc/sys/fs/binfmt_misc/status exists
  std::string handler;         // "qemu-aarch64" / "qemu-arm"
  std::string handler_state;   // first line of /proc/sys/fs/binfmt_misc/<handler>: "enabled",
                               // "disabled", "" = not registered
  bool arch_test = false;      // `arch-test ARCH` succeeded
};
// The binfmt handler that runs `arch`'s programs ("qemu-aarch64"), "" for an unknown arch.
std::string binfmt_handler(const std::string& arch);
// Ok, or an error naming exactly what to install or mount.
Result<void> check_host(const HostFacts& facts, const std::string& arch);
Result<HostFacts> probe_host(Host& host, const std::string& arch);
// Ok when the host can run `arch`'s programs in a chroot (image exec): its binfmt handler is
// enabled (two file reads, no process), or, failing that, it is the host's own architecture (one
// dpkg run); else check_host's error. No mmdebstrap or arch-test run: exec needs neither.
Result<void> check_can_run(Host& host, const std::string& arch);

// The mmdebstrap command line for `recipe` into `target`, caching .debs in `cache`.
std::vector<std::string> mmdebstrap_argv(const Recipe& recipe, const std::string& target,
                                         const std::string& cache);

struct BuildRequest {
  std::string name;
  Recipe recipe;
  std::string recipe_source;  // the recipe file, or "command line"
};

// Builds NAME@N (N = latest + 1). A dry run checks the host and says what it would run.
Result<ImageMeta> build_image(Store& store, const BuildRequest& request, const Options& options);

}  // namespace picluster::image
