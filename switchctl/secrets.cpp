// Loading SNMP credentials from the secrets file named by the inventory.
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/json.hpp"
#include "switchctl/net_snmp_session.hpp"

namespace picluster::switchctl {

namespace {

Result<std::string> field(const nlohmann::json& doc, const std::string& file, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_string() || it->get<std::string>().empty()) {
    return fail(ErrorCode::invalid_inventory, file + ": '" + key + "' must be a non-empty string");
  }
  return it->get<std::string>();
}

Result<void> check_protocol(const nlohmann::json& doc, const std::string& file, const char* key,
                            const char* only) {
  auto it = doc.find(key);
  if (it == doc.end()) return {};
  if (!it->is_string() || it->get<std::string>() != only) {
    return fail(ErrorCode::invalid_inventory, file + ": '" + key + "' must be \"" + only + "\" (the only one supported)");
  }
  return {};
}

}  // namespace

Result<SnmpCredentials> load_credentials(const std::filesystem::path& file,
                                         inventory::SnmpVersion version) {
  const std::string name = file.string();
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return fail(ErrorCode::io, "secrets file " + name + ": cannot read it");
  if ((st.st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH)) != 0) {
    return fail(ErrorCode::refused, "secrets file " + name + " can be read or written by group or others; run chmod 600 " + name);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(ErrorCode::io, "secrets file " + name + ": cannot open it");
  std::stringstream text;
  text << in.rdbuf();
  // Parse without exceptions and never echo the text: it holds passwords.
  const auto parsed = parse_json<nlohmann::json>(text.str());
  const nlohmann::json doc = parsed ? *parsed : nlohmann::json();
  if (!doc.is_object()) {
    return fail(ErrorCode::invalid_inventory, "secrets file " + name + ": not a JSON object");
  }
  SnmpCredentials c;
  c.version = version;
  if (version == inventory::SnmpVersion::v2c) {
    auto community = field(doc, "secrets file " + name, "community");
    if (!community) return std::unexpected(community.error());
    c.community = *community;
    return c;
  }
  const std::string where = "secrets file " + name;
  for (auto [key, target] : {std::pair{"user", &c.user}, std::pair{"auth_password", &c.auth_password},
                             std::pair{"priv_password", &c.priv_password}}) {
    auto v = field(doc, where, key);
    if (!v) return std::unexpected(v.error());
    *target = *v;
  }
  if (auto r = check_protocol(doc, where, "auth_protocol", "SHA"); !r) return std::unexpected(r.error());
  if (auto r = check_protocol(doc, where, "priv_protocol", "AES"); !r) return std::unexpected(r.error());
  if (c.auth_password.size() < 8 || c.priv_password.size() < 8) {
    return fail(ErrorCode::invalid_inventory, where + ": v3 passwords must be at least 8 characters");
  }
  return c;
}

Result<std::unique_ptr<SnmpSession>> open_switch_session(const inventory::Shelf& shelf,
                                                         const std::filesystem::path& inventory_dir) {
  const auto& sw = shelf.switch_;
  if (sw.host.empty()) {
    return fail(ErrorCode::invalid_inventory,
                "shelf '" + shelf.name +
                    "': switch.host is not set in the inventory (the switch's SNMP address)");
  }
  if (sw.secrets_file.empty()) {
    return fail(ErrorCode::invalid_inventory, "shelf '" + shelf.name + "': switch.secrets_file is not set");
  }
  std::filesystem::path file = sw.secrets_file;
  if (file.is_relative()) file = inventory_dir / file;
  auto credentials = load_credentials(file, sw.version);
  if (!credentials) return std::unexpected(credentials.error());
  SessionConfig config{sw.host, sw.snmp_port, sw.timeout_ms, sw.retries, std::move(*credentials)};
  return open_net_snmp_session(config);
}

}  // namespace picluster::switchctl
