// The rendered nftables files are accepted by the kernel: each is checked with `nft -c -f` inside
// a network namespace of its own (`unshare -n`), so nothing touches this machine's ruleset.
// Needs root and nft; skipped (saying why) without them.

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "bootcfg/bootcfg.hpp"
#include "tests/support/process.hpp"
#include "tests/unit/bootcfg/shelves.hpp"

namespace picluster::bootcfg::test {
namespace {

std::string nft_of(const inventory::Shelf& shelf) {
  for (const auto& f : render_fileserver_files(shelf)) {
    if (f.path == "etc/nftables.d/picluster.nft") return f.contents;
  }
  ADD_FAILURE() << "no picluster.nft rendered";
  return {};
}

TEST(BootcfgNftCheck, KernelAcceptsTheSdcardNetbootAndMixedModelRulesets) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for unshare -n";
  if (!picluster::testing::have_program("nft") || !picluster::testing::have_program("unshare")) {
    GTEST_SKIP() << "nft or unshare is not installed";
  }
  picluster::testing::TempDir dir("nftcheck");
  auto sdcard = seed_shelf();
  auto netboot = seed_shelf();
  netboot.boot.mode = inventory::BootMode::netboot;
  for (const auto& [name, shelf] : {std::pair{"sdcard", sdcard}, std::pair{"netboot", netboot},
                                    std::pair{"rack2", netboot_shelf()},
                                    std::pair{"mixed", models_shelf()}}) {
    const auto file = dir.path() / (std::string{name} + ".nft");
    picluster::testing::write_file(file, nft_of(shelf));
    const auto r = picluster::testing::run({"unshare", "-n", "nft", "-c", "-f", file.string()});
    EXPECT_EQ(r.status, 0) << name << ": nft -c refused it:\n" << r.err << r.out;
  }
  // The check can fail: a broken rule is refused.
  const auto bad = dir.path() / "bad.nft";
  picluster::testing::write_file(
      bad, nft_of(netboot) + "table inet picluster_isolation { chain input { ip saddr 0.0.0.0 "
                             "udp dport 67 accpet } }\n");
  EXPECT_NE(picluster::testing::run({"unshare", "-n", "nft", "-c", "-f", bad.string()}).status, 0);
}

}  // namespace
}  // namespace picluster::bootcfg::test
