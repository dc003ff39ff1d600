// The offline verbs through the real binary: what an operator types and sees, the files left
// behind, and the exit status (0 ok, 1 failure, 2 usage).

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "inventory/inventory.hpp"
#include "tests/support/process.hpp"

namespace picluster::testing {
namespace {

namespace fs = std::filesystem;

class InventoryCli : public ::testing::Test {
 protected:
  RunResult pic(std::vector<std::string> args) {
    args.insert(args.begin(), {picluster_exe().string(), "--inventory", inventory().string()});
    RunOptions options;
    options.cwd = m_dir.path();
    options.timeout_seconds = 60;
    return run(args, options);
  }
  fs::path inventory() const { return m_dir.path() / "inventory.json"; }
  TempDir m_dir{"inventory-cli"};
};

TEST_F(InventoryCli, InitAddRenderProducesTheSeedTree) {
  ASSERT_EQ(pic({"init"}).status, 0);
  const auto add = pic({"add", "pi09", "--port", "9"});
  ASSERT_EQ(add.status, 0) << add.err;
  // A shelf described before its hardware: allocation happens, the live steps are skipped.
  EXPECT_TRUE(add.out.starts_with(
      "pi09: allocate: ok (VLAN 18, 172.30.0.32/30, 2a00:1098:0:84:1000:9::2)\n"
      "shelf: switch: skipped (switch not configured in the inventory yet)\n"))
      << add.out;
  ASSERT_EQ(pic({"add", "pi01", "--port", "1"}).status, 0);
  const auto out = m_dir.path() / "out";
  const auto render = pic({"render", "--out", out.string()});
  ASSERT_EQ(render.status, 0) << render.err;

  const auto root = out / "shelf1";
  EXPECT_EQ(read_file(root / "boot/pi09/cmdline.txt"),
            "dwc_otg.lpm_enable=0 console=ttyAMA0,115200 console=tty1 root=/dev/nfs "
            "rootfstype=nfs nfsroot=172.30.0.33:/srv/nfsroot/pi09,vers=3,tcp "
            "ip=172.30.0.34:172.30.0.33::255.255.255.252:pi09:eth0:off elevator=deadline "
            "rootwait\n");
  const auto interfaces = read_file(root / "roots/pi01/etc/network/interfaces");
  EXPECT_NE(interfaces.find("auto eth0.131\niface eth0.131 inet6 static\n"
                            "\taddress\t2a00:1098:0:84:1000:1::2\n\tnetmask 64\n"
                            "\tgateway\t2a00:1098:0:84::1\n"),
            std::string::npos)
      << interfaces;
  EXPECT_EQ(interfaces.find("auto eth0\n"), std::string::npos);
  const auto vlans = read_file(root / "fileserver/etc/network/interfaces.d/picluster");
  EXPECT_NE(vlans.find("auto eth0.10\niface eth0.10 inet static\n\taddress 172.30.0.1\n"
                       "\tnetmask 255.255.255.252\n"),
            std::string::npos)
      << vlans;
  const auto exports = read_file(root / "fileserver/etc/exports.d/picluster.exports");
  EXPECT_NE(exports.find("/srv/nfsroot/pi09 172.30.0.34("), std::string::npos) << exports;
  for (const char* f : {"etc/hostname", "etc/hosts", "etc/fstab"}) {
    EXPECT_TRUE(fs::exists(root / "roots/pi09" / f)) << f;
  }
  EXPECT_TRUE(fs::exists(root / "fileserver/etc/sysctl.d/60-picluster.conf"));
  EXPECT_TRUE(fs::exists(root / "fileserver/etc/nftables.d/picluster.nft"));
}

TEST_F(InventoryCli, BadInventoryGetsOneClearErrorAndIsLeftUntouched) {
  ASSERT_EQ(pic({"init"}).status, 0);
  ASSERT_EQ(pic({"add", "pi01", "--port", "1"}).status, 0);
  std::string text = read_file(inventory());
  const auto pos = text.find("\"port\": 1,");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 10, "\"port\": 24,");  // the trunk port
  write_file(inventory(), text);

  const auto add = pic({"add", "pi02", "--port", "2"});
  EXPECT_EQ(add.status, 1);
  EXPECT_EQ(add.err, "picluster: error: " + inventory().string() +
                         ": shelf \"shelf1\": pi \"pi01\": port: 24 is the fileserver's trunk port\n");
  EXPECT_EQ(read_file(inventory()), text);

  write_file(inventory(), "{\n  \"version\": 1,\n  \"shelves\": [\n    {\"name\": \"a\",}\n");
  const auto validate = pic({"validate"});
  EXPECT_EQ(validate.status, 1);
  EXPECT_TRUE(validate.err.starts_with("picluster: error: " + inventory().string() + ":4:18: syntax error"))
      << validate.err;
}

TEST_F(InventoryCli, HostileNamesAreRejectedBeforeAnythingIsWritten) {
  ASSERT_EQ(pic({"init"}).status, 0);
  const std::string before = read_file(inventory());
  for (const std::string name : {"pi;reboot", "$(reboot)", "pi 01", "pi\n01", "..", "a/b", "`id`", "PI01"}) {
    const auto r = pic({"add", name, "--port", "3"});
    EXPECT_EQ(r.status, 1) << name;
    EXPECT_NE(r.err.find("is not a host name"), std::string::npos) << r.err;
  }
  EXPECT_EQ(read_file(inventory()), before);
  const auto out = m_dir.path() / "out";
  EXPECT_EQ(pic({"render", "--out", out.string(), "../etc"}).status, 1);
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(InventoryCli, DryRunChangesNothing) {
  ASSERT_EQ(pic({"init", "--dry-run"}).status, 0);
  EXPECT_FALSE(fs::exists(inventory()));
  ASSERT_EQ(pic({"init"}).status, 0);
  const std::string before = read_file(inventory());
  const auto add = pic({"add", "pi05", "--port", "5", "--dry-run"});
  EXPECT_EQ(add.status, 0);
  EXPECT_TRUE(add.out.starts_with("pi05: allocate: planned (VLAN 14")) << add.out;
  const auto offline = pic({"add", "pi05", "--port", "5", "--dry-run", "--offline"});
  EXPECT_TRUE(offline.out.starts_with("dry run: would add pi05")) << offline.out;
  EXPECT_EQ(read_file(inventory()), before);
  ASSERT_EQ(pic({"add", "pi05", "--port", "5"}).status, 0);
  const std::string added = read_file(inventory());
  EXPECT_EQ(pic({"remove", "pi05", "--dry-run"}).status, 0);
  EXPECT_EQ(read_file(inventory()), added);
}

TEST_F(InventoryCli, ExitStatusesAndJson) {
  EXPECT_EQ(pic({"list"}).status, 1);  // no inventory yet
  EXPECT_EQ(pic({"add", "pi01"}).status, 2);  // --port is required: usage error
  EXPECT_EQ(pic({"no-such-verb"}).status, 2);
  EXPECT_EQ(pic({"--help"}).status, 0);
  ASSERT_EQ(pic({"init"}).status, 0);
  EXPECT_EQ(pic({"init"}).status, 1);  // refuses to overwrite
  ASSERT_EQ(pic({"add", "pi03", "--port", "3", "--mac", "B8:27:EB:00:00:03", "--serial", "0A1B2C3D",
                 "--model", "pi4"}).status, 0);
  const auto list = pic({"list", "--json"});
  ASSERT_EQ(list.status, 0);
  const auto j = inventory::Json::parse(list.out);
  ASSERT_EQ(j.size(), 1U);
  EXPECT_EQ(j[0]["name"], "pi03");
  EXPECT_EQ(j[0]["mac"], "b8:27:eb:00:00:03");
  EXPECT_EQ(j[0]["serial"], "0a1b2c3d");
  EXPECT_EQ(j[0]["vlan"], 12);
  const auto show = pic({"show", "pi03", "--json"});
  ASSERT_EQ(show.status, 0);
  EXPECT_EQ(inventory::Json::parse(show.out)["nfs_root"], "/srv/nfsroot/pi03");
  EXPECT_EQ(pic({"show", "pi99"}).status, 1);
  EXPECT_EQ(pic({"remove", "pi99"}).status, 1);
  EXPECT_EQ(pic({"add", "pi04", "--port", "4", "--mac", "zz"}).status, 2);
}

TEST_F(InventoryCli, UnknownFieldsSurviveAddAndRemove) {
  ASSERT_EQ(pic({"init"}).status, 0);
  auto j = inventory::Json::parse(read_file(inventory()));
  j["x-site"] = "london";
  j["shelves"][0]["switch"]["x-asset"] = 42;
  write_file(inventory(), j.dump(2) + "\n");
  ASSERT_EQ(pic({"add", "pi01", "--port", "1"}).status, 0);
  ASSERT_EQ(pic({"remove", "pi01"}).status, 0);
  const auto back = inventory::Json::parse(read_file(inventory()));
  EXPECT_EQ(back["x-site"], "london");
  EXPECT_EQ(back["shelves"][0]["switch"]["x-asset"], 42);
}

TEST_F(InventoryCli, ConcurrentWriterIsToldTheInventoryIsLocked) {
  ASSERT_EQ(pic({"init"}).status, 0);
  // Hold the lock from this process, as a long-running apply would.
  auto lock = inventory::Lock::acquire(inventory(), false);
  ASSERT_TRUE(lock);
  const auto add = pic({"add", "pi01", "--port", "1"});
  EXPECT_EQ(add.status, 1);
  EXPECT_NE(add.err.find("another picluster run holds the lock"), std::string::npos) << add.err;
}

}  // namespace
}  // namespace picluster::testing
