#pragma once
// A shelf whose fileserver is this machine (transport local, everything under root_prefix), and
// the real `picluster` run against it.

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "inventory/inventory.hpp"
#include "tests/integration/image/pi_image.hpp"

namespace picluster::image_test {

using nlohmann::json;

class ImageShelf : public ::testing::Test {
 public:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (loop devices, mounts)";
    for (const char* p : {"mkfs.ext4", "mkfs.vfat", "mcopy", "sfdisk", "losetup", "rsync", "xz", "dpkg-deb"}) {
      if (!testing::have_program(p)) GTEST_SKIP() << "needs " << p;
    }
    if (auto err = fetch_debs(); !err.empty()) GTEST_SKIP() << "cannot fetch the .debs: " << err;
    m_dir = std::make_unique<testing::TempDir>("image");
    m_prefix = dir() / "fs";
    fs::create_directories(m_prefix);
  }
  void TearDown() override {
    for (auto it = m_mounts.rbegin(); it != m_mounts.rend(); ++it) (void)testing::run({"umount", "-d", *it});
  }

  // Puts the fileserver's / on a fresh btrfs loop image (before write_inventory).
  bool btrfs_prefix(const std::string& size = "600M") {
    if (!testing::have_program("mkfs.btrfs")) return false;
    sh({"truncate", "-s", size, (dir() / "fs.btrfs").string()});
    sh({"mkfs.btrfs", "-q", (dir() / "fs.btrfs").string()});
    auto r = testing::run({"mount", "-o", "loop", (dir() / "fs.btrfs").string(), m_prefix.string()});
    if (r.status != 0) return false;
    m_mounts.push_back(m_prefix.string());
    return true;
  }

  // One shelf, no switch; fileserver local under the prefix; `pis` Pis on netboot, of `models`
  // in turn (Pi 4s when empty).
  void write_inventory(int pis, const std::string& shelf_image = {},
                       const std::vector<inventory::PiModel>& models = {}) {
    auto inv = inventory::make_default("lab");
    auto& shelf = inv.shelves.front();
    shelf.fileserver.transport = inventory::Transport::local;
    shelf.fileserver.root_prefix = m_prefix.string();
    shelf.boot.mode = inventory::BootMode::netboot;
    shelf.image = shelf_image;
    for (int i = 1; i <= pis; ++i) {
      inventory::PiRequest req;
      req.name = "pi0" + std::to_string(i);
      req.port = i;
      req.model = models.empty() ? inventory::PiModel::pi4 : models[static_cast<std::size_t>(i - 1) % models.size()];
      req.serial = "1234abc" + std::to_string(i);
      ASSERT_TRUE(inventory::add_pi(shelf, req).has_value());
    }
    fs::create_directories(m_prefix / "srv/nfsroot");
    ASSERT_TRUE(inventory::save(inv, inventory_path()).has_value());
  }

  [[nodiscard]] testing::RunResult pic(const std::vector<std::string>& args, int timeout = 900) const {
    std::vector<std::string> argv{"env", "PICLUSTER_STATE_DIR=" + (dir() / ".picluster").string(),
                                  testing::picluster_exe().string(), "--inventory", inventory_path().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::RunOptions o;
    o.timeout_seconds = timeout;
    return testing::run(argv, o);
  }
  static std::string said(const testing::RunResult& r) {
    return "exit " + std::to_string(r.status) + "\nstdout: " + r.out + "\nstderr: " + r.err;
  }

  [[nodiscard]] const fs::path& dir() const { return m_dir->path(); }
  [[nodiscard]] fs::path inventory_path() const { return dir() / "inventory.json"; }
  [[nodiscard]] fs::path store() const { return m_prefix / "srv/images"; }
  [[nodiscard]] fs::path version(const std::string& name, int n) const {
    return store() / name / std::to_string(n);
  }

  std::unique_ptr<testing::TempDir> m_dir;
  fs::path m_prefix;
  std::vector<std::string> m_mounts;
};

}  // namespace picluster::image_test
