#pragma once
// The real SnmpSession over net-snmp's single-session API (snmp_sess_*), and the credentials it
// needs. This header does not include net-snmp; net_snmp_session.cpp is the only file that does.
//
// Secrets file (switch.secrets_file, relative to the inventory file's folder), JSON, mode 0600:
//   v2c: {"community": "..."}
//   v3:  {"user": "...", "auth_protocol": "SHA", "auth_password": "...",
//         "priv_protocol": "AES", "priv_password": "..."}   (authPriv only)
// Secrets are never taken from the command line and never appear in messages or logs.

#include <filesystem>
#include <memory>
#include <string>

#include "inventory/inventory.hpp"
#include "switchctl/snmp.hpp"

namespace picluster::switchctl {

struct SnmpCredentials {
  inventory::SnmpVersion version = inventory::SnmpVersion::v2c;
  std::string community;
  std::string user;
  std::string auth_password;  // SHA (HMAC-SHA-96)
  std::string priv_password;  // AES-128 (CFB)
};

// Reads and checks the secrets file for the given SNMP version. Refuses (ErrorCode::refused) a
// file that group or others can read. Messages name the file and the field, never a value.
Result<SnmpCredentials> load_credentials(const std::filesystem::path& file,
                                         inventory::SnmpVersion version);

struct SessionConfig {
  std::string host;          // name or address; "udp:" / "udp6:" transport prefixes are allowed
  int port = 161;
  int timeout_ms = 1000;     // per attempt
  int retries = 3;           // retransmissions after the first attempt
  SnmpCredentials credentials;
};

Result<std::unique_ptr<SnmpSession>> open_net_snmp_session(const SessionConfig& config);

// The session for a shelf's switch: secrets_file resolved against inventory_dir.
Result<std::unique_ptr<SnmpSession>> open_switch_session(const inventory::Shelf& shelf,
                                                         const std::filesystem::path& inventory_dir);

}  // namespace picluster::switchctl
