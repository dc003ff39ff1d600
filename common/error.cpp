#include "common/error.hpp"

namespace picluster {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_inventory: return "invalid_inventory";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::locked: return "locked";
    case ErrorCode::io: return "io";
    case ErrorCode::ssh: return "ssh";
    case ErrorCode::snmp: return "snmp";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::command_failed: return "command_failed";
    case ErrorCode::refused: return "refused";
    case ErrorCode::internal: return "internal";
  }
  return "internal";
}

Error Error::with_context(std::string_view context) const {
  Error out = *this;
  out.message = std::string(context) + ": " + message;
  return out;
}

int exit_status(const Error& error) {
  return error.code == ErrorCode::invalid_argument ? 2 : 1;
}

}  // namespace picluster
