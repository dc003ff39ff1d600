#include "image/exec.hpp"

#include <chrono>
#include <cstdio>

#include "common/text.hpp"
#include "image/adapt.hpp"
#include "image/build.hpp"

namespace picluster::image {

namespace {

constexpr std::string_view kStarting = "picluster-exec: CMD starts";

// CMD in a chroot of `root`, in a mount namespace of its own where /proc, /sys and /dev are
// mounted: the mounts end with CMD's last process, even if picluster is killed meanwhile, and
// nothing is left to unmount. The marker line on stdout says CMD is about to start.
std::vector<std::string> chroot_argv(const std::string& root, const std::vector<std::string>& cmd) {
  std::vector<std::string> argv{
      "unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
      "mount -t proc proc \"$1/proc\" && mount -t sysfs sysfs \"$1/sys\" && mount -t devtmpfs devtmpfs \"$1/dev\" && "
      "echo '" + std::string(kStarting) + "' && exec chroot \"$@\"",
      "sh", root};
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  return argv;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Result<ExecResult> exec_image(Store& store, const ExecRequest& req, const Options& options) {
  const auto started = std::chrono::steady_clock::now();
  Host& host = store.host();
  if (req.argv.empty()) return fail(ErrorCode::invalid_argument, "image exec: no command given (image exec NAME -- CMD...)");
  auto from = store.resolve(req.ref);
  if (!from) return std::unexpected(from.error());
  const std::string src = req.ref.name + "@" + std::to_string(*from);
  auto meta = store.meta(req.ref.name, *from);
  if (!meta) return std::unexpected(meta.error());
  // A foreign architecture needs qemu-user through binfmt_misc.
  if (auto ok = check_can_run(host, meta->arch.empty() ? "arm64" : meta->arch); !ok) {
    return std::unexpected(ok.error().with_context("image exec " + src));
  }
  if (options.dry_run) {
    options.say("would snapshot " + src + " into version " + req.ref.name + "@next and run in a chroot: " + shell_join(req.argv));
    return ExecResult{*meta, 0};
  }
  const auto snapshot_started = std::chrono::steady_clock::now();
  auto nv = store.begin(req.ref.name, *from, options);
  if (!nv) return std::unexpected(nv.error());
  const double snapshot_seconds = seconds_since(snapshot_started);
  const auto failed = [&](const Error& e) {
    store.abort(*nv, options);
    return std::unexpected(e.with_context("image exec " + src));
  };
  ExecResult out;
  for (const char* dir : {"proc", "sys", "dev", "usr/sbin"}) {
    if (auto r = real_dirs(host, nv->root, dir); !r) return failed(r.error());
  }
  const std::string policy = nv->root + "/usr/sbin/policy-rc.d";
  auto had_policy = host.stat(policy);
  if (!had_policy) return failed(had_policy.error());
  if (had_policy->type == nfsroot::FileType::none) {
    if (auto r = host.write_file(policy, "#!/bin/sh\nexit 101\n", 0755, nfsroot::Owner{}); !r) return failed(r.error());
  }
  nfsroot::RunOptions ro;
  ro.timeout = std::chrono::hours(4);
  std::string pending;
  const auto line_out = [&](const std::string& line) {
    if (line == kStarting) {
      out.setup_seconds = seconds_since(started);
      char figures[100];
      std::snprintf(figures, sizeof figures, "CMD started %.3f s after exec began, of which the new version %.3f s",
                    out.setup_seconds, snapshot_seconds);
      options.say("exec: " + shell_join(req.argv) + " in " + req.ref.name + "@" + std::to_string(nv->version) + " (" +
                  figures + ")");
    } else if (!line.empty()) {
      options.say("exec: " + line);
    }
  };
  ro.on_output = [&](std::string_view chunk) {
    pending += chunk;
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      line_out(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  };
  auto run = host.run(chroot_argv(nv->root, req.argv), ro);
  line_out(pending);
  if (had_policy->type == nfsroot::FileType::none) (void)host.remove(policy);
  if (!run) return failed(run.error());
  if (run->exit_status != 0) {
    std::string err = run->err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return failed(Error{ErrorCode::command_failed, shell_join(req.argv) + " exited " + std::to_string(run->exit_status) +
                                                       (err.empty() ? "" : ": " + err) + "; no new version kept"});
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
