#pragma once
// Plain SNMP vocabulary for the simulator's pure core: object identifiers, typed values and the
// RFC 3416 error statuses. Nothing here touches net-snmp; agent.cpp converts at the edge.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace picluster::switchsim {

using Oid = std::vector<std::uint32_t>;

// Parses "1.3.6.1.2.1" or ".1.3.6.1.2.1"; every sub-identifier must fit in 32 bits.
Result<Oid> parse_oid(std::string_view text);
// Renders ".1.3.6.1.2.1" (leading dot, as net-snmp's -On prints it).
std::string to_string(const Oid& oid);
bool has_prefix(const Oid& oid, const Oid& prefix);
// Returns base with the given sub-identifiers appended.
Oid append(Oid base, std::initializer_list<std::uint32_t> tail);
Oid append(Oid base, const Oid& tail);

// The SMI base types the simulator serves (RFC 2578). Unsigned32 and Gauge32 share a tag.
enum class ValueType { integer, octet_string, object_id, gauge32, counter32, timeticks };

std::string_view to_string(ValueType type);

struct Value {
  ValueType type = ValueType::integer;
  std::int64_t number = 0;  // integer, gauge32, counter32, timeticks
  std::string bytes;        // octet_string (raw octets, not text)
  Oid oid;                  // object_id

  static Value integer(std::int64_t v) { return {ValueType::integer, v, {}, {}}; }
  static Value gauge(std::int64_t v) { return {ValueType::gauge32, v, {}, {}}; }
  static Value counter(std::int64_t v) { return {ValueType::counter32, v, {}, {}}; }
  static Value ticks(std::int64_t v) { return {ValueType::timeticks, v, {}, {}}; }
  static Value octets(std::string v) { return {ValueType::octet_string, 0, std::move(v), {}}; }
  static Value object(Oid v) { return {ValueType::object_id, 0, {}, std::move(v)}; }

  bool operator==(const Value&) const = default;
};

// RFC 3416 error-status values; the numbers are the wire values.
enum class SnmpStatus : int {
  no_error = 0,
  too_big = 1,
  no_such_name = 2,
  bad_value = 3,
  read_only = 4,
  gen_err = 5,
  no_access = 6,
  wrong_type = 7,
  wrong_length = 8,
  wrong_encoding = 9,
  wrong_value = 10,
  no_creation = 11,
  inconsistent_value = 12,
  resource_unavailable = 13,
  commit_failed = 14,
  undo_failed = 15,
  authorization_error = 16,
  not_writable = 17,
  inconsistent_name = 18,
};

// "commitFailed" <-> SnmpStatus::commit_failed (the RFC spelling).
std::optional<SnmpStatus> parse_status(std::string_view name);
std::string_view to_string(SnmpStatus status);

struct VarBind {
  Oid oid;
  Value value;
};

// Why a SET was refused: the 0-based index of the offending varbind, the status to report and a
// human sentence for the log (never containing a secret).
struct SetFailure {
  std::size_t index = 0;
  SnmpStatus status = SnmpStatus::gen_err;
  std::string why;
};

}  // namespace picluster::switchsim
