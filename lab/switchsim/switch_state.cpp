#include "lab/switchsim/switch_state.hpp"

#include <charconv>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/file.hpp"
#include "common/json.hpp"
#include "lab/switchsim/json_file.hpp"

namespace picluster::switchsim {

using nlohmann::json;

SwitchState SwitchState::make_default(int port_count) {
  SwitchState out;
  out.port_count = port_count;
  Vlan def;
  def.name = "default";
  for (int p = 1; p <= port_count; ++p) {
    def.egress.insert(p);
    def.untagged.insert(p);
  }
  out.vlans[1] = def;
  PortState port;
  port.trunk_vlans.set();
  out.ports.assign(static_cast<std::size_t>(port_count), port);
  return out;
}

namespace {
bool vlan_active(const SwitchState& state, int vid) {
  const auto it = state.vlans.find(vid);
  return it != state.vlans.end() && it->second.status == RowStatus::active;
}

PortMembership cisco_membership(const SwitchState& state, const PortState& port) {
  PortMembership out;
  if (!port.trunking()) {
    out.pvid = port.access_vlan;
    if (vlan_active(state, port.access_vlan)) out.untagged.push_back(port.access_vlan);
    return out;
  }
  out.pvid = port.native_vlan;
  for (const auto& [vid, vlan] : state.vlans) {
    if (vlan.status != RowStatus::active || !port.trunk_vlans.test(static_cast<std::size_t>(vid))) {
      continue;
    }
    (vid == port.native_vlan ? out.untagged : out.tagged).push_back(vid);
  }
  return out;
}
}  // namespace

PortMembership membership(const SwitchState& state, int front, Mode mode) {
  const PortState& port = state.port(front);
  if (mode == Mode::cisco) return cisco_membership(state, port);
  PortMembership out;
  out.pvid = port.pvid;
  for (const auto& [vid, vlan] : state.vlans) {
    if (vlan.status != RowStatus::active || !vlan.egress.contains(front)) continue;
    (vlan.untagged.contains(front) ? out.untagged : out.tagged).push_back(vid);
  }
  return out;
}

std::string format_ranges(const VlanBits& bits) {
  std::string out;
  std::size_t i = 0;
  while (i < bits.size()) {
    if (!bits.test(i)) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j + 1 < bits.size() && bits.test(j + 1)) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(i);
    if (j > i) {
      out += '-';
      out += std::to_string(j);
    }
    i = j + 1;
  }
  return out;
}

Result<VlanBits> parse_ranges(const std::string& text) {
  VlanBits out;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    const auto dash = part.find('-');
    const std::string lo_text = part.substr(0, dash);
    const std::string hi_text = dash == std::string::npos ? lo_text : part.substr(dash + 1);
    int lo = -1;
    int hi = -1;
    std::from_chars(lo_text.data(), lo_text.data() + lo_text.size(), lo);
    std::from_chars(hi_text.data(), hi_text.data() + hi_text.size(), hi);
    if (lo < 0 || hi < lo || hi > 4095) {
      return fail(ErrorCode::invalid_argument, "bad VLAN range '" + part + "'");
    }
    for (int v = lo; v <= hi; ++v) out.set(static_cast<std::size_t>(v));
  }
  return out;
}

json to_json(const SwitchState& state) {
  json vlans = json::array();
  for (const auto& [vid, vlan] : state.vlans) {
    vlans.push_back({{"id", vid},
                     {"name", vlan.name},
                     {"egress", vlan.egress},
                     {"untagged", vlan.untagged},
                     {"forbidden", vlan.forbidden},
                     {"status", static_cast<int>(vlan.status)}});
  }
  json ports = json::array();
  for (int front = 1; front <= state.port_count; ++front) {
    const PortState& p = state.port(front);
    ports.push_back({{"port", front},
                     {"pvid", p.pvid},
                     {"poe", p.poe_enabled},
                     {"cisco_poe_mode", p.cisco_poe_mode},
                     {"dynamic_state", p.dynamic_state},
                     {"access_vlan", p.access_vlan},
                     {"native_vlan", p.native_vlan},
                     {"trunk_vlans", format_ranges(p.trunk_vlans)}});
  }
  return {{"version", 1},
          {"port_count", state.port_count},
          {"vlan_deletes", state.vlan_deletes},
          {"vlans", vlans},
          {"ports", ports}};
}

namespace {

// An integer within [min, max], or std::invalid_argument naming the value (1e300 and 2^64-1 included).
int checked_int(const json& v, long long min, long long max) {
  const auto value = json_integer(v, min, max);
  if (!value) {
    throw std::invalid_argument(dump_json(v) + " is not an integer in " + std::to_string(min) + "-" +
                                std::to_string(max));
  }
  return static_cast<int>(*value);
}
Result<void> check_ports(const std::set<int>& ports, int port_count, const std::string& where) {
  for (const int p : ports) {
    if (p < 1 || p > port_count) {
      return fail(ErrorCode::invalid_argument, where + ": port " + std::to_string(p) +
                                                   " outside 1.." + std::to_string(port_count));
    }
  }
  return {};
}

Result<void> read_vlan(const json& v, SwitchState& out) {
  const int vid = checked_int(v.at("id"), 1, 4094);
  for (const char* key : {"egress", "untagged", "forbidden"}) {
    if (!v.contains(key)) continue;
    if (!v.at(key).is_array()) throw std::invalid_argument(std::string(key) + ": expected a list of ports");
    for (const auto& port : v.at(key)) checked_int(port, 1, 4096);
  }
  if (v.contains("status")) checked_int(v.at("status"), 1, 3);
  const std::string where = "vlans." + std::to_string(vid);
  if (vid < 1 || vid > 4094) return fail(ErrorCode::invalid_argument, where + ": bad VLAN id");
  Vlan vlan;
  vlan.name = v.at("name").get<std::string>();
  vlan.egress = v.at("egress").get<std::set<int>>();
  vlan.untagged = v.at("untagged").get<std::set<int>>();
  vlan.forbidden = v.value("forbidden", std::set<int>{});
  const int status = v.value("status", 1);
  if (status < 1 || status > 3) return fail(ErrorCode::invalid_argument, where + ": bad status");
  vlan.status = static_cast<RowStatus>(status);
  for (const auto* set : {&vlan.egress, &vlan.untagged, &vlan.forbidden}) {
    if (auto ok = check_ports(*set, out.port_count, where); !ok) return ok;
  }
  out.vlans[vid] = vlan;
  return {};
}

Result<void> read_port(const json& p, SwitchState& out) {
  for (const char* key : {"cisco_poe_mode", "dynamic_state", "access_vlan", "native_vlan"}) {
    if (p.contains(key)) checked_int(p.at(key), 0, 4095);
  }
  const int front = checked_int(p.at("port"), 1, 4096);
  const std::string where = "ports." + std::to_string(front);
  if (front < 1 || front > out.port_count) {
    return fail(ErrorCode::invalid_argument, where + ": no such port");
  }
  PortState& port = out.port(front);
  port.pvid = checked_int(p.at("pvid"), 0, 4095);
  port.poe_enabled = p.at("poe").get<bool>();
  port.cisco_poe_mode = p.value("cisco_poe_mode", 1);
  port.dynamic_state = p.value("dynamic_state", 2);
  port.access_vlan = p.value("access_vlan", 1);
  port.native_vlan = p.value("native_vlan", 1);
  auto bits = parse_ranges(p.value("trunk_vlans", std::string("0-4095")));
  if (!bits) return std::unexpected(bits.error().with_context(where));
  port.trunk_vlans = *bits;
  return {};
}
}  // namespace

Result<SwitchState> state_from_json(const json& j, int port_count) {
  try {
    const int stored = checked_int(j.at("port_count"), 1, 4096);
    if (j.contains("vlan_deletes")) checked_int(j.at("vlan_deletes"), 0, (1LL << 31) - 1);
    if (stored != port_count) {
      return fail(ErrorCode::invalid_argument,
                  "holds " + std::to_string(stored) + " ports but --ports is " +
                      std::to_string(port_count));
    }
    SwitchState out = SwitchState::make_default(port_count);
    out.vlans.clear();
    out.vlan_deletes = j.value("vlan_deletes", 0U);
    for (const auto& v : j.at("vlans")) {
      if (auto ok = read_vlan(v, out); !ok) return std::unexpected(ok.error());
    }
    for (const auto& p : j.at("ports")) {
      if (auto ok = read_port(p, out); !ok) return std::unexpected(ok.error());
    }
    return out;
  } catch (const std::exception& e) {  // json::exception, or checked_int's invalid_argument
    return fail(ErrorCode::invalid_argument, std::string("malformed state: ") + e.what());
  }
}

Result<SwitchState> load_state(const std::filesystem::path& path, int port_count) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return SwitchState::make_default(port_count);
  auto j = read_json_file(path);
  if (!j) return std::unexpected(j.error());
  return with_context(state_from_json(*j, port_count), path.string());
}

Result<void> save_state(const std::filesystem::path& path, const SwitchState& state) {
  return write_file_atomically(path, dump_json(to_json(state), 2) + "\n", 0644);
}

}  // namespace picluster::switchsim
