#pragma once
// The inventory: one JSON file describing one or more shelves (a PoE switch, a fileserver and the
// Pis plugged into the switch). It is the desired state that every other component renders or
// reconciles against.
//
// Allocation is stored, not derived: `add_pi` picks the Pi's storage VLAN, its /30 and its public
// IPv6 address once and writes them into the file, so they never move when other Pis come and go.
// The default scheme reproduces the seed design: port N gets VLAN (vlan_first + N - 1), the N-th
// /30 of the pool and interface id address_base + (N - 1) * address_stride. If that slot is taken
// (a Pi moved ports) or forbidden (the public VLAN), the fallback is the lowest free slot that is
// no other port's natural slot (past the switch's ports, or the trunk port's), so one odd Pi never
// pushes later Pis off the scheme; only when none is left does it take another port's slot.
//
// Unknown JSON members are kept in `extra` at every level and written back after the known ones,
// so fields added by operators or newer versions survive a rewrite.

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "inventory/net.hpp"

namespace picluster::inventory {

using Json = nlohmann::ordered_json;

enum class PiModel { pi3, pi3bplus, pi4, pi5 };
enum class BootMode { sdcard, netboot };
enum class CloneMethod { automatic, btrfs_snapshot, reflink, rsync };
enum class SnmpVersion { v2c, v3 };
enum class NetConfigStyle { ifupdown, networkd };
enum class Transport { ssh, local };  // local: the fileserver is this machine (example shelf)

// String forms as they appear in the file: "pi3", "pi3b+", "pi4", "pi5"; "sdcard", "netboot";
// "auto", "btrfs-snapshot", "reflink", "rsync"; "v2c", "v3"; "ifupdown", "networkd"; "ssh", "local".
std::string_view to_string(PiModel v);
std::string_view to_string(BootMode v);
std::string_view to_string(CloneMethod v);
std::string_view to_string(SnmpVersion v);
std::string_view to_string(NetConfigStyle v);
std::string_view to_string(Transport v);
std::optional<PiModel> parse_pi_model(std::string_view s);
std::optional<BootMode> parse_boot_mode(std::string_view s);
std::optional<CloneMethod> parse_clone_method(std::string_view s);
std::optional<SnmpVersion> parse_snmp_version(std::string_view s);
std::optional<NetConfigStyle> parse_net_config_style(std::string_view s);
std::optional<Transport> parse_transport(std::string_view s);

// fileserver.ssh_persist_seconds when the inventory does not say (Ansible's ControlPersist).
inline constexpr int kDefaultSshPersistSeconds = 60;
inline constexpr std::string_view kDefaultDnsmasqLog = "/var/log/picluster-dnsmasq.log";
inline constexpr std::string_view kDefaultCmdlineBase =
    "dwc_otg.lpm_enable=0 console=ttyAMA0,115200 console=tty1 root=/dev/nfs rootfstype=nfs "
    "elevator=deadline rootwait";

struct Fileserver {
  Transport transport = Transport::ssh;
  std::string host;                 // SSH endpoint (name or address); "" = not configured yet
  int ssh_port = 22;
  std::string user = "root";
  std::string identity_file;        // private key; empty = ssh-agent / default keys
  std::string known_hosts;          // empty = ~/.ssh/known_hosts
  // > 0: reuse one SSH connection (and its remote helper) across verbs for this many seconds
  // after the last one (nfsroot/ssh_master.hpp); 0 = connect once per verb. Unset (absent from
  // the file, and kept absent by a rewrite) = kDefaultSshPersistSeconds: see ssh_persist_of.
  std::optional<int> ssh_persist_seconds;
  std::string trunk_interface = "eth0";
  int trunk_port = 24;              // the switch port the trunk is plugged into
  // trunk_port given as the switch's interface name ("te1/0/1": a module or uplink port that is
  // kept out of the front-panel numbering); trunk_port is then switch.port_count + 1, a number no
  // Pi can have, and the switch controller maps it to the interface of that name. "" = a number.
  std::string trunk_port_name;
  std::string nfs_root = "/srv/nfsroot";
  std::string golden_image = "/srv/golden/raspios";
  CloneMethod clone_method = CloneMethod::automatic;
  std::string tftp_root = "/srv/tftp";
  std::string root_prefix;          // every fileserver path is taken under this folder ("" = /)
  NetConfigStyle net_config = NetConfigStyle::ifupdown;
  // Where `picluster image` keeps its images (NAME/N/root); "" = "images" beside nfs_root.
  std::string image_store;
  Json extra = Json::object();
};

// Front-panel port numbering overrides for vendors whose tables number oddly. Any unset field is
// read from the switch.
struct PortMapOverride {
  std::optional<int> bridge_port;
  std::optional<int> if_index;
  std::optional<int> poe_group;
  std::optional<int> poe_port;
  Json extra = Json::object();
};

struct Switch {
  std::string host;                 // SNMP endpoint (name or address); "" = not configured yet
  int snmp_port = 161;
  SnmpVersion version = SnmpVersion::v2c;
  std::string secrets_file;         // JSON file with community or v3 credentials; never inline
  std::string profile = "qbridge";  // vendor profile: "qbridge" or "cisco"
  int port_count = 24;
  int timeout_ms = 1000;
  int retries = 3;
  int poe_off_seconds = 5;          // how long a power cycle keeps the port off
  std::map<int, PortMapOverride> port_map;  // front-panel port -> overrides
  Json extra = Json::object();
};

struct StorageNet {
  Ipv4Net pool = *Ipv4Net::parse("172.30.0.0/20");  // carved into /30s
  int vlan_first = 10;
  int vlan_last = 1009;
  Json extra = Json::object();
};

struct PublicNet {
  int vlan = 131;
  Ipv6Net prefix = *Ipv6Net::parse("2a00:1098:0:84::/64");
  Ipv6 gateway = *Ipv6::parse("2a00:1098:0:84::1");
  Ipv6 address_base = *Ipv6::parse("::1000:1:0:2");  // interface id of the Pi on port 1
  Ipv6 address_stride = *Ipv6::parse("::1:0:0");     // added once per slot
  std::optional<Ipv6> fileserver_address;            // the fileserver's own address on the VLAN
  Json extra = Json::object();
};

// One model's boot settings ("boot": {"models": {"pi4": {...}}}). Each field left unset keeps
// the model's default (bootcfg derives it from the shelf's cmdline_base; see bootcfg.hpp).
struct ModelBoot {
  std::optional<std::string> cmdline_base;             // the whole base line for this model
  std::optional<std::vector<std::string>> config_txt;  // config.txt settings, one line each
  Json extra = Json::object();
};

struct Boot {
  BootMode mode = BootMode::sdcard;
  std::string cmdline_base{kDefaultCmdlineBase};
  std::string nfs_options = "vers=3,tcp";
  std::map<PiModel, ModelBoot> models;  // per-model overrides; written only when not empty
  // dnsmasq's log on the fileserver (rendered as log-facility, with log-dhcp): where zero-touch
  // enrollment and discover read the Pis' boot requests. Written only when not the default.
  std::string dnsmasq_log{kDefaultDnsmasqLog};
  Json extra = Json::object();
};

// A Pi's /30 on its storage VLAN.
struct StorageAddresses {
  Ipv4 network;
  Ipv4 fileserver;  // network + 1: the fileserver's eth0.N address
  Ipv4 pi;          // network + 2
  Ipv4 broadcast;   // network + 3
  Json extra = Json::object();
};

struct Pi {
  std::string name;
  int port = 0;
  PiModel model = PiModel::pi3;
  std::optional<std::string> serial;  // 8 hex digits, lower case (netboot TFTP folder name)
  std::optional<Mac> mac;
  int vlan = 0;                       // allocated storage VLAN
  StorageAddresses storage;           // allocated /30
  Ipv6 ipv6;                          // allocated public address
  std::optional<std::string> image;   // "NAME" (latest version) or "NAME@N"; unset = the shelf's
  Json extra = Json::object();
};

struct Shelf {
  std::string name = "shelf1";
  Fileserver fileserver;
  Switch switch_;  // "switch" in the file
  StorageNet storage;
  PublicNet public_net;  // "public" in the file
  Boot boot;
  std::vector<Pi> pis;
  std::string image;  // default image of the shelf's Pis, "NAME" or "NAME@N"; "" = golden_image
  Json extra = Json::object();

  [[nodiscard]] const Pi* find_pi(std::string_view name) const;
  [[nodiscard]] Pi* find_pi(std::string_view name);
  [[nodiscard]] const Pi* pi_on_port(int port) const;
};

struct Inventory {
  int version = 1;
  std::vector<Shelf> shelves;
  Json extra = Json::object();
  std::filesystem::path source;  // where it was loaded from (for messages); not serialised

  [[nodiscard]] const Shelf* find_shelf(std::string_view name) const;
  [[nodiscard]] Shelf* find_shelf(std::string_view name);
  // The shelf that holds a Pi of that name, or nullptr.
  [[nodiscard]] const Shelf* shelf_of(std::string_view pi_name) const;
};

// An image reference as the inventory and `picluster image` take it: "NAME" (the latest version)
// or "NAME@N" (version N >= 1). NAME: 1-63 of [a-z0-9._-], starting with a letter or digit.
struct ImageRef {
  std::string name;
  std::optional<int> version;
  [[nodiscard]] std::string str() const;
};
std::optional<ImageRef> parse_image_ref(std::string_view text);
// The image a Pi's root is cloned from: its own `image`, else the shelf's; "" = golden_image.
std::string image_of(const Shelf& shelf, const Pi& pi);
// The image store folder of a fileserver: image_store, or "<parent of nfs_root>/images".
std::string image_store_of(const Fileserver& fileserver);
// Seconds an SSH connection is kept for the next verb: ssh_persist_seconds, else the default.
int ssh_persist_of(const Fileserver& fileserver);

// --- reading and writing -------------------------------------------------------------------

// Parses and validates. Syntax errors read "<source>:<line>:<col>: <what>"; other errors name the
// shelf, the Pi and the field: "<source>: shelf 'a': pi 'pi09': port: 24 is the trunk port".
Result<Inventory> parse(std::string_view text, const std::filesystem::path& source);
Result<Inventory> load(const std::filesystem::path& path);

// Stable output: 2-space indent, fixed key order for known fields, unknown fields after them,
// trailing newline. parse(serialize(x)) == x.
std::string serialize(const Inventory& inventory);

// One Pi as it appears in the file (for --json output).
Json to_json(const Pi& pi);

// The file an inventory path names: a symlink (or a chain of them) is followed to its target, so
// that writes replace the real file (the link stays a link) and the lock "<file>.lock" and the
// state folder are the real file's, whichever path a run was given. Called once per run; a path
// that is not a symlink is returned as is.
std::filesystem::path resolve_path(const std::filesystem::path& path);

// Writes atomically: temp file in the same folder, fsync, rename, fsync of the folder.
Result<void> save(const Inventory& inventory, const std::filesystem::path& path);

// Checks every rule (names, uniqueness, ranges, pool membership) and returns the first problem.
Result<void> validate(const Inventory& inventory);

// An exclusive advisory lock on "<inventory>.lock" (flock), held for the object's lifetime.
class Lock {
 public:
  // wait=false fails at once with ErrorCode::locked if another process holds it. Unless
  // `inventory_may_be_missing` (init), a missing inventory fails with ErrorCode::not_found before
  // any lock file is created, so a mistyped --inventory leaves nothing behind.
  static Result<Lock> acquire(const std::filesystem::path& inventory_path, bool wait,
                              bool inventory_may_be_missing = false);
  Lock(Lock&& other) noexcept;
  Lock& operator=(Lock&& other) noexcept;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  ~Lock();

 private:
  explicit Lock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

// --- allocation ----------------------------------------------------------------------------

struct PiRequest {
  std::string name;
  int port = 0;
  PiModel model = PiModel::pi3;
  std::optional<std::string> serial;
  std::optional<Mac> mac;
};

// Allocates VLAN, /30 and IPv6 for a new Pi and appends it to the shelf. Fails (changing nothing)
// on an invalid or duplicate name/port/serial/MAC or an exhausted pool or VLAN range.
Result<Pi> add_pi(Shelf& shelf, const PiRequest& request);
Result<Pi> remove_pi(Shelf& shelf, std::string_view name);

// A new inventory with one shelf and the seed's defaults.
Inventory make_default(std::string shelf_name = "shelf1");

}  // namespace picluster::inventory
