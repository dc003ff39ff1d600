#pragma once
// vde_switch as the lab's 802.1Q data plane, driven over its management UNIX socket.
//
// How the socket talks: on connect the switch prints a banner ending with the prompt "vde$ ".
// Each command is one line; the reply is optional data, then one status line "NNNN Text", then
// an empty line and the prompt again. Status 1000 is success; any other is 1000 + errno (1006 =
// no such port, 1098 = VLAN still in use). Data replies start with "0000 DATA END WITH '.'" and
// end with a line holding a single ".".
//
// VLAN model of vde_switch: every port has exactly one untagged VLAN (its PVID; 0 by default) set
// with port/setvlan, and any number of tagged VLANs added with vlan/addport. A port must exist
// (port/create) before it can be put in a VLAN, so VdeSwitch::start pre-creates all ports.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace picluster::lab {

struct MgmtReply {
  int status = 0;                  // 1000 = success
  std::string status_text;         // "Success", "No such device or address"
  std::vector<std::string> data;   // lines of a data block, without the framing
  [[nodiscard]] bool ok() const { return status == 1000; }
};

struct VlanMember {
  int port = 0;
  bool tagged = false;
  bool operator==(const VlanMember&) const = default;
};

struct VlanInfo {
  int vlan = 0;
  std::vector<VlanMember> members;  // in the switch's order (ascending port)
};

struct FdbEntry {
  std::string mac;  // lower case "52:54:00:12:34:56"
  int vlan = 0;
  int port = 0;
  int age_seconds = 0;
};

// --- pure parsers (unit-tested) -----------------------------------------------------------

// Parses one reply: everything the switch sent after the command, up to (not including) the
// prompt. An error if no status line is found.
Result<MgmtReply> parse_reply(std::string_view raw);

// `vlan/allprint` data lines: "VLAN 0010" then " -- Port 0001 tagged=0 active=1 status=...".
std::vector<VlanInfo> parse_vlan_allprint(const std::vector<std::string>& data);

// `hash/print` data lines: "Hash: 0012 Addr: 52:54:00:12:34:56 VLAN 0010 to port: 001  age 3 secs".
std::vector<FdbEntry> parse_hash_print(const std::vector<std::string>& data);

// True for a MAC written as six two-digit hex octets separated by ':'.
bool is_mac(std::string_view text);

// --- the management connection ------------------------------------------------------------

// One connection to the management socket. Not thread-safe; one command at a time.
class VdeMgmt {
 public:
  // Connects and reads the banner; fails after `timeout_ms`.
  static Result<VdeMgmt> connect(const std::filesystem::path& socket_path, int timeout_ms = 5000);
  VdeMgmt(VdeMgmt&& other) noexcept;
  VdeMgmt& operator=(VdeMgmt&& other) noexcept;
  VdeMgmt(const VdeMgmt&) = delete;
  VdeMgmt& operator=(const VdeMgmt&) = delete;
  ~VdeMgmt();

  // Sends one command line (must not contain a newline) and returns the parsed reply, whatever
  // its status. Errors are transport errors only.
  Result<MgmtReply> command(std::string_view line);

 private:
  explicit VdeMgmt(int fd, std::string path) : m_fd(fd), m_path(std::move(path)) {}
  Result<std::string> read_until_prompt();
  int m_fd = -1;
  std::string m_path;
  int m_timeout_ms = 5000;
};

struct VdeSwitchPaths {
  std::filesystem::path ctl_dir;      // -s: data sockets (QEMU's -netdev vde,sock=...)
  std::filesystem::path mgmt_socket;  // -M
  std::filesystem::path pidfile;      // -p
};

// Typed operations on a running vde_switch. Every failure names the command and the switch's
// own status text: "vde_switch: port/setvlan 5 10: No such device or address (1006)".
class VdeSwitch {
 public:
  // Starts `vde_switch -d` with `ports` ports, waits for the management socket, and creates
  // ports 1..ports. Fails if a switch is already running on those paths.
  static Result<VdeSwitch> start(const VdeSwitchPaths& paths, int ports);
  // Connects to a switch started earlier (e.g. by `lab up`, from another process).
  static Result<VdeSwitch> attach(const VdeSwitchPaths& paths);

  [[nodiscard]] std::optional<int> pid() const;
  // Asks the switch to shut down, then makes sure the recorded PID is gone.
  Result<void> stop();

  Result<void> create_port(int port);
  Result<void> create_vlan(int vlan);         // succeeds if it already exists
  Result<void> remove_vlan(int vlan);         // fails while ports remain in it
  Result<void> set_untagged(int port, int vlan);  // the port's PVID; vlan 0 = default
  Result<void> add_tagged(int vlan, int port);    // succeeds if already a member
  Result<void> remove_tagged(int vlan, int port); // succeeds if not a member
  Result<std::vector<VlanInfo>> vlans();
  Result<std::vector<FdbEntry>> fdb();
  // The port that learned `mac` (any VLAN), or nullopt if the switch has not seen it.
  Result<std::optional<FdbEntry>> find_mac(std::string_view mac);

  // Sends a raw command and returns the reply; an error if the status is not 1000.
  Result<MgmtReply> checked(const std::string& line);

 private:
  VdeSwitch(VdeSwitchPaths paths, VdeMgmt mgmt) : m_paths(std::move(paths)), m_mgmt(std::move(mgmt)) {}
  VdeSwitchPaths m_paths;
  VdeMgmt m_mgmt;
};

}  // namespace picluster::lab
