// Golden-file tests: every rendered file of four shelves pinned byte for byte, plus the seed's
// stanzas written out here literally, so a golden that drifted from the seed fails even in
// update mode's aftermath.

#include "tests/unit/bootcfg/golden.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "bootcfg/bootcfg.hpp"
#include "tests/unit/bootcfg/shelves.hpp"

namespace picluster::bootcfg::test {
namespace {

const RenderedFile& file_named(const std::vector<RenderedFile>& files, const std::string& path) {
  const auto it = std::find_if(files.begin(), files.end(),
                               [&](const RenderedFile& f) { return f.path == path; });
  if (it == files.end()) {
    ADD_FAILURE() << path << " was not rendered";
    static const RenderedFile none{};
    return none;
  }
  return *it;
}

constexpr const char* kSeedCmdline =
    "dwc_otg.lpm_enable=0 console=ttyAMA0,115200 console=tty1 root=/dev/nfs rootfstype=nfs "
    "nfsroot=172.30.0.1:/srv/nfsroot/pi01,vers=3,tcp "
    "ip=172.30.0.2:172.30.0.1::255.255.255.252:pi01:eth0:off elevator=deadline rootwait";

constexpr const char* kSeedPiStanza =
    "auto eth0.131\n"
    "iface eth0.131 inet6 static\n"
    "\taddress\t2a00:1098:0:84:1000:1::2\n"
    "\tnetmask 64\n"
    "\tgateway\t2a00:1098:0:84::1\n";

constexpr const char* kSeedFileserverStanzas[] = {
    "auto eth0.10\n"
    "iface eth0.10 inet static\n"
    "\taddress 172.30.0.1\n"
    "\tnetmask 255.255.255.252\n",
    "auto eth0.11\n"
    "iface eth0.11 inet static\n"
    "\taddress 172.30.0.5\n"
    "\tnetmask 255.255.255.252\n",
};

TEST(BootcfgGolden, SeedShelfTree) {
  const auto tree = render_tree(inventory_of(seed_shelf()), {});
  expect_golden("seed_sdcard", tree);

  EXPECT_EQ(file_named(tree, "shelf1/boot/pi01/cmdline.txt").contents,
            std::string{kSeedCmdline} + "\n");
  const auto& interfaces = file_named(tree, "shelf1/roots/pi01/etc/network/interfaces").contents;
  EXPECT_TRUE(interfaces.ends_with(kSeedPiStanza)) << interfaces;
  const auto& fileserver =
      file_named(tree, "shelf1/fileserver/etc/network/interfaces.d/picluster").contents;
  for (const char* stanza : kSeedFileserverStanzas) {
    EXPECT_NE(fileserver.find(stanza), std::string::npos) << stanza << "\nnot in\n" << fileserver;
  }
  EXPECT_EQ(file_named(tree, "shelf1/roots/pi01/etc/hostname").contents, "pi01\n");
}

TEST(BootcfgGolden, NetbootTree) {
  const auto tree = render_tree(inventory_of(netboot_shelf()), {});
  expect_golden("netboot", tree);

  const auto& pi3 = file_named(tree, "rack2/tftp/vlan-10/0a1b2c3d/config.txt").contents;
  EXPECT_EQ(pi3.find("arm_64bit"), std::string::npos);
  EXPECT_NE(pi3.find("\nenable_uart=1\n"), std::string::npos);
  EXPECT_NE(file_named(tree, "rack2/tftp/vlan-11/1234abcd/config.txt").contents.find("\narm_64bit=1\n"),
            std::string::npos);
  EXPECT_NE(file_named(tree, "rack2/tftp/vlan-12/5eed5eed/config.txt").contents.find("\narm_64bit=1\n"),
            std::string::npos);
  // pi04 has no serial, hence no TFTP folder: its files stay visible under boot/.
  file_named(tree, "rack2/boot/pi04/config.txt");

  const auto& dnsmasq = file_named(tree, "rack2/fileserver/etc/dnsmasq.d/picluster.conf").contents;
  for (const char* line :
       {"\nport=0\n", "\nenable-tftp\n", "\ntftp-root=/srv/tftp/unassigned\n", "\ntftp-no-fail\n",
        "\ntftp-root=/srv/tftp/vlan-10,eth0.10\n", "\ntftp-root=/srv/tftp/vlan-11,eth0.11\n",
        "\npxe-service=0,\"Raspberry Pi Boot\"\n", "\ninterface=eth0.10\n",
        "\ndhcp-range=172.30.0.0,static,255.255.255.252\n",
        "\ndhcp-host=b8:27:eb:00:00:01,172.30.0.2,pi01\n", "\ninterface=eth0.11\n",
        "\ndhcp-host=dc:a6:32:00:00:02,172.30.0.6,pi02\n"}) {
    EXPECT_NE(dnsmasq.find(line), std::string::npos) << line;
  }
  // No MAC, no DHCP: pi03 and pi04's VLANs are not served.
  EXPECT_EQ(dnsmasq.find("interface=eth0.12"), std::string::npos);
  EXPECT_EQ(dnsmasq.find("interface=eth0.13"), std::string::npos);
  // Nor do they get a TFTP root: a Pi reaches only its own VLAN's root.
  EXPECT_EQ(dnsmasq.find("vlan-12"), std::string::npos);
  EXPECT_EQ(dnsmasq.find("vlan-13"), std::string::npos);
}

TEST(BootcfgGolden, NetworkdLabShelf) {
  const auto shelf = networkd_shelf();
  auto files = under("fileserver", render_fileserver_files(shelf));
  for (auto& f : under("roots/pi01", render_pi_root_files(shelf, shelf.pis[0]))) files.push_back(f);
  expect_golden("networkd", files);

  const auto& netdev =
      file_named(files, "fileserver/etc/systemd/network/60-picluster-vlan10.netdev");
  EXPECT_NE(netdev.contents.find("[NetDev]\nName=eth0.10\nKind=vlan\n\n[VLAN]\nId=10\n"),
            std::string::npos);
  const auto& network =
      file_named(files, "fileserver/etc/systemd/network/60-picluster-vlan11.network");
  EXPECT_NE(network.contents.find("[Match]\nName=eth0.11\n\n[Network]\nAddress=172.30.0.5/30\n"),
            std::string::npos);
  const auto& trunk =
      file_named(files, "fileserver/etc/systemd/network/90-picluster-trunk.network");
  EXPECT_NE(
      trunk.contents.find("Name=eth0\n\n[Network]\nVLAN=eth0.10\nVLAN=eth0.11\nVLAN=eth0.131\n"),
      std::string::npos);
  const auto& pub =
      file_named(files, "fileserver/etc/systemd/network/60-picluster-vlan131.network");
  EXPECT_NE(pub.contents.find("Address=2a00:1098:0:84::2/64\n"), std::string::npos);
  const auto& interfaces = file_named(files, "roots/pi01/etc/network/interfaces").contents;
  EXPECT_TRUE(interfaces.ends_with(std::string{kSeedPiStanza} + "\tdad-attempts 0\n"))
      << interfaces;
}

// One Pi of each model: the Pi 3 keeps the seed's line byte for byte, the Pi 4 and 5 get
// console=serial0,115200 and no dwc_otg, and boot.models overrides win over both.
TEST(BootcfgGolden, MixedModelsShelf) {
  const auto tree = render_tree(inventory_of(models_shelf()), {});
  expect_golden("models", tree);

  EXPECT_EQ(file_named(tree, "mixed/tftp/vlan-10/00000001/cmdline.txt").contents,
            std::string{kSeedCmdline} + "\n");
  EXPECT_EQ(file_named(tree, "mixed/tftp/vlan-11/00000002/cmdline.txt").contents,
            "console=ttyAMA0,115200 root=/dev/nfs rootfstype=nfs "
            "nfsroot=172.30.0.5:/srv/nfsroot/pi02,vers=3,tcp "
            "ip=172.30.0.6:172.30.0.5::255.255.255.252:pi02:eth0:off rootwait\n");
  EXPECT_EQ(file_named(tree, "mixed/tftp/vlan-12/00000003/cmdline.txt").contents,
            "console=serial0,115200 console=tty1 root=/dev/nfs rootfstype=nfs "
            "nfsroot=172.30.0.9:/srv/nfsroot/pi03,vers=3,tcp "
            "ip=172.30.0.10:172.30.0.9::255.255.255.252:pi03:eth0:off elevator=deadline "
            "rootwait\n");
  EXPECT_EQ(file_named(tree, "mixed/tftp/vlan-13/00000004/cmdline.txt").contents,
            "console=serial0,115200 console=tty1 root=/dev/nfs rootfstype=nfs "
            "nfsroot=172.30.0.13:/srv/nfsroot/pi04,vers=3,tcp "
            "ip=172.30.0.14:172.30.0.13::255.255.255.252:pi04:eth0:off elevator=deadline "
            "rootwait\n");

  const auto& pi3 = file_named(tree, "mixed/tftp/vlan-10/00000001/config.txt").contents;
  EXPECT_NE(pi3.find("\nenable_uart=1\ndtoverlay=disable-bt\n"), std::string::npos) << pi3;
  EXPECT_EQ(pi3.find("arm_64bit"), std::string::npos);
  const auto& pi4 = file_named(tree, "mixed/tftp/vlan-12/00000003/config.txt").contents;
  EXPECT_NE(pi4.find("\narm_64bit=1\n"), std::string::npos) << pi4;
  EXPECT_NE(pi4.find("\nenable_uart=1\ndtoverlay=disable-bt\n"), std::string::npos) << pi4;
  const auto& pi5 = file_named(tree, "mixed/tftp/vlan-13/00000004/config.txt").contents;
  EXPECT_TRUE(pi5.ends_with(
      "# Settings from boot.models.pi5.config_txt of the inventory.\n"
      "arm_64bit=1\nenable_uart=1\ndtparam=uart0_console\n"))
      << pi5;
  EXPECT_EQ(pi5.find("disable-bt"), std::string::npos);
}

TEST(BootcfgGolden, CustomTrunkShelf) {
  const auto shelf = custom_trunk_shelf();
  auto files = under("fileserver", render_fileserver_files(shelf));
  for (const auto& pi : shelf.pis) {
    for (auto& f : under("boot/" + pi.name, render_boot_files(shelf, pi))) files.push_back(f);
    for (auto& f : under("roots/" + pi.name, render_pi_root_files(shelf, pi))) files.push_back(f);
  }
  expect_golden("custom_trunk", files);

  const auto& stanzas = file_named(files, "fileserver/etc/network/interfaces.d/picluster").contents;
  EXPECT_NE(stanzas.find("auto enp1s0.10\niface enp1s0.10 inet static\n\taddress 172.30.0.1\n"
                         "\tnetmask 255.255.255.252\n"),
            std::string::npos);
  EXPECT_NE(stanzas.find("auto enp1s0.131\niface enp1s0.131 inet6 static\n"
                         "\taddress\t2a00:1098:0:84::2\n\tnetmask 64\n"),
            std::string::npos);
  EXPECT_EQ(stanzas.find("eth0"), std::string::npos);
  // The Pi's side is always eth0, whatever the fileserver's trunk is called.
  EXPECT_NE(file_named(files, "roots/pi01/etc/network/interfaces").contents.find("auto eth0.131\n"),
            std::string::npos);
  EXPECT_NE(file_named(files, "fileserver/etc/nftables.d/picluster.nft")
                .contents.find("172.30.0.1 . \"enp1s0.10\""),
            std::string::npos);
}

}  // namespace
}  // namespace picluster::bootcfg::test

namespace picluster::bootcfg::test {
namespace {

// The inventory's own allocator, not hand-written values: `init` + `add pi01 --port 1` and
// `add pi02 --port 2` render the seed's files exactly as the goldens above.
TEST(BootcfgGolden, AllocatedPisRenderTheSeedGoldens) {
  auto inv = inventory::make_default();
  ASSERT_EQ(inv.shelves.size(), 1U);
  auto& shelf = inv.shelves.front();
  ASSERT_TRUE(inventory::add_pi(shelf, {"pi01", 1, inventory::PiModel::pi3, {}, {}}));
  ASSERT_TRUE(inventory::add_pi(shelf, {"pi02", 2, inventory::PiModel::pi3, {}, {}}));
  EXPECT_EQ(render_cmdline(shelf, shelf.pis[0]), kSeedCmdline);
  EXPECT_EQ(render_tree(inv, {}), render_tree(inventory_of(seed_shelf()), {}));
}

}  // namespace
}  // namespace picluster::bootcfg::test
