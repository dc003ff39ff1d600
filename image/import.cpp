#include "image/import.hpp"

#include <unistd.h>

#include <functional>

#include "common/text.hpp"
#include "image/adapt.hpp"
#include "image/partitions.hpp"
#include "nfsroot/actions.hpp"

namespace picluster::image {

namespace {

// Undo steps run in reverse order when the import ends, however it ends.
class Cleanup {
 public:
  explicit Cleanup(const Options& options) : m_options(options) {}
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  ~Cleanup() {
    for (auto it = m_steps.rbegin(); it != m_steps.rend(); ++it) {
      if (auto r = (*it)(); !r) m_options.say("cleanup: " + r.error().message);
    }
  }
  void add(std::function<Result<void>()> step) { m_steps.push_back(std::move(step)); }

 private:
  const Options& m_options;
  std::vector<std::function<Result<void>()>> m_steps;
};

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Attaches a partition read-only and mounts it read-only at `mnt`; the loop device is detached
// right after the mount (the mount keeps it until umount).
Result<void> mount_partition(Host& host, const std::string& file, const Partition& p, const std::string& fstype,
                             const std::string& mnt, const std::string& what) {
  auto loop = nfsroot::check(host, {"losetup", "--read-only", "--find", "--show", "--offset", std::to_string(p.offset),
                                    "--sizelimit", std::to_string(p.size), "--", file});
  if (!loop) return std::unexpected(loop.error().with_context(what + ": attach a loop device"));
  const std::string dev = loop->out.substr(0, loop->out.find('\n'));
  const std::string opts = fstype == "ext4" ? "ro,noload" : "ro";
  auto mounted = host.run({"mount", "-t", fstype, "-o", opts, "--", dev, mnt});
  (void)host.run({"losetup", "--detach", dev});  // autoclear once mounted; freed now if not
  if (!mounted) return std::unexpected(mounted.error());
  if (mounted->exit_status != 0) {
    std::string err = mounted->err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return fail(ErrorCode::io, what + " (partition " + std::to_string(p.number) + ") is not a readable " +
                                                 fstype + " file system: " + err);
  }
  return {};
}

// Copies every file of the FAT file system in partition `p` into `dest` with mcopy (read-only).
Result<void> read_fat(Host& host, const std::string& file, const Partition& p, const std::string& dest,
                      const std::string& what) {
  auto r = host.run({"env", "MTOOLS_SKIP_CHECK=1", "mcopy", "-s", "-n", "-m", "-i", file + "@@" + std::to_string(p.offset),
                     "::*", dest + "/"});
  if (!r) return std::unexpected(r.error());
  if (r->exit_status != 0) {
    std::string err = r->err;
    for (char& c : err) {
      if (c == '\n') c = ' ';
    }
    while (!err.empty() && err.back() == ' ') err.pop_back();
    return fail(ErrorCode::io, what + " (partition " + std::to_string(p.number) +
                                                 ") is not a readable FAT file system: " + err);
  }
  return {};
}

Result<void> unmount(Host& host, const std::string& mnt) {
  auto r = nfsroot::check(host, {"umount", mnt});
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace

std::string name_from_file(const std::string& file) {
  std::string base = file.substr(file.rfind('/') + 1);
  for (const char* ext : {".xz", ".img", ".raw"}) {
    if (lower(base).ends_with(ext)) base.resize(base.size() - std::string(ext).size());
  }
  base = lower(base);
  return inventory::parse_image_ref(base) && base.find('@') == std::string::npos ? base : "";
}

Result<ImageMeta> import_image(Store& store, const ImportRequest& req, const Options& options) {
  Host& host = store.host();
  const std::string name = req.name.empty() ? name_from_file(req.file) : req.name;
  if (name.empty()) {
    return fail(ErrorCode::invalid_argument, req.file + ": cannot make an image name from the file name; give NAME");
  }
  if (auto ref = inventory::parse_image_ref(name); !ref || ref->version) {
    return fail(ErrorCode::invalid_argument, "image name " + printable(name) + ": want 1-63 of [a-z0-9._-]");
  }
  const std::string& where = req.file;
  auto st = host.stat(req.file);
  if (!st) return std::unexpected(st.error());
  if (st->type != nfsroot::FileType::regular) {
    return fail(ErrorCode::not_found, where + ": no such file on " + host.name());
  }
  Cleanup cleanup(options);
  if (auto r = host.make_dirs(store.work_dir()); !r) return std::unexpected(r.error());
  const std::string tag = name + "-" + std::to_string(::getpid());
  // 1. decompress
  std::string raw = req.file;
  if (lower(req.file).ends_with(".xz")) {
    raw = store.work_dir() + "/" + tag + ".img";
    cleanup.add([&host, raw] { return host.remove(raw); });
    options.say("import: decompressing " + req.file);
    nfsroot::RunOptions ro;
    ro.timeout = std::chrono::hours(1);
    auto xz = host.run({"sh", "-c", "xz --decompress --stdout -- \"$1\" > \"$2\"", "sh", req.file, raw}, ro);
    if (!xz) return std::unexpected(xz.error());
    if (xz->exit_status != 0) {
      std::string err = xz->err.substr(0, xz->err.find('\n'));
      return fail(ErrorCode::io, where + ": truncated or corrupt .xz file (" + err + ")");
    }
  }
  auto raw_st = host.stat(raw);
  if (!raw_st) return std::unexpected(raw_st.error());
  // 2. partition table
  auto sf = host.run({"sfdisk", "--json", "--", raw});
  if (!sf) return std::unexpected(sf.error());
  if (sf->exit_status != 0 || sf->out.empty()) {
    return fail(ErrorCode::io, where + ": no partition table (not a disk image, or its first sectors are damaged)");
  }
  auto table = parse_sfdisk_json(sf->out, where);
  if (!table) return std::unexpected(table.error());
  auto parts = pick_pi_partitions(*table, raw_st->size, where);
  if (!parts) return std::unexpected(parts.error());
  options.say("import: " + table->label + " table: boot partition " + std::to_string(parts->boot.number) + " (" +
              human_bytes(parts->boot.size) + "), root partition " + std::to_string(parts->root.number) + " (" +
              human_bytes(parts->root.size) + ")");
  if (options.dry_run) {
    auto vs = store.versions(name);
    if (!vs) return std::unexpected(vs.error());
    const int next = vs->empty() ? 1 : vs->back() + 1;
    options.say("would copy the root and boot partitions into " + name + "@" + std::to_string(next) + " in " +
                store.name_dir(name) + " and adapt it for NFS root");
    return ImageMeta{name, next, "", "", "import", req.file, nullptr, "", ""};
  }
  // 3. the root mounted read-only; the boot partition read with mtools (no mount: a fileserver's
  // kernel need not have vfat) into a folder of .work
  const std::string mnt_root = store.work_dir() + "/" + tag + "-root";
  const std::string boot_copy = store.work_dir() + "/" + tag + "-boot";
  if (auto r = host.make_dirs(mnt_root); !r) return std::unexpected(r.error());
  cleanup.add([&host, mnt_root] { return host.remove(mnt_root); });
  if (auto r = host.make_dirs(boot_copy); !r) return std::unexpected(r.error());
  cleanup.add([&host, boot_copy] { return nfsroot::remove_tree(host, boot_copy); });
  if (auto r = mount_partition(host, raw, parts->root, "ext4", mnt_root, where + ": root"); !r) return std::unexpected(r.error());
  cleanup.add([&host, mnt_root] { return unmount(host, mnt_root); });
  if (auto r = read_fat(host, raw, parts->boot, boot_copy, where + ": boot"); !r) return std::unexpected(r.error());
  // 4. a Pi's architecture
  auto arch = root_arch(host, mnt_root);
  if (!arch) return std::unexpected(arch.error().with_context(where));
  if (*arch != "arm64" && *arch != "armhf") {
    return fail(ErrorCode::io, where + ": the root holds " + *arch + " programs; a Raspberry Pi needs arm64 or armhf");
  }
  // 5. copy into a new version
  auto nv = store.begin(name, std::nullopt, options);
  if (!nv) return std::unexpected(nv.error());
  cleanup.add([&store, &nv, &options]() -> Result<void> {
    store.abort(*nv, options);
    return {};
  });
  options.say("import: copying the root (" + human_bytes(parts->root.size) + " partition) into " + name + "@" +
              std::to_string(nv->version));
  nfsroot::Action copy;
  copy.kind = nfsroot::ActionKind::run;
  copy.step = "copy";
  copy.argv = {"rsync", "-aHAXx", "--numeric-ids", "--info=progress2", "--no-inc-recursive", mnt_root + "/", nv->root + "/"};
  copy.progress = true;
  nfsroot::ExecOptions eo;
  eo.on_progress = [&](const nfsroot::Progress& p) { options.say("import: root " + nfsroot::describe(p)); };
  if (auto r = nfsroot::execute(host, {copy}, eo); !r) return std::unexpected(r.error());
  if (auto r = real_dirs(host, nv->root, "boot/firmware"); !r) return std::unexpected(r.error());
  options.say("import: copying the boot partition into boot/firmware");
  if (auto r = nfsroot::check(host, {"rsync", "-rt", boot_copy + "/", nv->root + "/boot/firmware/"}); !r) {
    return std::unexpected(r.error());
  }
  // 6. adapt and commit
  if (auto r = adapt_root(host, nv->root, options); !r) return std::unexpected(r.error());
  ImageMeta meta{name, nv->version, *arch, utc_now(), "import", req.file, nullptr, nv->method, ""};
  auto kernel = root_kernel(host, nv->root);
  if (!kernel) return std::unexpected(kernel.error());
  meta.kernel = *kernel;
  if (auto r = store.commit(*nv, meta); !r) return std::unexpected(r.error());
  options.say("import: " + name + "@" + std::to_string(nv->version) + " ready (" + *arch + ")");
  return store.meta(name, nv->version);
}

}  // namespace picluster::image
