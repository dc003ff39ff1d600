#include "image/exec.hpp"

#include <chrono>
#include <cstdio>

#include "common/text.hpp"
#include "image/adapt.hpp"
#include "image/build.hpp"

namespace picluster::image {

namespace {

struct Mounts {
  Host& host;
  std::vector<std::string> mounted;
  ~Mounts() {
    for (auto it = mounted.rbegin(); it != mounted.rend(); ++it) (void)host.run({"umount", "--lazy", *it});
  }
};

}  // namespace

Result<ExecResult> exec_image(Store& store, const ExecRequest& req, const Options& options) {
  Host& host = store.host();
  if (req.argv.empty()) return fail(ErrorCode::invalid_argument, "image exec: no command given (image exec NAME -- CMD...)");
  auto from = store.resolve(req.ref);
  if (!from) return std::unexpected(from.error());
  const std::string src = req.ref.name + "@" + std::to_string(*from);
  auto meta = store.meta(req.ref.name, *from);
  if (!meta) return std::unexpected(meta.error());
  // A foreign architecture needs qemu-user through binfmt_misc.
  auto facts = probe_host(host, meta->arch.empty() ? "arm64" : meta->arch);
  if (!facts) return std::unexpected(facts.error());
  if (facts->native_arch != meta->arch) {
    HostFacts f = *facts;
    f.mmdebstrap = true;  // not needed here
    if (auto ok = check_host(f, meta->arch); !ok) return std::unexpected(ok.error().with_context("image exec " + src));
  }
  if (options.dry_run) {
    options.say("would snapshot " + src + " into version " + req.ref.name + "@next and run in a chroot: " + shell_join(req.argv));
    return ExecResult{*meta, 0};
  }
  const auto started = std::chrono::steady_clock::now();
  auto nv = store.begin(req.ref.name, *from, options);
  if (!nv) return std::unexpected(nv.error());
  const double snapshot_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto failed = [&](const Error& e) {
    store.abort(*nv, options);
    return std::unexpected(e.with_context("image exec " + src));
  };
  ExecResult out;
  {
    Mounts mounts{host, {}};
    for (const auto& [fstype, dir] : {std::pair{"proc", "proc"}, std::pair{"sysfs", "sys"}, std::pair{"devtmpfs", "dev"}}) {
      if (auto r = real_dirs(host, nv->root, dir); !r) return failed(r.error());
      const std::string target = nv->root + "/" + dir;
      if (auto r = nfsroot::check(host, {"mount", "-t", fstype, fstype, target}); !r) return failed(r.error());
      mounts.mounted.push_back(target);
    }
    if (auto r = real_dirs(host, nv->root, "usr/sbin"); !r) return failed(r.error());
    const std::string policy = nv->root + "/usr/sbin/policy-rc.d";
    auto had_policy = host.stat(policy);
    if (!had_policy) return failed(had_policy.error());
    if (had_policy->type == nfsroot::FileType::none) {
      if (auto r = host.write_file(policy, "#!/bin/sh\nexit 101\n", 0755, nfsroot::Owner{}); !r) return failed(r.error());
    }
    out.setup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    char setup[80];
    std::snprintf(setup, sizeof setup, "version ready in %.3f s, of which the new version %.3f s", out.setup_seconds,
                  snapshot_seconds);
    options.say("exec: " + shell_join(req.argv) + " in " + req.ref.name + "@" + std::to_string(nv->version) + " (" +
                setup + ")");
    std::vector<std::string> argv{"chroot", nv->root};
    argv.insert(argv.end(), req.argv.begin(), req.argv.end());
    nfsroot::RunOptions ro;
    ro.timeout = std::chrono::hours(4);
    ro.on_output = [&](std::string_view chunk) {
      for (const auto& line : split(chunk, '\n')) {
        if (!line.empty()) options.say("exec: " + line);
      }
    };
    auto run = host.run(argv, ro);
    if (had_policy->type == nfsroot::FileType::none) (void)host.remove(policy);
    if (!run) return failed(run.error());
    if (run->exit_status != 0) {
      std::string err = run->err;
      while (!err.empty() && err.back() == '\n') err.pop_back();
      return failed(Error{ErrorCode::command_failed, shell_join(req.argv) + " exited " + std::to_string(run->exit_status) +
                                                         (err.empty() ? "" : ": " + err) + "; no new version kept"});
    }
  }
  if (auto r = adapt_root(host, nv->root, {}); !r) return failed(r.error());
  ImageMeta next = *meta;
  next.created = utc_now();
  next.source = "exec";
  next.from = src + ": " + shell_join(req.argv);
  auto kernel = root_kernel(host, nv->root);
  if (!kernel) return failed(kernel.error());
  next.kernel = *kernel;
  if (auto r = store.commit(*nv, next); !r) return failed(r.error());
  auto committed = store.meta(req.ref.name, nv->version);
  if (!committed) return std::unexpected(committed.error());
  out.meta = *committed;
  options.say(req.ref.name + "@" + std::to_string(nv->version) + ": kept (" + nv->method + " of " + src + ")");
  return out;
}

}  // namespace picluster::image
