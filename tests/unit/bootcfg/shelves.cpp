#include "tests/unit/bootcfg/shelves.hpp"

#include <utility>
#include <vector>

namespace picluster::bootcfg::test {

using inventory::Ipv4;
using inventory::Ipv6;
using inventory::PiModel;

inventory::Pi make_pi(const PiSpec& spec) {
  inventory::Pi pi;
  pi.name = spec.name;
  pi.port = spec.port;
  pi.vlan = spec.vlan;
  pi.model = spec.model;
  pi.serial = spec.serial;
  if (spec.mac) pi.mac = inventory::Mac::parse(*spec.mac).value();
  const Ipv4 network = Ipv4::parse(spec.network).value();
  pi.storage.network = network;
  pi.storage.fileserver = Ipv4{network.value + 1};
  pi.storage.pi = Ipv4{network.value + 2};
  pi.storage.broadcast = Ipv4{network.value + 3};
  pi.ipv6 = Ipv6::parse(spec.ipv6).value();
  return pi;
}

inventory::Shelf seed_shelf() {
  inventory::Shelf shelf;
  shelf.pis.push_back(make_pi({"pi01", 1, 10, "172.30.0.0", "2a00:1098:0:84:1000:1::2",
                               PiModel::pi3, std::nullopt, std::nullopt}));
  shelf.pis.push_back(make_pi({"pi02", 2, 11, "172.30.0.4", "2a00:1098:0:84:1000:2::2",
                               PiModel::pi3, std::nullopt, std::nullopt}));
  return shelf;
}

inventory::Shelf netboot_shelf() {
  inventory::Shelf shelf;
  shelf.name = "rack2";
  shelf.boot.mode = inventory::BootMode::netboot;
  shelf.pis.push_back(make_pi({"pi01", 1, 10, "172.30.0.0", "2a00:1098:0:84:1000:1::2",
                               PiModel::pi3, "0a1b2c3d", "b8:27:eb:00:00:01"}));
  shelf.pis.push_back(make_pi({"pi02", 2, 11, "172.30.0.4", "2a00:1098:0:84:1000:2::2",
                               PiModel::pi4, "1234abcd", "dc:a6:32:00:00:02"}));
  shelf.pis.push_back(make_pi({"pi03", 3, 12, "172.30.0.8", "2a00:1098:0:84:1000:3::2",
                               PiModel::pi5, "5eed5eed", std::nullopt}));
  shelf.pis.push_back(make_pi({"pi04", 4, 13, "172.30.0.12", "2a00:1098:0:84:1000:4::2",
                               PiModel::pi3bplus, std::nullopt, std::nullopt}));
  return shelf;
}

inventory::Shelf networkd_shelf() {
  inventory::Shelf shelf = seed_shelf();
  shelf.name = "lab";
  shelf.fileserver.net_config = inventory::NetConfigStyle::networkd;
  shelf.public_net.fileserver_address = Ipv6::parse("2a00:1098:0:84::2").value();
  shelf.public_net.extra["dad_attempts"] = 0;
  return shelf;
}

inventory::Shelf custom_trunk_shelf() {
  inventory::Shelf shelf = seed_shelf();
  shelf.name = "edge";
  shelf.fileserver.trunk_interface = "enp1s0";
  shelf.fileserver.nfs_root = "/export/pis/";
  shelf.public_net.fileserver_address = Ipv6::parse("2a00:1098:0:84::2").value();
  shelf.boot.cmdline_base = "console=tty1 root=/dev/nfs rootwait quiet";
  shelf.boot.nfs_options = "vers=4.2,proto=tcp";
  return shelf;
}

inventory::Shelf models_shelf() {
  inventory::Shelf shelf;
  shelf.name = "mixed";
  shelf.boot.mode = inventory::BootMode::netboot;
  shelf.pis.push_back(make_pi({"pi01", 1, 10, "172.30.0.0", "2a00:1098:0:84:1000:1::2",
                               PiModel::pi3, "00000001", "b8:27:eb:00:00:01"}));
  shelf.pis.push_back(make_pi({"pi02", 2, 11, "172.30.0.4", "2a00:1098:0:84:1000:2::2",
                               PiModel::pi3bplus, "00000002", "b8:27:eb:00:00:02"}));
  shelf.pis.push_back(make_pi({"pi03", 3, 12, "172.30.0.8", "2a00:1098:0:84:1000:3::2",
                               PiModel::pi4, "00000003", "dc:a6:32:00:00:03"}));
  shelf.pis.push_back(make_pi({"pi04", 4, 13, "172.30.0.12", "2a00:1098:0:84:1000:4::2",
                               PiModel::pi5, "00000004", "2c:cf:67:00:00:04"}));
  shelf.boot.models[PiModel::pi3bplus].cmdline_base =
      "console=ttyAMA0,115200 root=/dev/nfs rootfstype=nfs rootwait";
  shelf.boot.models[PiModel::pi5].config_txt =
      std::vector<std::string>{"arm_64bit=1", "enable_uart=1", "dtparam=uart0_console"};
  return shelf;
}

inventory::Inventory inventory_of(inventory::Shelf shelf) {
  inventory::Inventory inv;
  inv.shelves.push_back(std::move(shelf));
  return inv;
}

}  // namespace picluster::bootcfg::test
