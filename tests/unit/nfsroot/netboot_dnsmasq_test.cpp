// The `exports` stage's files on a netboot shelf (the exports file and dnsmasq's file, as
// orchestrator/reconcile.cpp's export_files picks them) through FileserverConfigurator: dnsmasq's
// rendered file is written and dnsmasq restarted once, only when the file changed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "bootcfg/bootcfg.hpp"
#include "nfsroot/fileserver_config.hpp"
#include "tests/unit/nfsroot/fake_host.hpp"
#include "tests/unit/nfsroot/test_shelf.hpp"

namespace picluster::nfsroot {
namespace {

using testing::FakeHost;

std::vector<RenderedFile> export_stage_files(const inventory::Shelf& shelf) {
  auto files = bootcfg::render_fileserver_files(shelf);
  std::erase_if(files, [](const RenderedFile& f) {
    return !f.path.starts_with("etc/exports") && !f.path.starts_with("etc/dnsmasq.d/");
  });
  return files;
}

long restarts(const FakeHost& h) {
  const std::vector<std::string> restart{"systemctl", "restart", "dnsmasq"};
  return std::count(h.commands.begin(), h.commands.end(), restart);
}

inventory::Shelf netboot_shelf(std::string root_prefix = {}) {
  auto shelf = testing::test_shelf(std::move(root_prefix));
  shelf.boot.mode = inventory::BootMode::netboot;
  shelf.pis[0].mac = inventory::Mac::parse("dc:a6:32:00:00:01").value();
  shelf.pis[0].serial = "a1b2c3d4";
  return shelf;
}

TEST(NetbootDnsmasq, WrittenAndRestartedOnceThenLeftAloneUntilItChanges) {
  FakeHost h;
  h.dir("/etc");
  auto shelf = netboot_shelf();
  FileserverConfigurator config(h, shelf.fileserver);
  const auto files = export_stage_files(shelf);
  ASSERT_EQ(files.size(), 2U);
  auto plan = config.plan(files);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  const auto text = describe(*plan, false);
  EXPECT_THAT(text, ::testing::HasSubstr("write '/etc/dnsmasq.d/picluster.conf' (0644, "));
  EXPECT_THAT(text, ::testing::HasSubstr("run 'systemctl' 'restart' 'dnsmasq'\n"));
  ASSERT_TRUE(config.apply(*plan).has_value());
  const auto& conf = h.fs.at("/etc/dnsmasq.d/picluster.conf").contents;
  EXPECT_EQ(conf, files[1].path == "etc/dnsmasq.d/picluster.conf" ? files[1].contents
                                                                  : files[0].contents);
  EXPECT_THAT(conf, ::testing::HasSubstr("\ninterface=eth0.10\n"));
  EXPECT_THAT(conf, ::testing::HasSubstr("\ndhcp-host=dc:a6:32:00:00:01,172.30.0.2,pi01\n"));
  EXPECT_EQ(restarts(h), 1);

  // Unchanged: nothing written, dnsmasq not restarted.
  h.commands.clear();
  auto again = config.plan(export_stage_files(shelf));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->empty()) << describe(*again, false);
  ASSERT_TRUE(config.apply(*again).has_value());
  EXPECT_EQ(restarts(h), 0);

  // A new MAC: dnsmasq's file changes and dnsmasq restarts; the exports are left alone.
  shelf.pis[0].mac = inventory::Mac::parse("dc:a6:32:00:00:02").value();
  auto changed = config.plan(export_stage_files(shelf));
  ASSERT_TRUE(changed.has_value());
  EXPECT_THAT(describe(*changed, false), ::testing::Not(::testing::HasSubstr("exportfs")));
  ASSERT_TRUE(config.apply(*changed).has_value());
  EXPECT_EQ(restarts(h), 1);
  EXPECT_THAT(h.fs.at("/etc/dnsmasq.d/picluster.conf").contents,
              ::testing::HasSubstr("\ndhcp-host=dc:a6:32:00:00:02,172.30.0.2,pi01\n"));
}

TEST(NetbootDnsmasq, UnderARootPrefixTheFileLandsThereAndTheRestartIsSkipped) {
  FakeHost h;
  h.dir("/tmp/shelf");
  auto shelf = netboot_shelf("/tmp/shelf");
  FileserverConfigurator config(h, shelf.fileserver);
  auto plan = config.plan(export_stage_files(shelf));
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_THAT(describe(*plan, true),
              ::testing::HasSubstr("skip 'systemctl' 'restart' 'dnsmasq' (root_prefix set)\n"));
  ASSERT_TRUE(config.apply(*plan).has_value());
  EXPECT_TRUE(h.exists("/tmp/shelf/etc/dnsmasq.d/picluster.conf"));
  EXPECT_FALSE(h.exists("/etc/dnsmasq.d/picluster.conf"));
  EXPECT_EQ(restarts(h), 0);
}

TEST(NetbootDnsmasq, AnSdcardShelfHasNoDnsmasqFile) {
  const auto files = export_stage_files(testing::test_shelf());
  ASSERT_EQ(files.size(), 1U);
  EXPECT_EQ(files[0].path, "etc/exports.d/picluster.exports");
}

}  // namespace
}  // namespace picluster::nfsroot
