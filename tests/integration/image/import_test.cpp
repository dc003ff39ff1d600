// `picluster image import` of Raspberry-Pi-OS-shaped images the test builds itself (pi_image.hpp),
// plain and .xz, into a store on a plain folder; then broken images, each refused with one error
// and leaving no loop device, mount or version behind.

#include <gmock/gmock.h>

#include "tests/integration/image/fixture.hpp"

namespace picluster::image_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class Import : public ImageShelf {};

TEST_F(Import, RaspberryPiOsImageBecomesAnNfsReadyVersionWithItsBootSet) {
  write_inventory(0);
  const fs::path img = dir() / "2024-11-19-raspios-bookworm-arm64-lite.img";
  make_pi_image(dir() / "work", img);
  auto r = pic({"image", "import", img.string()});
  ASSERT_EQ(r.status, 0) << said(r);
  const std::string name = "2024-11-19-raspios-bookworm-arm64-lite";
  EXPECT_THAT(r.out, HasSubstr("boot partition 1"));
  EXPECT_THAT(r.out, HasSubstr("imported " + name + "@1 (arm64, new folder)"));
  const fs::path root = version(name, 1) / "root";
  // the root, copied
  EXPECT_TRUE(fs::is_regular_file(root / "bin/busybox"));
  EXPECT_EQ(testing::read_file(root / "etc/picluster/image"), name + "@1\n");
  // the FAT, as the boot set
  for (const char* f : {"start4.elf", "fixup4.dat", "bootcode.bin", "bcm2711-rpi-4-b.dtb", "overlays/disable-bt.dtbo",
                        "kernel8.img", "config.txt"}) {
    EXPECT_TRUE(fs::is_regular_file(root / "boot/firmware" / f)) << f;
  }
  // adapted for NFS root
  const std::string fstab = testing::read_file(root / "etc/fstab");
  EXPECT_THAT(fstab, Not(HasSubstr("PARTUUID")));
  EXPECT_THAT(fstab, Not(HasSubstr("swap")));
  EXPECT_THAT(fstab, HasSubstr("proc"));
  for (const char* unit : {"dphys-swapfile", "userconfig", "regenerate_ssh_host_keys", "dhcpcd", "resize2fs_once"}) {
    const fs::path masked = root / "etc/systemd/system" / (std::string(unit) + ".service");
    ASSERT_TRUE(fs::is_symlink(masked)) << unit;
    EXPECT_EQ(fs::read_symlink(masked), "/dev/null") << unit;
    EXPECT_FALSE(fs::exists(fs::symlink_status(root / "etc/systemd/system/multi-user.target.wants" /
                                               (std::string(unit) + ".service"))))
        << unit;
  }
  EXPECT_FALSE(fs::exists(fs::symlink_status(root / "etc/rc3.d/S01resize2fs_once")));
  EXPECT_EQ(fs::read_symlink(root / "etc/systemd/system/multi-user.target.wants/ssh.service"),
            "/lib/systemd/system/ssh.service");
  EXPECT_FALSE(fs::exists(root / "etc/ssh/ssh_host_ed25519_key"));
  EXPECT_FALSE(fs::exists(root / "var/swap"));
  EXPECT_EQ(testing::read_file(root / "etc/machine-id"), "");
  // what list and show say
  auto list = pic({"image", "list", "--json"});
  ASSERT_EQ(list.status, 0) << said(list);
  const auto j = json::parse(list.out);
  ASSERT_EQ(j.size(), 1U);
  EXPECT_EQ(j[0]["name"], name);
  EXPECT_EQ(j[0]["arch"], "arm64");
  EXPECT_EQ(j[0]["source"], "import");
  EXPECT_EQ(j[0]["from"], img.string());
  EXPECT_EQ(j[0]["kernel"], "6.6.51+rpt-rpi-v8");
  auto show = pic({"image", "show", name});
  ASSERT_EQ(show.status, 0) << said(show);
  EXPECT_THAT(show.out, HasSubstr("kernel kernel8.img"));
  EXPECT_THAT(show.out, HasSubstr("bcm2711-rpi-4-b.dtb"));
  EXPECT_THAT(show.out, HasSubstr("packages:  2"));
  EXPECT_EQ(leftovers({img.string(), store().string()}), "");
}

TEST_F(Import, XzImageIsDecompressedAndTheTemporaryCopyDeleted) {
  write_inventory(0);
  const fs::path img = dir() / "pios.img";
  make_pi_image(dir() / "work", img);
  sh({"xz", "-0", "-T1", img.string()});  // -> pios.img.xz
  auto r = pic({"image", "import", (dir() / "pios.img.xz").string(), "pios"});
  ASSERT_EQ(r.status, 0) << said(r);
  EXPECT_THAT(r.out, HasSubstr("decompressing"));
  EXPECT_TRUE(fs::is_regular_file(version("pios", 1) / "root/boot/firmware/start4.elf"));
  EXPECT_TRUE(fs::is_empty(store() / ".work"));
  EXPECT_EQ(leftovers({dir().string() + "/pios", store().string()}), "");
}

struct Broken {
  std::string label;
  std::string error;
};

// One error line; nothing left: no loop device or mount, no version, .work empty.
void expect_refused(const ImageShelf& t, const testing::RunResult& r, const std::string& error,
                    const std::vector<std::string>& needles) {
  EXPECT_EQ(r.status, 1) << ImageShelf::said(r);
  EXPECT_THAT(r.err, HasSubstr(error)) << ImageShelf::said(r);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(leftovers(needles), "");
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(t.store() / "broken", ec)) ADD_FAILURE() << "left " << e.path();
  for (const auto& e : fs::directory_iterator(t.store() / ".work", ec)) ADD_FAILURE() << "left " << e.path();
}

TEST_F(Import, BrokenImagesGetOneClearErrorEachAndLeaveNothingBehind) {
  write_inventory(0);
  const fs::path work = dir() / "work";
  const fs::path good = dir() / "good.img";
  make_pi_image(work, good);
  const std::vector<std::string> needles = {dir().string() + "/b-", store().string()};

  // truncated: the root partition runs past the end of the file
  fs::copy_file(good, dir() / "b-truncated.img");
  sh({"truncate", "-s", "80M", (dir() / "b-truncated.img").string()});
  expect_refused(*this, pic({"image", "import", (dir() / "b-truncated.img").string(), "broken"}),
                 "truncated or corrupt: partition 2 ends at 118489088 bytes but the file has 83886080 bytes", needles);
  // a truncated .xz
  fs::copy_file(good, dir() / "b-cut.img");
  sh({"xz", "-0", "-T1", (dir() / "b-cut.img").string()});
  sh({"truncate", "-s", "100K", (dir() / "b-cut.img.xz").string()});
  expect_refused(*this, pic({"image", "import", (dir() / "b-cut.img.xz").string(), "broken"}),
                 "b-cut.img.xz: truncated or corrupt .xz file", needles);
  // no partition table at all: a bare ext4 file system
  fs::copy_file(work / "root.ext4", dir() / "b-bare.img");
  expect_refused(*this, pic({"image", "import", (dir() / "b-bare.img").string(), "broken"}),
                 "b-bare.img: no partition table", needles);
  // no FAT partition
  make_pi_image(work, dir() / "b-nofat.img", {.fat = false});
  expect_refused(*this, pic({"image", "import", (dir() / "b-nofat.img").string(), "broken"}),
                 "b-nofat.img: no FAT boot partition in its dos partition table", needles);
  // a FAT partition with no file system in it: the root is mounted by then, and must go again
  make_pi_image(work, dir() / "b-emptyfat.img", {.fat_content = false});
  expect_refused(*this, pic({"image", "import", (dir() / "b-emptyfat.img").string(), "broken"}),
                 "boot (partition 1) is not a readable FAT file system: init :: non DOS media", needles);
  // an x86 root
  make_pi_image(work, dir() / "b-x86.img", {.x86_root = true});
  expect_refused(*this, pic({"image", "import", (dir() / "b-x86.img").string(), "broken"}),
                 "b-x86.img: the root holds amd64 programs; a Raspberry Pi needs arm64 or armhf", needles);
  // a missing file
  expect_refused(*this, pic({"image", "import", (dir() / "b-missing.img").string(), "broken"}), "no such file",
                 needles);
}

}  // namespace
}  // namespace picluster::image_test
