// The pure parts of image/: partition tables, fstab and ELF reading, dpkg status and diffs,
// recipes, the host checks' messages, the mmdebstrap command line, config.txt names, references.

#include <gmock/gmock.h>

#include "image/adapt.hpp"
#include "image/boot_set.hpp"
#include "image/build.hpp"
#include "image/import.hpp"
#include "image/packages.hpp"
#include "image/partitions.hpp"

namespace picluster::image {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const char* const kRaspiosTable = R"({
   "partitiontable": {
      "label": "dos", "id": "0x5e3da3da", "device": "pios.img", "unit": "sectors", "sectorsize": 512,
      "partitions": [
         {"node": "pios.img1", "start": 8192, "size": 1048576, "type": "c"},
         {"node": "pios.img2", "start": 1056768, "size": 4481024, "type": "83"}
      ]
   }
})";

TEST(Partitions, RaspberryPiOsTableGivesBootAndRootWithByteOffsets) {
  auto t = parse_sfdisk_json(kRaspiosTable, "pios.img");
  ASSERT_TRUE(t.has_value()) << t.error().message;
  auto p = pick_pi_partitions(*t, 5537792ULL * 512, "pios.img");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->boot.number, 1);
  EXPECT_EQ(p->boot.offset, 8192ULL * 512);
  EXPECT_EQ(p->root.number, 2);
  EXPECT_EQ(p->root.size, 4481024ULL * 512);
}

TEST(Partitions, GptTypesAreRecognised) {
  auto t = parse_sfdisk_json(R"({"partitiontable": {"label": "gpt", "partitions": [
      {"node": "/dev/loop0p1", "start": 2048, "size": 1000, "type": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"},
      {"node": "/dev/loop0p2", "start": 4096, "size": 1000, "type": "0FC63DAF-8483-4772-8E79-3D69D8477DE4"}]}})",
                             "x.img");
  ASSERT_TRUE(t.has_value());
  auto p = pick_pi_partitions(*t, 1 << 30, "x.img");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->root.offset, 4096U * 512);
}

TEST(Partitions, EachBrokenShapeHasItsOwnError) {
  EXPECT_EQ(parse_sfdisk_json("", "a.img").error().message, "a.img: no partition table (sfdisk found none)");
  auto t = parse_sfdisk_json(kRaspiosTable, "pios.img");
  EXPECT_EQ(pick_pi_partitions(*t, 1000ULL * 1024 * 1024, "pios.img").error().message,
            "pios.img: truncated or corrupt: partition 2 ends at 2835349504 bytes but the file has 1048576000 bytes");
  PartitionTable only_linux{"dos", {t->partitions[1]}};
  EXPECT_THAT(pick_pi_partitions(only_linux, 1ULL << 40, "p.img").error().message,
              HasSubstr("p.img: no FAT boot partition in its dos partition table"));
  PartitionTable only_fat{"dos", {t->partitions[0]}};
  EXPECT_THAT(pick_pi_partitions(only_fat, 1ULL << 40, "p.img").error().message,
              HasSubstr("p.img: no Linux root partition"));
}

TEST(Adapt, FstabLosesSdCardAndSwapEntriesOnly) {
  const auto r = adapt_fstab(
      "proc /proc proc defaults 0 0\n"
      "PARTUUID=5e3da3da-01  /boot/firmware  vfat    defaults  0 2\n"
      "PARTUUID=5e3da3da-02  /  ext4  defaults,noatime  0 1\n"
      "# a comment with UUID=x stays\n"
      "/dev/mmcblk0p3 /data ext4 defaults 0 0\n"
      "/var/swap none swap sw 0 0\n"
      "tmpfs /tmp tmpfs defaults 0 0\n");
  EXPECT_EQ(r.text, "proc /proc proc defaults 0 0\n# a comment with UUID=x stays\ntmpfs /tmp tmpfs defaults 0 0\n");
  EXPECT_EQ(r.removed.size(), 4U);
}

TEST(Adapt, ElfMachineGivesTheDebianArchitecture) {
  std::string h(20, '\0');
  h.replace(0, 4, "\x7f" "ELF");
  h[4] = 2;
  h[18] = static_cast<char>(0xB7);
  EXPECT_EQ(elf_arch(h), "arm64");
  h[18] = 0x3E;
  EXPECT_EQ(elf_arch(h), "amd64");
  h[4] = 1;
  h[18] = 0x28;
  EXPECT_EQ(elf_arch(h), "armhf");
  EXPECT_EQ(elf_arch("#!/bin/sh\n..........."), "");
}

TEST(Packages, StatusGivesInstalledPackagesAndDiffSortsThem) {
  const auto a = parse_dpkg_status(
      "Package: a\nStatus: install ok installed\nVersion: 1\n\n"
      "Package: b\nStatus: install ok installed\nVersion: 1\n\n"
      "Package: c\nStatus: deinstall ok config-files\nVersion: 1\n");
  EXPECT_EQ(a, (Packages{{"a", "1"}, {"b", "1"}}));
  const auto b = parse_dpkg_status(
      "Package: b\nStatus: install ok installed\nVersion: 2\n\nPackage: d\nStatus: install ok installed\nVersion: 1\n");
  const auto d = diff_packages(a, b);
  ASSERT_EQ(d.added.size(), 1U);
  EXPECT_EQ(d.added[0].package, "d");
  ASSERT_EQ(d.removed.size(), 1U);
  EXPECT_EQ(d.removed[0].package, "a");
  ASSERT_EQ(d.changed.size(), 1U);
  EXPECT_EQ(d.changed[0].from + "->" + d.changed[0].to, "1->2");
  EXPECT_TRUE(diff_packages(a, a).empty());
}

TEST(Recipe, ParsesAndRefusesWhatCannotBeBuilt) {
  auto r = parse_recipe(R"({"suite": "trixie", "arch": "armhf", "packages": ["htop"], "files": {"etc/motd": "hi\n"}})",
                        "r.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->suite, "trixie");
  EXPECT_EQ(r->files.at("etc/motd"), "hi\n");
  EXPECT_EQ(parse_recipe(R"({"arch": "amd64"})", "r.json").error().message,
            "r.json: arch: \"amd64\" is not a Pi architecture (arm64 or armhf)");
  EXPECT_THAT(parse_recipe(R"({"packages": ["a;rm -rf /"]})", "r.json").error().message,
              HasSubstr("is not a package name"));
  EXPECT_THAT(parse_recipe(R"({"files": {"../etc/passwd": "x"}})", "r.json").error().message,
              HasSubstr("r.json: files: \"../etc/passwd\""));
  EXPECT_THAT(parse_recipe(R"({"suites": "x"})", "r.json").error().message, HasSubstr("unknown key \"suites\""));
}

TEST(HostCheck, SaysExactlyWhatToInstallOrMount) {
  HostFacts f{"amd64", true, true, "qemu-aarch64", "enabled", true};
  EXPECT_TRUE(check_host(f, "arm64").has_value());
  f.arch_test = false;
  EXPECT_THAT(check_host(f, "arm64").error().message, HasSubstr("apt-get install arch-test"));
  f.handler_state = "disabled";
  EXPECT_THAT(check_host(f, "arm64").error().message, HasSubstr("update-binfmts --enable qemu-aarch64"));
  f.handler_state = "";
  EXPECT_THAT(check_host(f, "arm64").error().message,
              HasSubstr("no qemu-aarch64 handler is registered: apt-get install qemu-user-static binfmt-support"));
  f.binfmt_mounted = false;
  EXPECT_THAT(check_host(f, "arm64").error().message,
              HasSubstr("binfmt_misc is not mounted: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc"));
  f.mmdebstrap = false;
  EXPECT_EQ(check_host(f, "arm64").error().message, "mmdebstrap is not installed: apt-get install mmdebstrap");
  HostFacts native{"arm64", true, false, "", "", false};
  EXPECT_TRUE(check_host(native, "arm64").has_value());
}

TEST(Mmdebstrap, FastForeignBuildWithCacheAndOneInitramfs) {
  Recipe r;
  r.packages = {"htop"};
  const auto argv = mmdebstrap_argv(r, "/srv/images/base/.new-1/root", "/srv/images/.cache/bookworm-arm64");
  EXPECT_EQ(argv.front(), "mmdebstrap");
  EXPECT_THAT(argv, Contains("--arch=arm64"));
  EXPECT_THAT(argv, Contains("--components=main,non-free-firmware"));
  EXPECT_THAT(argv, Contains("--dpkgopt=path-exclude=/usr/share/man/*"));
  EXPECT_THAT(argv, Contains("--setup-hook=sync-in /srv/images/.cache/bookworm-arm64 /var/cache/apt/archives/"));
  EXPECT_THAT(argv, Contains("--customize-hook=chroot \"$1\" update-initramfs -c -k all"));
  EXPECT_THAT(argv, Contains(HasSubstr("linux-image-arm64,raspi-firmware,initramfs-tools,openssh-server,ifupdown,vlan")));
  EXPECT_THAT(argv, Contains(HasSubstr(",htop")));
  EXPECT_EQ(argv[argv.size() - 3], "bookworm");
  EXPECT_EQ(argv.back(), "deb http://deb.debian.org/debian bookworm main non-free-firmware");
}

TEST(BootSet, ConfigNamesTheKernelAndInitramfs) {
  std::string kernel, initramfs;
  parse_config_names("arm_64bit=1\nkernel=vmlinuz-6.1.0-28-arm64\n# x\ninitramfs initrd.img-6.1.0-28-arm64 followkernel\n",
                     kernel, initramfs);
  EXPECT_EQ(kernel, "vmlinuz-6.1.0-28-arm64");
  EXPECT_EQ(initramfs, "initrd.img-6.1.0-28-arm64");
}

TEST(BootSet, PiclusterConfigNamesWhatItCopiedAndIsItsOwnToRewrite) {
  const auto config = render_image_config("vmlinuz-6.1.0-28-arm64", "initrd.img-6.1.0-28-arm64", true);
  std::string kernel, initramfs;
  parse_config_names(config, kernel, initramfs);
  EXPECT_EQ(kernel, "vmlinuz-6.1.0-28-arm64");
  EXPECT_EQ(initramfs, "initrd.img-6.1.0-28-arm64");
  EXPECT_THAT(config, HasSubstr("\narm_64bit=1\n"));
  EXPECT_THAT(config, HasSubstr("\ninitramfs initrd.img-6.1.0-28-arm64 followkernel\n"));
  const auto armhf = render_image_config("vmlinuz-6.1.0-28-armmp", "", false);
  EXPECT_EQ(armhf.find("arm_64bit"), std::string::npos);
  EXPECT_EQ(armhf.find("initramfs"), std::string::npos);
  EXPECT_TRUE(generated_config(config));
  EXPECT_TRUE(generated_config("# Do not modify this file!\n#\n# It is automatically generated upon install\n"));
  EXPECT_FALSE(generated_config("arm_64bit=1\nkernel=kernel8.img\ndtoverlay=vc4-kms-v3d\n"));  // Raspberry Pi OS's
}

TEST(BootSet, EachModelNeedsItsFirmwareItsDtbAndTheConfiguredKernel) {
  BootSet set;
  set.files = {"bootcode.bin", "start.elf", "fixup.dat", "start4.elf", "fixup4.dat", "bcm2837-rpi-3-b.dtb",
               "bcm2711-rpi-4-b.dtb", "vmlinuz-6.1.0-28-arm64", "overlays/"};
  set.kernel = "vmlinuz-6.1.0-28-arm64";
  set.initramfs = "initrd.img-6.1.0-28-arm64";
  EXPECT_THAT(missing_for_model(set, inventory::PiModel::pi3), ElementsAre("initrd.img-6.1.0-28-arm64"));
  EXPECT_THAT(missing_for_model(set, inventory::PiModel::pi3bplus),
              ElementsAre("bcm2710-rpi-3-b-plus.dtb or bcm2837-rpi-3-b-plus.dtb", "initrd.img-6.1.0-28-arm64"));
  set.files.push_back("initrd.img-6.1.0-28-arm64");
  EXPECT_THAT(missing_for_model(set, inventory::PiModel::pi4), ElementsAre());
  EXPECT_THAT(missing_for_model(set, inventory::PiModel::pi5), ElementsAre("bcm2712-rpi-5-b.dtb"));
  set.files = {"bcm2712-rpi-5-b.dtb", "vmlinuz-6.1.0-28-arm64", "initrd.img-6.1.0-28-arm64"};
  EXPECT_THAT(missing_for_model(set, inventory::PiModel::pi5), ElementsAre());
  EXPECT_THAT(missing_for_model(set, inventory::PiModel::pi4),
              ElementsAre("start4.elf", "fixup4.dat", "bcm2711-rpi-4-b.dtb"));
}

TEST(Import, NameFromTheFile) {
  EXPECT_EQ(name_from_file("/srv/2024-11-19-raspios-bookworm-arm64-lite.img.xz"), "2024-11-19-raspios-bookworm-arm64-lite");
  EXPECT_EQ(name_from_file("/srv/Pi OS.img"), "");
}

TEST(ImageRef, NameAndOptionalVersion) {
  auto r = inventory::parse_image_ref("base@12");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->name, "base");
  EXPECT_EQ(r->version, 12);
  EXPECT_EQ(r->str(), "base@12");
  EXPECT_FALSE(inventory::parse_image_ref("base")->version.has_value());
  for (const char* bad : {"", "@1", "base@", "base@0", "base@01", "Base", "-x", "a/b", "base@1x"}) {
    EXPECT_FALSE(inventory::parse_image_ref(bad).has_value()) << bad;
  }
  inventory::Fileserver fs;
  EXPECT_EQ(inventory::image_store_of(fs), "/srv/images");
  fs.image_store = "/data/img";
  EXPECT_EQ(inventory::image_store_of(fs), "/data/img");
}

TEST(InventoryImage, ShelfAndPiImagesAndTheStoreRoundTripAndAreChecked) {
  auto inv = inventory::make_default("s1");
  auto& shelf = inv.shelves.front();
  shelf.image = "base";
  shelf.fileserver.image_store = "/data/images";
  inventory::PiRequest req;
  req.name = "pi01";
  req.port = 1;
  ASSERT_TRUE(inventory::add_pi(shelf, req).has_value());
  shelf.pis.front().image = "base@3";
  const std::string text = inventory::serialize(inv);
  auto back = inventory::parse(text, "inv.json");
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->shelves.front().image, "base");
  EXPECT_EQ(back->shelves.front().fileserver.image_store, "/data/images");
  EXPECT_EQ(back->shelves.front().pis.front().image, "base@3");
  EXPECT_EQ(inventory::image_of(back->shelves.front(), back->shelves.front().pis.front()), "base@3");
  std::string bad = text;
  bad.replace(bad.find("\"base@3\""), 8, "\"base@0\"");
  auto refused = inventory::parse(bad, "inv.json");
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message, HasSubstr("pi01"));
  EXPECT_THAT(refused.error().message, HasSubstr("image"));
  // No image fields: nothing new is written (existing inventories stay byte for byte).
  const std::string plain = inventory::serialize(inventory::make_default("s1"));
  EXPECT_EQ(plain.find("\"image\""), std::string::npos);
  EXPECT_EQ(plain.find("image_store"), std::string::npos);
}

}  // namespace
}  // namespace picluster::image
