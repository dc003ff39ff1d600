// The offline verbs through the real binary: what an operator types and sees, the files left
// behind, and the exit status (0 ok, 1 failure, 2 usage).

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "common/text.hpp"
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
      "pi09: allocate: ok (VLAN 18, 172.30.0.32/30, 2a00:1098:0:84:1000:9::2)\n"))
      << add.out;
  EXPECT_NE(add.out.find(": switch: skipped (switch not configured in the inventory yet)\n"),
            std::string::npos)
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
    // A bad NAME is a bad command line: usage status 2, naming the argument, not the file.
    const auto r = pic({"add", name, "--port", "3"});
    EXPECT_EQ(r.status, 2) << name;
    EXPECT_EQ(r.err, "picluster: error: add: NAME " + printable(name) +
                         " is not a valid host name (RFC 1123 label: a-z, 0-9, '-', at most 63)\n");
  }
  EXPECT_EQ(pic({"add", "pi;09", "--port", "3", "--offline"}).status, 2);
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

// A second process that takes the inventory lock and holds it until released.
class LockHolder {
 public:
  explicit LockHolder(const fs::path& inventory) {
    int to_parent[2];
    int to_child[2];
    if (::pipe(to_parent) != 0 || ::pipe(to_child) != 0) return;
    m_pid = ::fork();
    if (m_pid == 0) {
      ::close(to_child[1]);
      auto lock = inventory::Lock::acquire(inventory, false);
      const char status = lock ? 'L' : 'E';
      (void)!::write(to_parent[1], &status, 1);
      char go;
      (void)!::read(to_child[0], &go, 1);  // EOF or a byte: release
      ::_exit(0);
    }
    ::close(to_parent[1]);
    ::close(to_child[0]);
    m_release = to_child[1];
    char status = 0;
    m_locked = ::read(to_parent[0], &status, 1) == 1 && status == 'L';
    ::close(to_parent[0]);
  }
  ~LockHolder() {
    if (m_release >= 0) ::close(m_release);
    if (m_pid > 0) ::waitpid(m_pid, nullptr, 0);
  }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;
  [[nodiscard]] bool locked() const { return m_locked; }

 private:
  pid_t m_pid = -1;
  int m_release = -1;
  bool m_locked = false;
};

TEST_F(InventoryCli, InitForceRefusesWhileAnotherProcessHoldsTheLock) {
  ASSERT_EQ(pic({"init"}).status, 0);
  ASSERT_EQ(pic({"add", "pi01", "--port", "1", "--offline"}).status, 0);
  const std::string before = read_file(inventory());
  {
    LockHolder holder(inventory());
    ASSERT_TRUE(holder.locked());
    const auto init = pic({"init", "--force"});
    EXPECT_EQ(init.status, 1);
    EXPECT_EQ(init.err, "picluster: error: " + inventory().string() +
                            ": another picluster run holds the lock (" + inventory().string() +
                            ".lock); try again when it has finished\n");
    EXPECT_EQ(read_file(inventory()), before);
  }
  EXPECT_EQ(pic({"init", "--force"}).status, 0);  // released: replaced with a new one
  EXPECT_NE(read_file(inventory()), before);
}

TEST_F(InventoryCli, PortOutsideTheSwitchIsAUsageErrorATakenOneAConflict) {
  ASSERT_EQ(pic({"init"}).status, 0);
  const auto beyond = pic({"add", "pi30", "--port", "30", "--offline"});
  EXPECT_EQ(beyond.status, 2);
  EXPECT_EQ(
      beyond.err,
      "picluster: error: add: --port 30 is outside the switch's ports 1-24 (shelf \"shelf1\")\n");
  const auto zero = pic({"add", "pi30", "--port", "0"});
  EXPECT_EQ(zero.status, 2);
  EXPECT_EQ(zero.err, "picluster: error: add: --port 0 is not a switch port (1 or more)\n");
  const auto trunk = pic({"add", "pi24", "--port", "24", "--offline"});
  EXPECT_EQ(trunk.status, 1);
  EXPECT_NE(trunk.err.find("port: 24 is the fileserver's trunk port"), std::string::npos)
      << trunk.err;
}

TEST_F(InventoryCli, RenderLeavesExactlyTheTreeAndNeverDeletesForeignFiles) {
  ASSERT_EQ(pic({"init"}).status, 0);
  ASSERT_EQ(pic({"add", "pi01", "--port", "1", "--offline"}).status, 0);
  ASSERT_EQ(pic({"add", "pi02", "--port", "2", "--offline"}).status, 0);
  const auto out = m_dir.path() / "out";
  ASSERT_EQ(pic({"render", "--out", out.string()}).status, 0);
  EXPECT_TRUE(fs::exists(out / "shelf1/roots/pi02/etc/hostname"));
  EXPECT_TRUE(fs::exists(out / ".picluster-render"));
  ASSERT_EQ(pic({"remove", "pi02", "--offline"}).status, 0);
  const auto again = pic({"render", "--out", out.string() + "/"});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_FALSE(fs::exists(out / "shelf1/roots/pi02"));  // the removed Pi's files are gone
  EXPECT_FALSE(fs::exists(out / "shelf1/boot/pi02"));
  EXPECT_TRUE(fs::exists(out / "shelf1/roots/pi01/etc/hostname"));
  EXPECT_FALSE(fs::exists(m_dir.path() / "out.tmp"));

  // A folder with someone else's files is refused and left as it was.
  const auto mine = m_dir.path() / "mine";
  fs::create_directories(mine);
  write_file(mine / "notes.txt", "keep me\n");
  const auto refused = pic({"render", "--out", mine.string()});
  EXPECT_EQ(refused.status, 1);
  EXPECT_EQ(refused.err, "picluster: error: " + mine.string() +
                             ": not empty and not a previous `picluster render` (no "
                             ".picluster-render); refusing to replace it: choose a new or empty "
                             "folder\n");
  EXPECT_EQ(read_file(mine / "notes.txt"), "keep me\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(mine), fs::directory_iterator{}), 1);

  // An empty folder is fine.
  const auto empty = m_dir.path() / "empty";
  fs::create_directories(empty);
  EXPECT_EQ(pic({"render", "--out", empty.string()}).status, 0);
  EXPECT_TRUE(fs::exists(empty / "shelf1/roots/pi01/etc/hostname"));
}

TEST_F(InventoryCli, SmallThings) {
  // add on a missing inventory leaves no lock file behind.
  const auto missing = pic({"add", "pi01", "--port", "1"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_FALSE(fs::exists(inventory().string() + ".lock"));
  EXPECT_EQ(pic({"add", "pi01", "--port", "1", "--offline"}).status, 1);
  EXPECT_FALSE(fs::exists(inventory().string() + ".lock"));

  // init into a folder that does not exist names the inventory, not a temp file.
  const auto nowhere = m_dir.path() / "no-such-folder" / "inv.json";
  const auto init = run({picluster_exe().string(), "--inventory", nowhere.string(), "init"});
  EXPECT_EQ(init.status, 1);
  EXPECT_EQ(init.err, "picluster: error: " + nowhere.string() + ": cannot create: folder " +
                          nowhere.parent_path().string() + " does not exist\n");

  // show joins nfs_root like the renderer does, trailing '/' or not.
  ASSERT_EQ(pic({"init"}).status, 0);
  auto j = inventory::Json::parse(read_file(inventory()));
  j["shelves"][0]["fileserver"]["nfs_root"] = "/srv/nfsroot/";
  write_file(inventory(), j.dump(2) + "\n");
  ASSERT_EQ(pic({"add", "pi01", "--port", "1", "--offline"}).status, 0);
  const auto show = pic({"show", "pi01", "--json"});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_EQ(inventory::Json::parse(show.out)["nfs_root"], "/srv/nfsroot/pi01");
  EXPECT_NE(pic({"show", "pi01"}).out.find("/srv/nfsroot/pi01\n"), std::string::npos);

  // add --json has one shape, live or --offline: {"pi", "ok", "steps", "error"}.
  const auto live = inventory::Json::parse(pic({"add", "pi02", "--port", "2", "--json"}).out);
  const auto offline =
      inventory::Json::parse(pic({"add", "pi03", "--port", "3", "--json", "--offline"}).out);
  for (const auto* doc : {&live, &offline}) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : doc->items()) keys.push_back(k);
    std::ranges::sort(keys);
    EXPECT_EQ(keys, (std::vector<std::string>{"error", "ok", "pi", "steps"})) << doc->dump();
    EXPECT_EQ((*doc)["ok"], true);
    EXPECT_EQ((*doc)["steps"][0]["step"], "allocate");
  }
  EXPECT_EQ(offline["pi"]["name"], "pi03");
  EXPECT_EQ(offline["pi"]["vlan"], 12);
  EXPECT_EQ(offline["steps"][1]["result"], "skipped");
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
