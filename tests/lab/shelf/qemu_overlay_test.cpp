// ensure_overlay with the real qemu-img: an overlay on the current image is kept (the lab's
// fileserver state survives `lab down` / `lab up`), one on another image (a changed recipe) is
// replaced by an empty one on the new image.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lab/shelf/process.hpp"
#include "lab/shelf/qemu.hpp"

namespace picluster::lab {
namespace {
namespace fs = std::filesystem;

class Overlay : public ::testing::Test {
 protected:
  void SetUp() override {
    auto which = run({"sh", "-c", "command -v qemu-img"});
    if (!which || which->exit_status != 0) GTEST_SKIP() << "qemu-img is not installed";
    m_dir = fs::temp_directory_path() / ("lab-overlay-test-" + std::to_string(getpid()));
    fs::create_directories(m_dir);
    for (const char* name : {"old.img", "new.img"}) {
      ASSERT_TRUE(run_ok({"truncate", "-s", "1M", (m_dir / name).string()}));
    }
  }
  void TearDown() override {
    std::error_code ec;
    if (!m_dir.empty()) fs::remove_all(m_dir, ec);
  }
  std::string backing_of(const fs::path& overlay) {
    auto info = run_checked({"qemu-img", "info", "--output=json", overlay.string()});
    return info ? info->out : "";
  }
  fs::path m_dir;
};

TEST_F(Overlay, KeptOnTheSameImageReplacedOnAnother) {
  const fs::path overlay = m_dir / "disk.qcow2";
  auto created = ensure_overlay(overlay, m_dir / "old.img");
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_TRUE(*created);
  // Something written on top of the old image (the lab's Pi roots, say).
  ASSERT_TRUE(run_ok({"qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 64k", overlay.string()}));
  const auto size_written = fs::file_size(overlay);

  auto again = ensure_overlay(overlay, m_dir / "old.img");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(*again) << "an overlay on the same image was recreated";
  EXPECT_EQ(fs::file_size(overlay), size_written);

  auto replaced = ensure_overlay(overlay, m_dir / "new.img");
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_TRUE(*replaced) << "an overlay on another image was reused";
  const std::string info = backing_of(overlay);
  EXPECT_NE(info.find((m_dir / "new.img").string()), std::string::npos) << info;
  EXPECT_EQ(info.find((m_dir / "old.img").string()), std::string::npos) << info;
  EXPECT_LT(fs::file_size(overlay), size_written);
}

}  // namespace
}  // namespace picluster::lab
