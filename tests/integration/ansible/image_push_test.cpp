// golden-image.yml -e picluster_image_push=NAME@N end to end: the controller's image store and two
// fileservers' stores are three btrfs loop file systems on this machine; the fileservers are
// reached over a loopback sshd (transport ssh, as a real shelf), through picluster's dynamic
// inventory. The version must arrive on both by btrfs send/receive, read-only and identical to the
// controller's, and a second push must change nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/ansible/run.hpp"
#include "tests/support/daemon.hpp"

namespace picluster::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class ImagePush : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (loop devices, btrfs)";
    for (const char* p : {"ansible-playbook", "mkfs.btrfs", "btrfs", "rsync"}) {
      if (!have_program(p)) GTEST_SKIP() << "needs " << p;
    }
    for (const char* name : {"controller", "fs1", "fs2"}) ASSERT_TRUE(mount_btrfs(name)) << name;
    // After the mounts (its mount namespace is a copy), with a /root of its own: this machine's
    // ~/.bashrc (pyenv) would cost seconds per task.
    LoopbackSshdOptions options;
    options.bashrc = "# the test fileserver's root: no dotfiles\n";
    m_sshd = std::make_unique<LoopbackSshd>(m_tmp.path() / "sshd", options);
    if (!m_sshd->ready()) GTEST_SKIP() << "no loopback sshd: " << m_sshd->why_not();
    make_version();
    write_inventory();
  }
  void TearDown() override {
    m_sshd.reset();  // its mount namespace holds the loop mounts too
    for (auto it = m_mounts.rbegin(); it != m_mounts.rend(); ++it) (void)run({"umount", "-d", *it});
  }

  bool mount_btrfs(const std::string& name) {
    const fs::path img = m_tmp.path() / (name + ".btrfs");
    const fs::path at = m_tmp.path() / name;
    fs::create_directories(at);
    if (run({"truncate", "-s", "256M", img.string()}).status != 0) return false;
    if (run({"mkfs.btrfs", "-q", img.string()}).status != 0) return false;
    if (run({"mount", "-o", "loop", img.string(), at.string()}).status != 0) return false;
    m_mounts.push_back(at.string());
    return true;
  }

  // base@1 in the controller's store as picluster leaves it: a read-only subvolume and image.json.
  void make_version() {
    const fs::path v = controller_store() / "base/1";
    fs::create_directories(v);
    ASSERT_EQ(run({"btrfs", "subvolume", "create", (v / "root").string()}).status, 0);
    const fs::path root = v / "root";
    write_file(root / "etc/picluster/image", "base@1\n");
    write_file(root / "usr/bin/tool", std::string(300000, 'x'));
    fs::permissions(root / "usr/bin/tool", fs::perms(0755));
    fs::create_hard_link(root / "usr/bin/tool", root / "usr/bin/tool-again");
    fs::create_symlink("../usr/bin/tool", root / "etc/tool-link");
    write_file(root / "home/pi/.profile", "# pi\n");
    ASSERT_EQ(run({"chown", "-R", "1000:1000", (root / "home/pi").string()}).status, 0);
    fs::create_directories(root / "var/empty");
    ASSERT_EQ(run({"btrfs", "property", "set", "-ts", root.string(), "ro", "true"}).status, 0);
    write_file(v / "image.json", R"({"name": "base", "version": 1, "arch": "arm64", "source": "build"})" "\n");
  }

  // Two shelves whose fileservers are this machine over SSH, each with its own image store.
  void write_inventory() {
    m_inventory = m_tmp.path() / "inventory.json";
    ASSERT_EQ(run({picluster_exe().string(), "--inventory", m_inventory.string(), "init", "--shelf-name", "north"}).status,
              0);
    json doc = json::parse(std::ifstream(m_inventory));
    json south = doc["shelves"][0];
    south["name"] = "south";
    doc["shelves"].push_back(south);
    int i = 1;
    for (auto& shelf : doc["shelves"]) {
      auto& f = shelf["fileserver"];
      f["transport"] = "ssh";
      f["host"] = "127.0.0.1";
      f["ssh_port"] = m_sshd->port();
      f["user"] = "root";
      f["identity_file"] = m_sshd->identity_file().string();
      f["known_hosts"] = m_sshd->known_hosts().string();
      f["image_store"] = store(i++).string();
    }
    std::ofstream(m_inventory) << doc.dump(2);
  }

  [[nodiscard]] fs::path controller_store() const { return m_tmp.path() / "controller/images"; }
  [[nodiscard]] fs::path store(int fileserver) const {
    return m_tmp.path() / ("fs" + std::to_string(fileserver)) / "images";
  }

  json push() {
    auto env = ansible_env(m_inventory);
    env.emplace_back("ANSIBLE_STDOUT_CALLBACK", "json");
    auto r = run({"ansible-playbook", "-i", (ansible_dir() / "inventory" / "picluster.sh").string(),
                  (ansible_dir() / "playbooks" / "golden-image.yml").string(), "-e", "picluster_image_push=base@1", "-e",
                  "picluster_image_store_source=" + controller_store().string()},
                 with_env(env, 600));
    m_output = r.out + r.err;
    m_status = r.status;
    return json::parse(r.out, nullptr, false);
  }

  std::string subvolume_field(const fs::path& path, const std::string& field) {
    const auto out = run({"btrfs", "subvolume", "show", path.string()}).out;
    const auto at = out.find("\t" + field + ":");
    if (at == std::string::npos) return "";
    auto value = out.substr(at + field.size() + 2, out.find('\n', at) - at - field.size() - 2);
    return value.substr(value.find_first_not_of(" \t"));
  }

  TempDir m_tmp{"image-push"};
  std::unique_ptr<LoopbackSshd> m_sshd;
  std::vector<std::string> m_mounts;
  fs::path m_inventory;
  std::string m_output;
  int m_status = -1;
};

TEST_F(ImagePush, VersionArrivesReadOnlyAndIdenticalOnEveryFileserverThenASecondPushIsANoOp) {
  const json first = push();
  ASSERT_FALSE(first.is_discarded()) << m_output;
  ASSERT_EQ(m_status, 0) << m_output;
  const fs::path src = controller_store() / "base/1";
  const std::string src_uuid = subvolume_field(src / "root", "UUID");
  ASSERT_FALSE(src_uuid.empty());
  for (int i = 1; i <= 2; ++i) {
    SCOPED_TRACE("fs" + std::to_string(i));
    const fs::path dest = store(i) / "base/1";
    // received by btrfs receive (not copied file by file), read-only
    EXPECT_EQ(subvolume_field(dest / "root", "Received UUID"), src_uuid) << m_output;
    EXPECT_NE(run({"btrfs", "property", "get", "-ts", (dest / "root").string(), "ro"}).out.find("ro=true"),
              std::string::npos);
    // identical: contents, modes, owners, links, hard links, times
    auto diff = run({"rsync", "-aHn", "--checksum", "--numeric-ids", "--itemize-changes", "--delete",
                     (src / "root").string() + "/", (dest / "root").string() + "/"});
    EXPECT_EQ(diff.status, 0) << diff.err;
    EXPECT_EQ(diff.out, "");
    EXPECT_EQ(read_file(dest / "image.json"), read_file(src / "image.json"));
    EXPECT_EQ(fs::hard_link_count(dest / "root/usr/bin/tool"), 2U);
    // nothing left behind on either side
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(store(i) / "base")) left.push_back(e.path().filename().string());
    EXPECT_EQ(left, std::vector<std::string>{"1"});
  }
  EXPECT_TRUE(fs::is_empty(controller_store() / ".work"));
  for (const char* host : {"north-fileserver", "south-fileserver"}) {
    EXPECT_GT(first.at("stats").at(host).value("changed", 0), 0) << host << "\n" << m_output;
  }

  // a second push finds the version in place on both and changes nothing
  const json second = push();
  ASSERT_FALSE(second.is_discarded()) << m_output;
  ASSERT_EQ(m_status, 0) << m_output;
  for (const char* host : {"north-fileserver", "south-fileserver"}) {
    EXPECT_EQ(second.at("stats").at(host).value("changed", -1), 0) << host << "\n" << m_output;
    EXPECT_EQ(second.at("stats").at(host).value("failures", -1), 0) << host;
  }
}

}  // namespace
}  // namespace picluster::testing
