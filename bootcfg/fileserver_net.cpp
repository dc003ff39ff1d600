// The fileserver's side of the storage VLANs: one interface eth0.N per Pi carrying the
// fileserver's address of that Pi's /30, and optionally its own address on the public VLAN.
// Two equivalent renderings: ifupdown (the seed's stanzas) or systemd-networkd.

#include <string>
#include <vector>

#include "bootcfg/render_util.hpp"

namespace picluster::bootcfg::detail {

namespace {

std::string pi_comment(const Pi& pi) {
  return "# " + pi.name + " (port " + std::to_string(pi.port) + ", VLAN " +
         std::to_string(pi.vlan) + ")\n";
}

RenderedFile render_ifupdown(const Shelf& shelf) {
  std::string out = generated_header(shelf);
  out += "# Storage VLANs: one /30 per Pi, the Pi being the only other host on it.\n";
  for (const Pi* pi : pis_by_vlan(shelf)) {
    const auto iface = vlan_interface(shelf, pi->vlan);
    out += "\n" + pi_comment(*pi);
    out += "auto " + iface + "\n";
    out += "iface " + iface + " inet static\n";
    out += "\taddress " + pi->storage.fileserver.str() + "\n";
    out += "\tnetmask " + std::string{kStorageNetmask} + "\n";
  }
  if (const auto& address = shelf.public_net.fileserver_address) {
    const auto iface = vlan_interface(shelf, shelf.public_net.vlan);
    out += "\n# The public VLAN, IPv6 only.\n";
    out += "auto " + iface + "\n";
    out += "iface " + iface + " inet6 static\n";
    out += "\taddress\t" + address->str() + "\n";
    out += "\tnetmask " + std::to_string(shelf.public_net.prefix.prefix) + "\n";
  }
  return make_file("etc/network/interfaces.d/picluster", out);
}

RenderedFile vlan_netdev(const Shelf& shelf, int vlan, const std::string& comment) {
  std::string out = generated_header(shelf) + comment;
  out += "[NetDev]\n";
  out += "Name=" + vlan_interface(shelf, vlan) + "\n";
  out += "Kind=vlan\n\n";
  out += "[VLAN]\n";
  out += "Id=" + std::to_string(vlan) + "\n";
  return make_file("etc/systemd/network/60-picluster-vlan" + std::to_string(vlan) + ".netdev", out);
}

RenderedFile vlan_network(const Shelf& shelf, int vlan, const std::string& comment,
                          const std::string& address) {
  std::string out = generated_header(shelf) + comment;
  out += "[Match]\n";
  out += "Name=" + vlan_interface(shelf, vlan) + "\n\n";
  out += "[Network]\n";
  out += "Address=" + address + "\n";
  return make_file("etc/systemd/network/60-picluster-vlan" + std::to_string(vlan) + ".network",
                   out);
}

// networkd applies only the first .network file (in lexical order) that matches an interface.
// This one is named to sort late so it never takes the trunk away from a configuration the
// operator already has; in that case its VLAN= lines belong in the operator's file.
RenderedFile trunk_network(const Shelf& shelf, const std::vector<int>& vlans) {
  std::string out = generated_header(shelf);
  out += "# The trunk to the switch: it carries every storage VLAN tagged.\n";
  out += "# networkd uses only the first .network file matching an interface. If another file\n";
  out += "# already matches " + shelf.fileserver.trunk_interface +
         ", copy these VLAN= lines into it instead.\n";
  out += "[Match]\n";
  out += "Name=" + shelf.fileserver.trunk_interface + "\n\n";
  out += "[Network]\n";
  for (int vlan : vlans) out += "VLAN=" + vlan_interface(shelf, vlan) + "\n";
  return make_file("etc/systemd/network/90-picluster-trunk.network", out);
}

std::vector<RenderedFile> render_networkd(const Shelf& shelf) {
  std::vector<RenderedFile> files;
  std::vector<int> vlans;
  for (const Pi* pi : pis_by_vlan(shelf)) {
    const auto comment = pi_comment(*pi);
    files.push_back(vlan_netdev(shelf, pi->vlan, comment));
    files.push_back(
        vlan_network(shelf, pi->vlan, comment,
                     pi->storage.fileserver.str() + "/" + std::to_string(kStoragePrefix)));
    vlans.push_back(pi->vlan);
  }
  if (const auto& address = shelf.public_net.fileserver_address) {
    const int vlan = shelf.public_net.vlan;
    const std::string comment = "# The public VLAN, IPv6 only.\n";
    files.push_back(vlan_netdev(shelf, vlan, comment));
    files.push_back(
        vlan_network(shelf, vlan, comment,
                     address->str() + "/" + std::to_string(shelf.public_net.prefix.prefix)));
    vlans.push_back(vlan);
  }
  files.push_back(trunk_network(shelf, vlans));
  return files;
}

}  // namespace

std::vector<RenderedFile> render_fileserver_network(const Shelf& shelf) {
  if (shelf.fileserver.net_config == inventory::NetConfigStyle::networkd) {
    return render_networkd(shelf);
  }
  return {render_ifupdown(shelf)};
}

}  // namespace picluster::bootcfg::detail
