// NetSnmpSession: the only file that links net-snmp. It uses the single-session API
// (snmp_sess_open / snmp_sess_synch_response), so sessions do not share global state beyond
// the library's one-time initialisation, which reads no config files and no MIBs and saves no
// persistent state. Retransmission and timeouts are net-snmp's (timeout per attempt, retries).
#include "switchctl/net_snmp_session.hpp"

#include <cstring>
#include <mutex>

// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
// clang-format on

namespace picluster::switchctl {

namespace {

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_QUICK_PRINT, 1);
    setenv("MIBS", "", 1);  // no MIB parsing: we use numeric OIDs only
    snmp_disable_log();
    init_snmp("picluster");
  });
}

Value to_value(const netsnmp_variable_list* v) {
  switch (v->type) {
    case ASN_INTEGER: return Value::integer(*v->val.integer);
    case ASN_OCTET_STR:
      return Value::octets(std::string(reinterpret_cast<const char*>(v->val.string), v->val_len));
    case ASN_OBJECT_ID: {
      Value out{ValueType::object_id, 0, {}, {}};
      for (std::size_t i = 0; i < v->val_len / sizeof(oid); ++i) out.oid.push_back(static_cast<std::uint32_t>(v->val.objid[i]));
      return out;
    }
    case ASN_IPADDRESS:
      return {ValueType::ip_address, 0, std::string(reinterpret_cast<const char*>(v->val.string), v->val_len), {}};
    case ASN_COUNTER: return {ValueType::counter32, static_cast<std::int64_t>(static_cast<std::uint32_t>(*v->val.integer)), {}, {}};
    case ASN_GAUGE: return {ValueType::gauge32, static_cast<std::int64_t>(static_cast<std::uint32_t>(*v->val.integer)), {}, {}};
    case ASN_TIMETICKS: return {ValueType::timeticks, static_cast<std::int64_t>(static_cast<std::uint32_t>(*v->val.integer)), {}, {}};
    case ASN_COUNTER64: {
      const auto hi = static_cast<std::uint64_t>(v->val.counter64->high), lo = static_cast<std::uint64_t>(v->val.counter64->low);
      return {ValueType::counter64, static_cast<std::int64_t>((hi << 32) | lo), {}, {}};
    }
    case SNMP_NOSUCHOBJECT: return Value::exception(ValueType::no_such_object);
    case SNMP_NOSUCHINSTANCE: return Value::exception(ValueType::no_such_instance);
    case SNMP_ENDOFMIBVIEW: return Value::exception(ValueType::end_of_mib_view);
    default: return Value{};
  }
}

std::vector<oid> to_net(const Oid& o) { return std::vector<oid>(o.begin(), o.end()); }

Oid from_net(const oid* name, std::size_t len) {
  Oid out;
  for (std::size_t i = 0; i < len; ++i) out.push_back(static_cast<std::uint32_t>(name[i]));
  return out;
}

// Adds a typed varbind to a request PDU; false for a type we never send.
bool add_value(netsnmp_pdu* pdu, const VarBind& vb) {
  const auto name = to_net(vb.oid);
  const Value& v = vb.value;
  switch (v.type) {
    case ValueType::integer: {
      long n = static_cast<long>(v.number);
      return snmp_pdu_add_variable(pdu, name.data(), name.size(), ASN_INTEGER, &n, sizeof n) != nullptr;
    }
    case ValueType::gauge32:
    case ValueType::counter32:
    case ValueType::timeticks: {
      u_long n = static_cast<u_long>(v.number);
      const u_char t = v.type == ValueType::gauge32 ? ASN_GAUGE : v.type == ValueType::counter32 ? ASN_COUNTER : ASN_TIMETICKS;
      return snmp_pdu_add_variable(pdu, name.data(), name.size(), t, &n, sizeof n) != nullptr;
    }
    case ValueType::octet_string:
    case ValueType::ip_address:
      return snmp_pdu_add_variable(pdu, name.data(), name.size(),
                                   v.type == ValueType::ip_address ? ASN_IPADDRESS : ASN_OCTET_STR,
                                   v.bytes.data(), v.bytes.size()) != nullptr;
    case ValueType::object_id: {
      const auto value = to_net(v.oid);
      return snmp_pdu_add_variable(pdu, name.data(), name.size(), ASN_OBJECT_ID, value.data(),
                                   value.size() * sizeof(oid)) != nullptr;
    }
    default: return false;
  }
}

// Where a request goes inside the agent: the default context (vlan 0) or a VLAN's (Cisco IOS).
struct PduContext {
  int vlan = 0;
  bool v3 = false;
  const std::string* community = nullptr;  // v2c: the session's community, for COMMUNITY@VLAN
};

// Points the request at the VLAN's context; net-snmp frees what it is given with the PDU, and
// uses the session's community/contextName for a PDU that has none.
void set_context(netsnmp_pdu* pdu, const PduContext& context) {
  if (context.vlan == 0) return;
  if (context.v3) {
    const std::string name = "vlan-" + std::to_string(context.vlan);
    pdu->contextName = ::strdup(name.c_str());
    pdu->contextNameLen = name.size();
    return;
  }
  const std::string community = *context.community + "@" + std::to_string(context.vlan);
  pdu->community = static_cast<u_char*>(::malloc(community.size()));
  std::memcpy(pdu->community, community.data(), community.size());
  pdu->community_len = community.size();
}

class NetSnmpSession final : public SnmpSession {
 public:
  // timeout_hint: what to check when the switch does not answer, appended once to a timeout.
  NetSnmpSession(void* handle, std::string endpoint, std::string timeout_hint, bool v3, std::string community)
      : m_handle(handle),
        m_endpoint(std::move(endpoint)),
        m_timeout_hint(std::move(timeout_hint)),
        m_v3(v3),
        m_community(std::move(community)) {}
  NetSnmpSession(const NetSnmpSession&) = delete;
  NetSnmpSession& operator=(const NetSnmpSession&) = delete;
  ~NetSnmpSession() override { snmp_sess_close(m_handle); }

  [[nodiscard]] std::string endpoint() const override { return m_endpoint; }
  [[nodiscard]] SessionStats stats() const override { return m_stats; }

  Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) override {
    return read(SNMP_MSG_GET, "get", oids, 0, 0);
  }
  Result<std::vector<VarBind>> get_next(const std::vector<Oid>& oids) override {
    return read(SNMP_MSG_GETNEXT, "get-next", oids, 0, 0);
  }
  Result<std::vector<VarBind>> get_bulk(const std::vector<Oid>& oids, int non_repeaters,
                                        int max_repetitions) override {
    return read(SNMP_MSG_GETBULK, "get-bulk", oids, non_repeaters, max_repetitions);
  }
  Result<PduStatus> set(const std::vector<VarBind>& varbinds) override { return set_in(varbinds, 0); }
  std::unique_ptr<SnmpSession> vlan_context(int vlan) override;

  // The same requests in VLAN `vlan`'s context (0: the default context).
  Result<std::vector<VarBind>> read(int command, const char* op, const std::vector<Oid>& oids,
                                    int non_repeaters, int max_repetitions, int vlan = 0) {
    netsnmp_pdu* pdu = snmp_pdu_create(command);
    set_context(pdu, PduContext{vlan, m_v3, &m_community});
    return read_pdu(pdu, op, oids, non_repeaters, max_repetitions);
  }
  Result<PduStatus> set_in(const std::vector<VarBind>& varbinds, int vlan) {
    netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_SET);
    set_context(pdu, PduContext{vlan, m_v3, &m_community});
    for (const auto& vb : varbinds) {
      if (!add_value(pdu, vb)) {
        snmp_free_pdu(pdu);
        return fail(ErrorCode::internal, "set " + oid_name(vb.oid) + ": cannot encode a " +
                                             std::string(to_string(vb.value.type)));
      }
    }
    auto response = exchange(pdu, "set", varbinds.empty() ? Oid{} : varbinds.front().oid, varbinds.size());
    if (!response) return std::unexpected(response.error());
    PduStatus status{static_cast<ErrorStatus>((*response)->errstat), static_cast<int>((*response)->errindex)};
    snmp_free_pdu(*response);
    return status;
  }

 private:
  // Sends pdu (consumed) and returns the response; transport failures become errors.
  Result<netsnmp_pdu*> exchange(netsnmp_pdu* pdu, const char* op, const Oid& first, std::size_t count) {
    ++m_stats.pdus;
    m_stats.varbinds += static_cast<long>(count);
    netsnmp_pdu* response = nullptr;
    const int status = snmp_sess_synch_response(m_handle, pdu, &response);
    if (status == STAT_SUCCESS && response != nullptr) return response;
    if (response != nullptr) snmp_free_pdu(response);
    const std::string what = std::string(op) + " " + oid_name(first);
    if (status == STAT_TIMEOUT)
      return fail(ErrorCode::timeout, what + ": no response (timeout); " + m_timeout_hint);
    int liberr = 0, syserr = 0;
    char* text = nullptr;
    snmp_sess_error(m_handle, &liberr, &syserr, &text);
    std::string msg = text != nullptr ? text : "unknown error";
    free(text);  // NOLINT: allocated by net-snmp with malloc
    return fail(ErrorCode::snmp, what + ": " + msg);
  }

  Result<std::vector<VarBind>> read_pdu(netsnmp_pdu* pdu, const char* op, const std::vector<Oid>& oids,
                                        int non_repeaters, int max_repetitions) {
    if (pdu->command == SNMP_MSG_GETBULK) {
      pdu->non_repeaters = non_repeaters;
      pdu->max_repetitions = max_repetitions;
    }
    for (const auto& o : oids) {
      const auto name = to_net(o);
      snmp_add_null_var(pdu, name.data(), name.size());
    }
    auto response = exchange(pdu, op, oids.empty() ? Oid{} : oids.front(), oids.size());
    if (!response) return std::unexpected(response.error());
    netsnmp_pdu* r = *response;
    if (r->errstat != SNMP_ERR_NOERROR) {
      const auto index = static_cast<std::size_t>(r->errindex);
      const Oid& at = index >= 1 && index <= oids.size() ? oids[index - 1] : oids.front();
      const auto status = static_cast<ErrorStatus>(r->errstat);
      snmp_free_pdu(r);
      return fail(ErrorCode::snmp, std::string(op) + " " + oid_name(at) + ": " + std::string(to_string(status)));
    }
    std::vector<VarBind> out;
    for (auto* v = r->variables; v != nullptr; v = v->next_variable) {
      out.push_back(VarBind{from_net(v->name, v->name_length), to_value(v)});
    }
    snmp_free_pdu(r);
    return out;
  }

  void* m_handle;
  std::string m_endpoint;
  std::string m_timeout_hint;
  bool m_v3 = false;
  std::string m_community;  // v2c, for COMMUNITY@VLAN; never in a message
  SessionStats m_stats;
};

// A NetSnmpSession's VLAN context: every request goes through the parent with the VLAN's
// community or contextName.
class VlanContextSession final : public SnmpSession {
 public:
  VlanContextSession(NetSnmpSession& parent, int vlan) : m_parent(parent), m_vlan(vlan) {}
  [[nodiscard]] std::string endpoint() const override { return m_parent.endpoint(); }
  [[nodiscard]] SessionStats stats() const override { return m_parent.stats(); }
  Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) override {
    return m_parent.read(SNMP_MSG_GET, "get", oids, 0, 0, m_vlan);
  }
  Result<std::vector<VarBind>> get_next(const std::vector<Oid>& oids) override {
    return m_parent.read(SNMP_MSG_GETNEXT, "get-next", oids, 0, 0, m_vlan);
  }
  Result<std::vector<VarBind>> get_bulk(const std::vector<Oid>& oids, int non_repeaters,
                                        int max_repetitions) override {
    return m_parent.read(SNMP_MSG_GETBULK, "get-bulk", oids, non_repeaters, max_repetitions, m_vlan);
  }
  Result<PduStatus> set(const std::vector<VarBind>& varbinds) override { return m_parent.set_in(varbinds, m_vlan); }

 private:
  NetSnmpSession& m_parent;
  int m_vlan;
};

std::unique_ptr<SnmpSession> NetSnmpSession::vlan_context(int vlan) {
  if (vlan < 1 || vlan > 4094) return nullptr;
  return std::make_unique<VlanContextSession>(*this, vlan);
}

Result<void> set_v3_keys(netsnmp_session& s, const SnmpCredentials& c) {
  s.version = SNMP_VERSION_3;
  s.securityName = const_cast<char*>(c.user.c_str());
  s.securityNameLen = c.user.size();
  s.securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
  s.securityAuthProto = usmHMACSHA1AuthProtocol;
  s.securityAuthProtoLen = USM_AUTH_PROTO_SHA_LEN;
  s.securityAuthKeyLen = USM_AUTH_KU_LEN;
  auto* auth = reinterpret_cast<u_char*>(const_cast<char*>(c.auth_password.data()));
  if (generate_Ku(s.securityAuthProto, static_cast<u_int>(s.securityAuthProtoLen), auth,
                  c.auth_password.size(), s.securityAuthKey, &s.securityAuthKeyLen) != SNMPERR_SUCCESS) {
    return fail(ErrorCode::snmp, "v3: cannot derive the authentication key");
  }
  s.securityPrivProto = usmAESPrivProtocol;
  s.securityPrivProtoLen = USM_PRIV_PROTO_AES_LEN;
  s.securityPrivKeyLen = USM_PRIV_KU_LEN;
  auto* priv = reinterpret_cast<u_char*>(const_cast<char*>(c.priv_password.data()));
  if (generate_Ku(s.securityAuthProto, static_cast<u_int>(s.securityAuthProtoLen), priv,
                  c.priv_password.size(), s.securityPrivKey, &s.securityPrivKeyLen) != SNMPERR_SUCCESS) {
    return fail(ErrorCode::snmp, "v3: cannot derive the privacy key");
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<SnmpSession>> open_net_snmp_session(const SessionConfig& config) {
  init_library();
  const bool has_transport = config.host.rfind("udp:", 0) == 0 || config.host.rfind("udp6:", 0) == 0;
  const bool v6 = config.host.find(':') != std::string::npos && !has_transport;
  std::string peer = has_transport ? config.host : (v6 ? "udp6:[" + config.host + "]" : "udp:" + config.host);
  peer += ":" + std::to_string(config.port);
  const std::string endpoint = (v6 ? "[" + config.host + "]" : config.host) + ":" + std::to_string(config.port);

  netsnmp_session s;
  snmp_sess_init(&s);
  s.peername = const_cast<char*>(peer.c_str());
  s.timeout = static_cast<long>(config.timeout_ms) * 1000;  // microseconds
  s.retries = config.retries;
  const SnmpCredentials& c = config.credentials;
  if (c.version == inventory::SnmpVersion::v2c) {
    s.version = SNMP_VERSION_2c;
    s.community = reinterpret_cast<u_char*>(const_cast<char*>(c.community.data()));
    s.community_len = c.community.size();
  } else if (auto r = set_v3_keys(s, c); !r) {
    return fail(r.error().code, "switch " + endpoint + ": " + r.error().message);
  }
  void* handle = snmp_sess_open(&s);  // copies everything it keeps
  if (handle == nullptr) {
    return fail(ErrorCode::snmp, "switch " + endpoint + ": cannot open an SNMP session (bad address?)");
  }
  // Agents drop requests with a wrong community or v3 key silently, so a timeout says both.
  const std::string hint =
      std::to_string(config.retries + 1) + " attempt(s) of " + std::to_string(config.timeout_ms) +
      " ms; is the switch reachable at " + endpoint + " and " +
      (c.version == inventory::SnmpVersion::v2c ? "is the community"
                                                : "are the v3 user and passwords") +
      " in the secrets file the switch's?";
  return std::unique_ptr<SnmpSession>(std::make_unique<NetSnmpSession>(
      handle, endpoint, hint, c.version != inventory::SnmpVersion::v2c, c.community));
}

}  // namespace picluster::switchctl
