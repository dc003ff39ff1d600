#include "lab/switchsim/knobs.hpp"

#include <charconv>
#include <cstdio>
#include <limits>
#include <set>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "lab/switchsim/json_file.hpp"

namespace picluster::switchsim {

using nlohmann::json;

Result<Mac> parse_mac(std::string_view text) {
  Mac mac{};
  if (text.size() != 17) return fail(ErrorCode::invalid_argument, "bad MAC '" + std::string(text) + "'");
  for (std::size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') {
      return fail(ErrorCode::invalid_argument, "bad MAC '" + std::string(text) + "'");
    }
    const char* begin = text.data() + i * 3;
    const auto [end, ec] = std::from_chars(begin, begin + 2, mac[i], 16);
    if (ec != std::errc{} || end != begin + 2) {
      return fail(ErrorCode::invalid_argument, "bad MAC '" + std::string(text) + "'");
    }
  }
  return mac;
}

std::string to_string(const Mac& mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return buf;
}

PortKnobs Knobs::port(int front) const {
  if (const auto it = ports.find(front); it != ports.end()) return it->second;
  PortKnobs out = all_ports;
  if (auto_mac) {
    // A Raspberry Pi OUI (dc:a6:32) so discovery code sees these as Pis.
    out.mac = Mac{0xdc, 0xa6, 0x32, 0x5e, static_cast<std::uint8_t>((front >> 8) & 0xff),
                  static_cast<std::uint8_t>(front & 0xff)};
  }
  return out;
}

int Knobs::poe_port(int front) const {
  switch (poe_index) {
    case PoeIndex::front: return front;
    case PoeIndex::bridge: return bridge_port(front);
    case PoeIndex::ifindex: return if_index(front);
  }
  return front;
}

namespace {

Error key_error(const std::string& key, const std::string& why) {
  return Error{ErrorCode::invalid_argument, key + ": " + why};
}

Result<void> check_keys(const json& object, const std::string& where,
                        const std::set<std::string>& allowed) {
  if (!object.is_object()) return std::unexpected(key_error(where, "must be an object"));
  for (const auto& [key, value] : object.items()) {
    if (!allowed.contains(key)) {
      return std::unexpected(key_error(where.empty() ? key : where + "." + key, "unknown key"));
    }
  }
  return {};
}

template <typename T>
Result<void> read(const json& object, const std::string& key, const std::string& where, T& out) {
  if (!object.contains(key)) return {};
  const json& v = object.at(key);
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!v.is_number()) return std::unexpected(key_error(where + key, "wrong type"));
    // Integers are range-checked on the JSON value: 1e300 or 2^64-1 never wraps or overflows.
    const auto value = json_integer(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
    if (!value) return std::unexpected(key_error(where + key, "expected an integer in range, got " + dump_json(v)));
    out = static_cast<T>(*value);
    return {};
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) return std::unexpected(key_error(where + key, "wrong type"));
    out = v.template get<T>();
    return {};
  }
  try {
    out = object.at(key).get<T>();
  } catch (const json::exception&) {
    return std::unexpected(key_error(where + key, "wrong type"));
  }
  return {};
}

Result<PortKnobs> parse_port(const json& object, const std::string& where, bool allow_auto,
                             bool* auto_mac) {
  if (auto ok = check_keys(object, where, {"mac", "device", "external_power", "power_mw", "class",
                                             "mac_after_poe_ms"});
      !ok) {
    return std::unexpected(ok.error());
  }
  PortKnobs out;
  const std::string prefix = where + ".";
  std::string mac;
  for (auto ok : {read(object, "mac", prefix, mac), read(object, "device", prefix, out.device),
                  read(object, "external_power", prefix, out.external_power),
                  read(object, "power_mw", prefix, out.power_mw),
                  read(object, "class", prefix, out.power_class),
                  read(object, "mac_after_poe_ms", prefix, out.mac_after_poe_ms)}) {
    if (!ok) return std::unexpected(ok.error());
  }
  if (allow_auto && mac == "auto") {
    *auto_mac = true;
  } else if (!mac.empty()) {
    auto parsed = parse_mac(mac);
    if (!parsed) return std::unexpected(key_error(prefix + "mac", parsed.error().message));
    out.mac = *parsed;
  }
  if (out.power_mw < 0 || out.power_mw > 100000) {
    return std::unexpected(key_error(prefix + "power_mw", "must be 0..100000"));
  }
  if (out.power_class < 0 || out.power_class > 4) {
    return std::unexpected(key_error(prefix + "class", "must be 0..4"));
  }
  if (out.mac_after_poe_ms < -1 || out.mac_after_poe_ms > 3600000) {
    return std::unexpected(key_error(prefix + "mac_after_poe_ms", "must be -1..3600000"));
  }
  return out;
}

Result<void> parse_fail_rules(const json& list, Knobs& out) {
  if (!list.is_array()) return std::unexpected(key_error("fail_set", "must be a list"));
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = "fail_set." + std::to_string(i);
    if (auto ok = check_keys(list[i], where, {"oid", "status"}); !ok) return ok;
    std::string oid_text;
    std::string status_text;
    if (auto ok = read(list[i], "oid", where + ".", oid_text); !ok) return ok;
    if (auto ok = read(list[i], "status", where + ".", status_text); !ok) return ok;
    auto oid = parse_oid(oid_text);
    if (!oid) return std::unexpected(key_error(where + ".oid", oid.error().message));
    const auto status = parse_status(status_text);
    if (!status || *status == SnmpStatus::no_error) {
      return std::unexpected(key_error(where + ".status", "unknown SNMP error status '" +
                                                               status_text + "'"));
    }
    out.fail_set.push_back({*oid, *status});
  }
  return {};
}

Result<void> parse_ports(const json& object, Knobs& out) {
  if (!object.is_object()) return std::unexpected(key_error("ports", "must be an object"));
  for (const auto& [key, value] : object.items()) {
    int front = 0;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), front);
    if (ec != std::errc{} || end != key.data() + key.size() || front < 1) {
      return std::unexpected(key_error("ports." + key, "port must be a number from 1"));
    }
    auto port = parse_port(value, "ports." + key, false, nullptr);
    if (!port) return std::unexpected(port.error());
    out.ports[front] = *port;
  }
  return {};
}

Result<void> parse_initial_vlans(const json& list, Knobs& out) {
  if (!list.is_array()) return std::unexpected(key_error("initial_vlans", "must be a list"));
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = "initial_vlans." + std::to_string(i);
    if (auto ok = check_keys(list[i], where, {"id", "name", "untagged", "tagged"}); !ok) return ok;
    InitialVlan v;
    for (auto ok : {read(list[i], "id", where + ".", v.id), read(list[i], "name", where + ".", v.name),
                    read(list[i], "untagged", where + ".", v.untagged),
                    read(list[i], "tagged", where + ".", v.tagged)}) {
      if (!ok) return ok;
    }
    if (v.id < 2 || v.id > 4094) return std::unexpected(key_error(where + ".id", "must be 2..4094"));
    out.initial_vlans.push_back(std::move(v));
  }
  return {};
}

Result<void> parse_habits(const json& j, Knobs& out) {
  std::string form = "bitmap", stray;
  for (auto ok : {read(j, "portlist_form", "", form), read(j, "portlist_stray_octets", "", stray),
                  read(j, "bridge_port_table", "", out.bridge_port_table),
                  read(j, "fdb_tables", "", out.fdb_tables),
                  read(j, "bridge_tables_per_vlan", "", out.bridge_tables_per_vlan),
                  read(j, "lldp_local_ports", "", out.lldp_local_ports),
                  read(j, "ifname_from_zero", "", out.ifname_from_zero),
                  read(j, "stack_module_ports", "", out.stack_module_ports),
                  read(j, "entity_mib", "", out.entity_mib),
                  read(j, "ifname_generic", "", out.ifname_generic)}) {
    if (!ok) return ok;
  }
  if (form != "bitmap" && form != "comma") return std::unexpected(key_error("portlist_form", "must be bitmap or comma"));
  out.portlist_comma = form == "comma";
  if (stray.size() % 2 != 0 || stray.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return std::unexpected(key_error("portlist_stray_octets", "must be hex octets (\"ff00\")"));
  }
  for (std::size_t i = 0; i < stray.size(); i += 2) {
    out.portlist_stray += static_cast<char>(std::stoi(stray.substr(i, 2), nullptr, 16));
  }
  if (j.contains("initial_vlans")) return parse_initial_vlans(j.at("initial_vlans"), out);
  return {};
}

Result<void> parse_scalars(const json& j, Knobs& out) {
  std::string poe_index = "front";
  std::optional<std::uint32_t> seed;
  if (j.contains("seed")) {
    std::uint32_t value = 0;
    if (auto ok = read(j, "seed", "", value); !ok) return ok;
    seed = value;
  }
  out.seed = seed;
  for (auto ok : {read(j, "drop_fraction", "", out.drop_fraction),
                  read(j, "delay_fraction", "", out.delay_fraction),
                  read(j, "delay_ms", "", out.delay_ms), read(j, "strict_pvid", "", out.strict_pvid),
                  read(j, "bridge_port_offset", "", out.bridge_port_offset),
                  read(j, "ifindex_offset", "", out.ifindex_offset),
                  read(j, "poe_index", "", poe_index),
                  read(j, "ifname_prefix", "", out.ifname_prefix),
                  read(j, "ifdescr_prefix", "", out.ifdescr_prefix),
                  read(j, "sys_name", "", out.sys_name),
                  read(j, "pse_power_w", "", out.pse_power_w),
                  read(j, "poe_mib", "", out.poe_mib)}) {
    if (!ok) return ok;
  }
  if (poe_index == "front") out.poe_index = PoeIndex::front;
  else if (poe_index == "bridge") out.poe_index = PoeIndex::bridge;
  else if (poe_index == "ifindex") out.poe_index = PoeIndex::ifindex;
  else return std::unexpected(key_error("poe_index", "must be front, bridge or ifindex"));
  return {};
}

}  // namespace

Result<Knobs> parse_knobs(const json& j) {
  static const std::set<std::string> k_keys{
      "drop_fraction", "delay_fraction", "delay_ms",       "seed",           "fail_set",
      "strict_pvid",   "bridge_port_offset", "ifindex_offset", "poe_index",  "ifname_prefix",
      "ifdescr_prefix", "sys_name",      "pse_power_w",    "all_ports",      "ports",
      "initial_vlans", "portlist_form", "portlist_stray_octets", "bridge_port_table",
      "ifname_from_zero", "stack_module_ports", "poe_mib", "fdb_tables", "lldp_local_ports",
      "entity_mib", "ifname_generic",
      "bridge_tables_per_vlan"};
  if (auto ok = check_keys(j, "", k_keys); !ok) return std::unexpected(ok.error());
  Knobs out;
  if (auto ok = parse_scalars(j, out); !ok) return std::unexpected(ok.error());
  if (auto ok = parse_habits(j, out); !ok) return std::unexpected(ok.error());
  if (j.contains("fail_set")) {
    if (auto ok = parse_fail_rules(j.at("fail_set"), out); !ok) return std::unexpected(ok.error());
  }
  if (j.contains("all_ports")) {
    auto all = parse_port(j.at("all_ports"), "all_ports", true, &out.auto_mac);
    if (!all) return std::unexpected(all.error());
    out.all_ports = *all;
  }
  if (j.contains("ports")) {
    if (auto ok = parse_ports(j.at("ports"), out); !ok) return std::unexpected(ok.error());
  }
  if (out.drop_fraction < 0 || out.drop_fraction > 1) {
    return std::unexpected(key_error("drop_fraction", "must be within 0..1"));
  }
  if (out.delay_fraction < 0 || out.delay_fraction > 1) {
    return std::unexpected(key_error("delay_fraction", "must be within 0..1"));
  }
  if (out.delay_ms < 0 || out.delay_ms > 60000) {
    return std::unexpected(key_error("delay_ms", "must be within 0..60000"));
  }
  if (out.pse_power_w < 1 || out.pse_power_w > 65535) {
    return std::unexpected(key_error("pse_power_w", "must be within 1..65535"));
  }
  return out;
}

Result<Knobs> load_knobs(const std::filesystem::path& path) {
  auto j = read_json_file(path);
  if (!j) return std::unexpected(j.error());
  return with_context(parse_knobs(*j), path.string());
}

Result<void> validate_knobs(const Knobs& knobs, int port_count) {
  for (const auto& [front, port] : knobs.ports) {
    if (front > port_count) {
      return fail(ErrorCode::invalid_argument, "ports." + std::to_string(front) +
                                                   ": the switch has only " +
                                                   std::to_string(port_count) + " ports");
    }
  }
  for (const auto& v : knobs.initial_vlans) {
    for (const auto* list : {&v.untagged, &v.tagged}) {
      for (const int f : *list) {
        if (f < 1 || f > port_count) {
          return fail(ErrorCode::invalid_argument, "initial_vlans: VLAN " + std::to_string(v.id) + ": port " +
                                                       std::to_string(f) + " is not a port of the switch");
        }
      }
    }
  }
  if (knobs.bridge_port_offset < 0 || knobs.ifindex_offset < 0) {
    return fail(ErrorCode::invalid_argument, "bridge_port_offset and ifindex_offset must be >= 0");
  }
  if (knobs.bridge_port_offset + port_count > 4096) {
    return fail(ErrorCode::invalid_argument, "bridge_port_offset: bridge ports must stay <= 4096");
  }
  return {};
}

}  // namespace picluster::switchsim
