// JSON <-> Inventory. Reading goes through `Fields`, which remembers which members it consumed
// (the rest become `extra`) and keeps the first error with the path of the offending field.
// Writing emits known members in a fixed order, then the unknown ones in their original order.

#include <algorithm>
#include <expected>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/text.hpp"
#include "inventory/inventory.hpp"

namespace picluster::inventory {
namespace {

// An integer member within [min, max], or the problem as the operator should read it. Checks the
// JSON value itself (signed, unsigned or float), so 4294968305 or 2^64-1 never wraps into range.
std::expected<int, std::string> checked_int(const Json& v, int min, int max) {
  const std::string range = " is out of range " + std::to_string(min) + "-" + std::to_string(max);
  if (!v.is_number_integer()) return std::unexpected("expected an integer");
  if (v.is_number_unsigned()) {
    const auto u = v.get<unsigned long long>();
    if (max < 0 || u > static_cast<unsigned long long>(max)) {
      return std::unexpected(std::to_string(u) + range);
    }
    if (min > 0 && u < static_cast<unsigned long long>(min)) {
      return std::unexpected(std::to_string(u) + range);
    }
    return static_cast<int>(u);
  }
  const auto value = v.get<long long>();
  if (value < min || value > max) return std::unexpected(std::to_string(value) + range);
  return static_cast<int>(value);
}

class Fields {
 public:
  Fields(const Json& object, std::string where) : m_obj(object), m_where(std::move(where)) {
    if (!m_obj.is_object()) set_error("", "expected a JSON object");
  }

  // Each reader leaves `out` as it is (the default) when the member is absent, unless required.
  void text(std::string_view key, std::string& out, bool required = false) {
    const Json* v = member(key, required);
    if (v == nullptr) return;
    if (!v->is_string()) return set_error(key, "expected a string");
    out = v->get<std::string>();
  }

  void integer(std::string_view key, int& out, int min, int max, bool required = false) {
    const Json* v = member(key, required);
    if (v == nullptr) return;
    const auto value = checked_int(*v, min, max);
    if (!value) return set_error(key, value.error());
    out = *value;
  }

  // A string member converted by `parse` (e.g. Ipv4Net::parse); `what` names the expected form.
  template <typename T, typename Parse>
  void parsed(std::string_view key, T& out, Parse parse, std::string_view what,
              bool required = false) {
    const Json* v = member(key, required);
    if (v == nullptr) return;
    if (!v->is_string()) return set_error(key, "expected a string (" + std::string(what) + ")");
    const auto text = v->get<std::string>();
    auto value = parse(text);
    if (!value) return set_error(key, printable(text) + " is not " + std::string(what));
    out = *value;
  }

  template <typename T, typename Parse>
  void optional(std::string_view key, std::optional<T>& out, Parse parse, std::string_view what) {
    if (m_obj.is_object() && m_obj.contains(key) && m_obj.at(std::string(key)).is_null()) {
      m_known.emplace(key);
      return;
    }
    T value{};
    const bool present = m_obj.is_object() && m_obj.contains(key);
    parsed(key, value, parse, what);
    if (present && !m_error) out = value;
  }

  // A nested object or array; nullptr (and no error) when absent and not required.
  const Json* sub(std::string_view key, bool required = false) { return member(key, required); }

  [[nodiscard]] std::string where(std::string_view key) const {
    std::string out = m_where;
    if (!key.empty()) out += (out.empty() ? "" : ": ") + std::string(key);
    return out;
  }

  void set_error(std::string_view key, const std::string& problem) {
    if (!m_error) m_error = where(key) + ": " + problem;
  }

  void adopt(const std::optional<std::string>& nested_error) {
    if (nested_error && !m_error) m_error = nested_error;
  }

  [[nodiscard]] const std::optional<std::string>& error() const { return m_error; }

  // The members nobody asked for, in their original order.
  [[nodiscard]] Json extra() const {
    Json out = Json::object();
    if (!m_obj.is_object()) return out;
    for (const auto& [k, v] : m_obj.items()) {
      if (!m_known.contains(k)) out[k] = v;
    }
    return out;
  }

 private:
  const Json* member(std::string_view key, bool required) {
    if (!m_obj.is_object()) return nullptr;
    m_known.emplace(key);
    const auto it = m_obj.find(std::string(key));
    if (it == m_obj.end()) {
      if (required) set_error(key, "missing");
      return nullptr;
    }
    return &*it;
  }

  const Json& m_obj;
  std::string m_where;
  std::set<std::string, std::less<>> m_known;
  std::optional<std::string> m_error;
};

template <typename E>
auto enum_parser(std::optional<E> (*parse)(std::string_view)) {
  return [parse](const std::string& s) { return parse(s); };
}

const auto ipv4_parser = [](const std::string& s) { return Ipv4::parse(s); };
const auto ipv4net_parser = [](const std::string& s) { return Ipv4Net::parse(s); };
const auto ipv6_parser = [](const std::string& s) { return Ipv6::parse(s); };
const auto ipv6net_parser = [](const std::string& s) { return Ipv6Net::parse(s); };
const auto mac_parser = [](const std::string& s) { return Mac::parse(s); };
const auto image_ref_parser = [](const std::string& s) -> std::optional<std::string> {
  if (!parse_image_ref(s)) return std::nullopt;
  return s;
};
const auto serial_parser = [](const std::string& s) -> std::optional<std::string> {
  if (s.size() != 8) return std::nullopt;
  std::string out;
  for (char c : s) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    out += c;
  }
  return out;
};

std::optional<std::string> read_fileserver(const Json& j, const std::string& where,
                                           Fileserver& fs) {
  Fields f(j, where);
  f.parsed("transport", fs.transport, enum_parser(parse_transport), "\"ssh\" or \"local\"");
  f.text("host", fs.host);
  f.integer("ssh_port", fs.ssh_port, 1, 65535);
  f.text("user", fs.user);
  f.text("identity_file", fs.identity_file);
  f.text("known_hosts", fs.known_hosts);
  if (j.is_object() && j.contains("ssh_persist_seconds")) {  // absent stays absent (the default)
    int persist = 0;
    f.integer("ssh_persist_seconds", persist, 0, 86400);
    fs.ssh_persist_seconds = persist;
  }
  f.text("trunk_interface", fs.trunk_interface);
  if (j.is_object() && j.contains("trunk_port") && j["trunk_port"].is_string()) {
    f.text("trunk_port", fs.trunk_port_name);  // an interface name; numbered in read_shelf
    if (fs.trunk_port_name.empty()) f.set_error("trunk_port", "expected a port number or an interface name");
  } else {
    f.integer("trunk_port", fs.trunk_port, 1, 4096);
  }
  f.text("nfs_root", fs.nfs_root);
  f.text("golden_image", fs.golden_image);
  f.parsed("clone_method", fs.clone_method, enum_parser(parse_clone_method),
           "one of auto, btrfs-snapshot, reflink, rsync");
  f.text("tftp_root", fs.tftp_root);
  f.text("root_prefix", fs.root_prefix);
  f.parsed("net_config", fs.net_config, enum_parser(parse_net_config_style),
           "\"ifupdown\" or \"networkd\"");
  f.text("image_store", fs.image_store);
  fs.extra = f.extra();
  return f.error();
}

std::optional<std::string> read_port_map(const Json& j, const std::string& where, Switch& sw) {
  if (!j.is_object()) return where + ": expected an object keyed by front-panel port";
  for (const auto& [key, value] : j.items()) {
    int port = 0;
    try {
      std::size_t used = 0;
      port = std::stoi(key, &used);
      if (used != key.size() || port < 1) throw std::invalid_argument(key);
    } catch (const std::exception&) {
      return where + ": " + printable(key) + " is not a port number";
    }
    Fields f(value, where + ": " + key);
    PortMapOverride o;
    const auto opt = [&](std::string_view k, std::optional<int>& out) {
      if (value.is_object() && value.contains(k)) {
        int v = 0;
        f.integer(k, v, 0, 1 << 30);
        out = v;
      }
    };
    opt("bridge_port", o.bridge_port);
    opt("if_index", o.if_index);
    opt("poe_group", o.poe_group);
    opt("poe_port", o.poe_port);
    if (f.error()) return f.error();
    o.extra = f.extra();
    sw.port_map[port] = std::move(o);
  }
  return std::nullopt;
}

std::optional<std::string> read_switch(const Json& j, const std::string& where, Switch& sw) {
  Fields f(j, where);
  f.text("host", sw.host);
  f.integer("snmp_port", sw.snmp_port, 1, 65535);
  f.parsed("version", sw.version, enum_parser(parse_snmp_version), "\"v2c\" or \"v3\"");
  f.text("secrets_file", sw.secrets_file);
  f.text("profile", sw.profile);
  f.integer("port_count", sw.port_count, 1, 4096);
  f.integer("timeout_ms", sw.timeout_ms, 1, 600000);
  f.integer("retries", sw.retries, 0, 100);
  f.integer("poe_off_seconds", sw.poe_off_seconds, 0, 3600);
  if (const Json* map = f.sub("port_map")) f.adopt(read_port_map(*map, f.where("port_map"), sw));
  sw.extra = f.extra();
  return f.error();
}

std::optional<std::string> read_storage(const Json& j, const std::string& where, StorageNet& s) {
  Fields f(j, where);
  f.parsed("pool", s.pool, ipv4net_parser, "an IPv4 network in CIDR form (a.b.c.d/n)");
  if (const Json* range = f.sub("vlan_range")) {
    if (!range->is_array() || range->size() != 2 || !(*range)[0].is_number_integer() ||
        !(*range)[1].is_number_integer()) {
      f.set_error("vlan_range", "expected [first, last]");
    } else {
      const auto first = checked_int((*range)[0], 1, 4094);
      const auto last = checked_int((*range)[1], 1, 4094);
      if (!first || !last) {
        f.set_error("vlan_range", "[" + (*range)[0].dump() + ", " + (*range)[1].dump() +
                                      "] is not a range within 1-4094");
      } else {
        s.vlan_first = *first;
        s.vlan_last = *last;
      }
    }
  }
  s.extra = f.extra();
  return f.error();
}

std::optional<std::string> read_public(const Json& j, const std::string& where, PublicNet& p) {
  Fields f(j, where);
  f.integer("vlan", p.vlan, 1, 4094);
  f.parsed("prefix", p.prefix, ipv6net_parser, "an IPv6 prefix (2001:db8::/64)");
  f.parsed("gateway", p.gateway, ipv6_parser, "an IPv6 address");
  f.parsed("address_base", p.address_base, ipv6_parser, "an IPv6 interface id (::1000:1:0:2)");
  f.parsed("address_stride", p.address_stride, ipv6_parser, "an IPv6 interface id (::1:0:0)");
  f.optional("fileserver_address", p.fileserver_address, ipv6_parser, "an IPv6 address");
  p.extra = f.extra();
  return f.error();
}

std::optional<std::string> read_boot(const Json& j, const std::string& where, Boot& b) {
  Fields f(j, where);
  f.parsed("mode", b.mode, enum_parser(parse_boot_mode), "\"sdcard\" or \"netboot\"");
  f.text("cmdline_base", b.cmdline_base);
  f.text("nfs_options", b.nfs_options);
  f.text("dnsmasq_log", b.dnsmasq_log);
  if (const Json* models = f.sub("models")) {
    if (!models->is_object()) {
      f.set_error("models", "expected a JSON object (model name -> settings)");
    } else {
      for (const auto& [key, value] : models->items()) {
        if (f.error()) break;
        const auto model = parse_pi_model(key);
        if (!model) {
          f.set_error("models", printable(key) + " is not a model (one of pi3, pi3b+, pi4, pi5)");
          break;
        }
        ModelBoot m;
        Fields mf(value, f.where("models") + ": " + key);
        if (const Json* v = mf.sub("cmdline_base")) {
          if (!v->is_string()) {
            mf.set_error("cmdline_base", "expected a string");
          } else {
            m.cmdline_base = v->get<std::string>();
          }
        }
        if (const Json* v = mf.sub("config_txt")) {
          std::vector<std::string> lines;
          if (!v->is_array()) mf.set_error("config_txt", "expected an array of lines");
          for (std::size_t i = 0; v->is_array() && i < v->size(); ++i) {
            if (!(*v)[i].is_string()) {
              mf.set_error("config_txt", "line " + std::to_string(i + 1) + ": expected a string");
              break;
            }
            lines.push_back((*v)[i].get<std::string>());
          }
          if (v->is_array()) m.config_txt = std::move(lines);
        }
        m.extra = mf.extra();
        f.adopt(mf.error());
        b.models[*model] = std::move(m);
      }
    }
  }
  b.extra = f.extra();
  return f.error();
}

std::optional<std::string> read_pi(const Json& j, const std::string& shelf_where,
                                   std::size_t index, Pi& pi) {
  std::string where = shelf_where + ": pis[" + std::to_string(index) + "]";
  if (j.is_object() && j.contains("name") && j["name"].is_string()) {
    where = shelf_where + ": pi " + printable(j["name"].get<std::string>());
  }
  Fields f(j, where);
  f.text("name", pi.name, true);
  f.integer("port", pi.port, 1, 4096, true);
  f.parsed("model", pi.model, enum_parser(parse_pi_model), "one of pi3, pi3b+, pi4, pi5");
  f.optional("serial", pi.serial, serial_parser, "8 hex digits");
  f.optional("mac", pi.mac, mac_parser, "a MAC address (b8:27:eb:12:34:56)");
  constexpr std::string_view kAlloc = " (allocations are written by `picluster add`)";
  if (j.is_object() && !j.contains("vlan")) f.set_error("vlan", "missing" + std::string(kAlloc));
  f.integer("vlan", pi.vlan, 1, 4094);
  if (const Json* st = f.sub("storage", true)) {
    Fields s(*st, f.where("storage"));
    s.parsed("network", pi.storage.network, ipv4_parser, "an IPv4 address", true);
    s.parsed("fileserver", pi.storage.fileserver, ipv4_parser, "an IPv4 address", true);
    s.parsed("pi", pi.storage.pi, ipv4_parser, "an IPv4 address", true);
    s.parsed("broadcast", pi.storage.broadcast, ipv4_parser, "an IPv4 address", true);
    pi.storage.extra = s.extra();
    f.adopt(s.error());
  }
  f.parsed("ipv6", pi.ipv6, ipv6_parser, "an IPv6 address", true);
  f.optional("image", pi.image, image_ref_parser, "NAME or NAME@N");
  pi.extra = f.extra();
  return f.error();
}

std::optional<std::string> read_shelf(const Json& j, std::size_t index, Shelf& shelf) {
  std::optional<std::string> shelf_image;
  std::string where = "shelves[" + std::to_string(index) + "]";
  if (j.is_object() && j.contains("name") && j["name"].is_string()) {
    where = "shelf " + printable(j["name"].get<std::string>());
  }
  Fields f(j, where);
  f.text("name", shelf.name, true);
  f.optional("image", shelf_image, image_ref_parser, "NAME or NAME@N");
  if (shelf_image) shelf.image = *shelf_image;
  if (const Json* v = f.sub("fileserver")) {
    f.adopt(read_fileserver(*v, f.where("fileserver"), shelf.fileserver));
  }
  if (const Json* v = f.sub("switch")) f.adopt(read_switch(*v, f.where("switch"), shelf.switch_));
  // A trunk port named by interface sits past the front-panel ports, where no Pi can be.
  if (!shelf.fileserver.trunk_port_name.empty()) shelf.fileserver.trunk_port = shelf.switch_.port_count + 1;
  if (const Json* v = f.sub("storage")) f.adopt(read_storage(*v, f.where("storage"), shelf.storage));
  if (const Json* v = f.sub("public")) f.adopt(read_public(*v, f.where("public"), shelf.public_net));
  if (const Json* v = f.sub("boot")) f.adopt(read_boot(*v, f.where("boot"), shelf.boot));
  if (const Json* pis = f.sub("pis")) {
    if (!pis->is_array()) {
      f.set_error("pis", "expected an array");
    } else {
      for (std::size_t i = 0; i < pis->size() && !f.error(); ++i) {
        Pi pi;
        f.adopt(read_pi((*pis)[i], where, i, pi));
        shelf.pis.push_back(std::move(pi));
      }
    }
  }
  shelf.extra = f.extra();
  return f.error();
}

// Line and column (1-based) of a byte offset, for syntax errors.
std::pair<std::size_t, std::size_t> line_col(std::string_view text, std::size_t offset) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

// Where a syntax error's token starts. nlohmann reports the offset just past the last byte it
// read, i.e. the end of the bad token; the operator wants its start. Scans the (valid) prefix up
// to that byte, tracking the start of the current string, literal or structural character.
std::size_t token_start(std::string_view text, std::size_t error_byte) {
  if (text.empty()) return 0;
  const std::size_t last = std::min(error_byte == 0 ? 0 : error_byte - 1, text.size() - 1);
  std::size_t start = 0;
  bool in_string = false, escaped = false, in_bare = false;
  for (std::size_t i = 0; i <= last; ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      in_bare = false;
      start = i;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      in_bare = false;
    } else if (c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',') {
      in_bare = false;
      start = i;
    } else if (!in_bare) {
      in_bare = true;
      start = i;
    }
  }
  // Input that ended early: point just past the end, unless inside an unterminated string.
  if (error_byte > text.size() && !in_string) return text.size();
  return start;
}

// nlohmann's message with every byte that is not printable ASCII shown as \xNN, so a bad byte in
// the file never reaches the terminal raw.
std::string escape_message(std::string_view what) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : what) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// The first object key that repeats an earlier key of the same object, with both offsets.
// nlohmann keeps the last of duplicate keys silently; an inventory with `"port": 1, "port": 24`
// is ambiguous, so it is an error. Runs on text nlohmann has already accepted as JSON.
struct DuplicateKey {
  std::string key;
  std::size_t first = 0;
  std::size_t again = 0;
};

std::optional<DuplicateKey> find_duplicate_key(std::string_view text) {
  struct Frame {
    bool object = false;
    bool expect_key = false;
    std::map<std::string, std::size_t, std::less<>> keys;
  };
  std::vector<Frame> stack;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{' || c == '[') {
      stack.push_back(Frame{c == '{', c == '{', {}});
    } else if ((c == '}' || c == ']') && !stack.empty()) {
      stack.pop_back();
    } else if (c == ',' && !stack.empty() && stack.back().object) {
      stack.back().expect_key = true;
    } else if (c == '"') {
      const std::size_t open = i;
      bool escapes = false;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') {
          escapes = true;
          ++i;
        }
      }
      if (stack.empty() || !stack.back().object || !stack.back().expect_key) continue;
      stack.back().expect_key = false;
      const std::string_view raw = text.substr(open, i - open + 1);
      std::string key(raw.substr(1, raw.size() - 2));
      if (escapes) key = Json::parse(raw).get<std::string>();
      const auto [it, inserted] = stack.back().keys.emplace(std::move(key), open);
      if (!inserted) return DuplicateKey{it->first, it->second, open};
    }
  }
  return std::nullopt;
}

void append_extra(Json& out, const Json& extra) {
  for (const auto& [k, v] : extra.items()) out[k] = v;
}

Json write_fileserver(const Fileserver& fs) {
  Json o;
  o["transport"] = to_string(fs.transport);
  o["host"] = fs.host;
  o["ssh_port"] = fs.ssh_port;
  o["user"] = fs.user;
  if (!fs.identity_file.empty()) o["identity_file"] = fs.identity_file;
  if (!fs.known_hosts.empty()) o["known_hosts"] = fs.known_hosts;
  if (fs.ssh_persist_seconds) o["ssh_persist_seconds"] = *fs.ssh_persist_seconds;  // an explicit 0 too
  o["trunk_interface"] = fs.trunk_interface;
  if (fs.trunk_port_name.empty()) {
    o["trunk_port"] = fs.trunk_port;
  } else {
    o["trunk_port"] = fs.trunk_port_name;
  }
  o["nfs_root"] = fs.nfs_root;
  o["golden_image"] = fs.golden_image;
  o["clone_method"] = to_string(fs.clone_method);
  o["tftp_root"] = fs.tftp_root;
  if (!fs.root_prefix.empty()) o["root_prefix"] = fs.root_prefix;
  o["net_config"] = to_string(fs.net_config);
  if (!fs.image_store.empty()) o["image_store"] = fs.image_store;
  append_extra(o, fs.extra);
  return o;
}

Json write_switch(const Switch& sw) {
  Json o;
  o["host"] = sw.host;
  o["snmp_port"] = sw.snmp_port;
  o["version"] = to_string(sw.version);
  o["secrets_file"] = sw.secrets_file;
  o["profile"] = sw.profile;
  o["port_count"] = sw.port_count;
  o["timeout_ms"] = sw.timeout_ms;
  o["retries"] = sw.retries;
  o["poe_off_seconds"] = sw.poe_off_seconds;
  if (!sw.port_map.empty()) {
    Json map = Json::object();
    for (const auto& [port, ov] : sw.port_map) {
      Json e = Json::object();
      if (ov.bridge_port) e["bridge_port"] = *ov.bridge_port;
      if (ov.if_index) e["if_index"] = *ov.if_index;
      if (ov.poe_group) e["poe_group"] = *ov.poe_group;
      if (ov.poe_port) e["poe_port"] = *ov.poe_port;
      append_extra(e, ov.extra);
      map[std::to_string(port)] = e;
    }
    o["port_map"] = map;
  }
  append_extra(o, sw.extra);
  return o;
}

Json write_pi(const Pi& pi) {
  Json o;
  o["name"] = pi.name;
  o["port"] = pi.port;
  o["model"] = to_string(pi.model);
  if (pi.serial) o["serial"] = *pi.serial;
  if (pi.mac) o["mac"] = pi.mac->str();
  o["vlan"] = pi.vlan;
  Json storage = Json{{"network", pi.storage.network.str()},
                      {"fileserver", pi.storage.fileserver.str()},
                      {"pi", pi.storage.pi.str()},
                      {"broadcast", pi.storage.broadcast.str()}};
  append_extra(storage, pi.storage.extra);
  o["storage"] = storage;
  o["ipv6"] = pi.ipv6.str();
  if (pi.image) o["image"] = *pi.image;
  append_extra(o, pi.extra);
  return o;
}

Json write_shelf(const Shelf& shelf) {
  Json o;
  o["name"] = shelf.name;
  if (!shelf.image.empty()) o["image"] = shelf.image;
  o["fileserver"] = write_fileserver(shelf.fileserver);
  o["switch"] = write_switch(shelf.switch_);
  Json storage;
  storage["pool"] = shelf.storage.pool.str();
  storage["vlan_range"] = Json::array({shelf.storage.vlan_first, shelf.storage.vlan_last});
  append_extra(storage, shelf.storage.extra);
  o["storage"] = storage;
  const auto& p = shelf.public_net;
  Json pub;
  pub["vlan"] = p.vlan;
  pub["prefix"] = p.prefix.str();
  pub["gateway"] = p.gateway.str();
  pub["address_base"] = p.address_base.str();
  pub["address_stride"] = p.address_stride.str();
  if (p.fileserver_address) pub["fileserver_address"] = p.fileserver_address->str();
  append_extra(pub, p.extra);
  o["public"] = pub;
  Json boot;
  boot["mode"] = to_string(shelf.boot.mode);
  boot["cmdline_base"] = shelf.boot.cmdline_base;
  boot["nfs_options"] = shelf.boot.nfs_options;
  if (shelf.boot.dnsmasq_log != kDefaultDnsmasqLog) boot["dnsmasq_log"] = shelf.boot.dnsmasq_log;
  if (!shelf.boot.models.empty()) {
    Json models = Json::object();
    for (const auto& [model, m] : shelf.boot.models) {
      Json entry = Json::object();
      if (m.cmdline_base) entry["cmdline_base"] = *m.cmdline_base;
      if (m.config_txt) entry["config_txt"] = *m.config_txt;
      append_extra(entry, m.extra);
      models[std::string{to_string(model)}] = entry;
    }
    boot["models"] = models;
  }
  append_extra(boot, shelf.boot.extra);
  o["boot"] = boot;
  Json pis = Json::array();
  for (const auto& pi : shelf.pis) pis.push_back(write_pi(pi));
  o["pis"] = pis;
  append_extra(o, shelf.extra);
  return o;
}

}  // namespace

Result<Inventory> parse(std::string_view text, const std::filesystem::path& source) {
  const std::string name = source.string();
  const auto at = [&](std::size_t offset) {
    const auto [line, col] = line_col(text, offset);
    return std::to_string(line) + ":" + std::to_string(col);
  };
  auto parsed = parse_json<Json>(text);
  if (!parsed) {
    const JsonError& e = parsed.error();
    std::string what = e.message;
    if (const auto pos = what.find("syntax error"); pos != std::string::npos) what = what.substr(pos);
    const std::size_t offset =
        e.kind == JsonError::Kind::syntax ? token_start(text, e.byte + 1) : e.byte;
    return fail(ErrorCode::invalid_inventory, name + ":" + at(offset) + ": " + escape_message(what));
  }
  const Json root = std::move(*parsed);
  if (const auto dup = find_duplicate_key(text)) {
    return fail(ErrorCode::invalid_inventory, name + ":" + at(dup->again) + ": duplicate key " +
                                                  printable(dup->key) + " (first at " +
                                                  at(dup->first) + "); keep one");
  }
  Inventory inv;
  inv.source = source;
  Fields f(root, "");
  f.integer("version", inv.version, 1, 1, true);
  if (const Json* shelves = f.sub("shelves", true)) {
    if (!shelves->is_array()) {
      f.set_error("shelves", "expected an array");
    } else {
      for (std::size_t i = 0; i < shelves->size() && !f.error(); ++i) {
        Shelf shelf;
        f.adopt(read_shelf((*shelves)[i], i, shelf));
        inv.shelves.push_back(std::move(shelf));
      }
    }
  }
  inv.extra = f.extra();
  if (f.error()) return fail(ErrorCode::invalid_inventory, name + ": " + *f.error());
  if (auto ok = validate(inv); !ok) return std::unexpected(ok.error());
  return inv;
}

Json to_json(const Pi& pi) { return write_pi(pi); }

std::string serialize(const Inventory& inventory) {
  Json root;
  root["version"] = inventory.version;
  Json shelves = Json::array();
  for (const auto& shelf : inventory.shelves) shelves.push_back(write_shelf(shelf));
  root["shelves"] = shelves;
  append_extra(root, inventory.extra);
  return root.dump(2) + "\n";
}

}  // namespace picluster::inventory
