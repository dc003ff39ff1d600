#include "inventory/inventory.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace picluster::inventory {
namespace {

template <typename E, std::size_t N>
std::string_view name_of(E value, const std::array<std::pair<E, std::string_view>, N>& table) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}

template <typename E, std::size_t N>
std::optional<E> value_of(std::string_view name,
                          const std::array<std::pair<E, std::string_view>, N>& table) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

constexpr std::array kPiModels{std::pair{PiModel::pi3, std::string_view{"pi3"}},
                               std::pair{PiModel::pi3bplus, std::string_view{"pi3b+"}},
                               std::pair{PiModel::pi4, std::string_view{"pi4"}},
                               std::pair{PiModel::pi5, std::string_view{"pi5"}}};
constexpr std::array kBootModes{std::pair{BootMode::sdcard, std::string_view{"sdcard"}},
                                std::pair{BootMode::netboot, std::string_view{"netboot"}}};
constexpr std::array kCloneMethods{
    std::pair{CloneMethod::automatic, std::string_view{"auto"}},
    std::pair{CloneMethod::btrfs_snapshot, std::string_view{"btrfs-snapshot"}},
    std::pair{CloneMethod::reflink, std::string_view{"reflink"}},
    std::pair{CloneMethod::rsync, std::string_view{"rsync"}}};
constexpr std::array kSnmpVersions{std::pair{SnmpVersion::v2c, std::string_view{"v2c"}},
                                   std::pair{SnmpVersion::v3, std::string_view{"v3"}}};
constexpr std::array kNetConfigStyles{
    std::pair{NetConfigStyle::ifupdown, std::string_view{"ifupdown"}},
    std::pair{NetConfigStyle::networkd, std::string_view{"networkd"}}};
constexpr std::array kTransports{std::pair{Transport::ssh, std::string_view{"ssh"}},
                                 std::pair{Transport::local, std::string_view{"local"}}};

}  // namespace

std::string_view to_string(PiModel v) { return name_of(v, kPiModels); }
std::string_view to_string(BootMode v) { return name_of(v, kBootModes); }
std::string_view to_string(CloneMethod v) { return name_of(v, kCloneMethods); }
std::string_view to_string(SnmpVersion v) { return name_of(v, kSnmpVersions); }
std::string_view to_string(NetConfigStyle v) { return name_of(v, kNetConfigStyles); }
std::string_view to_string(Transport v) { return name_of(v, kTransports); }

std::optional<PiModel> parse_pi_model(std::string_view s) { return value_of(s, kPiModels); }
std::optional<BootMode> parse_boot_mode(std::string_view s) { return value_of(s, kBootModes); }
std::optional<CloneMethod> parse_clone_method(std::string_view s) {
  return value_of(s, kCloneMethods);
}
std::optional<SnmpVersion> parse_snmp_version(std::string_view s) {
  return value_of(s, kSnmpVersions);
}
std::optional<NetConfigStyle> parse_net_config_style(std::string_view s) {
  return value_of(s, kNetConfigStyles);
}
std::optional<Transport> parse_transport(std::string_view s) { return value_of(s, kTransports); }

const Pi* Shelf::find_pi(std::string_view pi_name) const {
  const auto it = std::ranges::find(pis, pi_name, &Pi::name);
  return it == pis.end() ? nullptr : &*it;
}

Pi* Shelf::find_pi(std::string_view pi_name) {
  const auto it = std::ranges::find(pis, pi_name, &Pi::name);
  return it == pis.end() ? nullptr : &*it;
}

const Pi* Shelf::pi_on_port(int port) const {
  const auto it = std::ranges::find(pis, port, &Pi::port);
  return it == pis.end() ? nullptr : &*it;
}

const Shelf* Inventory::find_shelf(std::string_view shelf_name) const {
  const auto it = std::ranges::find(shelves, shelf_name, &Shelf::name);
  return it == shelves.end() ? nullptr : &*it;
}

Shelf* Inventory::find_shelf(std::string_view shelf_name) {
  const auto it = std::ranges::find(shelves, shelf_name, &Shelf::name);
  return it == shelves.end() ? nullptr : &*it;
}

const Shelf* Inventory::shelf_of(std::string_view pi_name) const {
  for (const auto& shelf : shelves) {
    if (shelf.find_pi(pi_name) != nullptr) return &shelf;
  }
  return nullptr;
}

Inventory make_default(std::string shelf_name) {
  Inventory inventory;
  Shelf shelf;
  shelf.name = std::move(shelf_name);
  shelf.switch_.secrets_file = "switch-secrets.json";
  inventory.shelves.push_back(std::move(shelf));
  return inventory;
}

std::string ImageRef::str() const {
  return version ? name + "@" + std::to_string(*version) : name;
}

std::optional<ImageRef> parse_image_ref(std::string_view text) {
  const auto at = text.find('@');
  const std::string_view name = text.substr(0, at);
  if (name.empty() || name.size() > 63) return std::nullopt;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return std::nullopt;
  }
  ImageRef ref{std::string(name), std::nullopt};
  if (at == std::string_view::npos) return ref;
  const std::string_view digits = text.substr(at + 1);
  if (digits.empty() || digits.size() > 6 || digits.front() == '0') return std::nullopt;
  int n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  ref.version = n;
  return ref;
}

std::string image_of(const Shelf& shelf, const Pi& pi) { return pi.image ? *pi.image : shelf.image; }

int ssh_persist_of(const Fileserver& fileserver) {
  return fileserver.ssh_persist_seconds.value_or(kDefaultSshPersistSeconds);
}

std::string image_store_of(const Fileserver& fileserver) {
  if (!fileserver.image_store.empty()) return fileserver.image_store;
  std::string root = fileserver.nfs_root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  const auto slash = root.rfind('/');
  return (slash == 0 || slash == std::string::npos ? std::string() : root.substr(0, slash)) + "/images";
}

}  // namespace picluster::inventory
