#pragma once
// The SNMP seam: typed values, varbinds and the SnmpSession interface every switch operation goes
// through. NetSnmpSession (net_snmp_session.hpp) is the one real implementation; unit tests use a
// stateful fake. Nothing here links net-snmp.
//
// Errors: transport failures (timeout, authentication, unreachable) come back as Error values.
// Agent-reported error-status on GET/GETNEXT/GETBULK is an Error naming the OID at error-index;
// on SET it is returned as data (PduStatus) so callers can decide to fall back to ordered steps,
// then turned into a message by describe_set_failure(). Varbind exceptions (noSuchObject,
// noSuchInstance, endOfMibView) are values, never errors: the caller knows whether they matter.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace picluster::switchctl {

using Oid = std::vector<std::uint32_t>;

// "1.3.6.1.2.1.17.7.1.4.5.1.1.5"
std::string oid_str(const Oid& oid);
// Accepts dotted decimal with or without a leading dot; nullopt on anything else.
std::optional<Oid> parse_oid(std::string_view text);
// base followed by the given sub-identifiers.
Oid oid_cat(const Oid& base, std::initializer_list<std::uint32_t> tail);
Oid oid_cat(const Oid& base, const Oid& tail);
bool oid_starts_with(const Oid& oid, const Oid& prefix);
// Symbolic form for messages: "dot1qPvid.5", "pethPsePortAdminEnable.1.5"; dotted decimal when
// the prefix is not one this component uses.
std::string oid_name(const Oid& oid);

enum class ValueType {
  integer,
  octet_string,
  object_id,
  ip_address,
  counter32,
  gauge32,
  timeticks,
  counter64,
  null,
  no_such_object,    // varbind exception
  no_such_instance,  // varbind exception
  end_of_mib_view,   // varbind exception
};
std::string_view to_string(ValueType type);

struct Value {
  ValueType type = ValueType::null;
  std::int64_t number = 0;  // integer, counters, gauge, timeticks
  std::string bytes;        // octet string (binary safe), ip address (4 octets)
  Oid oid;                  // object identifier

  static Value integer(std::int64_t v) { return {ValueType::integer, v, {}, {}}; }
  static Value octets(std::string v) { return {ValueType::octet_string, 0, std::move(v), {}}; }
  static Value gauge(std::int64_t v) { return {ValueType::gauge32, v, {}, {}}; }
  static Value exception(ValueType t) { return {t, 0, {}, {}}; }
  [[nodiscard]] bool is_exception() const {
    return type == ValueType::no_such_object || type == ValueType::no_such_instance ||
           type == ValueType::end_of_mib_view;
  }
  // For messages and --dry-run; octet strings print as text when printable, else as hex.
  [[nodiscard]] std::string str() const;
  bool operator==(const Value&) const = default;
};

struct VarBind {
  Oid oid;
  Value value;
  bool operator==(const VarBind&) const = default;
};

// RFC 3416 error-status values.
enum class ErrorStatus : int {
  no_error = 0, too_big = 1, no_such_name = 2, bad_value = 3, read_only = 4, gen_err = 5,
  no_access = 6, wrong_type = 7, wrong_length = 8, wrong_encoding = 9, wrong_value = 10,
  no_creation = 11, inconsistent_value = 12, resource_unavailable = 13, commit_failed = 14,
  undo_failed = 15, authorization_error = 16, not_writable = 17, inconsistent_name = 18,
};
std::string_view to_string(ErrorStatus status);  // "inconsistentValue"

// The agent's verdict on a SET PDU. error_index is 1-based into the request varbinds (0 = none).
struct PduStatus {
  ErrorStatus status = ErrorStatus::no_error;
  int error_index = 0;
  [[nodiscard]] bool ok() const { return status == ErrorStatus::no_error; }
};

// A SET PDU as planned: the varbinds sent together (applied as a whole per RFC 3416), the
// varbinds that put back what they change (empty when nothing needs undoing), and one line for
// people. port is the front-panel port it changes, 0 when it is not about one port.
struct SetPdu {
  std::string description;
  int port = 0;
  std::vector<VarBind> varbinds;
  std::vector<VarBind> undo;
};

// Counters kept by sessions, for --verbose and the benchmark.
struct SessionStats {
  long pdus = 0;     // request PDUs sent by the caller (retransmissions not counted)
  long varbinds = 0; // varbinds in those requests
};

// Contract: every call is one request PDU and one response (the implementation retransmits on
// timeout as configured). get returns one varbind per requested OID, in order. get_next returns
// one varbind per requested OID. get_bulk returns up to non_repeaters + max_repetitions * rest
// varbinds, row-major as on the wire (an agent may return fewer). set applies all varbinds or
// none and reports the agent's verdict in PduStatus. Not thread-safe.
class SnmpSession {
 public:
  virtual ~SnmpSession() = default;
  // "127.0.0.1:16161": where requests go, for messages (never the community).
  [[nodiscard]] virtual std::string endpoint() const = 0;
  virtual Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) = 0;
  virtual Result<std::vector<VarBind>> get_next(const std::vector<Oid>& oids) = 0;
  virtual Result<std::vector<VarBind>> get_bulk(const std::vector<Oid>& oids, int non_repeaters,
                                                int max_repetitions) = 0;
  virtual Result<PduStatus> set(const std::vector<VarBind>& varbinds) = 0;
  [[nodiscard]] virtual SessionStats stats() const = 0;
  // The same agent in VLAN `vlan`'s context, where Cisco IOS serves that VLAN's BRIDGE-MIB
  // instance (dot1dBasePortTable, dot1dTpFdbTable): SNMPv2c sends community "COMMUNITY@VLAN",
  // SNMPv3 contextName "vlan-VLAN". The result borrows this session (it must not outlive it) and
  // counts in its stats; its endpoint() is this one's (the community never appears). nullptr
  // when the session cannot address contexts (the default).
  virtual std::unique_ptr<SnmpSession> vlan_context(int vlan) {
    (void)vlan;
    return nullptr;
  }
};

// A value read from the agent, checked before use: a varbind exception (noSuchObject,
// noSuchInstance, endOfMibView) or a value of the wrong type is ErrorCode::snmp naming the OID
// and, when `port` is not empty, the port ("dot1qPvid.2 (port 2): OCTET STRING "x" where an
// integer was expected"). Integers are INTEGER, Gauge32/Unsigned32, Counter32 and TimeTicks.
Result<std::int64_t> number_of(const VarBind& vb, std::string_view port = {});
Result<std::string> octets_of(const VarBind& vb, std::string_view port = {});

// "set dot1qPvid.5 (port 5): inconsistentValue" for a failed SET: names the varbind at
// error-index and the front-panel port the PDU changes (0 = not about one port).
std::string describe_set_failure(const std::vector<VarBind>& varbinds, const PduStatus& status,
                                 int port);

// Sends a planned SET and turns a non-ok status into ErrorCode::snmp with describe_set_failure.
Result<void> set_checked(SnmpSession& session, const std::vector<VarBind>& varbinds, int port);

// Walks every column under `roots` in parallel with GETBULK until each leaves its subtree or hits
// endOfMibView. Returns the varbinds per root, in order. Bounded: stops with an error if an agent
// returns non-increasing OIDs or more than max_rows rows per column.
Result<std::vector<std::vector<VarBind>>> walk_columns(SnmpSession& session,
                                                       const std::vector<Oid>& roots,
                                                       int max_repetitions = 40,
                                                       int max_rows = 100000);

// Time source for waits (PoE off time, detection polling); fakes make tests instant.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override;
  void sleep_for(std::chrono::milliseconds duration) override;
};

// Splits every request into one varbind per PDU (get/set) and turns GETBULK into GETNEXT: the
// naive client the benchmark compares against. SETs lose atomicity: only for measurements.
class OneVarbindPerPdu final : public SnmpSession {
 public:
  explicit OneVarbindPerPdu(SnmpSession& inner) : m_inner(inner) {}
  [[nodiscard]] std::string endpoint() const override { return m_inner.endpoint(); }
  Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) override;
  Result<std::vector<VarBind>> get_next(const std::vector<Oid>& oids) override;
  Result<std::vector<VarBind>> get_bulk(const std::vector<Oid>& oids, int non_repeaters,
                                        int max_repetitions) override;
  Result<PduStatus> set(const std::vector<VarBind>& varbinds) override;
  [[nodiscard]] SessionStats stats() const override { return m_inner.stats(); }

 private:
  SnmpSession& m_inner;
};

}  // namespace picluster::switchctl
