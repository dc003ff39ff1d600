// Per-Pi files: the kernel command line, the boot partition / TFTP folder, and the files inside
// the Pi's NFS root.
//
// The Pi's storage network comes up in the kernel, from the ip= argument, before the root is
// mounted; userspace must never touch eth0 again (an ifup or a DHCP client on eth0 would drop
// the root file system). Userspace only adds the tagged public VLAN, IPv6 only, as in the seed.

#include <string>
#include <string_view>
#include <vector>

#include "bootcfg/bootcfg.hpp"
#include "bootcfg/render_util.hpp"

namespace picluster::bootcfg {

using detail::generated_header;
using detail::make_file;

namespace {

// Splits on spaces and tabs, dropping empty tokens.
std::vector<std::string> tokens_of(std::string_view line) {
  std::vector<std::string> out;
  std::string current;
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

// picluster owns nfsroot= and ip=: any copy in the base (the seed's bare "nfsroot=") is dropped.
bool owned_token(std::string_view token) {
  return token.starts_with("nfsroot=") || token.starts_with("ip=");
}

std::string model_title(inventory::PiModel model) {
  switch (model) {
    case inventory::PiModel::pi3:
      return "Raspberry Pi 3";
    case inventory::PiModel::pi3bplus:
      return "Raspberry Pi 3 B+";
    case inventory::PiModel::pi4:
      return "Raspberry Pi 4";
    case inventory::PiModel::pi5:
      return "Raspberry Pi 5";
  }
  return "Raspberry Pi";
}

// The model's own config.txt settings, without the header and the image include.
std::vector<std::string> default_config_lines(inventory::PiModel model) {
  switch (model) {
    case inventory::PiModel::pi3:
    case inventory::PiModel::pi3bplus:
      // On the 3 the PL011 (ttyAMA0) drives Bluetooth unless this overlay gives it back to
      // GPIO 14/15, where console=ttyAMA0 expects it.
      return {"# 32-bit kernel (the firmware's default on this model).",
              "# Serial console for console=ttyAMA0 on the kernel command line.", "enable_uart=1",
              "dtoverlay=disable-bt"};
    case inventory::PiModel::pi4:
      return {"# 64-bit kernel.", "arm_64bit=1",
              "# Serial console for console=serial0: the PL011 (ttyAMA0) on GPIO 14/15, taken",
              "# back from Bluetooth.",
              "enable_uart=1", "dtoverlay=disable-bt"};
    case inventory::PiModel::pi5:
      return {"# 64-bit kernel.", "arm_64bit=1",
              "# Serial console for console=serial0: on the Pi 5 that is the 3-pin debug UART",
              "# (ttyAMA10), not GPIO 14/15 (add dtparam=uart0_console via boot.models.pi5 for "
              "those).",
              "enable_uart=1"};
  }
  return {};
}

std::string render_config_txt(const Shelf& shelf, const Pi& pi) {
  std::string out = generated_header(shelf);
  out += "# " + pi.name + ": " + model_title(pi.model) + " (" +
         std::string{inventory::to_string(pi.model)} + "), netboot with an NFS root.\n";
  const auto it = shelf.boot.models.find(pi.model);
  if (it != shelf.boot.models.end() && it->second.config_txt) {
    out += "# Settings from boot.models." + std::string{inventory::to_string(pi.model)} +
           ".config_txt of the inventory.\n";
    for (const auto& line : *it->second.config_txt) out += line + "\n";
  } else {
    for (const auto& line : default_config_lines(pi.model)) out += line + "\n";
  }
  if (!inventory::image_of(shelf, pi).empty()) {
    // The image's own config.txt (kernel=, initramfs, arm_64bit, ...), staged with its boot set.
    out += "# The kernel and initramfs of image " + inventory::image_of(shelf, pi) +
           ": its own config.txt, staged with its boot set.\n[all]\ninclude picluster-image.txt\n";
  }
  return out;
}

std::string render_hosts(const Shelf& shelf, const Pi& pi) {
  std::string out = generated_header(shelf);
  out += "127.0.0.1\tlocalhost\n";
  out += "::1\t\tlocalhost ip6-localhost ip6-loopback\n";
  out += "ff02::1\t\tip6-allnodes\n";
  out += "ff02::2\t\tip6-allrouters\n";
  out += "\n";
  out += "127.0.1.1\t" + pi.name + "\n";
  out += pi.ipv6.str() + "\t" + pi.name + "\n";
  out += "# The fileserver, on this Pi's own storage VLAN.\n";
  out += pi.storage.fileserver.str() + "\tfileserver\n";
  return out;
}

std::string render_fstab(const Shelf& shelf, const Pi& pi) {
  std::string out = generated_header(shelf);
  out +=
      "# The root is mounted by the kernel (root=/dev/nfs); this line lets userspace remount it.\n";
  out += "proc /proc proc defaults 0 0\n";
  out += pi.storage.fileserver.str() + ":" + detail::pi_root_path(shelf, pi) +
         " / nfs defaults,noatime," + shelf.boot.nfs_options + " 0 0\n";
  out += "tmpfs /tmp tmpfs defaults,nosuid,nodev 0 0\n";
  return out;
}

// The seed's stanza, byte for byte (tabs included), plus dad-attempts when the inventory asks.
std::string public_stanza(const Shelf& shelf, const Pi& pi) {
  const auto iface = "eth0." + std::to_string(shelf.public_net.vlan);
  std::string out = "auto " + iface + "\n";
  out += "iface " + iface + " inet6 static\n";
  out += "\taddress\t" + pi.ipv6.str() + "\n";
  out += "\tnetmask " + std::to_string(shelf.public_net.prefix.prefix) + "\n";
  out += "\tgateway\t" + shelf.public_net.gateway.str() + "\n";
  if (const auto dad = detail::dad_attempts(shelf)) {
    out += "\tdad-attempts " + std::to_string(*dad) + "\n";
  }
  return out;
}

std::string render_interfaces(const Shelf& shelf, const Pi& pi) {
  std::string out = generated_header(shelf);
  out += "auto lo\n";
  out += "iface lo inet loopback\n";
  out += "\n";
  out += "# eth0 carries the NFS root: the kernel configured it from the ip= boot argument.\n";
  out += "# It is never brought up or down from here, and never asks for a lease.\n";
  out += "iface eth0 inet manual\n";
  out += "\n";
  out += "# The public network: tagged VLAN " + std::to_string(shelf.public_net.vlan) +
         ", IPv6 only.\n";
  out += public_stanza(shelf, pi);
  return out;
}

}  // namespace

std::string nfs_root_of(const Shelf& shelf, const Pi& pi) {
  return detail::pi_root_path(shelf, pi);
}

std::string cmdline_base_of(const Shelf& shelf, inventory::PiModel model) {
  const auto it = shelf.boot.models.find(model);
  if (it != shelf.boot.models.end() && it->second.cmdline_base) return *it->second.cmdline_base;
  if (model == inventory::PiModel::pi3 || model == inventory::PiModel::pi3bplus) {
    return shelf.boot.cmdline_base;
  }
  // Pi 4 and 5: no dwc_otg (that USB controller is the Pi 3's), and the console on serial0,
  // which the firmware points at the model's console UART. The first serial console takes the
  // place of the shelf's; later ones (a second UART) are dropped.
  std::string out;
  bool serial_done = false;
  for (auto& token : tokens_of(shelf.boot.cmdline_base)) {
    if (token.starts_with("dwc_otg.")) continue;
    if (token.starts_with("console=ttyAMA") || token.starts_with("console=ttyS") ||
        token.starts_with("console=serial")) {
      if (serial_done) continue;
      serial_done = true;
      token = "console=serial0,115200";
    }
    if (!out.empty()) out += ' ';
    out += token;
  }
  return out;
}

std::string render_cmdline(const Shelf& shelf, const Pi& pi) {
  const auto fs = pi.storage.fileserver.str();
  std::string ours =
      "nfsroot=" + fs + ":" + detail::pi_root_path(shelf, pi) + "," + shelf.boot.nfs_options;
  ours += " ip=" + pi.storage.pi.str() + ":" + fs + "::" + std::string{detail::kStorageNetmask} +
          ":" + pi.name + ":eth0:off";

  std::vector<std::string> tokens;
  for (auto& token : tokens_of(cmdline_base_of(shelf, pi.model))) {
    if (!owned_token(token)) tokens.push_back(std::move(token));
  }
  auto at = tokens.end();
  for (auto it = tokens.begin(); it != tokens.end(); ++it) {
    if (*it == "rootfstype=nfs") {
      at = it + 1;
      break;
    }
  }
  if (at == tokens.end()) {
    for (auto it = tokens.begin(); it != tokens.end(); ++it) {
      if (*it == "rootwait") {
        at = it;
        break;
      }
    }
  }
  tokens.insert(at, std::move(ours));

  std::string out;
  for (const auto& token : tokens) {
    if (!out.empty()) out += ' ';
    out += token;
  }
  return out;
}

std::vector<RenderedFile> render_pi_root_files(const Shelf& shelf, const Pi& pi) {
  std::vector<RenderedFile> files;
  files.push_back(make_file("etc/hostname", pi.name + "\n"));
  files.push_back(make_file("etc/hosts", render_hosts(shelf, pi)));
  files.push_back(make_file("etc/fstab", render_fstab(shelf, pi)));
  files.push_back(make_file("etc/network/interfaces", render_interfaces(shelf, pi)));
  files.push_back(
      make_file("etc/modules-load.d/picluster.conf", generated_header(shelf) + "# eth0." +
                                                         std::to_string(shelf.public_net.vlan) +
                                                         " needs 802.1Q VLAN support.\n8021q\n"));
  return files;
}

std::vector<RenderedFile> render_boot_files(const Shelf& shelf, const Pi& pi) {
  std::vector<RenderedFile> files;
  files.push_back(make_file("cmdline.txt", render_cmdline(shelf, pi) + "\n"));
  if (shelf.boot.mode == inventory::BootMode::netboot || !inventory::image_of(shelf, pi).empty()) {
    files.push_back(make_file("config.txt", render_config_txt(shelf, pi)));
  }
  return files;
}

std::string tftp_folder(const Pi& pi) {
  if (!pi.serial || pi.serial->size() != 8) return "";
  std::string out;
  for (char c : *pi.serial) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex) return "";  // validation rejects it; never let it become a path
    out += c;
  }
  return out;
}

std::string tftp_vlan_root(const Pi& pi) { return "vlan-" + std::to_string(pi.vlan); }

std::string tftp_path(const Pi& pi) {
  const auto serial = tftp_folder(pi);
  return serial.empty() ? "" : tftp_vlan_root(pi) + "/" + serial;
}

}  // namespace picluster::bootcfg
