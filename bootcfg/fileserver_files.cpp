// Shelf-wide files on the fileserver: the storage VLAN interfaces (fileserver_net.cpp), the NFS
// exports, the isolation hardening and, for netboot, dnsmasq.
//
// Isolation. The switch keeps each Pi alone on its VLAN, but Linux's weak-host model makes the
// fileserver answer any of its addresses on any interface: pi02 could reach 172.30.0.1 (pi01's
// side of VLAN 10) through VLAN 11. Two layers close that: sysctls (ARP answered only on the
// interface that owns the address, strict reverse-path filtering, no routing), and an nftables
// table tying each storage address to its own eth0.N and each eth0.N to its one Pi.

#include <string>
#include <vector>

#include "bootcfg/bootcfg.hpp"
#include "bootcfg/render_util.hpp"

namespace picluster::bootcfg {

using detail::generated_header;
using detail::make_file;
using detail::pis_by_vlan;
using detail::vlan_interface;

namespace {

RenderedFile render_exports(const Shelf& shelf) {
  std::string out = generated_header(shelf);
  out += "# Each Pi's root, exported to that Pi's storage address alone.\n";
  for (const Pi* pi : pis_by_vlan(shelf)) {
    out += detail::pi_root_path(shelf, *pi) + " " + pi->storage.pi.str() +
           "(rw,sync,no_subtree_check,no_root_squash)\n";
  }
  return make_file("etc/exports.d/picluster.exports", out);
}

RenderedFile render_sysctl(const Shelf& shelf) {
  std::string out = generated_header(shelf);
  out += "# Each storage address must answer on its own VLAN only (see picluster.nft).\n";
  out += "# Answer ARP only for addresses of the interface it arrived on.\n";
  out += "net.ipv4.conf.all.arp_ignore = 1\n";
  out += "net.ipv4.conf.default.arp_ignore = 1\n";
  out += "# Announce only the address of the outgoing interface.\n";
  out += "net.ipv4.conf.all.arp_announce = 2\n";
  out += "net.ipv4.conf.default.arp_announce = 2\n";
  out +=
      "# Drop packets whose source would not be routed back out of the interface they came in.\n";
  out += "net.ipv4.conf.all.rp_filter = 1\n";
  out += "net.ipv4.conf.default.rp_filter = 1\n";
  out += "# The fileserver never routes between the Pis' VLANs.\n";
  out += "net.ipv4.ip_forward = 0\n";
  return make_file("etc/sysctl.d/60-picluster.conf", out);
}

// One "elements = { ... }" block, one element per line with the Pi's name; nothing when empty
// (nft rejects an empty element list).
std::string nft_elements(const std::vector<std::pair<std::string, std::string>>& elements) {
  if (elements.empty()) return "";
  std::string out = "\t\telements = {\n";
  for (const auto& [element, name] : elements) out += "\t\t\t" + element + ",\t# " + name + "\n";
  out += "\t\t}\n";
  return out;
}

std::string nft_set(const std::string& name, const std::string& type, const std::string& comment,
                    const std::vector<std::pair<std::string, std::string>>& elements) {
  return "\t# " + comment + "\n\tset " + name + " {\n\t\ttype " + type + "\n" +
         nft_elements(elements) + "\t}\n\n";
}

std::string nft_chains(const Shelf& shelf) {
  std::string out = "\tchain input {\n";
  out += "\t\ttype filter hook input priority filter; policy accept;\n";
  out += "\t\tiif \"lo\" accept\n";
  out += "\t\t# A storage address answers only on its own VLAN.\n";
  out += "\t\tip daddr @storage_address ip daddr . iifname != @home_interface drop\n";
  if (shelf.boot.mode == inventory::BootMode::netboot) {
    // The only opening netboot adds. Everything else a booting Pi sends (its DHCP REQUEST once
    // it has its lease, TFTP read requests to udp 69 and its ACKs to the transfer's port) comes
    // from its own address to its own storage address on its own VLAN, which the other rules
    // let through and no other Pi can use. TFTP needs no conntrack helper: the transfer's port
    // is opened by the fileserver's first outgoing data packet, so the Pi's ACKs are conntrack
    // replies (ct state established), also for an operator's own drop-by-default ruleset.
    out += "\t\t# Netboot: the boot ROM's DHCP DISCOVER/REQUEST, broadcast before it has an address,\n";
    out += "\t\t# from any storage VLAN (dnsmasq answers only its own Pi's MAC on each one).\n";
    out += "\t\t# DHCP from the leased address and TFTP (udp 69, then the transfer's port) come\n";
    out += "\t\t# from the Pi's own address and pass the rules below; TFTP needs no ct helper:\n";
    out += "\t\t# the fileserver sends the first data packet, the Pi's ACKs are replies.\n";
    out += "\t\tiifname @storage_interface ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 "
           "udp dport 67 accept\n";
  }
  out += "\t\t# A storage VLAN carries its Pi's IPv4 address and nothing else.\n";
  out += "\t\tiifname @storage_interface meta nfproto ipv6 drop\n";
  out += "\t\tiifname @storage_interface iifname . ip saddr != @pi_source drop\n";
  out += "\t}\n\n";
  out += "\tchain forward {\n";
  out += "\t\ttype filter hook forward priority filter; policy accept;\n";
  out += "\t\t# Nothing is routed into, out of or between storage VLANs.\n";
  out += "\t\tiifname @storage_interface drop\n";
  out += "\t\toifname @storage_interface drop\n";
  out += "\t}\n";
  return out;
}

RenderedFile render_nft(const Shelf& shelf) {
  std::vector<std::pair<std::string, std::string>> addresses, homes, interfaces, sources;
  for (const Pi* pi : pis_by_vlan(shelf)) {
    const auto iface = "\"" + vlan_interface(shelf, pi->vlan) + "\"";
    const auto fs = pi->storage.fileserver.str();
    addresses.emplace_back(fs, pi->name);
    homes.emplace_back(fs + " . " + iface, pi->name);
    interfaces.emplace_back(iface, pi->name);
    sources.emplace_back(iface + " . " + pi->storage.pi.str(), pi->name);
  }
  std::string out = generated_header(shelf);
  out += "# Storage VLAN isolation. Load with `nft -f`; reloading is safe: the first two lines\n";
  out += "# create the table if it is missing and delete it, so the file replaces it atomically.\n";
  out += "table inet picluster_isolation\n";
  out += "delete table inet picluster_isolation\n\n";
  out += "table inet picluster_isolation {\n";
  out += nft_set("storage_address", "ipv4_addr", "The fileserver's address on each storage VLAN.",
                 addresses);
  out += nft_set("home_interface", "ipv4_addr . ifname",
                 "Each storage address and the one interface it belongs to.", homes);
  out += nft_set("storage_interface", "ifname", "Every storage VLAN interface.", interfaces);
  out += nft_set("pi_source", "ifname . ipv4_addr",
                 "Each storage VLAN and the one Pi address allowed to send on it.", sources);
  out += nft_chains(shelf);
  out += "}\n";
  return make_file("etc/nftables.d/picluster.nft", out);
}

RenderedFile render_dnsmasq(const Shelf& shelf) {
  std::string out = generated_header(shelf);
  out += "# DHCP and TFTP for the netbooting Pis, on their storage VLANs only. No DNS.\n";
  out += "port=0\n";
  out += "enable-tftp\n";
  // Each storage VLAN interface has its own TFTP root (below), holding only its Pi's folder, so a
  // Pi cannot read another Pi's boot files (cmdline.txt names its NFS root). A request on any
  // other interface gets this root, which holds no Pi's folder. tftp-no-fail: a VLAN's root is
  // made when its Pi's boot files are first written, after dnsmasq may have been restarted.
  out += "tftp-root=" + shelf.fileserver.tftp_root + "/unassigned\n";
  out += "tftp-no-fail\n";
  out += "pxe-service=0,\"Raspberry Pi Boot\"\n";
  // Each boot request (MAC, interface, option 97) and TFTP read, for `add` and `discover`.
  out += "log-dhcp\n";
  out += "log-facility=" + shelf.boot.dnsmasq_log + "\n";
  bool any = false;
  for (const Pi* pi : pis_by_vlan(shelf)) {
    out += "\n# " + pi->name + " (port " + std::to_string(pi->port) + ", VLAN " +
           std::to_string(pi->vlan) + ")\n";
    if (!pi->mac) {
      out += "# No MAC in the inventory: not served.\n";
      continue;
    }
    any = true;
    out += "interface=" + vlan_interface(shelf, pi->vlan) + "\n";
    out += "dhcp-range=" + pi->storage.network.str() + ",static," +
           std::string{detail::kStorageNetmask} + "\n";
    out += "dhcp-host=" + pi->mac->str() + "," + pi->storage.pi.str() + "," + pi->name + "\n";
    out += "tftp-root=" + shelf.fileserver.tftp_root + "/" + tftp_vlan_root(*pi) + "," +
           vlan_interface(shelf, pi->vlan) + "\n";
  }
  if (!any) {
    // Without any interface= line dnsmasq would serve TFTP on every interface.
    out += "\n# No Pi has a MAC yet: listen on loopback only.\ninterface=lo\n";
  }
  return make_file("etc/dnsmasq.d/picluster.conf", out);
}

}  // namespace

std::vector<RenderedFile> render_fileserver_files(const Shelf& shelf) {
  auto files = detail::render_fileserver_network(shelf);
  files.push_back(render_exports(shelf));
  files.push_back(render_sysctl(shelf));
  files.push_back(render_nft(shelf));
  if (shelf.boot.mode == inventory::BootMode::netboot) files.push_back(render_dnsmasq(shelf));
  return files;
}

}  // namespace picluster::bootcfg
