// The picluster_fileserver role applied for real to a throwaway Debian 12 root through Ansible's
// community.general.chroot connection: the first run changes the root, the second changes
// nothing, an updated golden image is swapped in (the old one kept), and --check on a fresh root
// reports changes without making them. Steps that need a running kernel or systemd are skipped
// by the role in a chroot. (The same role over SSH against the lab's fileserver VM is the lab's
// test.)
//
// The root is built once with mmdebstrap (minbase plus the role's packages, so no run needs the
// network) and cached as a tarball keyed by its package list under $PICLUSTER_CACHE_DIR (default
// ~/.cache/picluster).
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/ansible/run.hpp"

namespace picluster::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// python3 and python3-apt for Ansible's modules, systemd for `systemctl enable`, and the role's
// own packages (defaults/main.yml) so the role's apt step finds them installed.
const std::vector<std::string> kPackages{"python3",   "python3-apt", "systemd",     "nfs-kernel-server",
                                         "nfs-common", "rpcbind",    "dnsmasq",     "iproute2",
                                         "vlan",      "kmod",        "rsync",       "btrfs-progs",
                                         "xfsprogs",  "nftables",    "procps"};
constexpr const char* kPublicKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJLangt9Yhuwr5lEs/fG6kJIE2V0UMO8spVDQs0jR2f/ picluster@test";
constexpr const char* kHost = "north-fileserver";  // a fileserver of the three-shelf example

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

fs::path cache_dir() {
  if (const char* dir = std::getenv("PICLUSTER_CACHE_DIR"); dir != nullptr && *dir != '\0') return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') return fs::path(xdg) / "picluster";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return fs::path(home) / ".cache" / "picluster";
  return "/var/tmp/picluster-cache";
}

// The cached root tarball, built on first use. Empty with a message on failure.
fs::path cached_root(std::string& error) {
  std::string spec = "bookworm minbase";
  for (const auto& p : kPackages) spec += " " + p;
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a, enough to key a cache
  for (char c : spec) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  std::ostringstream name;
  name << "ansible-fileserver-root-" << std::hex << hash << ".tar";
  const fs::path tarball = cache_dir() / name.str();
  if (fs::exists(tarball)) return tarball;
  fs::create_directories(cache_dir());
  const fs::path partial = tarball.string() + ".partial";
  std::string include = "--include=";
  for (std::size_t i = 0; i < kPackages.size(); ++i) include += (i ? "," : "") + kPackages[i];
  auto r = run({"mmdebstrap", "--quiet", "--variant=minbase", "--format=tar", include, "bookworm", partial.string()},
               with_env({}, 900));
  if (r.status != 0) {
    error = "mmdebstrap failed (" + std::to_string(r.status) + "): " + r.err;
    return {};
  }
  fs::rename(partial, tarball);
  return tarball;
}

struct Recap {
  int changed = -1;
  int failures = -1;
  int unreachable = -1;
  std::string output;
};

class RoleInChroot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (mmdebstrap and chroot)";
    if (!have_program("mmdebstrap")) GTEST_SKIP() << "mmdebstrap is not installed (apt-get install mmdebstrap)";
    if (!have_program("ansible-playbook")) GTEST_SKIP() << "ansible is not installed (apt-get install ansible)";
    std::string error;
    m_tarball = cached_root(error);
    ASSERT_FALSE(m_tarball.empty()) << error;
    write(m_tmp.path() / "key.pub", std::string(kPublicKey) + "\n");
    make_golden_tarball("golden-v1.tar", "v1");
  }

  // A fresh Debian root from the cached tarball.
  fs::path fresh_root(const std::string& name) {
    const fs::path root = m_tmp.path() / name;
    fs::create_directories(root);
    auto r = run({"tar", "--numeric-owner", "-xpf", m_tarball.string(), "-C", root.string()});
    EXPECT_EQ(r.status, 0) << r.err;
    return root;
  }

  void make_golden_tarball(const std::string& name, const std::string& version) {
    const fs::path src = m_tmp.path() / ("src-" + version);
    write(src / "etc" / "golden-version", version + "\n");
    write(src / "usr" / "share" / "doc" / "readme", "a golden image\n");
    auto r = run({"tar", "-C", src.string(), "-cf", (m_tmp.path() / name).string(), "."});
    ASSERT_EQ(r.status, 0) << r.err;
  }

  // Runs a playbook against the root: the dynamic inventory of the example, plus a second
  // inventory source that points the fileserver at the chroot.
  Recap play(const std::string& playbook, const fs::path& root, const std::string& golden,
             const std::vector<std::string>& extra = {}) {
    const fs::path chroot_inventory = m_tmp.path() / (root.filename().string() + ".yml");
    write(chroot_inventory, std::string("all:\n  hosts:\n    ") + kHost +
                                ":\n      ansible_connection: community.general.chroot\n      ansible_host: " +
                                root.string() + "\n");
    std::vector<std::string> argv{"ansible-playbook",
                                  "-i", (ansible_dir() / "inventory" / "picluster.sh").string(),
                                  "-i", chroot_inventory.string(),
                                  "--limit", kHost,
                                  "-e", "picluster_golden_source=" + (m_tmp.path() / golden).string(),
                                  "-e", "picluster_ssh_public_key_file=" + (m_tmp.path() / "key.pub").string(),
                                  (ansible_dir() / "playbooks" / playbook).string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto env = ansible_env(ansible_dir() / "examples" / "three-shelves.json");
    env.emplace_back("ANSIBLE_STDOUT_CALLBACK", "json");
    auto r = run(argv, with_env(env, 600));
    Recap recap;
    recap.output = r.out + r.err;
    const json doc = json::parse(r.out, nullptr, false);
    if (doc.is_discarded() || !doc.contains("stats") || !doc["stats"].contains(kHost)) return recap;
    const json& stats = doc["stats"][kHost];
    recap.changed = stats.value("changed", -1);
    recap.failures = stats.value("failures", -1);
    recap.unreachable = stats.value("unreachable", -1);
    return recap;
  }

  TempDir m_tmp;
  fs::path m_tarball;
};

TEST_F(RoleInChroot, FirstRunChangesSecondRunChangesNothingGoldenImageUpdates) {
  const fs::path root = fresh_root("root");
  const Recap first = play("fileservers.yml", root, "golden-v1.tar");
  ASSERT_EQ(first.failures, 0) << first.output;
  ASSERT_EQ(first.unreachable, 0) << first.output;
  EXPECT_GT(first.changed, 0) << first.output;

  EXPECT_EQ(read(root / "etc/modules-load.d/picluster.conf").find("\n8021q\n") != std::string::npos, true);
  const std::string nfs = read(root / "etc/nfs.conf.d/picluster.conf");
  EXPECT_NE(nfs.find("[nfsd]\nthreads=16\nvers3=y\nvers4=y\n"), std::string::npos) << nfs;
  const std::string sysctl = read(root / "etc/sysctl.d/59-picluster-role.conf");
  for (const char* line : {"net.ipv4.conf.all.arp_ignore = 1\n", "net.ipv4.conf.all.arp_announce = 2\n",
                           "net.ipv4.conf.all.rp_filter = 1\n", "net.ipv4.ip_forward = 0\n"})
    EXPECT_NE(sysctl.find(line), std::string::npos) << line;
  EXPECT_TRUE(fs::is_directory(root / "etc/nftables.d"));
  EXPECT_NE(read(root / "etc/nftables.conf").find("\ninclude \"/etc/nftables.d/*.nft\"\n"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(root / "etc/exports.d"));
  EXPECT_TRUE(fs::is_directory(root / "srv/nfsroot"));
  EXPECT_TRUE(fs::is_directory(root / "srv/tftp"));
  EXPECT_EQ(read(root / "srv/golden/raspios/etc/golden-version"), "v1\n");
  EXPECT_NE(read(root / "root/.ssh/authorized_keys").find(kPublicKey), std::string::npos);
  // DNS off on dnsmasq's command line: picluster.conf's own port=0 must not be repeated in a file.
  EXPECT_NE(read(root / "etc/default/dnsmasq").find("\nDNSMASQ_OPTS=\"--port=0\"\n"), std::string::npos);
  EXPECT_FALSE(fs::exists(root / "etc/dnsmasq.d/00-picluster-base.conf"));
  EXPECT_TRUE(fs::is_symlink(root / "etc/systemd/system/multi-user.target.wants/nfs-server.service"));
  EXPECT_TRUE(fs::is_symlink(root / "etc/systemd/system/sysinit.target.wants/nftables.service"));
  // The north shelf boots from SD cards, so dnsmasq stays off.
  EXPECT_FALSE(fs::exists(fs::symlink_status(root / "etc/systemd/system/multi-user.target.wants/dnsmasq.service")));

  const Recap second = play("fileservers.yml", root, "golden-v1.tar");
  ASSERT_EQ(second.failures, 0) << second.output;
  EXPECT_EQ(second.changed, 0) << second.output;

  // golden-image.yml on the same root (one test, to keep the runtime down): a new tarball is
  // swapped in and the old image kept; the same tarball again changes nothing.
  make_golden_tarball("golden-v2.tar", "v2");
  const Recap update = play("golden-image.yml", root, "golden-v2.tar");
  ASSERT_EQ(update.failures, 0) << update.output;
  EXPECT_GT(update.changed, 0) << update.output;
  EXPECT_EQ(read(root / "srv/golden/raspios/etc/golden-version"), "v2\n");
  EXPECT_EQ(read(root / "srv/golden/raspios.previous/etc/golden-version"), "v1\n");
  EXPECT_FALSE(fs::exists(root / "srv/golden/raspios.staging"));
  const Recap again = play("golden-image.yml", root, "golden-v2.tar");
  ASSERT_EQ(again.failures, 0) << again.output;
  EXPECT_EQ(again.changed, 0) << again.output;
}

TEST_F(RoleInChroot, CheckModeReportsChangesWithoutMakingThem) {
  const fs::path root = fresh_root("check-root");
  const std::string nftables_before = read(root / "etc/nftables.conf");
  const Recap check = play("fileservers.yml", root, "golden-v1.tar", {"--check"});
  ASSERT_EQ(check.failures, 0) << check.output;
  EXPECT_GT(check.changed, 0) << check.output;
  EXPECT_FALSE(fs::exists(root / "etc/modules-load.d/picluster.conf"));
  EXPECT_FALSE(fs::exists(root / "etc/sysctl.d/59-picluster-role.conf"));
  EXPECT_FALSE(fs::exists(root / "etc/nftables.d"));
  EXPECT_FALSE(fs::exists(root / "srv/golden"));
  EXPECT_FALSE(fs::exists(root / "root/.ssh/authorized_keys"));
  EXPECT_EQ(read(root / "etc/nftables.conf"), nftables_before);
}

// The lab's case (its image is made with mkfs.btrfs --rootdir, which cannot make subvolumes):
// the golden image is a plain folder on a btrfs /srv. The role makes it a subvolume (inode 256,
// what picluster's btrfs-snapshot clone method needs) with its contents unchanged, and a second
// run changes nothing. /srv is a btrfs loop image mounted into the root.
TEST_F(RoleInChroot, PlainGoldenFolderOnBtrfsBecomesASubvolume) {
  const fs::path root = fresh_root("btrfs-root");
  const fs::path image = m_tmp.path() / "srv.btrfs";
  ASSERT_EQ(run({"truncate", "-s", "512M", image.string()}).status, 0);
  ASSERT_EQ(run({"mkfs.btrfs", "-q", image.string()}).status, 0);
  fs::create_directories(root / "srv");
  if (run({"mount", "-o", "loop", image.string(), (root / "srv").string()}).status != 0) {
    GTEST_SKIP() << "cannot mount a loop image here";
  }
  struct Unmount {
    fs::path dir;
    ~Unmount() { (void)run({"umount", "-d", dir.string()}); }
  } unmount{root / "srv"};
  write(root / "srv/golden/raspios/etc/golden-version", "folder\n");
  const auto inode = [&] { return run({"stat", "-c", "%i", (root / "srv/golden/raspios").string()}).out; };
  ASSERT_NE(inode(), "256\n");

  // No golden source: only make sure the image is in place (and a subvolume, on btrfs).
  const Recap first = play("fileservers.yml", root, "golden-v1.tar", {"-e", "picluster_golden_source="});
  ASSERT_EQ(first.failures, 0) << first.output;
  EXPECT_GT(first.changed, 0) << first.output;
  EXPECT_EQ(inode(), "256\n") << "the golden image is not a subvolume";
  EXPECT_EQ(read(root / "srv/golden/raspios/etc/golden-version"), "folder\n");
  EXPECT_FALSE(fs::exists(root / "srv/golden/raspios.folder"));
  EXPECT_FALSE(fs::exists(root / "srv/golden/raspios.subvolume"));

  const Recap second = play("fileservers.yml", root, "golden-v1.tar", {"-e", "picluster_golden_source="});
  ASSERT_EQ(second.failures, 0) << second.output;
  EXPECT_EQ(second.changed, 0) << second.output;
}

// A host where nftables is still to be installed has no /etc/nftables.conf (the package brings
// it). The package step cannot be run in check mode on such a root without a package index, so
// the root has the packages but not that file: --check must report the include as a change to
// come instead of failing on the missing file, and change nothing.
TEST_F(RoleInChroot, CheckModeWorksWithoutNftablesConf) {
  const fs::path root = fresh_root("no-nftables-root");
  fs::remove(root / "etc/nftables.conf");
  const Recap check = play("fileservers.yml", root, "golden-v1.tar", {"--check"});
  ASSERT_EQ(check.failures, 0) << check.output;
  EXPECT_GT(check.changed, 0) << check.output;
  EXPECT_NE(check.output.find("would append include"), std::string::npos) << check.output;
  EXPECT_FALSE(fs::exists(root / "etc/nftables.conf"));
  EXPECT_FALSE(fs::exists(root / "etc/nftables.d"));
}

}  // namespace
}  // namespace picluster::testing
