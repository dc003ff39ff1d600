// The real thing (label `image`, long): `picluster image build` of an arm64 bookworm root with
// mmdebstrap, configured under qemu-user, into a store on btrfs. Downloaded .debs are kept in
// /var/cache/picluster-tests/bookworm-arm64 between runs.

#include <gmock/gmock.h>

#include <fstream>

#include "image/adapt.hpp"
#include "tests/integration/image/fixture.hpp"

namespace picluster::image_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class Build : public ImageShelf {};

std::string head(const fs::path& p, std::size_t n) {
  std::ifstream in(p, std::ios::binary);
  std::string out(n, '\0');
  in.read(out.data(), static_cast<std::streamsize>(n));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

TEST_F(Build, Arm64BookwormRootIsReadyForNfsBootWithItsBootSet) {
  if (!testing::have_program("mmdebstrap")) GTEST_SKIP() << "needs mmdebstrap";
  if (!btrfs_prefix("4G")) GTEST_SKIP() << "cannot mount a btrfs loop image here";
  write_inventory(0);
  const fs::path cache = "/var/cache/picluster-tests/bookworm-arm64";
  fs::create_directories(cache);
  fs::create_directories(store() / ".cache");
  sh({"cp", "-a", cache.string(), (store() / ".cache/bookworm-arm64").string()});

  auto r = pic({"image", "build", "base", "--arch", "arm64", "--suite", "bookworm"}, 7000);
  ASSERT_EQ(r.status, 0) << said(r);
  sh({"rsync", "-a", (store() / ".cache/bookworm-arm64/").string(), cache.string() + "/"});
  EXPECT_THAT(r.out, HasSubstr("mmdebstrap: "));
  EXPECT_THAT(r.out, HasSubstr("built base@1 (arm64, new btrfs subvolume)"));
  const fs::path root = version("base", 1) / "root";
  // /sbin/init is systemd, an AArch64 program
  EXPECT_EQ(fs::read_symlink(root / "usr/sbin/init"), "/lib/systemd/systemd");
  EXPECT_EQ(image::elf_arch(head(root / "usr/lib/systemd/systemd", 20)), "arm64");
  // the boot set
  for (const char* f : {"start4.elf", "fixup4.dat", "bootcode.bin", "bcm2711-rpi-4-b.dtb", "config.txt"}) {
    EXPECT_TRUE(fs::is_regular_file(root / "boot/firmware" / f)) << f;
  }
  auto show = pic({"image", "show", "base", "--json"});
  ASSERT_EQ(show.status, 0) << said(show);
  const auto j = json::parse(show.out);
  const std::string initramfs = j["boot_set"]["initramfs"];
  ASSERT_FALSE(initramfs.empty()) << show.out;
  EXPECT_FALSE(j["boot_set"]["kernel"].get<std::string>().empty());
  // the initramfs mounts an NFS root: initramfs-tools' nfs script and the NFS client module
  const auto listing = sh({"sh", "-c", "zcat \"$1\" | cpio -t --quiet", "sh", (root / "boot/firmware" / initramfs).string()}).out;
  EXPECT_THAT(listing, HasSubstr("scripts/nfs"));
  EXPECT_THAT(listing, HasSubstr("/nfs.ko"));
  EXPECT_THAT(testing::read_file(root / "etc/initramfs-tools/conf.d/picluster"), HasSubstr("BOOT=nfs"));
  // no SD card, no host keys
  EXPECT_THAT(testing::read_file(root / "etc/fstab"), Not(HasSubstr("/dev/")));
  for (const auto& e : fs::directory_iterator(root / "etc/ssh")) {
    EXPECT_FALSE(e.path().filename().string().starts_with("ssh_host_")) << e.path();
  }
  EXPECT_EQ(testing::read_file(root / "etc/machine-id"), "");

  // a second version by exec shares the first's data, and has the same packages
  r = pic({"image", "exec", "base", "--", "touch", "/X"}, 1800);
  ASSERT_EQ(r.status, 0) << said(r);
  EXPECT_THAT(r.out, HasSubstr("base@2: btrfs snapshot of base@1"));
  auto diff = pic({"image", "diff", "base@1", "base@2"});
  ASSERT_EQ(diff.status, 0) << said(diff);
  EXPECT_EQ(diff.out, "no package changes\n");
}

}  // namespace
}  // namespace picluster::image_test
