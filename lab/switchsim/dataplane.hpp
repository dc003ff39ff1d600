#pragma once
// THE SEAM between the simulated SNMP agent and whatever actually forwards frames and powers
// devices. Every change a committed SET makes to forwarding or power goes through DataPlane; the
// agent never touches anything else. The default InMemoryDataPlane only remembers; lab/shelf
// plugs in one that drives vde_switch and starts/kills QEMU Pis (docs/switchsim.md, "The seam").

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "lab/switchsim/knobs.hpp"

namespace picluster::switchsim {

// A MAC address the switch has learned: on which front port, in which VLAN.
struct FdbEntry {
  int front_port = 0;
  int vlan = 0;
  Mac mac{};
  bool operator==(const FdbEntry&) const = default;
};

class DataPlane {
 public:
  virtual ~DataPlane() = default;

  // Makes front_port an access/trunk port: frames arriving untagged go to `pvid`; the port sends
  // `untagged` VLANs without a tag and `tagged` VLANs with one (ascending, disjoint). Called for
  // every port at start-up and for each port a committed SET changed. Idempotent. On failure the
  // port must be left as it was, as far as the implementation can manage; the agent then answers
  // commitFailed (or undoFailed if restoring the other ports fails too).
  virtual Result<void> apply_port(int front_port, int pvid, std::vector<int> untagged,
                                  std::vector<int> tagged) = 0;

  // Switches PoE on front_port on or off (power-cycles a Pi when called off then on). Called at
  // start-up and whenever pethPsePortAdminEnable / cpeExtPsePortEnable changes. Idempotent.
  virtual Result<void> set_power(int front_port, bool on) = 0;

  // The forwarding database as the switch would report it now (dot1dTpFdbTable,
  // dot1qTpFdbTable). May be called often (every few hundred ms while a client walks); keep cheap.
  virtual std::vector<FdbEntry> learned() = 0;
};

// What a data plane factory gets: the switch size, the knobs (port MACs, devices) and free-form
// options from `--dataplane-option KEY=VALUE` on the command line.
struct DataPlaneOptions {
  int port_count = 0;
  Knobs knobs;
  std::map<std::string, std::string> options;
};

using DataPlaneFactory =
    std::function<Result<std::unique_ptr<DataPlane>>(const DataPlaneOptions& options)>;

// Named factories; `--dataplane NAME` picks one. switchsim_main() receives the registry, so a
// lab executable can add its own ("vde") and reuse the whole agent.
class DataPlaneRegistry {
 public:
  void add(std::string name, DataPlaneFactory factory);
  [[nodiscard]] Result<std::unique_ptr<DataPlane>> make(const std::string& name,
                                                        const DataPlaneOptions& options) const;
  [[nodiscard]] std::vector<std::string> names() const;

 private:
  std::map<std::string, DataPlaneFactory> m_factories;
};

// The registry with the built-in "memory" data plane.
DataPlaneRegistry default_dataplanes();

// Remembers what it was told. learned(): each port whose knobs give a MAC has that MAC learned on
// its current PVID, whether or not the port is powered (a real switch would age it out later).
class InMemoryDataPlane : public DataPlane {
 public:
  struct PortRecord {
    int pvid = 0;
    std::vector<int> untagged;
    std::vector<int> tagged;
    bool powered = false;
    int power_changes = 0;
    std::chrono::steady_clock::time_point powered_since{};
  };

  explicit InMemoryDataPlane(DataPlaneOptions options);
  Result<void> apply_port(int front_port, int pvid, std::vector<int> untagged,
                          std::vector<int> tagged) override;
  Result<void> set_power(int front_port, bool on) override;
  std::vector<FdbEntry> learned() override;

  [[nodiscard]] const std::map<int, PortRecord>& ports() const { return m_ports; }

 private:
  DataPlaneOptions m_options;
  std::map<int, PortRecord> m_ports;
};

}  // namespace picluster::switchsim
