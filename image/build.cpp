#include "image/build.hpp"

#include "common/text.hpp"
#include "image/adapt.hpp"
#include "image/boot_set.hpp"
#include "nfsroot/install.hpp"

namespace picluster::image {

namespace {

bool safe_token(const std::string& s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '+' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

// Run through `sh -c 'exec "$@" 2>&1'` so mmdebstrap's "I: ..." lines arrive as progress.
std::vector<std::string> merged_output(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"sh", "-c", "exec \"$@\" 2>&1", "sh"});
  return argv;
}

}  // namespace

Result<Recipe> parse_recipe(std::string_view text, const std::string& where) {
  const auto j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(ErrorCode::invalid_argument, where + ": not a JSON object");
  Recipe r;
  const auto str = [&](const char* key, std::string& out) -> Result<void> {
    if (!j.contains(key)) return {};
    if (!j[key].is_string()) return fail(ErrorCode::invalid_argument, where + ": " + key + ": expected a string");
    out = j[key].get<std::string>();
    return {};
  };
  for (auto [key, out] : {std::pair{"suite", &r.suite}, std::pair{"arch", &r.arch}, std::pair{"mirror", &r.mirror}}) {
    if (auto ok = str(key, *out); !ok) return std::unexpected(ok.error());
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "suite" && key != "arch" && key != "mirror" && key != "packages" && key != "files") {
      return fail(ErrorCode::invalid_argument, where + ": unknown key " + printable(key) +
                                                   " (suite, arch, mirror, packages, files)");
    }
  }
  if (!safe_token(r.suite)) return fail(ErrorCode::invalid_argument, where + ": suite: " + printable(r.suite) + " is not a suite name");
  if (r.arch != "arm64" && r.arch != "armhf") {
    return fail(ErrorCode::invalid_argument, where + ": arch: " + printable(r.arch) + " is not a Pi architecture (arm64 or armhf)");
  }
  if (!r.mirror.starts_with("http://") && !r.mirror.starts_with("https://") && !r.mirror.starts_with("file:/")) {
    return fail(ErrorCode::invalid_argument, where + ": mirror: " + printable(r.mirror) + " is not an http(s) or file URL");
  }
  if (r.mirror.find_first_of(" \t\n'\"") != std::string::npos) {
    return fail(ErrorCode::invalid_argument, where + ": mirror: " + printable(r.mirror) + " has spaces or quotes");
  }
  if (j.contains("packages")) {
    if (!j["packages"].is_array()) return fail(ErrorCode::invalid_argument, where + ": packages: expected an array of names");
    for (const auto& p : j["packages"]) {
      if (!p.is_string() || !safe_token(p.get<std::string>())) {
        return fail(ErrorCode::invalid_argument, where + ": packages: " + printable(p.dump()) + " is not a package name");
      }
      r.packages.push_back(p.get<std::string>());
    }
  }
  if (j.contains("files")) {
    if (!j["files"].is_object()) return fail(ErrorCode::invalid_argument, where + ": files: expected an object of path -> contents");
    for (const auto& [path, contents] : j["files"].items()) {
      if (auto v = nfsroot::validate_relative_path(path); !v || !contents.is_string()) {
        return fail(ErrorCode::invalid_argument, where + ": files: " + printable(path) +
                                                     (v ? ": expected a string" : ": " + v.error().message));
      }
      r.files[path] = contents.get<std::string>();
    }
  }
  return r;
}

Json to_json(const Recipe& r) {
  Json j;
  j["suite"] = r.suite;
  j["arch"] = r.arch;
  j["mirror"] = r.mirror;
  j["packages"] = r.packages;
  j["files"] = Json::object();
  for (const auto& [p, c] : r.files) j["files"][p] = c;
  return j;
}

std::vector<std::string> base_packages(const std::string& arch) {
  return {"systemd-sysv", "udev", arch == "armhf" ? "linux-image-armmp" : "linux-image-arm64", "raspi-firmware",
          "initramfs-tools", "openssh-server", "ifupdown", "vlan", "iproute2", "kmod", "netbase"};
}

std::string binfmt_handler(const std::string& arch) {
  if (arch == "arm64") return "qemu-aarch64";
  if (arch == "armhf") return "qemu-arm";
  return "";
}

Result<void> check_host(const HostFacts& f, const std::string& arch) {
  if (!f.mmdebstrap) return fail(ErrorCode::not_found, "mmdebstrap is not installed: apt-get install mmdebstrap");
  if (f.native_arch == arch) return {};
  const std::string why = "building " + arch + " on " + f.native_arch + " needs qemu-user through binfmt_misc: ";
  if (!f.binfmt_mounted) {
    return fail(ErrorCode::not_found, why + "binfmt_misc is not mounted: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc");
  }
  if (f.handler_state.empty()) {
    return fail(ErrorCode::not_found, why + "no " + f.handler +
                                          " handler is registered: apt-get install qemu-user-static binfmt-support");
  }
  if (f.handler_state != "enabled") {
    return fail(ErrorCode::not_found, why + f.handler + " is " + f.handler_state + ": update-binfmts --enable " + f.handler);
  }
  if (!f.arch_test) {
    return fail(ErrorCode::not_found, why + "arch-test " + arch +
                                          " failed (mmdebstrap needs it for foreign architectures): apt-get install arch-test");
  }
  return {};
}

Result<HostFacts> probe_host(Host& host, const std::string& arch) {
  HostFacts f;
  auto native = nfsroot::check(host, {"dpkg", "--print-architecture"});
  if (!native) return std::unexpected(native.error());
  f.native_arch = native->out.substr(0, native->out.find('\n'));
  auto mm = host.run({"mmdebstrap", "--version"});
  f.mmdebstrap = mm && mm->exit_status == 0;
  auto status = host.stat("/proc/sys/fs/binfmt_misc/status");
  if (!status) return std::unexpected(status.error());
  f.binfmt_mounted = status->type != nfsroot::FileType::none;
  f.handler = binfmt_handler(arch);
  if (f.binfmt_mounted && !f.handler.empty()) {
    auto text = host.read_file("/proc/sys/fs/binfmt_misc/" + f.handler);
    if (text) f.handler_state = text->substr(0, text->find('\n'));
  }
  auto at = host.run({"arch-test", arch});
  f.arch_test = at && at->exit_status == 0;
  return f;
}

Result<void> check_can_run(Host& host, const std::string& arch) {
  HostFacts f;
  f.mmdebstrap = true;  // not needed to run programs
  f.arch_test = true;   // a broken qemu shows as CMD failing to start
  f.handler = binfmt_handler(arch);
  auto status = host.stat("/proc/sys/fs/binfmt_misc/status");
  if (!status) return std::unexpected(status.error());
  f.binfmt_mounted = status->type != nfsroot::FileType::none;
  if (f.binfmt_mounted && !f.handler.empty()) {
    auto text = host.read_file("/proc/sys/fs/binfmt_misc/" + f.handler);
    if (text) f.handler_state = text->substr(0, text->find('\n'));
  }
  if (f.handler_state == "enabled") return {};
  auto native = nfsroot::check(host, {"dpkg", "--print-architecture"});
  if (!native) return std::unexpected(native.error());
  f.native_arch = native->out.substr(0, native->out.find('\n'));
  return check_host(f, arch);
}

std::vector<std::string> mmdebstrap_argv(const Recipe& r, const std::string& target, const std::string& cache) {
  auto packages = base_packages(r.arch);
  packages.insert(packages.end(), r.packages.begin(), r.packages.end());
  std::vector<std::string> argv = {
      "mmdebstrap", "--mode=root", "--variant=minbase", "--arch=" + r.arch,
      "--components=main,non-free-firmware", "--aptopt=APT::Install-Recommends \"false\";",
      "--aptopt=Acquire::Retries \"3\";", "--dpkgopt=path-exclude=/usr/share/man/*",
      "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-include=/usr/share/doc/*/copyright",
      "--dpkgopt=path-exclude=/usr/share/locale/*", "--dpkgopt=path-exclude=/usr/share/info/*",
      "--include=" + join(packages, ","), "--skip=essential/unlink",
      "--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives/",
      "--setup-hook=sync-in " + cache + " /var/cache/apt/archives/",
      // update-initramfs is diverted while packages are configured: under qemu-user each run costs
      // minutes, and the kernel, raspi-firmware and initramfs-tools would each start one.
      "--essential-hook=chroot \"$1\" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && "
      "printf '#!/bin/sh\\necho update-initramfs: deferred by picluster\\n' > \"$1\"/usr/sbin/update-initramfs && "
      "chmod 755 \"$1\"/usr/sbin/update-initramfs",
      "--customize-hook=sync-out /var/cache/apt/archives " + cache,
      "--customize-hook=rm -f \"$1\"/usr/sbin/update-initramfs && chroot \"$1\" dpkg-divert --quiet --local --rename "
      "--remove /usr/sbin/update-initramfs",
      // One initramfs, at the end: NFS root, only network and NFS modules, gzip (fast under qemu).
      "--customize-hook=mkdir -p \"$1\"/etc/initramfs-tools/conf.d && printf 'BOOT=nfs\\nMODULES=netboot\\nCOMPRESS=gzip\\n' > "
      "\"$1\"/etc/initramfs-tools/conf.d/picluster",
      "--customize-hook=chroot \"$1\" update-initramfs -c -k all",
      r.suite, target, "deb " + r.mirror + " " + r.suite + " main non-free-firmware"};
  return argv;
}

Result<ImageMeta> build_image(Store& store, const BuildRequest& req, const Options& options) {
  Host& host = store.host();
  const std::string label = "image " + req.name;
  // 1. the host can build this architecture
  auto facts = probe_host(host, req.recipe.arch);
  if (!facts) return std::unexpected(facts.error().with_context(label));
  if (auto ok = check_host(*facts, req.recipe.arch); !ok) return std::unexpected(ok.error().with_context(label + ": " + host.name()));
  const std::string cache = store.cache_dir() + "/" + req.recipe.suite + "-" + req.recipe.arch;
  auto versions = store.versions(req.name);
  if (!versions) return std::unexpected(versions.error());
  const int next = versions->empty() ? 1 : versions->back() + 1;
  if (options.dry_run) {
    options.say("would build " + req.name + "@" + std::to_string(next) + " (" + req.recipe.arch + ", " +
                req.recipe.suite + ") in " + store.name_dir(req.name) + " on " + host.name());
    options.say("would run: " + shell_join(mmdebstrap_argv(req.recipe, store.name_dir(req.name) + "/.new-" + std::to_string(next) + "/root", cache)));
    options.say("would adapt the root for NFS boot and install " + std::to_string(req.recipe.files.size()) + " recipe files");
    return ImageMeta{req.name, next, req.recipe.arch, "", "build", req.recipe_source, to_json(req.recipe), "", ""};
  }
  // 2. a new version folder with an empty root (a btrfs subvolume where the store is btrfs)
  if (auto r = host.make_dirs(cache); !r) return std::unexpected(r.error());
  auto nv = store.begin(req.name, std::nullopt, options);
  if (!nv) return std::unexpected(nv.error().with_context(label));
  options.say(req.name + "@" + std::to_string(nv->version) + ": root in " + nv->root + " (" + nv->method + ")");
  const auto failed = [&](const Error& e) {
    store.abort(*nv, options);
    return std::unexpected(e.with_context(label));
  };
  // 3. mmdebstrap (download, unpack, configure under qemu-user, one initramfs)
  nfsroot::RunOptions ro;
  ro.timeout = std::chrono::hours(4);
  std::string pending;
  ro.on_output = [&](std::string_view chunk) {
    pending += chunk;
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      const std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.starts_with("I: ") || line.starts_with("E: ") || line.starts_with("W: ")) options.say("mmdebstrap: " + line.substr(3));
    }
  };
  auto run = host.run(merged_output(mmdebstrap_argv(req.recipe, nv->root, cache)), ro);
  if (!run) return failed(run.error());
  if (run->exit_status != 0) {
    std::string tail = run->out.size() > 2000 ? run->out.substr(run->out.size() - 2000) : run->out;
    return failed(Error{ErrorCode::command_failed, "mmdebstrap exited " + std::to_string(run->exit_status) + ":\n" + tail});
  }
  // 4. the recipe's files, then NFS-root adaptation
  std::vector<RenderedFile> files;
  for (const auto& [p, c] : req.recipe.files) files.push_back({p, c, 0644});
  if (auto r = nfsroot::install_files(host, nv->root, files); !r) return failed(r.error());
  if (auto r = adapt_root(host, nv->root, options); !r) return failed(r.error());
  // 5. record and commit
  ImageMeta meta{req.name, nv->version, req.recipe.arch, utc_now(), "build", req.recipe_source, to_json(req.recipe), nv->method, ""};
  auto kernel = root_kernel(host, nv->root);
  if (!kernel) return failed(kernel.error());
  meta.kernel = *kernel;
  if (auto r = store.commit(*nv, meta); !r) return failed(r.error());
  options.say(req.name + "@" + std::to_string(nv->version) + ": built (kernel " + meta.kernel + ")");
  return store.meta(req.name, nv->version);
}

}  // namespace picluster::image
