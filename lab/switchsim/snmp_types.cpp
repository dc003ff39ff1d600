#include "lab/switchsim/snmp_types.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace picluster::switchsim {

Result<Oid> parse_oid(std::string_view text) {
  if (!text.empty() && text.front() == '.') text.remove_prefix(1);
  if (text.empty()) return fail(ErrorCode::invalid_argument, "empty OID");
  Oid out;
  while (true) {
    const auto dot = text.find('.');
    const std::string_view part = text.substr(0, dot);
    std::uint32_t value = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc{} || end != part.data() + part.size()) {
      return fail(ErrorCode::invalid_argument, "bad OID sub-identifier '" + std::string(part) + "'");
    }
    out.push_back(value);
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return out;
}

std::string to_string(const Oid& oid) {
  std::string out;
  for (const auto part : oid) {
    out += '.';
    out += std::to_string(part);
  }
  return out;
}

bool has_prefix(const Oid& oid, const Oid& prefix) {
  return oid.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), oid.begin());
}

Oid append(Oid base, std::initializer_list<std::uint32_t> tail) {
  base.insert(base.end(), tail.begin(), tail.end());
  return base;
}

Oid append(Oid base, const Oid& tail) {
  base.insert(base.end(), tail.begin(), tail.end());
  return base;
}

std::string_view to_string(ValueType type) {
  switch (type) {
    case ValueType::integer: return "INTEGER";
    case ValueType::octet_string: return "OCTET STRING";
    case ValueType::object_id: return "OBJECT IDENTIFIER";
    case ValueType::gauge32: return "Gauge32";
    case ValueType::counter32: return "Counter32";
    case ValueType::timeticks: return "TimeTicks";
  }
  return "?";
}

namespace {
constexpr std::array<std::pair<SnmpStatus, std::string_view>, 19> k_status_names{{
    {SnmpStatus::no_error, "noError"},
    {SnmpStatus::too_big, "tooBig"},
    {SnmpStatus::no_such_name, "noSuchName"},
    {SnmpStatus::bad_value, "badValue"},
    {SnmpStatus::read_only, "readOnly"},
    {SnmpStatus::gen_err, "genErr"},
    {SnmpStatus::no_access, "noAccess"},
    {SnmpStatus::wrong_type, "wrongType"},
    {SnmpStatus::wrong_length, "wrongLength"},
    {SnmpStatus::wrong_encoding, "wrongEncoding"},
    {SnmpStatus::wrong_value, "wrongValue"},
    {SnmpStatus::no_creation, "noCreation"},
    {SnmpStatus::inconsistent_value, "inconsistentValue"},
    {SnmpStatus::resource_unavailable, "resourceUnavailable"},
    {SnmpStatus::commit_failed, "commitFailed"},
    {SnmpStatus::undo_failed, "undoFailed"},
    {SnmpStatus::authorization_error, "authorizationError"},
    {SnmpStatus::not_writable, "notWritable"},
    {SnmpStatus::inconsistent_name, "inconsistentName"},
}};
}  // namespace

std::optional<SnmpStatus> parse_status(std::string_view name) {
  for (const auto& [status, text] : k_status_names) {
    if (text == name) return status;
  }
  return std::nullopt;
}

std::string_view to_string(SnmpStatus status) {
  for (const auto& [value, text] : k_status_names) {
    if (value == status) return text;
  }
  return "genErr";
}

}  // namespace picluster::switchsim
