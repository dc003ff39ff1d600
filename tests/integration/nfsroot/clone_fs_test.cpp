// Clone methods on real filesystems: a btrfs and an XFS (reflink=1) image on loop devices, and a
// plain folder for rsync. The images are always unmounted and their loop devices detached.

#include <gmock/gmock.h>

#include <sstream>

#include "nfsroot/root_manager.hpp"
#include "tests/integration/nfsroot/helpers.hpp"

namespace picluster::nfsroot {
namespace {

namespace fs = std::filesystem;

class LoopFs : public ::testing::Test {
 protected:
  // Makes a 512 MB image with `mkfs` and mounts it at m_dir/`name` ("mnt" is m_mnt).
  void mount_image(const std::string& mkfs, const std::vector<std::string>& mkfs_args,
                   const std::string& name = "mnt") {
    if (::geteuid() != 0 || !it::have(mkfs)) GTEST_SKIP() << "needs root and " << mkfs;
    if (m_dir.empty()) m_dir = it::make_temp_dir("loopfs");
    ASSERT_FALSE(m_dir.empty());
    m_mnt = m_dir + "/mnt";
    const std::string mnt = m_dir + "/" + name;
    fs::create_directories(mnt);
    it::sh({"truncate", "-s", "512M", mnt + ".image"});
    std::vector<std::string> argv{mkfs};
    argv.insert(argv.end(), mkfs_args.begin(), mkfs_args.end());
    argv.push_back(mnt + ".image");
    it::sh(argv);
    LocalHost host;
    auto r = host.run({"mount", "-o", "loop", mnt + ".image", mnt}, {});
    if (!r || r->exit_status != 0) GTEST_SKIP() << "cannot mount a loop image here";
    m_mounted.push_back(mnt);
  }
  void TearDown() override {
    LocalHost host;
    for (const auto& mnt : m_mounted) (void)host.run({"umount", "-d", mnt}, {});  // -d: detach the loop
    if (!m_dir.empty()) fs::remove_all(m_dir);
  }
  inventory::Shelf shelf(const std::string& golden) const {
    inventory::Shelf s;
    s.fileserver.transport = inventory::Transport::local;
    s.fileserver.nfs_root = m_mnt + "/nfsroot";
    s.fileserver.golden_image = golden;
    return s;
  }
  static std::vector<RenderedFile> files() { return {{"etc/hostname", "pi01\n", 0644}}; }

  std::string m_dir, m_mnt;
  std::vector<std::string> m_mounted;
};

TEST_F(LoopFs, BtrfsSubvolumeGoldenIsSnapshottedAndRootsAreSubvolumesDeletedProperly) {
  mount_image("mkfs.btrfs", {"-q"});
  const std::string golden = m_mnt + "/golden";
  it::sh({"btrfs", "subvolume", "create", golden});
  it::make_golden(golden, 200, "v1");
  it::set_old_mtime(golden);
  fs::create_directories(m_mnt + "/nfsroot");
  const auto s = shelf(golden);
  LocalHost host;
  RootManager roots(host, s);
  inventory::Pi pi;
  pi.name = "pi01";
  const auto started = it::now_seconds();
  auto r = roots.rebuild(pi, files());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->method, CloneMethod::btrfs_snapshot);
  EXPECT_EQ(r->reason, "golden image is a btrfs subvolume");
  EXPECT_EQ(it::slurp(m_mnt + "/nfsroot/pi01/etc/hostname"), "pi01\n");
  EXPECT_EQ(it::slurp(golden + "/etc/hostname"), "raspberrypi\n");  // the snapshot is independent
  // The root's age is when it was built, not the golden image's (a snapshot keeps its mtime).
  auto listed = roots.list_roots();
  ASSERT_TRUE(listed.has_value() && listed->size() == 1U);
  EXPECT_GE(listed->front().mtime, started);

  it::spit(golden + "/etc/version", "v2");
  ASSERT_TRUE(roots.rebuild(pi, files()).has_value());
  it::spit(golden + "/etc/version", "v3");
  ASSERT_TRUE(roots.rebuild(pi, files()).has_value());  // retires the v1 subvolume through .trash
  EXPECT_EQ(it::slurp(m_mnt + "/nfsroot/pi01/etc/version"), "v3");
  EXPECT_EQ(it::slurp(m_mnt + "/nfsroot/.previous/pi01/etc/version"), "v2");
  ASSERT_TRUE(roots.rollback("pi01").has_value());
  EXPECT_EQ(it::slurp(m_mnt + "/nfsroot/pi01/etc/version"), "v2");  // back to the one before
  EXPECT_EQ(it::slurp(m_mnt + "/nfsroot/.previous/pi01/etc/version"), "v3");
  ASSERT_TRUE(roots.rollback("pi01").has_value());  // and forward again
  EXPECT_EQ(it::slurp(m_mnt + "/nfsroot/pi01/etc/version"), "v3");
  auto removed = roots.remove(pi, false);
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  const std::string subvolumes = it::sh({"btrfs", "subvolume", "list", "-o", m_mnt});
  EXPECT_THAT(subvolumes, ::testing::Not(::testing::HasSubstr("nfsroot")));
  EXPECT_FALSE(fs::exists(m_mnt + "/nfsroot/pi01"));
}

TEST_F(LoopFs, BtrfsPlainFolderGoldenIsReflinked) {
  mount_image("mkfs.btrfs", {"-q"});
  const std::string golden = m_mnt + "/golden";
  it::make_golden(golden, 100, "v1");
  fs::create_directories(m_mnt + "/nfsroot");
  const auto s = shelf(golden);
  LocalHost host;
  RootManager roots(host, s);
  inventory::Pi pi;
  pi.name = "pi02";
  auto r = roots.rebuild(pi, files());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->method, CloneMethod::reflink);
  EXPECT_TRUE(fs::exists(m_mnt + "/nfsroot/pi02/usr/share/d0/f99"));
  // The data extents are shared with the golden image, not copied.
  // `btrfs filesystem du -s --raw` prints "Total Exclusive Set-shared Filename": the shared
  // column must hold most of the total (the Pi's own files are the only exclusive data).
  const std::string du = it::sh({"btrfs", "filesystem", "du", "-s", "--raw", m_mnt + "/nfsroot/pi02"});
  std::istringstream lines(du);
  std::string header, total, exclusive, shared;
  std::getline(lines, header);
  lines >> total >> exclusive >> shared;
  ASSERT_FALSE(shared.empty()) << du;
  EXPECT_GT(std::stoull(shared), std::stoull(total) / 2) << du;
}

TEST_F(LoopFs, XfsWithReflinkIsReflinked) {
  mount_image("mkfs.xfs", {"-q", "-m", "reflink=1"});
  const std::string golden = m_mnt + "/golden";
  it::make_golden(golden, 100, "v1");
  fs::create_directories(m_mnt + "/nfsroot");
  const auto s = shelf(golden);
  LocalHost host;
  RootManager roots(host, s);
  inventory::Pi pi;
  pi.name = "pi03";
  auto r = roots.rebuild(pi, files());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->method, CloneMethod::reflink);
  EXPECT_EQ(r->reason, "XFS with reflink=1");
  EXPECT_EQ(it::slurp(m_mnt + "/nfsroot/pi03/etc/version"), "v1");
}

TEST_F(LoopFs, TwoBtrfsFilesystemsAreCopiedWithRsyncNotSnapshotted) {
  mount_image("mkfs.btrfs", {"-q"});
  mount_image("mkfs.btrfs", {"-q"}, "roots");
  const std::string golden = m_mnt + "/golden";
  it::sh({"btrfs", "subvolume", "create", golden});
  it::make_golden(golden, 50, "v1");
  auto s = shelf(golden);
  s.fileserver.nfs_root = m_dir + "/roots/nfsroot";
  fs::create_directories(s.fileserver.nfs_root);
  inventory::Pi pi;
  pi.name = "pi01";
  LocalHost host;
  RootManager roots(host, s);
  auto r = roots.provision(pi, files());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->method, CloneMethod::rsync);
  EXPECT_THAT(r->reason, ::testing::HasSubstr("are on different btrfs filesystems"));
  EXPECT_EQ(it::slurp(s.fileserver.nfs_root + "/pi01/etc/version"), "v1");
}

TEST(PlainFolder, RsyncWhenNothingFasterIsAvailable) {
  if (::geteuid() != 0 || !it::have("rsync")) GTEST_SKIP() << "needs root and rsync";
  const std::string dir = it::make_temp_dir("rsync");
  it::make_golden(dir + "/golden", 100, "v1");
  it::set_old_mtime(dir + "/golden");
  fs::create_directories(dir + "/nfsroot");
  inventory::Shelf s;
  s.fileserver.transport = inventory::Transport::local;
  s.fileserver.nfs_root = dir + "/nfsroot";
  s.fileserver.golden_image = dir + "/golden";
  LocalHost host;
  RootManager roots(host, s);
  inventory::Pi pi;
  pi.name = "pi04";
  const std::string type = it::sh({"stat", "-f", "-c", "%T", dir});
  const auto started = it::now_seconds();
  auto r = roots.rebuild(pi, {{"etc/hostname", "pi04\n", 0644}});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  if (type != "btrfs\n" && type != "xfs\n") {
    EXPECT_EQ(r->method, CloneMethod::rsync);
  }
  EXPECT_EQ(it::slurp(dir + "/nfsroot/pi04/etc/hostname"), "pi04\n");
  EXPECT_TRUE(fs::exists(dir + "/nfsroot/pi04/usr/share/d0/f99"));
  EXPECT_TRUE(fs::is_regular_file(dir + "/nfsroot/pi04/etc/hostname"));
  // rsync -a keeps the golden image's mtime on the root folder; the age shown is the build's.
  auto listed = roots.list_roots();
  ASSERT_TRUE(listed.has_value() && listed->size() == 1U);
  EXPECT_GE(listed->front().mtime, started);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace picluster::nfsroot
