#include "switchctl/ownership.hpp"

#include <algorithm>
#include <cctype>

#include "inventory/vlans.hpp"

namespace picluster::switchctl {

std::set<int> owned_vlans(const inventory::Shelf& shelf) {
  std::set<int> out{shelf.public_net.vlan};
  for (const auto& pi : shelf.pis) out.insert(pi.vlan);
  return out;
}

std::map<int, std::string> foreign_vlans(const inventory::Shelf& shelf, const SwitchState& state) {
  const std::set<int> owned = owned_vlans(shelf);
  std::map<int, std::string> out;
  for (const auto& [v, row] : state.vlans) {
    if (v != kDefaultVlan && !owned.contains(v)) out.emplace(v, row.name);
  }
  return out;
}

bool default_vlan_name(const std::string& name, int vlan) {
  std::string s;
  for (const char c : name) {
    if (std::isspace(static_cast<unsigned char>(c)) == 0)
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (s.starts_with("vlan")) s = s.substr(4);
  while (s.size() > 1 && s.front() == '0') s.erase(s.begin());
  return s.empty() || s == std::to_string(vlan);
}

std::map<int, PortView> all_views(const VendorProfile& profile, const SwitchState& state) {
  std::map<int, PortView> out;
  for (const auto& entry : state.map.ports) out.emplace(entry.port, profile.view(state, entry));
  return out;
}

namespace {

bool carries(const PortView& v, int vlan) {
  return v.untagged.contains(vlan) || v.tagged.contains(vlan);
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

std::vector<VlanCollision> vlan_collisions(const inventory::Shelf& shelf,
                                           const VendorProfile& profile, const SwitchState& state) {
  std::vector<VlanCollision> out;
  const auto views = all_views(profile, state);
  const int trunk = shelf.fileserver.trunk_port;
  for (const auto& pi : shelf.pis) {
    const auto row = state.vlans.find(pi.vlan);
    if (row == state.vlans.end()) continue;
    VlanCollision c{pi.name, pi.vlan, row->second.name, {}};
    for (const auto& [port, view] : views) {
      if (port != pi.port && port != trunk && (carries(view, pi.vlan) || view.pvid == pi.vlan)) {
        c.others.push_back(std::to_string(port));
      }
    }
    // Q-BRIDGE lists may hold bridge ports the port map leaves out (LAGs, module ports).
    for (const int bp : row->second.egress) {
      if (state.map.by_bridge_port(bp) == nullptr)
        c.others.push_back("bridge port " + std::to_string(bp));
    }
    const bool named_by_others =
        row->second.name != pi.name && !default_vlan_name(row->second.name, pi.vlan);
    if (named_by_others || !c.others.empty()) out.push_back(std::move(c));
  }
  return out;
}

std::string describe(const VlanCollision& c) {
  std::string msg = "VLAN " + std::to_string(c.vlan) + " (" + c.pi +
                    "'s storage VLAN) already exists on the switch";
  msg += c.switch_name.empty() ? " without a name" : " as '" + c.switch_name + "'";
  msg += c.others.empty() ? " (no other member ports)" : " with member port(s) " + join(c.others);
  msg += ": it is not picluster's and will not be shared; fix: `picluster renumber " + c.pi + "` (gives " + c.pi +
         " a free VLAN and adds " + std::to_string(c.vlan) +
         " to storage.reserved_vlans), then `picluster apply`; or move storage.vlan_range away from the switch's VLANs";
  return msg;
}

std::vector<std::string> foreign_memberships(const inventory::Shelf& shelf,
                                             const VendorProfile& profile,
                                             const SwitchState& state) {
  const std::set<int> owned = owned_vlans(shelf);
  // VLANs picluster created and named ("public", a Pi's name) are its own even when the inventory
  // no longer lists them (public.vlan changed): a Pi's port may leave them.
  const auto named_by_picluster = [&](int v) {
    const auto row = state.vlans.find(v);
    if (row == state.vlans.end()) return false;
    return row->second.name == "public" ||
           std::any_of(shelf.pis.begin(), shelf.pis.end(), [&](const inventory::Pi& p) { return p.name == row->second.name; });
  };
  std::vector<std::string> out;
  for (const auto& pi : shelf.pis) {
    const PortEntry* entry = state.map.by_port(pi.port);
    if (entry == nullptr || pi.port == shelf.fileserver.trunk_port) continue;
    const PortView view = profile.view(state, *entry);
    const auto previous = inventory::previous_vlan(pi);  // left by `picluster renumber`: apply takes it out
    std::vector<std::string> foreign;
    for (const auto* set : {&view.untagged, &view.tagged}) {
      for (const int v : *set) {
        if (v == kDefaultVlan || owned.contains(v) || v == previous || named_by_picluster(v)) continue;
        const auto row = state.vlans.find(v);
        const std::string name = row != state.vlans.end() && !row->second.name.empty()
                                     ? " '" + row->second.name + "'"
                                     : "";
        foreign.push_back(std::to_string(v) + name);
      }
    }
    if (foreign.empty()) continue;
    out.push_back(
        pi.name + " (port " + std::to_string(pi.port) + ") is a member of VLAN(s) " +
        join(foreign) +
        ", which picluster does not own: apply takes a Pi's port only out of VLAN 1 and the "
        "inventory's VLANs; take port " +
        std::to_string(pi.port) +
        " out of them on the switch if they are not needed there, or check that " + pi.name +
        "'s port is right");
  }
  return out;
}

Members expected_members(const std::map<int, PortView>& before, const Desired& desired,
                         const std::vector<int>& changed_ports) {
  std::map<int, PortView> after = before;
  std::set<int> touched;
  // A Pi port's change may fix the trunk's bits for the Pi's VLANs in the same PDU (Q-BRIDGE): the
  // trunk gains those even when it is not a changed port itself.
  std::vector<int> ports = changed_ports;
  std::set<int> pi_vlans;
  for (const int port : changed_ports) {
    if (const DesiredPort* dp = desired.find(port); dp != nullptr && dp->exact) {
      pi_vlans.insert(dp->untagged.begin(), dp->untagged.end());
      pi_vlans.insert(dp->tagged.begin(), dp->tagged.end());
    }
  }
  const bool trunk_changed =
      std::find(ports.begin(), ports.end(), desired.trunk_port) != ports.end();
  if (!trunk_changed && !pi_vlans.empty()) ports.push_back(desired.trunk_port);
  for (const int port : ports) {
    const DesiredPort* dp = desired.find(port);
    if (dp == nullptr || !after.contains(port)) continue;
    PortView& v = after[port];
    const PortView was = v;
    if (dp->exact) {
      v.untagged = dp->untagged;
      v.tagged = dp->tagged;
    } else {
      for (const int t : dp->tagged) {
        if (!trunk_changed && !pi_vlans.contains(t)) continue;
        v.untagged.erase(t);
        v.tagged.insert(t);
      }
      if (trunk_changed && !dp->untagged.empty()) {
        // A native VLAN the inventory chose (Cisco): it becomes the untagged one; the old stays tagged.
        for (const int u : was.untagged) {
          if (dp->untagged.contains(u)) continue;
          v.untagged.erase(u);
          v.tagged.insert(u);
        }
        for (const int u : dp->untagged) {
          v.tagged.erase(u);
          v.untagged.insert(u);
        }
      }
    }
    for (const PortSet* set : {&was.untagged, &was.tagged, static_cast<const PortSet*>(&v.untagged),
                               static_cast<const PortSet*>(&v.tagged)}) {
      for (const int vlan : *set) {
        if (carries(was, vlan) != carries(v, vlan) ||
            was.untagged.contains(vlan) != v.untagged.contains(vlan)) {
          touched.insert(vlan);
        }
      }
    }
  }
  Members out;
  for (const int vlan : touched) {
    auto& m = out[vlan];
    for (const auto& [port, view] : after) {
      if (carries(view, vlan)) m[port] = view.untagged.contains(vlan);
    }
  }
  return out;
}

std::vector<std::string> membership_differences(const std::map<int, PortView>& after,
                                                const Members& expected) {
  auto state_of = [](const std::map<int, bool>& m, int port) -> std::string {
    auto it = m.find(port);
    return it == m.end() ? "not a member" : it->second ? "untagged" : "tagged";
  };
  std::vector<std::string> out;
  for (const auto& [vlan, want] : expected) {
    std::map<int, bool> got;
    for (const auto& [port, view] : after) {
      if (carries(view, vlan)) got[port] = view.untagged.contains(vlan);
    }
    if (got == want) continue;
    std::set<int> ports;
    for (const auto& [p, u] : want) ports.insert(p);
    for (const auto& [p, u] : got) ports.insert(p);
    std::vector<std::string> diffs;
    for (const int p : ports) {
      const std::string g = state_of(got, p), w = state_of(want, p);
      if (g != w) diffs.push_back("port " + std::to_string(p) + " " + g + " (expected: " + w + ")");
    }
    out.push_back("VLAN " + std::to_string(vlan) + ": " + join(diffs));
  }
  return out;
}

}  // namespace picluster::switchctl
