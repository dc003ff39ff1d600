// Allocation of a new Pi's storage VLAN, /30 and public IPv6 address. Each resource has a
// preferred slot derived from the port (the seed's scheme: port N -> VLAN vlan_first + N - 1,
// the N-th /30, the N-th IPv6 slot). When that one is taken or forbidden, the fallback avoids the
// natural slots of the switch's other ports (see pick_slot), so later Pis stay on the scheme. The
// result is written into the inventory, so it never moves afterwards.

#include <algorithm>
#include <set>

#include "common/text.hpp"
#include "inventory/inventory.hpp"
#include "inventory/vlans.hpp"

namespace picluster::inventory {
namespace {

Error alloc_error(const Shelf& shelf, const std::string& pi, const std::string& what) {
  return Error{ErrorCode::invalid_inventory,
               "shelf " + printable(shelf.name) + ": pi " + printable(pi) + ": " + what};
}

// Which slots belong to the switch's ports: slot N-1 is port N's natural slot.
struct PortSlots {
  std::uint64_t port_count;  // slots [0, port_count) are natural to a port
  std::uint64_t trunk_slot;  // the trunk port's slot: never wanted by a Pi
};

// Picks a slot in [0, count): the preferred one if free; else the lowest free slot that is no
// other Pi port's natural slot (past the switch's ports or the trunk's), so a fallback never
// takes the slot a later Pi on another port expects; else the lowest free slot at all.
// nullopt when every slot is used or forbidden.
std::optional<std::uint64_t> pick_slot(std::uint64_t preferred, std::uint64_t count,
                                       const PortSlots& ports, const std::set<std::uint64_t>& used,
                                       const std::set<std::uint64_t>& forbidden = {}) {
  const auto free = [&](std::uint64_t s) { return !used.contains(s) && !forbidden.contains(s); };
  if (preferred < count && free(preferred)) return preferred;
  for (std::uint64_t s = ports.port_count; s < count; ++s) {
    if (free(s)) return s;
  }
  if (ports.trunk_slot < count && free(ports.trunk_slot)) return ports.trunk_slot;
  for (std::uint64_t s = 0; s < count; ++s) {
    if (free(s)) return s;
  }
  return std::nullopt;
}

__extension__ using U128 = unsigned __int128;

U128 to_u128(const Ipv6& ip) {
  U128 v = 0;
  for (auto b : ip.bytes) v = (v << 8) | b;
  return v;
}

Ipv6 from_u128(U128 v) {
  Ipv6 out;
  for (int i = 15; i >= 0; --i) {
    out.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xff);
    v >>= 8;
  }
  return out;
}

U128 host_mask(const Ipv6Net& prefix) {
  return prefix.prefix >= 128 ? U128{0} : (~U128{0}) >> prefix.prefix;
}

// The address of IPv6 slot `slot`: the prefix with interface id base + slot * stride.
Ipv6 slot_address(const PublicNet& pub, std::uint64_t slot) {
  const U128 mask = host_mask(pub.prefix);
  const U128 id = (to_u128(pub.address_base) + to_u128(pub.address_stride) * slot) & mask;
  return from_u128((to_u128(pub.prefix.address) & ~mask) | id);
}

// The slot an address occupies, if it is one of the scheme's addresses.
std::optional<std::uint64_t> slot_of(const PublicNet& pub, const Ipv6& address) {
  const U128 mask = host_mask(pub.prefix);
  const U128 base = to_u128(pub.address_base) & mask;
  const U128 id = to_u128(address) & mask;
  const U128 stride = to_u128(pub.address_stride);
  if (id < base || stride == 0 || (id - base) % stride != 0) return std::nullopt;
  const U128 slot = (id - base) / stride;
  if (slot > 0xffffffffULL) return std::nullopt;
  return static_cast<std::uint64_t>(slot);
}

Result<void> check_request(const Shelf& shelf, const PiRequest& r) {
  const auto err = [&](const std::string& what) {
    return std::unexpected(alloc_error(shelf, r.name, what));
  };
  if (!is_rfc1123_label(r.name)) {
    return fail(ErrorCode::invalid_inventory,
                "shelf " + printable(shelf.name) + ": name: " + printable(r.name) +
                    " is not a host name (RFC 1123 label: a-z, 0-9, '-', at most 63)");
  }
  if (shelf.find_pi(r.name) != nullptr) return err("name: already in the inventory");
  if (r.mac) {
    if (const auto problem = mac_problem(*r.mac)) return err("mac: " + *problem);
  }
  if (r.port < 1 || r.port > shelf.switch_.port_count) {
    return err("port: " + std::to_string(r.port) + " is outside the switch's ports 1-" +
               std::to_string(shelf.switch_.port_count));
  }
  if (r.port == shelf.fileserver.trunk_port) {
    return err("port: " + std::to_string(r.port) + " is the fileserver's trunk port");
  }
  if (const Pi* other = shelf.pi_on_port(r.port)) {
    return err("port: " + std::to_string(r.port) + " is already used by pi " +
               printable(other->name));
  }
  for (const auto& pi : shelf.pis) {
    if (r.serial && pi.serial == r.serial) {
      return err("serial: " + *r.serial + " is already used by pi " + printable(pi.name));
    }
    if (r.mac && pi.mac == r.mac) {
      return err("mac: " + r.mac->str() + " is already used by pi " + printable(pi.name));
    }
  }
  return {};
}

}  // namespace

Result<std::vector<int>> reserved_vlans(const Shelf& shelf) {
  const Json* list = shelf.storage.extra.contains("reserved_vlans") ? &shelf.storage.extra["reserved_vlans"] : nullptr;
  std::vector<int> out;
  if (list == nullptr) return out;
  const std::string where = "shelf " + printable(shelf.name) + ": storage: reserved_vlans";
  if (!list->is_array()) return fail(ErrorCode::invalid_inventory, where + ": expected a list of VLAN ids");
  for (const auto& v : *list) {
    if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 4094) {
      return fail(ErrorCode::invalid_inventory, where + ": " + v.dump() + " is not a VLAN id within 1-4094");
    }
    out.push_back(v.get<int>());
  }
  return out;
}

std::optional<int> trunk_native_vlan(const Shelf& shelf) {
  const Json& extra = shelf.fileserver.extra;
  if (extra.contains("trunk_native_vlan") && extra["trunk_native_vlan"].is_number_integer()) {
    return extra["trunk_native_vlan"].get<int>();
  }
  return std::nullopt;
}

Result<Pi> add_pi(Shelf& shelf, const PiRequest& request) { return add_pi_avoiding(shelf, request, {}); }

std::optional<int> previous_vlan(const Pi& pi) {
  if (pi.extra.contains("previous_vlan") && pi.extra["previous_vlan"].is_number_integer()) {
    return pi.extra["previous_vlan"].get<int>();
  }
  return std::nullopt;
}

Result<int> pick_new_vlan(const Shelf& shelf, const std::string& name, std::optional<int> wanted,
                          const std::set<int>& avoid_vlans) {
  const Pi* pi = shelf.find_pi(name);
  if (pi == nullptr) {
    return fail(ErrorCode::not_found, "shelf " + printable(shelf.name) + ": no pi named " + printable(name));
  }
  auto reserved = reserved_vlans(shelf);
  if (!reserved) return std::unexpected(reserved.error());
  const auto& st = shelf.storage;
  // Why each VLAN id in the range may not be taken; the rest is free.
  std::map<int, std::string> taken;
  taken[pi->vlan] = "it is " + pi->name + "'s VLAN now";
  taken[1] = "VLAN 1 is the switch's default VLAN";
  taken[shelf.public_net.vlan] = "it is the public VLAN";
  for (const auto& other : shelf.pis) {
    if (other.name != pi->name) taken.emplace(other.vlan, "it is " + other.name + "'s storage VLAN");
  }
  for (const int v : *reserved) taken.emplace(v, "it is in storage.reserved_vlans");
  if (const auto native = trunk_native_vlan(shelf)) taken.emplace(*native, "it is fileserver.trunk_native_vlan");
  for (const int v : avoid_vlans) taken.emplace(v, "it exists on the switch as another network's VLAN");
  const std::string who = "shelf " + printable(shelf.name) + ": pi " + printable(pi->name) + ": ";
  if (wanted) {
    const int v = *wanted;
    if (v < st.vlan_first || v > st.vlan_last) {
      return fail(ErrorCode::invalid_argument, who + "VLAN " + std::to_string(v) + " is outside storage.vlan_range [" +
                                                   std::to_string(st.vlan_first) + ", " + std::to_string(st.vlan_last) + "]");
    }
    if (auto it = taken.find(v); it != taken.end()) {
      return fail(ErrorCode::invalid_argument, who + "VLAN " + std::to_string(v) + " cannot be used: " + it->second);
    }
    return v;
  }
  std::set<std::uint64_t> forbidden;
  for (const auto& [v, why] : taken) {
    if (v >= st.vlan_first && v <= st.vlan_last) forbidden.insert(static_cast<std::uint64_t>(v - st.vlan_first));
  }
  const auto vlan_count = static_cast<std::uint64_t>(st.vlan_last - st.vlan_first + 1);
  const PortSlots ports{static_cast<std::uint64_t>(shelf.switch_.port_count),
                        static_cast<std::uint64_t>(shelf.fileserver.trunk_port - 1)};
  const auto slot = pick_slot(static_cast<std::uint64_t>(pi->port - 1), vlan_count, ports, {}, forbidden);
  if (!slot) {
    return std::unexpected(alloc_error(shelf, pi->name, "storage: vlan_range [" + std::to_string(st.vlan_first) + ", " +
                                                            std::to_string(st.vlan_last) + "] has no free VLAN"));
  }
  return st.vlan_first + static_cast<int>(*slot);
}

Result<Pi> add_pi_avoiding(Shelf& shelf, const PiRequest& request, const std::set<int>& avoid_vlans) {
  auto reserved = reserved_vlans(shelf);
  if (!reserved) return std::unexpected(reserved.error());
  if (auto ok = check_request(shelf, request); !ok) return std::unexpected(ok.error());
  const auto preferred = static_cast<std::uint64_t>(request.port - 1);
  std::set<std::uint64_t> used_vlans, used_blocks, used_slots;
  const auto& st = shelf.storage;
  const auto& pub = shelf.public_net;
  for (const auto& pi : shelf.pis) {
    if (pi.vlan >= st.vlan_first) used_vlans.insert(static_cast<std::uint64_t>(pi.vlan - st.vlan_first));
    if (st.pool.contains(pi.storage.network)) {
      used_blocks.insert((pi.storage.network.value - st.pool.address.value) / 4);
    }
    if (const auto slot = slot_of(pub, pi.ipv6)) used_slots.insert(*slot);
  }
  std::set<std::uint64_t> forbidden_vlans;
  if (pub.vlan >= st.vlan_first) forbidden_vlans.insert(static_cast<std::uint64_t>(pub.vlan - st.vlan_first));
  if (st.vlan_first <= 1) forbidden_vlans.insert(static_cast<std::uint64_t>(1 - st.vlan_first));
  std::set<int> avoid = avoid_vlans;
  avoid.insert(reserved->begin(), reserved->end());
  if (const auto native = trunk_native_vlan(shelf)) avoid.insert(*native);
  for (const int v : avoid) {
    if (v >= st.vlan_first) forbidden_vlans.insert(static_cast<std::uint64_t>(v - st.vlan_first));
  }

  const auto vlan_count = static_cast<std::uint64_t>(st.vlan_last - st.vlan_first + 1);
  const PortSlots ports{static_cast<std::uint64_t>(shelf.switch_.port_count),
                        static_cast<std::uint64_t>(shelf.fileserver.trunk_port - 1)};
  const auto vlan = pick_slot(preferred, vlan_count, ports, used_vlans, forbidden_vlans);
  if (!vlan) {
    return std::unexpected(alloc_error(
        shelf, request.name,
        "storage: vlan_range [" + std::to_string(st.vlan_first) + ", " +
            std::to_string(st.vlan_last) + "] is exhausted"));
  }
  const auto block = pick_slot(preferred, st.pool.size() / 4, ports, used_blocks);
  if (!block) {
    return std::unexpected(
        alloc_error(shelf, request.name, "storage: pool " + st.pool.str() + " is exhausted"));
  }
  const auto slot = pick_slot(preferred, 65536, ports, used_slots);
  if (!slot) {
    return std::unexpected(alloc_error(shelf, request.name, "public: no free IPv6 slot"));
  }

  Pi pi;
  pi.name = request.name;
  pi.port = request.port;
  pi.model = request.model;
  pi.serial = request.serial;
  pi.mac = request.mac;
  pi.vlan = st.vlan_first + static_cast<int>(*vlan);
  const auto network = st.pool.address.value + static_cast<std::uint32_t>(*block * 4);
  pi.storage.network = Ipv4{network};
  pi.storage.fileserver = Ipv4{network + 1};
  pi.storage.pi = Ipv4{network + 2};
  pi.storage.broadcast = Ipv4{network + 3};
  pi.ipv6 = slot_address(pub, *slot);
  shelf.pis.push_back(pi);
  return pi;
}

Result<Pi> remove_pi(Shelf& shelf, std::string_view name) {
  const auto it = std::ranges::find(shelf.pis, name, &Pi::name);
  if (it == shelf.pis.end()) {
    return fail(ErrorCode::not_found,
                "shelf " + printable(shelf.name) + ": no pi named " + printable(name));
  }
  Pi removed = *it;
  shelf.pis.erase(it);
  return removed;
}

}  // namespace picluster::inventory
