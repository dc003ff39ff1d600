// FileserverConfigurator against the recording fake: idempotence, interface diffs, follow-up
// commands and root_prefix handling.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nfsroot/fileserver_config.hpp"
#include "tests/unit/nfsroot/fake_host.hpp"
#include "tests/unit/nfsroot/test_shelf.hpp"

namespace picluster::nfsroot {
namespace {

using testing::FakeHost;

const std::string kIfaces =
    "# managed by picluster\n"
    "auto eth0.10\n"
    "iface eth0.10 inet static\n"
    "    address 172.30.0.1/30\n"
    "\n"
    "auto eth0.11\n"
    "iface eth0.11 inet static\n"
    "    address 172.30.0.5/30\n";

std::vector<RenderedFile> files(const std::string& ifaces = kIfaces) {
  return {{"etc/network/interfaces.d/picluster", ifaces, 0644},
          {"etc/exports.d/picluster.exports", "/srv/nfsroot/pi01 172.30.0.2(rw,no_root_squash)\n", 0644},
          {"etc/sysctl.d/60-picluster.conf", "net.ipv4.conf.all.arp_ignore = 1\n", 0644},
          {"etc/nftables.d/picluster.nft", "table inet picluster {}\n", 0644}};
}

TEST(IfupdownStanzas, GroupsAutoAndIfaceBlocksByInterface) {
  const auto s = parse_ifupdown_stanzas(kIfaces);
  ASSERT_EQ(s.size(), 2U);
  EXPECT_EQ(s.at("eth0.10"), "auto\niface eth0.10 inet static\n    address 172.30.0.1/30\n");
}

TEST(FileserverConfigurator, FirstApplyWritesEverythingAndRunsEachFollowUpOnce) {
  FakeHost h;
  h.dir("/etc");
  auto shelf = testing::test_shelf();
  FileserverConfigurator config(h, shelf.fileserver);
  auto plan = config.plan(files());
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_EQ(describe(*plan, false),
            "mkdir -p '/etc/network/interfaces.d'\n"
            "write '/etc/network/interfaces.d/picluster' (0644, 154 bytes)\n"
            "mkdir -p '/etc/exports.d'\n"
            "write '/etc/exports.d/picluster.exports' (0644, 48 bytes)\n"
            "mkdir -p '/etc/sysctl.d'\n"
            "write '/etc/sysctl.d/60-picluster.conf' (0644, 33 bytes)\n"
            "mkdir -p '/etc/nftables.d'\n"
            "write '/etc/nftables.d/picluster.nft' (0644, 24 bytes)\n"
            "run 'ifup' 'eth0.10'\n"
            "run 'ifup' 'eth0.11'\n"
            "run 'exportfs' '-ra'\n"
            "run 'sysctl' '--system'\n"
            "run 'nft' '-f' '/etc/nftables.d/picluster.nft'\n");
  ASSERT_TRUE(config.apply(*plan).has_value());
  EXPECT_EQ(h.fs.at("/etc/exports.d/picluster.exports").contents,
            "/srv/nfsroot/pi01 172.30.0.2(rw,no_root_squash)\n");
  EXPECT_EQ(h.commands.size(), 5U);
}

TEST(FileserverConfigurator, UnchangedFilesMeanNothingIsDoneOrRestarted) {
  FakeHost h;
  h.dir("/etc");
  auto shelf = testing::test_shelf();
  FileserverConfigurator config(h, shelf.fileserver);
  ASSERT_TRUE(config.apply(*config.plan(files())).has_value());
  h.commands.clear();
  h.log.clear();
  auto again = config.plan(files());
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->empty()) << describe(*again, false);
  ASSERT_TRUE(config.apply(*again).has_value());
  EXPECT_TRUE(h.commands.empty());
  EXPECT_TRUE(h.log.empty());
}

TEST(FileserverConfigurator, OnlyChangedInterfacesGoDownAndUp) {
  FakeHost h;
  h.dir("/etc");
  auto shelf = testing::test_shelf();
  FileserverConfigurator config(h, shelf.fileserver);
  ASSERT_TRUE(config.apply(*config.plan(files())).has_value());
  const std::string next =
      "auto eth0.10\n"
      "iface eth0.10 inet static\n"
      "    address 172.30.0.1/30\n"
      "\n"
      "auto eth0.12\n"
      "iface eth0.12 inet static\n"
      "    address 172.30.0.9/30\n";
  auto plan = config.plan(files(next));
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(describe(*plan, false),
            "run 'ifdown' 'eth0.11'\n"
            "write '/etc/network/interfaces.d/picluster' (0644, 131 bytes)\n"
            "run 'ifup' 'eth0.12'\n");
}

TEST(FileserverConfigurator, ModeChangeAloneRewritesTheFile) {
  FakeHost h;
  h.file("/etc/sysctl.d/60-picluster.conf", "net.ipv4.conf.all.arp_ignore = 1\n", 0600);
  auto shelf = testing::test_shelf();
  FileserverConfigurator config(h, shelf.fileserver);
  auto plan = config.plan({files()[2]});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->size(), 2U);
}

TEST(FileserverConfigurator, RootPrefixWritesUnderThePrefixAndSkipsLiveCommands) {
  FakeHost h;
  h.dir("/tmp/shelf");
  auto shelf = testing::test_shelf("/tmp/shelf");
  FileserverConfigurator config(h, shelf.fileserver);
  auto plan = config.plan(files());
  ASSERT_TRUE(plan.has_value());
  const std::string text = describe(*plan, true);
  EXPECT_THAT(text, ::testing::HasSubstr("write '/tmp/shelf/etc/exports.d/picluster.exports'"));
  EXPECT_THAT(text, ::testing::HasSubstr("skip 'exportfs' '-ra' (root_prefix set)\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("skip 'ifup' 'eth0.10' (root_prefix set)\n"));
  std::vector<std::string> events;
  ExecOptions options;
  options.on_event = [&](std::string_view e) { events.emplace_back(e); };
  ASSERT_TRUE(config.apply(*plan, options).has_value());
  EXPECT_TRUE(h.commands.empty());
  EXPECT_EQ(events.size(), 5U);
  EXPECT_EQ(events[2], "skipped (root_prefix set): 'exportfs' '-ra'");
  EXPECT_TRUE(h.exists("/tmp/shelf/etc/network/interfaces.d/picluster"));
  EXPECT_FALSE(h.exists("/etc/network/interfaces.d/picluster"));
}

TEST(FileserverConfigurator, AFailingReloadStopsWithTheCommandAndItsError) {
  FakeHost h;
  h.dir("/etc");
  h.failing.insert("exportfs");
  auto shelf = testing::test_shelf();
  FileserverConfigurator config(h, shelf.fileserver);
  auto r = config.apply(*config.plan(files()));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "fileserver apply: reload: 'exportfs' '-ra': exit 1: exportfs: injected failure");
}

TEST(FileserverConfigurator, InspectReportsInterfacesAndExports) {
  FakeHost h;
  h.dir("/tmp/shelf");
  auto shelf = testing::test_shelf("/tmp/shelf");
  FileserverConfigurator config(h, shelf.fileserver);
  ASSERT_TRUE(config.apply(*config.plan(files())).has_value());
  auto state = config.inspect(files());
  ASSERT_TRUE(state.has_value());
  ASSERT_EQ(state->interfaces.size(), 2U);
  EXPECT_EQ(state->interfaces[1].name, "eth0.11");
  EXPECT_EQ(state->interfaces[1].address, "172.30.0.5/30");
  ASSERT_EQ(state->exports.size(), 1U);
  EXPECT_EQ(state->exports[0].path, "/srv/nfsroot/pi01");
  EXPECT_EQ(state->exports[0].clients, "172.30.0.2(rw,no_root_squash)");
}

}  // namespace
}  // namespace picluster::nfsroot
