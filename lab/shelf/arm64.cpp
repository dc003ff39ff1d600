#include "lab/shelf/arm64.hpp"

#include <algorithm>

#include "image/build.hpp"
#include "image/store.hpp"
#include "inventory/inventory.hpp"
#include "lab/shelf/files.hpp"
#include "lab/shelf/process.hpp"
#include "nfsroot/local_host.hpp"

namespace picluster::lab {
namespace fs = std::filesystem;
namespace {

constexpr auto kLongStep = std::chrono::minutes(20);

inventory::Fileserver arm64_store_fileserver(const fs::path& cache_dir) {
  inventory::Fileserver f;
  f.transport = inventory::Transport::local;
  f.root_prefix = arm64_store_prefix(cache_dir).string();
  f.image_store = "/images";
  return f;
}

// The x86 entry's /srv disk, mounted read-only on `mnt` for as long as this lives.
class ReadOnlyMount {
 public:
  static Result<ReadOnlyMount> of(const fs::path& image, const fs::path& mnt) {
    std::error_code ec;
    fs::create_directories(mnt, ec);
    if (auto r = run_ok({"mount", "-o", "loop,ro", image.string(), mnt.string()}); !r) {
      return std::unexpected(r.error().with_context("mount " + image.string()));
    }
    return ReadOnlyMount(mnt);
  }
  ReadOnlyMount(ReadOnlyMount&& other) noexcept : m_mnt(std::exchange(other.m_mnt, {})) {}
  ReadOnlyMount& operator=(ReadOnlyMount&&) = delete;
  ~ReadOnlyMount() {
    if (!m_mnt.empty()) (void)run_ok({"umount", m_mnt.string()});  // the loop device autoclears
  }

 private:
  explicit ReadOnlyMount(fs::path mnt) : m_mnt(std::move(mnt)) {}
  fs::path m_mnt;
};

// The stage's srv/: every folder the role made on the x86 /srv disk (nfsroot, tftp, golden, ...)
// but the x86 golden image, whose place takes a copy of the arm64 image's root.
Result<void> stage_srv(const fs::path& stage, const Images& x86, const fs::path& image_root) {
  const fs::path srv = stage / "srv";
  {
    auto mnt = ReadOnlyMount::of(x86.srv_disk, stage / "x86-srv");
    if (!mnt) return std::unexpected(mnt.error());
    std::error_code ec;
    fs::create_directories(srv, ec);
    for (const auto& e : fs::directory_iterator(stage / "x86-srv", ec)) {
      const fs::path to = srv / e.path().filename();
      if (auto r = run_ok({"cp", "-a", "--", e.path().string(), to.string()}, RunOptions{kLongStep, {}}); !r) {
        return r;
      }
    }
    if (ec) return fail(ErrorCode::io, "list " + (stage / "x86-srv").string() + ": " + ec.message());
  }
  std::error_code ec;
  fs::remove(stage / "x86-srv", ec);
  const fs::path golden = srv / "golden/pi";
  fs::remove_all(golden, ec);
  if (ec) return fail(ErrorCode::io, "empty " + golden.string() + ": " + ec.message());
  return with_context(run_ok({"cp", "-a", "--reflink=auto", "--", image_root.string(), golden.string()}, RunOptions{kLongStep, {}}),
                      "copy the arm64 image");
}

// The image root's kernel version: the newest /boot/vmlinuz-V that has its initrd.img-V.
Result<std::string> image_kernel(const fs::path& root) {
  std::vector<std::string> versions;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root / "boot", ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("vmlinuz-") && fs::is_regular_file(root / "boot" / ("initrd.img-" + name.substr(8)), ec)) {
      versions.push_back(name.substr(8));
    }
  }
  if (versions.empty()) return fail(ErrorCode::not_found, (root / "boot").string() + ": no vmlinuz-V with its initrd.img-V");
  std::sort(versions.begin(), versions.end());
  return versions.back();
}

}  // namespace

Arm64Images arm64_images_at_dir(const fs::path& dir) {
  return Arm64Images{dir, dir / "vmlinuz", dir / "initrd.img", dir / "srv.img"};
}

bool arm64_images_ready(const Arm64Images& images) {
  std::error_code ec;
  for (const auto& p : {images.kernel, images.initrd, images.srv_disk}) {
    if (!fs::is_regular_file(p, ec)) return false;
  }
  return true;
}

fs::path arm64_store_prefix(const fs::path& cache_dir) { return fs::absolute(cache_dir) / "arm64"; }

Result<fs::path> ensure_arm64_image(const fs::path& cache_dir, const fs::path& seed_debs,
                                    const std::function<void(const std::string&)>& progress) {
  nfsroot::LocalHost host;
  const auto fileserver = arm64_store_fileserver(cache_dir);
  image::Store store(host, fileserver);
  auto versions = store.versions(kArm64ImageName);
  if (!versions) return std::unexpected(versions.error().with_context("arm64 image store " + store.path()));
  if (!versions->empty()) return fs::path(store.version_dir(kArm64ImageName, versions->back()));
  std::error_code ec;
  const fs::path debs = fs::path(store.cache_dir()) / "bookworm-arm64";
  if (!fs::exists(debs, ec) && fs::is_directory(seed_debs, ec)) {
    fs::create_directories(debs.parent_path(), ec);
    if (auto r = run_ok({"cp", "-a", "--", seed_debs.string(), debs.string()}); !r) return std::unexpected(r.error());
  }
  progress("building the arm64 image " + std::string(kArm64ImageName) + "@1 in " + store.path() +
           " (picluster image build --arch arm64: about 40-55 minutes under qemu-user)");
  image::BuildRequest request;
  request.name = kArm64ImageName;
  request.recipe.arch = "arm64";
  request.recipe.suite = "bookworm";
  request.recipe.mirror = default_mirror("bookworm");
  request.recipe_source = "picluster lab up --arch arm64";
  image::Options options;
  options.progress = progress;
  auto meta = image::build_image(store, request, options);
  if (!meta) return std::unexpected(meta.error().with_context("arm64 image"));
  return fs::path(store.version_dir(kArm64ImageName, meta->version));
}

Result<Arm64Images> ensure_arm64_images(const fs::path& cache_dir, const Images& x86, const Recipe& recipe,
                                        const fs::path& image_version,
                                        const std::function<void(const std::string&)>& progress) {
  const std::string tag = image_version.parent_path().filename().string() + "-" + image_version.filename().string();
  const Arm64Images images = arm64_images_at_dir(fs::absolute(cache_dir) / (x86.dir.filename().string() + "-arm64-" + tag));
  if (arm64_images_ready(images)) return images;
  const fs::path root = image_version / "root";
  auto kernel = image_kernel(root);
  if (!kernel) return std::unexpected(kernel.error());
  std::error_code ec;
  auto staged = begin_stage(images.dir);
  if (!staged) return std::unexpected(staged.error());
  const fs::path stage = *staged;
  const fs::path log = images.dir.string() + ".build.log";
  progress("arm64 lab entry " + images.dir.string() + ": kernel " + *kernel + ", /srv disk with the image as golden image");
  fs::copy_file(root / "boot" / ("vmlinuz-" + *kernel), stage / "vmlinuz", ec);
  fs::copy_file(root / "boot" / ("initrd.img-" + *kernel), stage / "initrd.img", ec);
  if (ec) return fail(ErrorCode::io, "copy the arm64 kernel: " + ec.message());
  if (auto r = stage_srv(stage, x86, root); !r) return std::unexpected(r.error().with_context("arm64 /srv"));
  const std::string keys = read_text(x86.dir / "client_key.pub") + read_text(x86.dir / "fileserver_client_key.pub");
  if (auto r = prepare_pi_root(stage / "srv/golden/pi", recipe, keys); !r) return std::unexpected(r.error());
  progress("mkfs.btrfs --rootdir: arm64 /srv disk image (" + recipe.srv_disk_size + ", sparse)");
  if (auto r = run_ok({"truncate", "-s", recipe.srv_disk_size, (stage / "srv.img").string()}); !r) return std::unexpected(r.error());
  if (auto r = run_ok({"mkfs.btrfs", "-q", "-f", "-L", "labsrv", "--rootdir", (stage / "srv").string(), (stage / "srv.img").string()},
                      RunOptions{kLongStep, log});
      !r) {
    return std::unexpected(r.error());
  }
  fs::remove_all(stage / "srv", ec);
  fs::permissions(stage / "srv.img", fs::perms(0444), ec);  // a backing file: never written
  fs::rename(stage, images.dir, ec);
  if (ec) return fail(ErrorCode::io, "rename " + stage.string() + " -> " + images.dir.string() + ": " + ec.message());
  return images;
}

}  // namespace picluster::lab
