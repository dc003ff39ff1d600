#pragma once
// The SNMP agent around a Simulator, built on net-snmp's agent library. This is the only file
// pair that includes net-snmp headers.
//
// How it works: net-snmp runs as a master agent on one UDP transport with none of its own MIB
// modules (they would expose the host's interfaces); only VACM (rwcommunity/rwuser) and USM
// (createUser) are set up, by feeding config lines straight to net-snmp's config parser, so no
// secret ever lands in a file. One handler registered at .1.3.6.1 answers GET/GETNEXT from the
// Simulator (GETBULK arrives as GETNEXTs through net-snmp's bulk_to_next helper) and maps the SET
// phases RESERVE1/ACTION/COMMIT/FREE/UNDO onto Simulator::reserve/action/commit/free/undo. The
// drop/delay knobs wrap the transport session's packet callback: a dropped request is simply
// never handed to the agent, so the client sees a timeout. With knobs.bridge_tables_per_vlan
// (Cisco IOS) the handler is also registered at the BRIDGE-MIB in context "vlan-N" of every
// active VLAN N, and community COMMUNITY@N is mapped to that context (com2sec -Cn, read only);
// SNMPv3 users reach the same contexts by contextName.

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "lab/switchsim/simulator.hpp"

namespace picluster::switchsim {

struct V3User {
  std::string user;
  std::string auth_pass;  // SHA
  std::string priv_pass;  // AES
};

struct AgentOptions {
  std::string listen;     // "udp:127.0.0.1:PORT" (already checked to be loopback)
  std::string community;  // v2c read-write community; empty disables v1/v2c
  std::optional<V3User> v3;
};

class Agent {
 public:
  // Starts serving; at most one Agent may exist per process (net-snmp is global).
  static Result<std::unique_ptr<Agent>> start(const AgentOptions& options, Simulator& simulator);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Serves requests until `stop` becomes true (checked at least every 200 ms).
  void run(const std::atomic<bool>& stop);

 private:
  explicit Agent(Simulator& simulator) : m_simulator(simulator) {}
  Simulator& m_simulator;
};

// Checks a USM passphrase for createUser: 8..64 printable ASCII characters without quotes or
// backslashes (so it survives net-snmp's config-line parser unchanged).
Result<void> check_passphrase(const std::string& pass, const std::string& what);

}  // namespace picluster::switchsim
