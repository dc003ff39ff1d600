// Whole-inventory rules. Every message names the file, the shelf, the Pi and the field, e.g.
//   inventory.json: shelf "rack1": pi "pi09": port: 24 is the fileserver's trunk port
// Checks run in file order and stop at the first problem, so the operator fixes one thing at a
// time and the message always points at a real field.

#include <algorithm>
#include <map>
#include <set>

#include "common/text.hpp"
#include "inventory/inventory.hpp"
#include "inventory/vlans.hpp"

namespace picluster::inventory {
namespace {

class Checker {
 public:
  explicit Checker(const Inventory& inv) : m_source(inv.source.string()) {
    if (m_source.empty()) m_source = "inventory";
  }

  // Records the first failure; `where` is e.g. `shelf "a": pi "b": port`.
  void check(bool ok, const std::string& where, const std::string& problem) {
    if (!ok && !m_error) m_error = m_source + ": " + where + ": " + problem;
  }
  [[nodiscard]] bool failed() const { return m_error.has_value(); }
  [[nodiscard]] Result<void> result() const {
    if (m_error) return fail(ErrorCode::invalid_inventory, *m_error);
    return {};
  }

 private:
  std::string m_source;
  std::optional<std::string> m_error;
};

bool is_host(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '_';
    if (!ok) return false;
  }
  return host.front() != '-';
}

bool is_user(std::string_view user) {
  if (user.empty() || user.size() > 32 || user.front() == '-') return false;
  for (char c : user) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_ifname(std::string_view name) {
  if (name.empty() || name.size() > 10) return false;  // room for ".4094" within IFNAMSIZ
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A path on the machine running picluster (key, known_hosts, secrets file): relative or absolute,
// '~/' allowed at the start, otherwise only [A-Za-z0-9._/+@,:=-]. No spaces, quotes, '$', ';',
// backquotes or control characters, so the path means the same to every tool that reads it.
inline constexpr std::string_view kLocalPathRule = "a path of [A-Za-z0-9._/+@,:=~-]";
bool is_local_path(std::string_view path) {
  if (path.empty()) return false;
  if (path.starts_with("~/")) path.remove_prefix(2);
  for (char c : path) {
    const bool ok = is_alnum(c) || c == '.' || c == '_' || c == '/' || c == '+' || c == '@' ||
                    c == ',' || c == ':' || c == '=' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A kernel command line base: words of [A-Za-z0-9=,.:/_+-@] separated by spaces. Nothing a shell,
// the firmware or a config file would read as syntax (no quotes, '$', ';', newlines).
inline constexpr std::string_view kCmdlineRule =
    "a kernel command line (letters, digits, spaces and =,.:/_+-@)";
bool is_cmdline(std::string_view text) {
  for (char c : text) {
    const bool ok = is_alnum(c) || c == ' ' || c == '=' || c == ',' || c == '.' || c == ':' ||
                    c == '/' || c == '_' || c == '+' || c == '-' || c == '@';
    if (!ok) return false;
  }
  return text.find_first_not_of(' ') != std::string_view::npos;
}

// One config.txt line: printable ASCII, no control characters (a newline would smuggle in a
// second setting), no '[' at the start (a section filter would capture the lines after it).
inline constexpr std::string_view kConfigLineRule =
    "a config.txt line (printable ASCII, not starting with '[')";
bool is_config_line(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return !text.starts_with('[');
}

bool is_nfs_options(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ',' || c == '=' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string shown(std::string_view s) { return printable(s); }

// True when one path is the other or lies inside it ("/srv" and "/srv/nfsroot"). Both are safe
// absolute paths (no '.', '..' or empty components), so comparing components is enough.
bool paths_overlap(std::string_view a, std::string_view b) {
  const auto inside = [](std::string_view inner, std::string_view outer) {
    if (outer == "/") return true;
    return inner == outer || (inner.starts_with(outer) && inner.size() > outer.size() &&
                              inner[outer.size()] == '/');
  };
  return inside(a, b) || inside(b, a);
}

// The golden image is read and copied whole: inside (or around) the Pis' roots or the TFTP folder
// it would copy every Pi's live root, SSH host keys included, into a new Pi's root.
void check_fileserver_overlaps(Checker& c, const std::string& w, const Fileserver& fs) {
  for (const auto& [field, path] :
       {std::pair{"nfs_root", &fs.nfs_root}, std::pair{"tftp_root", &fs.tftp_root}}) {
    c.check(!paths_overlap(fs.golden_image, *path), w + ": golden_image",
            shown(fs.golden_image) + " overlaps " + field + " " + shown(*path) +
                " (the golden image is copied whole into each new root; keep it outside the Pis' "
                "roots and the TFTP folder)");
    // The image store (set, or its default beside nfs_root) holds every image version: inside
    // the roots or the TFTP folder a Pi could read or change them; around them, the same.
    const std::string store = image_store_of(fs);
    c.check(!paths_overlap(store, *path), w + ": image_store",
            shown(store) + (fs.image_store.empty() ? " (the default, beside nfs_root)" : "") +
                " overlaps " + field + " " + shown(*path) +
                " (keep the image store outside the Pis' roots and the TFTP folder)");
  }
}

// fileserver.trunk_native_vlan (cisco only): the VLAN the fileserver's trunk carries untagged. The
// fileserver reaches the public VLAN and every Pi's storage VLAN tagged (eth0.N): either one made
// native would arrive untagged on its trunk interface, cutting that network off the fileserver.
void check_trunk_native_vlan(Checker& c, const std::string& w, const Shelf& shelf) {
  if (!shelf.fileserver.extra.contains("trunk_native_vlan")) return;
  const Json& j = shelf.fileserver.extra["trunk_native_vlan"];
  const std::string where = w + ": trunk_native_vlan";
  const bool id = j.is_number_integer() && j.get<long long>() >= 1 && j.get<long long>() <= 4094;
  c.check(id, where, j.dump() + " is not a VLAN id (1-4094)");
  if (!id) return;
  const int vlan = j.get<int>();
  c.check(shelf.switch_.profile == "cisco", where,
          "only the cisco profile sets the trunk's native VLAN (the " + shown(shelf.switch_.profile) +
              " profile leaves the trunk's PVID alone); remove it");
  c.check(vlan != shelf.public_net.vlan, where,
          std::to_string(vlan) + " is the public VLAN, which the fileserver's trunk must carry tagged");
  for (const auto& pi : shelf.pis) {
    c.check(vlan != pi.vlan, where,
            std::to_string(vlan) + " is pi " + shown(pi.name) + "'s storage VLAN, which the fileserver's trunk must carry tagged");
  }
}

void check_fileserver(Checker& c, const std::string& w, const Shelf& shelf) {
  const auto& fs = shelf.fileserver;
  c.check(fs.host.empty() || is_host(fs.host), w + ": host",
          shown(fs.host) + " is not a host name or address");
  c.check(is_user(fs.user), w + ": user", shown(fs.user) + " is not a valid user name");
  c.check(fs.identity_file.empty() || is_local_path(fs.identity_file), w + ": identity_file",
          shown(fs.identity_file) + " is not " + std::string(kLocalPathRule));
  c.check(fs.known_hosts.empty() || is_local_path(fs.known_hosts), w + ": known_hosts",
          shown(fs.known_hosts) + " is not " + std::string(kLocalPathRule));
  c.check(is_ifname(fs.trunk_interface), w + ": trunk_interface",
          shown(fs.trunk_interface) + " is not an interface name (1-10 of [A-Za-z0-9_-])");
  if (fs.trunk_port_name.empty()) {
    c.check(fs.trunk_port >= 1 && fs.trunk_port <= shelf.switch_.port_count, w + ": trunk_port",
            std::to_string(fs.trunk_port) + " is outside the switch's ports 1-" +
                std::to_string(shelf.switch_.port_count));
  } else {
    // Whether the switch has an interface of that name is checked when the switch is read.
    c.check(fs.trunk_port_name.size() <= 64 &&
                std::all_of(fs.trunk_port_name.begin(), fs.trunk_port_name.end(),
                            [](char ch) { return ch > 0x20 && ch < 0x7f; }),
            w + ": trunk_port", shown(fs.trunk_port_name) + " is not a port number nor an interface name (1-64 printable characters)");
  }
  for (const auto& [field, path] : {std::pair{"nfs_root", &fs.nfs_root},
                                    std::pair{"golden_image", &fs.golden_image},
                                    std::pair{"tftp_root", &fs.tftp_root}}) {
    c.check(is_safe_absolute_path(*path), w + ": " + field,
            shown(*path) + " is not a safe absolute path ([A-Za-z0-9._/-], no '..')");
  }
  c.check(fs.image_store.empty() || is_safe_absolute_path(fs.image_store), w + ": image_store",
          shown(fs.image_store) + " is not a safe absolute path ([A-Za-z0-9._/-], no '..')");
  c.check(fs.root_prefix.empty() || is_safe_absolute_path(fs.root_prefix), w + ": root_prefix",
          shown(fs.root_prefix) + " is not a safe absolute path ([A-Za-z0-9._/-], no '..')");
  if (!c.failed()) check_fileserver_overlaps(c, w, fs);
  check_trunk_native_vlan(c, w, shelf);
}

void check_switch(Checker& c, const std::string& w, const Switch& sw) {
  c.check(sw.host.empty() || is_host(sw.host), w + ": host",
          shown(sw.host) + " is not a host name or address");
  c.check(sw.profile == "qbridge" || sw.profile == "cisco", w + ": profile",
          shown(sw.profile) + " is not a known profile (qbridge, cisco)");
  c.check(sw.secrets_file.empty() || is_local_path(sw.secrets_file), w + ": secrets_file",
          shown(sw.secrets_file) + " is not " + std::string(kLocalPathRule));
  if (sw.extra.contains("numbering")) {
    const Json& j = sw.extra["numbering"];
    const bool known = j.is_string() && (j == "auto" || j == "entity" || j == "lldp" || j == "names");
    c.check(known, w + ": numbering", j.dump() + " is not one of \"auto\", \"entity\", \"lldp\", \"names\"");
  }
  if (sw.extra.contains("stack_member")) {
    const Json& j = sw.extra["stack_member"];
    c.check(j.is_number_integer() && j.get<long long>() >= 1 && j.get<long long>() <= 1024, w + ": stack_member",
            j.dump() + " is not a stack member number (1-1024)");
  }
  for (const auto& [port, ov] : sw.port_map) {
    c.check(port <= sw.port_count, w + ": port_map: " + std::to_string(port),
            "is outside the switch's ports 1-" + std::to_string(sw.port_count));
  }
}

void check_networks(Checker& c, const std::string& w, const Shelf& shelf) {
  const auto& st = shelf.storage;
  c.check(st.pool.prefix <= 30, w + ": storage: pool",
          st.pool.str() + " is smaller than one /30");
  c.check(st.vlan_first >= 1 && st.vlan_last <= 4094 && st.vlan_first <= st.vlan_last,
          w + ": storage: vlan_range",
          "[" + std::to_string(st.vlan_first) + ", " + std::to_string(st.vlan_last) +
              "] is not a range within 1-4094");
  if (auto reserved = reserved_vlans(shelf); !reserved) c.check(false, w + ": storage: reserved_vlans", reserved.error().message.substr(reserved.error().message.rfind(": ") + 2));
  const auto& p = shelf.public_net;
  c.check(p.prefix.prefix <= 64, w + ": public: prefix", p.prefix.str() + " is longer than /64");
  c.check(p.prefix.contains(p.gateway), w + ": public: gateway",
          p.gateway.str() + " is not in " + p.prefix.str());
  if (p.fileserver_address) {
    c.check(p.prefix.contains(*p.fileserver_address), w + ": public: fileserver_address",
            p.fileserver_address->str() + " is not in " + p.prefix.str());
  }
  if (p.fileserver_address) {
    c.check(*p.fileserver_address != p.gateway, w + ": public: fileserver_address",
            p.fileserver_address->str() + " is the gateway's address");
  }
  c.check(is_cmdline(shelf.boot.cmdline_base), w + ": boot: cmdline_base",
          shown(shelf.boot.cmdline_base) + " is not " + std::string(kCmdlineRule));
  c.check(is_nfs_options(shelf.boot.nfs_options), w + ": boot: nfs_options",
          shown(shelf.boot.nfs_options) + " is not an NFS option list (vers=3,tcp)");
  // The log names every Pi's MAC and serial: not where a Pi could read it over TFTP or NFS.
  if (!is_safe_absolute_path(shelf.boot.dnsmasq_log)) {
    c.check(false, w + ": boot: dnsmasq_log",
            shown(shelf.boot.dnsmasq_log) + " is not a safe absolute path ([A-Za-z0-9._/-], no '..')");
  } else {
    for (const auto& [field, path] : {std::pair{"tftp_root", &shelf.fileserver.tftp_root},
                                      std::pair{"nfs_root", &shelf.fileserver.nfs_root}}) {
      c.check(!paths_overlap(shelf.boot.dnsmasq_log, *path), w + ": boot: dnsmasq_log",
              shown(shelf.boot.dnsmasq_log) + " overlaps " + field + " " + shown(*path) +
                  " (the Pis could read it; keep it outside their roots and the TFTP folder)");
    }
  }
  for (const auto& [model, m] : shelf.boot.models) {
    const auto mw = w + ": boot: models: " + std::string{to_string(model)};
    if (m.cmdline_base) {
      c.check(is_cmdline(*m.cmdline_base), mw + ": cmdline_base",
              shown(*m.cmdline_base) + " is not " + std::string(kCmdlineRule));
    }
    if (!m.config_txt) continue;
    for (std::size_t i = 0; i < m.config_txt->size(); ++i) {
      const auto& line = (*m.config_txt)[i];
      c.check(is_config_line(line), mw + ": config_txt: line " + std::to_string(i + 1),
              shown(line) + " is not " + std::string(kConfigLineRule));
    }
  }
}

// Rules for one Pi that need no other Pi.
void check_pi(Checker& c, const std::string& w, const Shelf& shelf, const Pi& pi) {
  c.check(is_rfc1123_label(pi.name), w + ": name",
          shown(pi.name) + " is not a host name (RFC 1123 label: a-z, 0-9, '-', at most 63)");
  c.check(pi.port >= 1 && pi.port <= shelf.switch_.port_count, w + ": port",
          std::to_string(pi.port) + " is outside the switch's ports 1-" +
              std::to_string(shelf.switch_.port_count));
  c.check(pi.port != shelf.fileserver.trunk_port, w + ": port",
          std::to_string(pi.port) + " is the fileserver's trunk port");
  c.check(pi.vlan >= 2 && pi.vlan <= 4094, w + ": vlan",
          std::to_string(pi.vlan) + " is outside 2-4094");
  c.check(pi.vlan != shelf.public_net.vlan, w + ": vlan",
          std::to_string(pi.vlan) + " is the public VLAN");
  if (pi.extra.contains("previous_vlan")) {
    const Json& prev = pi.extra["previous_vlan"];
    c.check(prev.is_number_integer() && prev.get<long long>() >= 2 && prev.get<long long>() <= 4094 &&
                prev.get<long long>() != shelf.public_net.vlan,
            w + ": previous_vlan", prev.dump() + " is not a VLAN id within 2-4094 other than the public VLAN");
  }
  const auto& s = pi.storage;
  const Ipv4Net block{s.network, 30};
  c.check((s.network.value & 3U) == 0, w + ": storage: network",
          s.network.str() + " is not the start of a /30");
  c.check(shelf.storage.pool.contains(s.network), w + ": storage: network",
          s.network.str() + " is not in the pool " + shelf.storage.pool.str());
  c.check(s.fileserver.value == s.network.value + 1 && s.pi.value == s.network.value + 2 &&
              s.broadcast.value == s.network.value + 3 && block.contains(s.broadcast),
          w + ": storage", "addresses must be network, network+1 (fileserver), network+2 (pi), "
                           "network+3 (broadcast) of one /30");
  c.check(shelf.public_net.prefix.contains(pi.ipv6), w + ": ipv6",
          pi.ipv6.str() + " is not in " + shelf.public_net.prefix.str());
  c.check(pi.ipv6 != shelf.public_net.gateway, w + ": ipv6", "is the gateway's address");
  if (pi.mac) {
    const auto problem = mac_problem(*pi.mac);
    c.check(!problem, w + ": mac", problem.value_or(""));
  }
  c.check(pi.ipv6 != shelf.public_net.fileserver_address, w + ": ipv6",
          pi.ipv6.str() + " is the fileserver's address (public: fileserver_address)");
}

// Remembers values seen so far and reports the first duplicate with the Pi that owns it.
template <typename K>
class Unique {
 public:
  explicit Unique(std::string field) : m_field(std::move(field)) {}
  void add(Checker& c, const std::string& w, const K& key, const std::string& shown,
           const std::string& owner) {
    const auto [it, inserted] = m_seen.emplace(key, owner);
    c.check(inserted, w + ": " + m_field, shown + " is already used by " + it->second);
  }

 private:
  std::string m_field;
  std::map<K, std::string> m_seen;
};

}  // namespace

Result<void> validate(const Inventory& inventory) {
  Checker c(inventory);
  c.check(inventory.version == 1, "version", "only version 1 is understood");
  Unique<std::string> shelf_names("name"), pi_names("name"), serials("serial");
  Unique<Mac> macs("mac");
  for (const auto& shelf : inventory.shelves) {
    const std::string w = "shelf " + shown(shelf.name);
    c.check(is_rfc1123_label(shelf.name), w + ": name",
            "is not a name (RFC 1123 label: a-z, 0-9, '-', at most 63)");
    shelf_names.add(c, w, shelf.name, shown(shelf.name), "another shelf");
    check_switch(c, w + ": switch", shelf.switch_);
    check_fileserver(c, w + ": fileserver", shelf);
    check_networks(c, w, shelf);
    Unique<int> ports("port"), vlans("vlan");
    Unique<Ipv4> networks("storage: network");
    Unique<Ipv6> addresses("ipv6");
    for (const auto& pi : shelf.pis) {
      const std::string pw = w + ": pi " + shown(pi.name);
      const std::string owner = "pi " + shown(pi.name);
      check_pi(c, pw, shelf, pi);
      pi_names.add(c, pw, pi.name, shown(pi.name), "another pi");
      ports.add(c, pw, pi.port, std::to_string(pi.port), owner);
      vlans.add(c, pw, pi.vlan, std::to_string(pi.vlan), owner);
      networks.add(c, pw, pi.storage.network, pi.storage.network.str() + "/30", owner);
      addresses.add(c, pw, pi.ipv6, pi.ipv6.str(), owner);
      if (pi.serial) serials.add(c, pw, *pi.serial, *pi.serial, owner);
      if (pi.mac) macs.add(c, pw, *pi.mac, pi.mac->str(), owner);
      if (c.failed()) break;
    }
    if (c.failed()) break;
  }
  return c.result();
}

}  // namespace picluster::inventory
