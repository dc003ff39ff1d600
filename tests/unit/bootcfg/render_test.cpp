// Behaviour of the renderers, one rule per test: what an operator would see in each file.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "bootcfg/bootcfg.hpp"
#include "common/text.hpp"
#include "tests/unit/bootcfg/shelves.hpp"

namespace picluster::bootcfg::test {
namespace {

std::string contents_of(const std::vector<RenderedFile>& files, const std::string& path) {
  for (const auto& f : files) {
    if (f.path == path) return f.contents;
  }
  ADD_FAILURE() << path << " was not rendered";
  return {};
}

// Lines that are neither empty nor comments.
std::vector<std::string> body_lines(const std::string& text) {
  std::vector<std::string> out;
  for (auto& line : split(text, '\n')) {
    if (!line.empty() && line.front() != '#') out.push_back(line);
  }
  return out;
}

TEST(BootcfgCmdline, SeedLineForPi01) {
  const auto shelf = seed_shelf();
  EXPECT_EQ(render_cmdline(shelf, shelf.pis[0]),
            "dwc_otg.lpm_enable=0 console=ttyAMA0,115200 console=tty1 root=/dev/nfs "
            "rootfstype=nfs nfsroot=172.30.0.1:/srv/nfsroot/pi01,vers=3,tcp "
            "ip=172.30.0.2:172.30.0.1::255.255.255.252:pi01:eth0:off elevator=deadline rootwait");
}

TEST(BootcfgCmdline, Pi4And5DeriveTheirLineFromTheShelfs) {
  auto shelf = seed_shelf();
  using inventory::PiModel;
  EXPECT_EQ(cmdline_base_of(shelf, PiModel::pi3), inventory::kDefaultCmdlineBase);
  EXPECT_EQ(cmdline_base_of(shelf, PiModel::pi3bplus), inventory::kDefaultCmdlineBase);
  for (const auto model : {PiModel::pi4, PiModel::pi5}) {
    EXPECT_EQ(cmdline_base_of(shelf, model),
              "console=serial0,115200 console=tty1 root=/dev/nfs rootfstype=nfs "
              "elevator=deadline rootwait");
  }
  // The shelf's own words stay; its first serial console becomes serial0, later ones go.
  shelf.boot.cmdline_base =
      "dwc_otg.fiq_enable=1 console=ttyS0,9600 console=ttyAMA1,115200 root=/dev/nfs quiet";
  EXPECT_EQ(cmdline_base_of(shelf, PiModel::pi5), "console=serial0,115200 root=/dev/nfs quiet");
  // A shelf line without a serial console gets none.
  shelf.boot.cmdline_base = "console=tty1 root=/dev/nfs rootwait";
  EXPECT_EQ(cmdline_base_of(shelf, PiModel::pi4), "console=tty1 root=/dev/nfs rootwait");
  // An override is taken whole, for its model only.
  shelf.boot.models[PiModel::pi4].cmdline_base = "console=ttyAMA0,115200 root=/dev/nfs";
  EXPECT_EQ(cmdline_base_of(shelf, PiModel::pi4), "console=ttyAMA0,115200 root=/dev/nfs");
  EXPECT_EQ(cmdline_base_of(shelf, PiModel::pi5), "console=tty1 root=/dev/nfs rootwait");
  EXPECT_EQ(cmdline_base_of(shelf, PiModel::pi3), "console=tty1 root=/dev/nfs rootwait");
}

TEST(BootcfgCmdline, WithoutRootfstypeGoesBeforeRootwait) {
  auto shelf = seed_shelf();
  shelf.boot.cmdline_base = "console=tty1 root=/dev/nfs rootwait quiet";
  EXPECT_EQ(render_cmdline(shelf, shelf.pis[1]),
            "console=tty1 root=/dev/nfs nfsroot=172.30.0.5:/srv/nfsroot/pi02,vers=3,tcp "
            "ip=172.30.0.6:172.30.0.5::255.255.255.252:pi02:eth0:off rootwait quiet");
}

TEST(BootcfgCmdline, WithoutEitherIsAppended) {
  auto shelf = seed_shelf();
  shelf.boot.cmdline_base = "console=tty1 root=/dev/nfs";
  EXPECT_EQ(render_cmdline(shelf, shelf.pis[0]),
            "console=tty1 root=/dev/nfs nfsroot=172.30.0.1:/srv/nfsroot/pi01,vers=3,tcp "
            "ip=172.30.0.2:172.30.0.1::255.255.255.252:pi01:eth0:off");
}

TEST(BootcfgCmdline, ReplacesNfsrootAndIpFromTheBase) {
  auto shelf = seed_shelf();
  // The seed's own line, with its empty "nfsroot=" placeholder, and a stale ip=.
  shelf.boot.cmdline_base =
      "root=/dev/nfs rootfstype=nfs  nfsroot= ip=dhcp elevator=deadline rootwait";
  EXPECT_EQ(render_cmdline(shelf, shelf.pis[0]),
            "root=/dev/nfs rootfstype=nfs nfsroot=172.30.0.1:/srv/nfsroot/pi01,vers=3,tcp "
            "ip=172.30.0.2:172.30.0.1::255.255.255.252:pi01:eth0:off elevator=deadline rootwait");
}

TEST(BootcfgCmdline, NfsRootIsThePathThePiSeesWithoutRootPrefix) {
  auto shelf = seed_shelf();
  shelf.fileserver.root_prefix = "/var/lib/lab/fs";
  shelf.fileserver.nfs_root = "/srv/nfsroot/";
  EXPECT_NE(render_cmdline(shelf, shelf.pis[0]).find(" nfsroot=172.30.0.1:/srv/nfsroot/pi01,"),
            std::string::npos);
  const auto files = render_fileserver_files(shelf);
  EXPECT_EQ(contents_of(files, "etc/exports.d/picluster.exports").find("/var/lib/lab"),
            std::string::npos);
}

TEST(BootcfgPiRoot, InterfacesLeaveEth0ToTheKernel) {
  const auto shelf = seed_shelf();
  const auto text =
      contents_of(render_pi_root_files(shelf, shelf.pis[0]), "etc/network/interfaces");
  const auto lines = body_lines(text);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "iface eth0 inet manual"), lines.end());
  for (const auto& line : lines) {
    EXPECT_NE(line, "auto eth0");
    EXPECT_FALSE(line.starts_with("allow-hotplug eth0")) << line;
    EXPECT_FALSE(line.starts_with("iface eth0 ") && line != "iface eth0 inet manual") << line;
  }
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  EXPECT_EQ(lower.find("dhcp"), std::string::npos) << text;
}

TEST(BootcfgPiRoot, DadAttemptsOnlyWhenTheInventoryAsks) {
  auto shelf = seed_shelf();
  const auto interfaces = [&] {
    return contents_of(render_pi_root_files(shelf, shelf.pis[0]), "etc/network/interfaces");
  };
  EXPECT_EQ(interfaces().find("dad-attempts"), std::string::npos);
  shelf.public_net.extra["dad_attempts"] = 0;
  EXPECT_TRUE(interfaces().ends_with("\tgateway\t2a00:1098:0:84::1\n\tdad-attempts 0\n"));
  shelf.public_net.extra["dad_attempts"] = 3;
  EXPECT_TRUE(interfaces().ends_with("\tdad-attempts 3\n"));
  for (const auto& junk : {inventory::Json(-1), inventory::Json("0"), inventory::Json(1.5),
                           inventory::Json(nullptr)}) {
    shelf.public_net.extra["dad_attempts"] = junk;
    EXPECT_EQ(interfaces().find("dad-attempts"), std::string::npos) << junk.dump();
  }
}

TEST(BootcfgPiRoot, HostsFstabAndModules) {
  const auto shelf = seed_shelf();
  const auto files = render_pi_root_files(shelf, shelf.pis[1]);
  const auto hosts = body_lines(contents_of(files, "etc/hosts"));
  for (const char* line :
       {"127.0.0.1\tlocalhost", "::1\t\tlocalhost ip6-localhost ip6-loopback", "127.0.1.1\tpi02",
        "2a00:1098:0:84:1000:2::2\tpi02", "172.30.0.5\tfileserver"}) {
    EXPECT_NE(std::find(hosts.begin(), hosts.end(), line), hosts.end()) << line;
  }
  const auto fstab = body_lines(contents_of(files, "etc/fstab"));
  EXPECT_EQ(fstab, (std::vector<std::string>{
                       "proc /proc proc defaults 0 0",
                       "172.30.0.5:/srv/nfsroot/pi02 / nfs defaults,noatime,vers=3,tcp 0 0",
                       "tmpfs /tmp tmpfs defaults,nosuid,nodev 0 0"}));
  EXPECT_EQ(body_lines(contents_of(files, "etc/modules-load.d/picluster.conf")),
            std::vector<std::string>{"8021q"});
  EXPECT_EQ(contents_of(files, "etc/hostname"), "pi02\n");
}

TEST(BootcfgBoot, SdcardHasOnlyCmdline) {
  const auto shelf = seed_shelf();
  const auto files = render_boot_files(shelf, shelf.pis[0]);
  ASSERT_EQ(files.size(), 1U);
  EXPECT_EQ(files[0].path, "cmdline.txt");
  EXPECT_EQ(files[0].contents, render_cmdline(shelf, shelf.pis[0]) + "\n");
}

TEST(BootcfgBoot, TftpFolderIsTheLowerCaseSerial) {
  auto pi = seed_shelf().pis[0];
  EXPECT_EQ(tftp_folder(pi), "");
  pi.serial = "0A1B2C3D";
  EXPECT_EQ(tftp_folder(pi), "0a1b2c3d");
  for (const char* bad : {"../../x", "0a1b2c3", "0a1b2c3d0", "0a1b2c3g", ""}) {
    pi.serial = bad;
    EXPECT_EQ(tftp_folder(pi), "") << bad;
  }
}

TEST(BootcfgFileserver, ExportsNameOnlyEachPiAddress) {
  const auto files = render_fileserver_files(seed_shelf());
  EXPECT_EQ(body_lines(contents_of(files, "etc/exports.d/picluster.exports")),
            (std::vector<std::string>{
                "/srv/nfsroot/pi01 172.30.0.2(rw,sync,no_subtree_check,no_root_squash)",
                "/srv/nfsroot/pi02 172.30.0.6(rw,sync,no_subtree_check,no_root_squash)"}));
}

TEST(BootcfgFileserver, SysctlHardening) {
  const auto lines = body_lines(
      contents_of(render_fileserver_files(seed_shelf()), "etc/sysctl.d/60-picluster.conf"));
  for (const char* line :
       {"net.ipv4.conf.all.arp_ignore = 1", "net.ipv4.conf.default.arp_ignore = 1",
        "net.ipv4.conf.all.arp_announce = 2", "net.ipv4.conf.default.arp_announce = 2",
        "net.ipv4.conf.all.rp_filter = 1", "net.ipv4.conf.default.rp_filter = 1",
        "net.ipv4.ip_forward = 0"}) {
    EXPECT_NE(std::find(lines.begin(), lines.end(), line), lines.end()) << line;
  }
}

TEST(BootcfgFileserver, NftablesTiesEachAddressToItsVlanAndPi) {
  const auto nft =
      contents_of(render_fileserver_files(seed_shelf()), "etc/nftables.d/picluster.nft");
  const auto lines = body_lines(nft);
  // Reload-safe: declare, delete, define, in that order.
  ASSERT_GE(lines.size(), 3U);
  EXPECT_EQ(lines[0], "table inet picluster_isolation");
  EXPECT_EQ(lines[1], "delete table inet picluster_isolation");
  EXPECT_EQ(lines[2], "table inet picluster_isolation {");
  for (const char* text :
       {"\t\t\t172.30.0.1 . \"eth0.10\",\t# pi01\n", "\t\t\t172.30.0.5 . \"eth0.11\",\t# pi02\n",
        "\t\t\t\"eth0.10\" . 172.30.0.2,\t# pi01\n", "\t\t\t\"eth0.11\" . 172.30.0.6,\t# pi02\n",
        "ip daddr @storage_address ip daddr . iifname != @home_interface drop\n",
        "iifname @storage_interface iifname . ip saddr != @pi_source drop\n", "\tchain forward {\n",
        "\t\tiifname @storage_interface drop\n"}) {
    EXPECT_NE(nft.find(text), std::string::npos) << text;
  }
  // No DHCP hole without netboot.
  EXPECT_EQ(nft.find("dport 67"), std::string::npos);
  const auto netboot = netboot_shelf();
  EXPECT_NE(contents_of(render_fileserver_files(netboot), "etc/nftables.d/picluster.nft")
                .find("ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 "
                      "accept"),
            std::string::npos);
}

// Netboot opens exactly one rule: the boot ROM's unaddressed DHCP broadcast, on the storage
// VLANs only. The same shelf as sdcard renders the same file without it (and its comments), so a
// sdcard shelf's firewall is what it was, and netboot adds nothing else.
TEST(BootcfgFileserver, NetbootAddsOnlyTheUnaddressedDhcpRule) {
  auto shelf = seed_shelf();
  const auto sdcard = contents_of(render_fileserver_files(shelf), "etc/nftables.d/picluster.nft");
  shelf.boot.mode = inventory::BootMode::netboot;
  const auto netboot = contents_of(render_fileserver_files(shelf), "etc/nftables.d/picluster.nft");
  // Rules only: lines that are neither empty nor (indented) comments.
  const auto rules_of = [](const std::string& text) {
    std::vector<std::string> out;
    for (auto& line : split(text, '\n')) {
      const auto start = line.find_first_not_of('\t');
      if (start != std::string::npos && line[start] != '#') out.push_back(line);
    }
    return out;
  };
  const auto sd_lines = rules_of(sdcard);
  auto nb_lines = rules_of(netboot);
  const std::string rule =
      "\t\tiifname @storage_interface ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 "
      "udp dport 67 accept";
  const auto at = std::find(nb_lines.begin(), nb_lines.end(), rule);
  ASSERT_NE(at, nb_lines.end()) << netboot;
  // After the storage-address check (a broadcast is no storage address), before the drops.
  EXPECT_EQ(*(at - 1), "\t\tip daddr @storage_address ip daddr . iifname != @home_interface drop");
  EXPECT_EQ(*(at + 1), "\t\tiifname @storage_interface meta nfproto ipv6 drop");
  nb_lines.erase(at);
  EXPECT_EQ(nb_lines, sd_lines);
  // Every netboot line that is not in the sdcard file is that rule or a comment.
  const auto sdcard_all = split(sdcard, '\n');
  for (const auto& line : split(netboot, '\n')) {
    if (std::find(sdcard_all.begin(), sdcard_all.end(), line) != sdcard_all.end()) continue;
    EXPECT_TRUE(line == rule || line.starts_with("\t\t# ")) << line;
  }
  // Nothing for TFTP: no port 69 rule, no conntrack helper (see the comment in the file).
  EXPECT_EQ(netboot.find("dport 69"), std::string::npos);
  EXPECT_EQ(netboot.find("ct helper set"), std::string::npos);
  EXPECT_EQ(netboot.find("\tct helper "), std::string::npos);
  EXPECT_NE(netboot.find("TFTP needs no ct helper"), std::string::npos);
}

TEST(BootcfgFileserver, EmptyShelfRendersNoEmptyElementLists) {
  auto shelf = seed_shelf();
  shelf.pis.clear();
  const auto files = render_fileserver_files(shelf);
  EXPECT_EQ(contents_of(files, "etc/nftables.d/picluster.nft").find("elements"), std::string::npos);
  EXPECT_EQ(body_lines(contents_of(files, "etc/exports.d/picluster.exports")).size(), 0U);
  shelf.boot.mode = inventory::BootMode::netboot;
  // Without any Pi to serve dnsmasq must not fall back to every interface.
  const auto dnsmasq =
      body_lines(contents_of(render_fileserver_files(shelf), "etc/dnsmasq.d/picluster.conf"));
  EXPECT_NE(std::find(dnsmasq.begin(), dnsmasq.end(), "interface=lo"), dnsmasq.end());
}

TEST(BootcfgFileserver, OrderFollowsVlansNotInsertion) {
  auto shelf = seed_shelf();
  const auto ordered = render_fileserver_files(shelf);
  std::reverse(shelf.pis.begin(), shelf.pis.end());
  EXPECT_EQ(render_fileserver_files(shelf), ordered);
  const auto text = contents_of(ordered, "etc/network/interfaces.d/picluster");
  EXPECT_LT(text.find("eth0.10"), text.find("eth0.11"));
}

TEST(BootcfgTree, NamedPisOnlyAndTheirShelf) {
  auto inv = inventory_of(seed_shelf());
  inv.shelves.push_back(netboot_shelf());
  const auto tree = render_tree(inv, {"pi02"});
  std::vector<std::string> roots;
  for (const auto& f : tree) {
    if (f.path.find("/roots/") != std::string::npos)
      roots.push_back(f.path.substr(0, f.path.find("/etc/")));
  }
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  // pi02 exists on both shelves; each shelf renders its own.
  EXPECT_EQ(roots, (std::vector<std::string>{"rack2/roots/pi02", "shelf1/roots/pi02"}));
  EXPECT_TRUE(render_tree(inv, {"nosuchpi"}).empty());
}

TEST(BootcfgFiles, HeadersNewlinesAndModes) {
  auto inv = inventory_of(seed_shelf());
  inv.shelves.push_back(netboot_shelf());
  inv.shelves.push_back(networkd_shelf());
  for (const auto& f : render_tree(inv, {})) {
    ASSERT_FALSE(f.contents.empty()) << f.path;
    EXPECT_EQ(f.contents.back(), '\n') << f.path;
    EXPECT_EQ(f.mode, 0644U) << f.path;
    const auto shelf = f.path.substr(0, f.path.find('/'));
    if (f.path.ends_with("/cmdline.txt") || f.path.ends_with("/etc/hostname")) {
      EXPECT_EQ(f.contents.find('\n'), f.contents.size() - 1) << f.path << ": one line";
      EXPECT_NE(f.contents.front(), '#') << f.path;
    } else {
      EXPECT_TRUE(f.contents.starts_with("# Generated by picluster from shelf \"" + shelf + "\""))
          << f.path;
    }
  }
}

}  // namespace
}  // namespace picluster::bootcfg::test
