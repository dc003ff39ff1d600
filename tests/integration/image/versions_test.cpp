// Versions on btrfs: import makes base@1 (a subvolume, read-only once complete), `image exec`
// makes base@2 as a snapshot, `image diff` compares packages, a failing exec keeps nothing; then
// a Pi is rebuilt from base@1 and base@2 (root record, boot set in its TFTP folder) and rolled
// back, `remove` refuses versions in use, and the plan's newer-version list sees it all.

#include <gmock/gmock.h>

#include "image/store.hpp"
#include "nfsroot/local_host.hpp"
#include "orchestrator/images.hpp"
#include "tests/integration/image/fixture.hpp"

namespace picluster::image_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Versions : public ImageShelf {
 protected:
  void SetUp() override {
    ImageShelf::SetUp();
    if (IsSkipped()) return;
    if (!btrfs_prefix()) GTEST_SKIP() << "cannot mount a btrfs loop image here";
    if (!fs::exists("/proc/sys/fs/binfmt_misc/status")) {
      (void)testing::run({"mount", "-t", "binfmt_misc", "binfmt_misc", "/proc/sys/fs/binfmt_misc"});
    }
    if (!fs::exists("/proc/sys/fs/binfmt_misc/qemu-aarch64")) GTEST_SKIP() << "needs qemu-user-static (binfmt qemu-aarch64)";
  }
  std::string record(const std::string& root) const { return testing::read_file(m_prefix / "srv/nfsroot" / root / "etc/picluster/image"); }
  std::string subvolume_field(const fs::path& path, const std::string& field) const {
    const auto out = sh({"btrfs", "subvolume", "show", path.string()}).out;
    const auto at = out.find(field + ":");
    if (at == std::string::npos) return "";
    auto value = out.substr(at + field.size() + 1, out.find('\n', at) - at - field.size() - 1);
    return value.substr(value.find_first_not_of(" \t"));
  }
};

TEST_F(Versions, ExecSnapshotsDiffRebuildRollbackAndRemove) {
  write_inventory(1, "base");
  const fs::path img = dir() / "pios.img";
  make_pi_image(dir() / "work", img);
  auto r = pic({"image", "import", img.string(), "base"});
  ASSERT_EQ(r.status, 0) << said(r);
  EXPECT_THAT(r.out, HasSubstr("imported base@1 (arm64, new btrfs subvolume)"));
  EXPECT_THAT(sh({"btrfs", "property", "get", "-ts", (version("base", 1) / "root").string(), "ro"}).out,
              HasSubstr("ro=true"));

  // exec: a snapshot of @1, the command in a chroot through qemu-user, kept as @2
  r = pic({"image", "exec", "base", "--", "/bin/busybox", "sh", "-c",
           "touch /X && test -e /proc/self/status && test -c /dev/null && test -d /sys/kernel && "
           "sed -i s/20231012/20240101/ /var/lib/dpkg/status"});
  ASSERT_EQ(r.status, 0) << said(r);
  EXPECT_THAT(r.out, HasSubstr("base@2: btrfs snapshot of base@1"));
  EXPECT_THAT(r.out, HasSubstr("kept base@2 (arm64, btrfs snapshot)"));
  EXPECT_THAT(r.out, HasSubstr("(CMD started "));
  EXPECT_TRUE(fs::exists(version("base", 2) / "root/X"));
  EXPECT_FALSE(fs::exists(version("base", 1) / "root/X"));
  EXPECT_EQ(testing::read_file(version("base", 2) / "root/etc/picluster/image"), "base@2\n");
  // shares @1's data: @2 is a snapshot whose parent is @1
  EXPECT_EQ(subvolume_field(version("base", 2) / "root", "Parent UUID"),
            subvolume_field(version("base", 1) / "root", "UUID"));
  // /proc, /sys and /dev were mounted for CMD only, in its own mount namespace
  EXPECT_FALSE(fs::exists(version("base", 2) / "root/proc/self"));
  EXPECT_EQ(leftovers({version("base", 2).string()}), "");
  auto diff = pic({"image", "diff", "base@1", "base@2"});
  ASSERT_EQ(diff.status, 0) << said(diff);
  EXPECT_EQ(diff.out, "~ raspi-config 20231012 -> 20240101\n");

  // a failing command keeps nothing
  r = pic({"image", "exec", "base", "--", "/bin/busybox", "false"});
  EXPECT_EQ(r.status, 1) << said(r);
  EXPECT_THAT(r.err, HasSubstr("image exec base@2: '/bin/busybox' 'false' exited 1; no new version kept"));
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(store() / "base")) entries.push_back(e.path().filename().string());
  std::sort(entries.begin(), entries.end());
  EXPECT_THAT(entries, ElementsAre("1", "2"));
  EXPECT_EQ(leftovers({store().string()}), "");

  // rebuild from @1, then @2: the root records its version, the boot set lands in the TFTP folder
  r = pic({"rebuild", "pi01", "--from", "base@1", "--no-power"});
  ASSERT_EQ(r.status, 0) << said(r);
  EXPECT_EQ(record("pi01"), "base@1\n");
  // <tftp_root>/vlan-<N>/<serial>: each storage VLAN has its own TFTP root
  auto shelf_inv = inventory::load(inventory_path());
  ASSERT_TRUE(shelf_inv.has_value());
  const fs::path tftp =
      m_prefix / ("srv/tftp/vlan-" + std::to_string(shelf_inv->shelves.front().find_pi("pi01")->vlan)) / "1234abc1";
  EXPECT_TRUE(fs::is_regular_file(tftp / "start4.elf"));
  // a Pi 3's boot ROM asks for bootcode.bin at the root it sees: its VLAN's
  EXPECT_TRUE(fs::is_regular_file(tftp / "bootcode.bin"));
  EXPECT_TRUE(fs::is_regular_file(tftp.parent_path() / "bootcode.bin"));
  EXPECT_TRUE(fs::is_regular_file(tftp / "bcm2711-rpi-4-b.dtb"));
  EXPECT_THAT(testing::read_file(tftp / "picluster-image.txt"), HasSubstr("kernel=kernel8.img"));
  EXPECT_THAT(testing::read_file(tftp / "config.txt"), HasSubstr("include picluster-image.txt"));
  EXPECT_THAT(testing::read_file(tftp / "cmdline.txt"), HasSubstr("nfsroot="));
  // the plan's list: pi01 runs base@1, the shelf's image "base" has @2
  {
    nfsroot::LocalHost host;
    auto inv = inventory::load(inventory_path());
    ASSERT_TRUE(inv.has_value());
    image::Store st(host, inv->shelves.front().fileserver);
    auto outdated = orchestrator::outdated_pis(st, inv->shelves.front());
    ASSERT_TRUE(outdated.has_value()) << outdated.error().message;
    EXPECT_THAT(*outdated, ElementsAre("pi01: base@1, latest base@2"));
  }
  r = pic({"rebuild", "pi01", "--from", "base@2", "--no-power"});
  ASSERT_EQ(r.status, 0) << said(r);
  EXPECT_EQ(record("pi01"), "base@2\n");
  EXPECT_TRUE(fs::exists(m_prefix / "srv/nfsroot/pi01/X"));
  r = pic({"rollback", "pi01", "--no-power"});
  ASSERT_EQ(r.status, 0) << said(r);
  EXPECT_EQ(record("pi01"), "base@1\n");
  EXPECT_FALSE(fs::exists(m_prefix / "srv/nfsroot/pi01/X"));

  // list says who runs what; remove refuses versions Pi roots came from
  auto list = pic({"image", "list", "--json"});
  ASSERT_EQ(list.status, 0) << said(list);
  const auto j = json::parse(list.out);
  ASSERT_EQ(j.size(), 2U);
  EXPECT_EQ(j[0]["pis"], json::array({"pi01"}));
  EXPECT_EQ(j[1]["pis"], json::array({"pi01 (previous)"}));
  r = pic({"image", "remove", "base@2"});
  EXPECT_EQ(r.status, 1) << said(r);
  EXPECT_THAT(r.err, HasSubstr("image base@2 is in use by pi01 (previous)"));
  r = pic({"image", "remove", "base@2", "--force"});
  ASSERT_EQ(r.status, 0) << said(r);
  EXPECT_FALSE(fs::exists(version("base", 2)));
  EXPECT_TRUE(fs::exists(version("base", 1) / "root/bin/busybox"));
}

}  // namespace
}  // namespace picluster::image_test
