// The boot set of a Debian-shaped image (the kernel package's files in the root, raspi-firmware
// installed, its hooks never run for that kernel) completed by picluster itself on import and
// exec, then staged into each Pi's TFTP folder for a Pi 3, a Pi 4 and a Pi 5.

#include <gmock/gmock.h>

#include "tests/integration/image/fixture.hpp"

namespace picluster::image_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class BootSet : public ImageShelf {
 protected:
  // <tftp_root>/vlan-<N>/<serial>: Pi n is allocated VLAN 9+n (the shelf's first VLAN is 10).
  [[nodiscard]] fs::path tftp(int pi) const {
    return m_prefix / "srv/tftp" / ("vlan-" + std::to_string(9 + pi)) / ("1234abc" + std::to_string(pi));
  }
  static bool present(const fs::path& p) { return fs::exists(fs::symlink_status(p)); }
};

const std::string kKernel = std::string("vmlinuz-") + kDebianKernel;
const std::string kInitrd = std::string("initrd.img-") + kDebianKernel;

TEST_F(BootSet, DebianKernelFirmwareAndDtbsAreCopiedInAndStagedPerModel) {
  write_inventory(3, "debian", {inventory::PiModel::pi3, inventory::PiModel::pi4, inventory::PiModel::pi5});
  const fs::path img = dir() / "debian.img";
  make_pi_image(dir() / "work", img, {.debian = true});
  auto r = pic({"image", "import", img.string(), "debian"});
  ASSERT_EQ(r.status, 0) << said(r);
  EXPECT_THAT(r.out, HasSubstr("adapt: boot set: " + kKernel + ", " + kInitrd + ", DTBs of usr/lib/linux-image-" +
                               kDebianKernel + "/broadcom"));

  // the version's boot/firmware: this kernel (not the older one the FAT had), the firmware, the
  // Pi DTBs and overlays, and picluster's config.txt naming them
  const fs::path root = version("debian", 1) / "root";
  const fs::path fw = root / "boot/firmware";
  EXPECT_EQ(testing::read_file(fw / kKernel), testing::read_file(root / "boot" / kKernel));
  EXPECT_EQ(testing::read_file(fw / kInitrd), testing::read_file(root / "boot" / kInitrd));
  for (const char* f : {"vmlinuz-6.1.0-9-arm64", "initrd.img-6.1.0-9-arm64", "bcm2711-rpi-cm4-io.dtb", "README"}) {
    EXPECT_FALSE(present(fw / f)) << f;
  }
  for (const char* f : {"bootcode.bin", "start.elf", "fixup.dat", "start4.elf", "fixup4.dat", "bcm2837-rpi-3-b.dtb",
                        "bcm2837-rpi-3-b-plus.dtb", "bcm2711-rpi-4-b.dtb", "bcm2712-rpi-5-b.dtb",
                        "overlays/disable-bt.dtbo"}) {
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(fw / f))) << f;
  }
  const std::string config = testing::read_file(fw / "config.txt");
  EXPECT_THAT(config, HasSubstr("\narm_64bit=1\n"));
  EXPECT_THAT(config, HasSubstr("\nkernel=" + kKernel + "\n"));
  EXPECT_THAT(config, HasSubstr("\ninitramfs " + kInitrd + " followkernel\n"));
  EXPECT_THAT(config, Not(HasSubstr("6.1.0-9")));
  auto list = pic({"image", "list", "--json"});
  ASSERT_EQ(list.status, 0) << said(list);
  EXPECT_EQ(json::parse(list.out)[0]["kernel"], kDebianKernel);

  // each Pi's TFTP folder: what its model's firmware fetches, picluster's config.txt and cmdline.txt
  for (int pi = 1; pi <= 3; ++pi) {
    r = pic({"rebuild", "pi0" + std::to_string(pi), "--no-power"});
    ASSERT_EQ(r.status, 0) << said(r);
    EXPECT_THAT(r.out + r.err, HasSubstr("boot set of debian@1 staged in " + tftp(pi).string()));
    EXPECT_THAT(r.out + r.err, Not(HasSubstr("warning"))) << pi;
    EXPECT_TRUE(fs::is_regular_file(tftp(pi) / kKernel)) << pi;
    EXPECT_TRUE(fs::is_regular_file(tftp(pi) / kInitrd)) << pi;
    EXPECT_THAT(testing::read_file(tftp(pi) / "picluster-image.txt"),
                HasSubstr("kernel=" + kKernel + "\ninitramfs " + kInitrd + " followkernel\n"));
    EXPECT_THAT(testing::read_file(tftp(pi) / "config.txt"), HasSubstr("include picluster-image.txt"));
    EXPECT_THAT(testing::read_file(tftp(pi) / "cmdline.txt"), HasSubstr("nfsroot="));
    EXPECT_FALSE(present(tftp(pi) / "bcm2711-rpi-cm4-io.dtb"));
  }
  for (const char* f : {"bootcode.bin", "start.elf", "fixup.dat", "bcm2837-rpi-3-b.dtb"}) {
    EXPECT_TRUE(fs::is_regular_file(tftp(1) / f)) << "pi3: " << f;
  }
  // The Pi 3's boot ROM asks for bootcode.bin at the TFTP root it sees: its VLAN's own.
  EXPECT_TRUE(fs::is_regular_file(tftp(1).parent_path() / "bootcode.bin"));
  EXPECT_THAT(testing::read_file(tftp(1) / "config.txt"), HasSubstr("Raspberry Pi 3"));
  for (const char* f : {"start4.elf", "fixup4.dat", "bcm2711-rpi-4-b.dtb", "overlays/disable-bt.dtbo"}) {
    EXPECT_TRUE(fs::is_regular_file(tftp(2) / f)) << "pi4: " << f;
  }
  EXPECT_TRUE(fs::is_regular_file(tftp(3) / "bcm2712-rpi-5-b.dtb"));
  EXPECT_THAT(testing::read_file(tftp(3) / "config.txt"), HasSubstr("Raspberry Pi 5"));

  // exec completes the boot set again: a kernel that no longer ships the Pi 5's DTB takes it out
  // of the next version, and staging it for the Pi 5 says what that Pi will miss
  if (!fs::exists("/proc/sys/fs/binfmt_misc/status")) {
    (void)testing::run({"mount", "-t", "binfmt_misc", "binfmt_misc", "/proc/sys/fs/binfmt_misc"});
  }
  if (!fs::exists("/proc/sys/fs/binfmt_misc/qemu-aarch64")) GTEST_SKIP() << "exec needs qemu-user-static (binfmt qemu-aarch64)";
  r = pic({"image", "exec", "debian", "--", "/bin/busybox", "rm",
           std::string("/usr/lib/linux-image-") + kDebianKernel + "/broadcom/bcm2712-rpi-5-b.dtb"});
  ASSERT_EQ(r.status, 0) << said(r);
  EXPECT_FALSE(present(version("debian", 2) / "root/boot/firmware/bcm2712-rpi-5-b.dtb"));
  EXPECT_TRUE(fs::is_regular_file(version("debian", 2) / "root/boot/firmware/bcm2711-rpi-4-b.dtb"));
  EXPECT_TRUE(fs::is_regular_file(version("debian", 1) / "root/boot/firmware/bcm2712-rpi-5-b.dtb"));
  r = pic({"rebuild", "pi03", "--no-power"});
  ASSERT_EQ(r.status, 0) << said(r);
  EXPECT_THAT(r.out + r.err, HasSubstr("boot set of debian@2 staged in " + tftp(3).string() +
                                           "; warning: a pi5 will not find bcm2712-rpi-5-b.dtb there"));
  EXPECT_FALSE(present(tftp(3) / "bcm2712-rpi-5-b.dtb"));
}

}  // namespace
}  // namespace picluster::image_test
