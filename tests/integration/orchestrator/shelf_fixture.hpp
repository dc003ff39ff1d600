#pragma once
// TestShelf: a whole shelf for the real `picluster` binary to act on, all on this machine.
//
//   switch      picluster-switchsim on a free 127.0.0.1 UDP port, each Pi port with a device and
//               the MAC the test's Pi will have (knobs file), state kept in a file so a restart
//               keeps the VLANs;
//   fileserver  this machine under <dir>/fileserver (root_prefix), reached either directly
//               (transport local) or through a real sshd on a free 127.0.0.1 port with throwaway
//               keys and a pinned known_hosts (transport ssh);
//   inventory   <dir>/inventory.json + switch-secrets.json, as an operator would have them.
//
// The destructor stops the simulator and sshd and removes the folder.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/process.hpp"

namespace picluster::orchestrator::it {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::RunResult;

enum class Transport { local, ssh };

inline std::string transport_name(Transport t) { return t == Transport::local ? "local" : "ssh"; }

inline std::string pi_name(int i) { return (i < 10 ? "pi0" : "pi") + std::to_string(i); }
inline std::string pi_mac(int i) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "b8:27:eb:00:%02x:%02x", (i / 256) & 0xff, i % 256);
  return buf;
}

// OIDs the tests read and write with net-snmp's command-line tools (Q-BRIDGE-MIB).
inline std::string pvid_oid(int port) { return ".1.3.6.1.2.1.17.7.1.4.5.1.1." + std::to_string(port); }
inline std::string vlan_row_oid(int vlan) { return ".1.3.6.1.2.1.17.7.1.4.3.1.5." + std::to_string(vlan); }

class TestShelf {
 public:
  static constexpr const char* kCommunity = "orchtest-rw";

  explicit TestShelf(Transport transport, int ports = 24, const testing::LoopbackSshdOptions& sshd = {})
      : m_dir("orchtest"), m_transport(transport), m_ports(ports) {
    make_fileserver_tree();
    write_knobs();
    m_snmp_port = testing::free_udp_port();
    if (!start_switch()) return;
    if (transport == Transport::ssh) {
      m_sshd = std::make_unique<testing::LoopbackSshd>(m_dir.path() / "sshd", sshd);
      if (!m_sshd->ready()) {
        m_why_not = m_sshd->why_not();
        return;
      }
    }
    write_inventory();
  }

  [[nodiscard]] bool ready() const { return m_why_not.empty(); }
  [[nodiscard]] const std::string& why_not() const { return m_why_not; }
  [[nodiscard]] const fs::path& dir() const { return m_dir.path(); }
  [[nodiscard]] int sshd_channels() const { return m_sshd ? m_sshd->channels_opened() : 0; }
  [[nodiscard]] fs::path prefix() const { return dir() / "fileserver"; }
  [[nodiscard]] fs::path inventory_path() const { return dir() / "inventory.json"; }
  [[nodiscard]] fs::path root(const std::string& pi) const { return prefix() / "srv/nfsroot" / pi; }
  [[nodiscard]] fs::path exports_file() const { return prefix() / "etc/exports.d/picluster.exports"; }
  [[nodiscard]] fs::path interfaces_file() const { return prefix() / "etc/network/interfaces.d/picluster"; }
  [[nodiscard]] fs::path journal_file() const { return dir() / ".picluster/journal.jsonl"; }
  [[nodiscard]] int snmp_port() const { return m_snmp_port; }
  [[nodiscard]] std::string switch_address() const { return "127.0.0.1:" + std::to_string(m_snmp_port); }

  // `picluster --inventory <inventory.json> ARGS...` with the state folder pinned beside it
  // (whatever PICLUSTER_STATE_DIR the test itself runs with).
  [[nodiscard]] std::vector<std::string> pic_argv(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"env", "PICLUSTER_STATE_DIR=" + (dir() / ".picluster").string(),
                                  testing::picluster_exe().string(), "--inventory", inventory_path().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  [[nodiscard]] RunResult pic(const std::vector<std::string>& args, int timeout_seconds = 300) const {
    testing::RunOptions o;
    o.timeout_seconds = timeout_seconds;
    return testing::run(pic_argv(args), o);
  }
  // Same, expecting exit 0 and JSON on stdout; returns null (and fails the test) otherwise.
  json pic_json(const std::vector<std::string>& args) const {
    const auto r = pic(args);
    EXPECT_EQ(r.status, 0) << describe(args, r);
    const auto j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << describe(args, r);
    return r.status == 0 && !j.is_discarded() ? j : json();
  }
  static std::string describe(const std::vector<std::string>& args, const RunResult& r) {
    std::string line = "picluster";
    for (const auto& a : args) line += " " + a;
    return line + " -> exit " + std::to_string(r.status) + "\nstdout: " + r.out + "\nstderr: " + r.err;
  }
  // Sets one field of the inventory's fileserver object, as an operator would edit it
  // (set_fileserver("ssh_persist_seconds", 0): every verb connects on its own).
  void set_fileserver(const std::string& field, const json& value) const {
    json inv = json::parse(testing::read_file(inventory_path()));
    inv["shelves"][0]["fileserver"][field] = value;
    testing::write_file(inventory_path(), inv.dump(2) + "\n");
  }
  // `add NAME --port N --mac M` for Pi number i (on port i).
  [[nodiscard]] RunResult add(int i, const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args{"add", pi_name(i), "--port", std::to_string(i), "--mac", pi_mac(i)};
    args.insert(args.end(), extra.begin(), extra.end());
    return pic(args);
  }

  // net-snmp's snmpget/snmpset against the simulator: "-Oqv" prints the value alone.
  [[nodiscard]] RunResult snmpget(const std::string& oid) const {
    return testing::run({"snmpget", "-v2c", "-c", kCommunity, "-Oqv", "-t", "2", "-r", "1", switch_address(), oid});
  }
  [[nodiscard]] RunResult snmpset(const std::string& oid, const std::string& type, const std::string& value) const {
    return testing::run({"snmpset", "-v2c", "-c", kCommunity, "-Oqv", "-t", "2", "-r", "1", switch_address(), oid,
                         type, value});
  }

  // Starts the simulator on the shelf's port, with the state it had (a fresh log per start).
  bool start_switch() {
    const fs::path log = dir() / ("switchsim-" + std::to_string(++m_starts) + ".log");
    m_sim = testing::Daemon::start({testing::switchsim_exe().string(), "--listen",
                                    "udp:127.0.0.1:" + std::to_string(m_snmp_port), "--ports",
                                    std::to_string(m_ports), "--state", (dir() / "switchsim-state.json").string(),
                                    "--config", (dir() / "switchsim-knobs.json").string(), "--community",
                                    kCommunity},
                                   log);
    const bool up = m_sim && testing::wait_until(
                                 [&] { return testing::read_file(log).find("ready ") != std::string::npos; },
                                 std::chrono::seconds(20));
    if (!up) m_why_not = "picluster-switchsim did not become ready: " + testing::read_file(log);
    return up;
  }
  void stop_switch() { m_sim.reset(); }

 private:
  void make_fileserver_tree() const {
    // What the fileserver role prepares on a real one, and a small golden image.
    fs::create_directories(prefix() / "srv/nfsroot");
    fs::create_directories(prefix() / "srv/tftp");
    const fs::path golden = prefix() / "srv/golden/raspios";
    testing::write_file(golden / "etc/hostname", "raspberrypi\n");
    testing::write_file(golden / "etc/hosts", "127.0.0.1 localhost\n127.0.1.1 raspberrypi\n");
    testing::write_file(golden / "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
    testing::write_file(golden / "etc/ssh/ssh_host_ed25519_key", "golden key: must never reach a Pi\n");
    for (int i = 0; i < 40; ++i) {
      testing::write_file(golden / "usr/share/doc" / ("f" + std::to_string(i)), std::string(4096, 'x'));
    }
  }
  void write_knobs() const {
    json ports = json::object();
    for (int p = 1; p < m_ports; ++p) ports[std::to_string(p)] = {{"device", true}, {"mac", pi_mac(p)}};
    ports[std::to_string(m_ports)] = {{"device", true}, {"external_power", true}};  // the fileserver's trunk
    testing::write_file(dir() / "switchsim-knobs.json", json{{"ports", ports}}.dump(2) + "\n");
  }
  void write_inventory() {
    auto inv = inventory::make_default("orchtest");
    auto& shelf = inv.shelves.front();
    shelf.switch_.host = "127.0.0.1";
    shelf.switch_.snmp_port = m_snmp_port;
    shelf.switch_.secrets_file = "switch-secrets.json";
    shelf.switch_.port_count = m_ports;
    shelf.switch_.poe_off_seconds = 1;
    shelf.switch_.timeout_ms = 500;
    shelf.switch_.retries = 1;
    shelf.fileserver.trunk_port = m_ports;
    shelf.fileserver.root_prefix = prefix().string();
    // The Pis' public addresses (the seed's prefix) are on no network of this test: status and
    // watch must never send a probe there, so the shelf probes nothing unless a test says so.
    shelf.extra["watch"] = json{{"probe", "none"}};
    if (m_transport == Transport::local) {
      shelf.fileserver.transport = inventory::Transport::local;
      shelf.fileserver.host = "localhost";
    } else {
      shelf.fileserver.transport = inventory::Transport::ssh;
      shelf.fileserver.host = "127.0.0.1";
      shelf.fileserver.ssh_port = m_sshd->port();
      shelf.fileserver.user = "root";
      shelf.fileserver.identity_file = m_sshd->identity_file().string();
      shelf.fileserver.known_hosts = m_sshd->known_hosts().string();
    }
    if (auto ok = inventory::save(inv, inventory_path()); !ok) {
      m_why_not = "cannot write the inventory: " + ok.error().message;
      return;
    }
    testing::write_file(dir() / "switch-secrets.json", std::string("{\"community\": \"") + kCommunity + "\"}\n");
    fs::permissions(dir() / "switch-secrets.json", fs::perms(0600));
  }

  testing::TempDir m_dir;
  Transport m_transport;
  int m_ports;
  int m_snmp_port = 0;
  int m_starts = 0;
  std::string m_why_not;
  std::unique_ptr<testing::Daemon> m_sim;
  std::unique_ptr<testing::LoopbackSshd> m_sshd;
};

}  // namespace picluster::orchestrator::it
