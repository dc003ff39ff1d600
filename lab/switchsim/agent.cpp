#include "lab/switchsim/agent.hpp"

#include <sys/select.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <iterator>
#include <map>
#include <thread>
#include <tuple>
#include <vector>

// net-snmp's headers are C with macros full of old-style casts; they come in as system headers.
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

// Exported by libnetsnmpagent but not declared in its installed headers.
extern "C" {
extern netsnmp_session* main_session;
void init_vacm_conf(void);
}

namespace picluster::switchsim {

namespace {

constexpr const char* k_app = "picluster-switchsim";

// net-snmp is process-global, and so is what its C callbacks need.
struct Globals {
  Simulator* simulator = nullptr;
  netsnmp_callback original_callback = nullptr;
  std::mt19937 rng;
  double drop_fraction = 0;
  double delay_fraction = 0;
  int delay_ms = 0;
  std::chrono::steady_clock::time_point started;
  std::vector<netsnmp_request_info*> set_requests;  // varbind index -> request, during a SET
  std::string private_dir;  // net-snmp's persistent/config folder, removed at exit
  bool per_vlan = false;    // knobs.bridge_tables_per_vlan: a context "vlan-N" per active VLAN
  std::map<int, netsnmp_handler_registration*> vlan_contexts;  // registered, by VLAN
};
Globals g;

std::uint32_t uptime_ticks() {
  const auto elapsed = std::chrono::steady_clock::now() - g.started;
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() / 10);
}

Oid to_oid(const oid* name, std::size_t length) { return Oid(name, name + length); }

std::optional<Value> from_varbind(const netsnmp_variable_list* vb) {
  switch (vb->type) {
    case ASN_INTEGER: return Value::integer(*vb->val.integer);
    case ASN_GAUGE: return Value::gauge(static_cast<std::int64_t>(static_cast<std::uint32_t>(*vb->val.integer)));
    case ASN_COUNTER: return Value::counter(static_cast<std::int64_t>(static_cast<std::uint32_t>(*vb->val.integer)));
    case ASN_TIMETICKS: return Value::ticks(static_cast<std::int64_t>(static_cast<std::uint32_t>(*vb->val.integer)));
    case ASN_OCTET_STR:
      return Value::octets(std::string(reinterpret_cast<const char*>(vb->val.string), vb->val_len));
    case ASN_OBJECT_ID:
      return Value::object(to_oid(vb->val.objid, vb->val_len / sizeof(oid)));
    default: return std::nullopt;
  }
}

void set_value(netsnmp_variable_list* vb, const Value& value) {
  switch (value.type) {
    case ValueType::integer: {
      const long v = static_cast<long>(value.number);
      snmp_set_var_typed_value(vb, ASN_INTEGER, &v, sizeof v);
      return;
    }
    case ValueType::gauge32:
    case ValueType::counter32:
    case ValueType::timeticks: {
      const u_long v = static_cast<u_long>(value.number);
      const u_char type = value.type == ValueType::gauge32     ? ASN_GAUGE
                          : value.type == ValueType::counter32 ? ASN_COUNTER
                                                               : ASN_TIMETICKS;
      snmp_set_var_typed_value(vb, type, &v, sizeof v);
      return;
    }
    case ValueType::octet_string:
      snmp_set_var_typed_value(vb, ASN_OCTET_STR, value.bytes.data(), value.bytes.size());
      return;
    case ValueType::object_id: {
      std::vector<oid> parts(value.oid.begin(), value.oid.end());
      snmp_set_var_typed_value(vb, ASN_OBJECT_ID, parts.data(), parts.size() * sizeof(oid));
      return;
    }
  }
}

// vlan: the VLAN whose context the request is in (knobs.bridge_tables_per_vlan), 0 = default.
void answer_get(netsnmp_agent_request_info* reqinfo, netsnmp_request_info* requests, int vlan) {
  for (auto* r = requests; r != nullptr; r = r->next) {
    if (r->processed != 0) continue;
    const Oid name = to_oid(r->requestvb->name, r->requestvb->name_length);
    auto hit = vlan != 0 ? g.simulator->get_in_vlan(vlan, name) : g.simulator->get(name, uptime_ticks());
    if (hit) {
      set_value(r->requestvb, hit->second);
      continue;
    }
    const bool implemented = vlan != 0 ? g.simulator->implements_in_vlan(vlan, name) : g.simulator->implements(name);
    netsnmp_set_request_error(reqinfo, r, implemented ? SNMP_NOSUCHINSTANCE : SNMP_NOSUCHOBJECT);
  }
}

// Answers within the registration's subtree only: past it, the agent asks the next registration.
void answer_getnext(const netsnmp_handler_registration* reg, netsnmp_request_info* requests, int vlan) {
  const Oid root = to_oid(reg->rootoid, reg->rootoid_len);
  for (auto* r = requests; r != nullptr; r = r->next) {
    if (r->processed != 0) continue;
    const Oid name = to_oid(r->requestvb->name, r->requestvb->name_length);
    auto hit = vlan != 0 ? g.simulator->get_next_in_vlan(vlan, name) : g.simulator->get_next(name, uptime_ticks());
    if (!hit || !has_prefix(hit->first, root)) continue;  // past our objects here: endOfMibView
    std::vector<oid> parts(hit->first.begin(), hit->first.end());
    snmp_set_var_objid(r->requestvb, parts.data(), parts.size());
    set_value(r->requestvb, hit->second);
  }
}

void report(netsnmp_agent_request_info* reqinfo, const SetFailure& failure) {
  if (g.set_requests.empty()) return;
  const std::size_t index = failure.index < g.set_requests.size() ? failure.index : 0;
  netsnmp_set_request_error(reqinfo, g.set_requests[index], static_cast<int>(failure.status));
}

void reserve(netsnmp_agent_request_info* reqinfo, netsnmp_request_info* requests) {
  g.set_requests.clear();
  std::vector<VarBind> varbinds;
  for (auto* r = requests; r != nullptr; r = r->next) {
    g.set_requests.push_back(r);
    auto value = from_varbind(r->requestvb);
    if (!value) {
      netsnmp_set_request_error(reqinfo, r, SNMP_ERR_WRONGTYPE);
      return;
    }
    varbinds.push_back({to_oid(r->requestvb->name, r->requestvb->name_length), *value});
  }
  if (auto failure = g.simulator->reserve(varbinds)) report(reqinfo, *failure);
}

// "vlan-N" -> N; 0 for the default context.
int context_vlan(const netsnmp_handler_registration* reg) {
  if (reg->contextName == nullptr || std::strncmp(reg->contextName, "vlan-", 5) != 0) return 0;
  return std::atoi(reg->contextName + 5);
}

int handle(netsnmp_mib_handler*, netsnmp_handler_registration* reg, netsnmp_agent_request_info* reqinfo,
           netsnmp_request_info* requests) {
  const int vlan = context_vlan(reg);
  if (vlan != 0 && reqinfo->mode == MODE_SET_RESERVE1) {
    netsnmp_set_request_error(reqinfo, requests, SNMP_ERR_NOTWRITABLE);  // per-VLAN contexts are read only
    return SNMP_ERR_NOERROR;
  }
  if (vlan != 0 && reqinfo->mode != MODE_GET && reqinfo->mode != MODE_GETNEXT) return SNMP_ERR_NOERROR;
  switch (reqinfo->mode) {
    case MODE_GET: answer_get(reqinfo, requests, vlan); break;
    case MODE_GETNEXT: answer_getnext(reg, requests, vlan); break;
    case MODE_SET_RESERVE1: reserve(reqinfo, requests); break;
    case MODE_SET_RESERVE2: break;
    case MODE_SET_ACTION:
      if (auto failure = g.simulator->action()) report(reqinfo, *failure);
      break;
    case MODE_SET_COMMIT: g.simulator->commit(); break;
    case MODE_SET_FREE: g.simulator->free(); break;
    case MODE_SET_UNDO: g.simulator->undo(); break;
    default: break;
  }
  return SNMP_ERR_NOERROR;
}

// Wraps the transport session's callback: the drop/delay knobs act before the agent sees a PDU.
int packet_filter(int op, netsnmp_session* session, int reqid, netsnmp_pdu* pdu, void* magic) {
  if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE) {
    std::uniform_real_distribution<double> dice(0.0, 1.0);
    if (g.drop_fraction > 0 && dice(g.rng) < g.drop_fraction) return 1;  // silence
    if (g.delay_fraction > 0 && dice(g.rng) < g.delay_fraction) {
      std::this_thread::sleep_for(std::chrono::milliseconds(g.delay_ms));
    }
  }
  return g.original_callback(op, session, reqid, pdu, magic);
}

void remember(const std::string& line) {
  std::vector<char> buf(line.begin(), line.end());
  buf.push_back('\0');
  netsnmp_config_remember(buf.data());  // copies the line
}

// knobs.bridge_tables_per_vlan: registers the handler for the BRIDGE-MIB in context "vlan-N" of
// every active VLAN N and drops the contexts of VLANs that are gone (a request to a context that
// does not exist is dropped by the agent: the client times out, as with IOS and a VLAN it lacks).
// Called outside request processing, after start-up and after every batch of requests.
void sync_vlan_contexts() {
  if (!g.per_vlan) return;
  static oid bridge_root[] = {1, 3, 6, 1, 2, 1, 17};
  const std::vector<int> want = g.simulator->context_vlans();
  for (auto it = g.vlan_contexts.begin(); it != g.vlan_contexts.end();) {
    if (std::find(want.begin(), want.end(), it->first) != want.end()) {
      ++it;
      continue;
    }
    netsnmp_unregister_handler(it->second);
    it = g.vlan_contexts.erase(it);
  }
  for (const int vlan : want) {
    if (g.vlan_contexts.contains(vlan)) continue;
    netsnmp_handler_registration* reg = netsnmp_create_handler_registration(
        "switchsim-vlan", handle, bridge_root, std::size(bridge_root), HANDLER_CAN_RONLY);
    if (reg == nullptr) continue;
    reg->contextName = ::strdup(("vlan-" + std::to_string(vlan)).c_str());
    if (netsnmp_register_handler(reg) == MIB_REGISTERED_OK) g.vlan_contexts[vlan] = reg;
  }
}

// Cisco IOS's community indexing: COMMUNITY@N reads VLAN N's context, read only. One com2sec
// line per VLAN id (the mapping is static; the contexts come and go with the VLANs).
void configure_vlan_communities(const std::string& community) {
  for (int vlan = 1; vlan <= 4094; ++vlan) {
    const std::string n = std::to_string(vlan);
    remember("com2sec -Cn vlan-" + n + " picsimvlan 127.0.0.0/8 " + community + "@" + n);
  }
  remember("group picsimvlangrp v1 picsimvlan");
  remember("group picsimvlangrp v2c picsimvlan");
  remember("view picsimvlanview included .1");
  remember("access picsimvlangrp \"\" any noauth prefix picsimvlanview none none");
}

void configure_library(const AgentOptions& options, const std::string& private_dir) {
  // No config files, no persistent state (engineBoots, localized keys) written anywhere, no MIB
  // files parsed (we serve numeric OIDs), and whatever the library insists on creating (its
  // cert_indexes folder) goes to a private folder removed at exit instead of /var/lib/snmp.
  ::setenv("MIBS", "", 1);
  netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, private_dir.c_str());
  netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_CONFIGURATION_DIR, private_dir.c_str());
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_CONFIG_LOAD, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_DONT_LOG_TCPWRAPPERS_CONNECTS, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_NO_CONNECTION_WARNINGS, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 0);  // master
  netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_MASTER, 0);
  netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_PORTS, options.listen.c_str());
  if (!options.community.empty()) remember("rwcommunity " + options.community + " 127.0.0.0/8");
  if (!options.community.empty() && g.per_vlan) configure_vlan_communities(options.community);
  if (options.v3) {
    remember("createUser " + options.v3->user + " SHA \"" + options.v3->auth_pass + "\" AES \"" +
             options.v3->priv_pass + "\"");
    remember("rwuser " + options.v3->user + " priv");
  }
}

}  // namespace

Result<void> check_passphrase(const std::string& pass, const std::string& what) {
  if (pass.size() < 8 || pass.size() > 64) {
    return fail(ErrorCode::invalid_argument, what + " must be 8..64 characters");
  }
  for (const char c : pass) {
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\'' || c == '\\') {
      return fail(ErrorCode::invalid_argument,
                  what + " may only hold printable ASCII without spaces, quotes or backslashes");
    }
  }
  return {};
}

Result<std::unique_ptr<Agent>> Agent::start(const AgentOptions& options, Simulator& simulator) {
  if (g.simulator != nullptr) return fail(ErrorCode::internal, "an agent is already running");
  const Knobs& knobs = simulator.knobs();
  g.simulator = &simulator;
  g.rng.seed(knobs.seed ? *knobs.seed : std::random_device{}());
  g.drop_fraction = knobs.drop_fraction;
  g.delay_fraction = knobs.delay_fraction;
  g.delay_ms = knobs.delay_ms;
  g.per_vlan = knobs.bridge_tables_per_vlan;
  g.started = std::chrono::steady_clock::now();

  char private_dir[] = "/tmp/picluster-switchsim.XXXXXX";
  if (::mkdtemp(private_dir) == nullptr) {
    g.simulator = nullptr;
    return fail(ErrorCode::io, std::string("mkdtemp: ") + std::strerror(errno));
  }
  g.private_dir = private_dir;
  snmp_enable_stderrlog();
  configure_library(options, g.private_dir);
  // The agent library starts its SMUX master by default, a TCP listener on 0.0.0.0:199; the
  // simulator must serve nothing but --listen. (AgentX master is off in configure_library.)
  char no_smux[] = "-smux";  // add_to_init_list tokenises its argument in place
  add_to_init_list(no_smux);
  init_agent(k_app);
  init_vacm_conf();  // rwcommunity/rwuser tokens and the access-control callbacks

  // 1.3.6.1 (internet) and 1.0.8802 (IEEE 802.1AB LLDP-MIB, under iso.std).
  static oid root[] = {1, 3, 6, 1};
  static oid lldp_root[] = {1, 0, 8802};
  for (auto [name, at, length] : {std::tuple{"switchsim", root, std::size(root)},
                                  std::tuple{"switchsim-lldp", lldp_root, std::size(lldp_root)}}) {
    netsnmp_handler_registration* reg =
        netsnmp_create_handler_registration(name, handle, at, length, HANDLER_CAN_RWRITE);
    if (reg == nullptr || netsnmp_register_handler(reg) != MIB_REGISTERED_OK) {
      g.simulator = nullptr;
      return fail(ErrorCode::internal, "cannot register the MIB handler");
    }
  }
  init_snmp(k_app);
  if (init_master_agent() != 0 || main_session == nullptr) {
    g.simulator = nullptr;
    return fail(ErrorCode::io, options.listen + ": cannot listen (address in use?)");
  }
  g.original_callback = main_session->callback;
  main_session->callback = packet_filter;
  sync_vlan_contexts();
  return std::unique_ptr<Agent>(new Agent(simulator));
}

Agent::~Agent() {
  g.vlan_contexts.clear();  // the registrations go with the agent
  snmp_shutdown(k_app);
  shutdown_agent();
  std::error_code ec;
  std::filesystem::remove_all(g.private_dir, ec);
  g.simulator = nullptr;
}

void Agent::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    int numfds = 0;
    fd_set fds;
    FD_ZERO(&fds);
    timeval timeout{0, 200000};
    int block = 0;
    snmp_select_info(&numfds, &fds, &timeout, &block);
    const int count = select(numfds, &fds, nullptr, nullptr, &timeout);
    if (count > 0) {
      snmp_read(&fds);
      sync_vlan_contexts();  // a SET may have created or destroyed a VLAN
    } else if (count == 0) {
      snmp_timeout();
    }
    run_alarms();
    netsnmp_check_outstanding_agent_requests();
  }
}

}  // namespace picluster::switchsim
