// The Cisco IOS profile. A Pi port is an 802.1Q trunk (vlanTrunkPortDynamicState on) whose
// native VLAN (sent untagged) is the Pi's storage VLAN and whose allowed VLANs are exactly
// {storage, public}; the fileserver's trunk port must allow every managed VLAN, others kept.
// Missing VLANs are created first through the VTP edit buffer (copy, create rows, apply,
// release). Each port's change is one PDU of per-interface objects; the ordered fallback sends
// the VLAN list, then the native VLAN, then the trunk mode.
#include <algorithm>

#include "switchctl/mib.hpp"
#include "switchctl/profile.hpp"

namespace picluster::switchctl {

namespace {

constexpr std::size_t kBitmapOctets = 128;  // 1024 VLANs per vlanTrunkPortVlansEnabled* column
constexpr std::int64_t kTrunkOn = 1;
constexpr std::int64_t kTrunkOff = 2;  // vlanTrunkPortDynamicState off: an access port

// IOS's "switchport trunk allowed vlan all". A port whose allowed list covers it is left alone.
PortSet all_vlans() {
  PortSet out;
  for (int v = 1; v <= 4094; ++v) out.insert(out.end(), v);
  return out;
}

std::uint32_t u32(int v) { return static_cast<std::uint32_t>(v); }

const Oid& enabled_column(int k) {
  static const Oid* columns[] = {&mib::vlanTrunkPortVlansEnabled, &mib::vlanTrunkPortVlansEnabled2k,
                                 &mib::vlanTrunkPortVlansEnabled3k, &mib::vlanTrunkPortVlansEnabled4k};
  return *columns[k];
}

PortSet slice(const PortSet& vlans, int k) {
  PortSet out;
  for (const int v : vlans) if (v / 1024 == k) out.insert(v);
  return out;
}

class CiscoProfile final : public VendorProfile {
 public:
  [[nodiscard]] std::string_view name() const override { return "cisco"; }

  Result<void> read(SnmpSession& session, SwitchState& state) const override {
    const std::vector<Oid> roots = {mib::vtpVlanState, mib::vtpVlanName, mib::vmVlan,
                                    mib::vlanTrunkPortNativeVlan, mib::vlanTrunkPortDynamicState,
                                    mib::vlanTrunkPortVlansEnabled, mib::vlanTrunkPortVlansEnabled2k,
                                    mib::vlanTrunkPortVlansEnabled3k, mib::vlanTrunkPortVlansEnabled4k,
                                    mib::cpeExtPsePortPwrConsumption};
    auto cols = walk_columns(session, roots);
    if (!cols) return std::unexpected(cols.error().with_context("read VLANs"));
    auto bad = [](const Error& e) { return std::unexpected(e.with_context("read VLANs")); };
    for (std::size_t c = 0; c < 2; ++c) {
      for (const auto& vb : (*cols)[c]) {
        if (vb.oid.size() != roots[c].size() + 2) continue;  // index: domain.vlan
        auto& row = state.vlans[static_cast<int>(vb.oid.back())];
        row.vlan = static_cast<int>(vb.oid.back());
        if (c != 1) continue;
        auto name = octets_of(vb);
        if (!name) return bad(name.error());
        row.name = *name;
      }
    }
    // Per-interface columns (index ifIndex); a value of the wrong type names the port.
    auto port_of = [&](int if_index) {
      const PortEntry* e = state.map.by_if_index(if_index);
      return e != nullptr ? "port " + std::to_string(e->port) : "ifIndex " + std::to_string(if_index);
    };
    for (std::size_t c = 2; c <= 8; ++c) {
      for (const auto& vb : (*cols)[c]) {
        if (vb.oid.size() != roots[c].size() + 1) continue;
        const int if_index = static_cast<int>(vb.oid.back());
        CiscoPort& p = state.cisco[if_index];
        if (c >= 5) {
          auto bytes = octets_of(vb, port_of(if_index));
          if (!bytes) return bad(bytes.error());
          const PortSet bits = decode_bits(*bytes, static_cast<int>(c - 5) * 1024);
          p.enabled.insert(bits.begin(), bits.end());
          continue;
        }
        auto n = number_of(vb, port_of(if_index));
        if (!n) return bad(n.error());
        if (c == 2) p.access_vlan = static_cast<int>(*n);
        if (c == 3) {
          p.native_vlan = static_cast<int>(*n);
          p.has_trunk_row = true;
        }
        if (c == 4) p.dynamic_state = static_cast<int>(*n);
      }
    }
    for (const auto& vb : (*cols)[9]) {
      if (vb.oid.size() != roots[9].size() + 2) continue;
      const int group = static_cast<int>(vb.oid[vb.oid.size() - 2]), port = static_cast<int>(vb.oid.back());
      for (const auto& p : state.map.ports) {
        if (p.poe_group != group || p.poe_port != port) continue;
        auto mw = number_of(vb, "port " + std::to_string(p.port));
        if (!mw) return bad(mw.error());
        state.poe[p.port].power_mw = *mw;
      }
    }
    return {};
  }

  [[nodiscard]] PortView view(const SwitchState& state, const PortEntry& port) const override {
    PortView v;
    auto it = state.cisco.find(port.if_index);
    if (it == state.cisco.end()) return v;
    const CiscoPort& c = it->second;
    if (c.trunking()) {
      v.pvid = c.native_vlan;
      if (c.native_vlan) v.untagged.insert(*c.native_vlan);
      for (const int vlan : c.enabled) {
        if (vlan != c.native_vlan && state.vlans.contains(vlan)) v.tagged.insert(vlan);
      }
    } else if (c.access_vlan) {
      v.pvid = c.access_vlan;
      v.untagged.insert(*c.access_vlan);
    }
    return v;
  }

  [[nodiscard]] Result<Plan> plan(const Desired& desired, const SwitchState& actual) const override {
    Plan plan;
    plan_vlans(desired, actual, plan);
    for (const auto& dp : desired.ports) {
      const PortEntry* entry = actual.map.by_port(dp.port);
      if (entry == nullptr) {
        return fail(ErrorCode::not_found,
                    "port " + std::to_string(dp.port) + (dp.pi.empty() ? " (trunk)" : " (" + dp.pi + ")") +
                        ": not in the switch's port map; check switch.port_map in the inventory" +
                        map_notes(actual.map));
      }
      auto it = actual.cisco.find(entry->if_index);
      const CiscoPort current = it != actual.cisco.end() ? it->second : CiscoPort{};
      PortChange ch = plan_port(dp, *entry, current);
      if (!ch.atomic.varbinds.empty()) plan.ports.push_back(std::move(ch));
    }
    return plan;
  }

  // Back to a fresh IOS port: access mode (trunk off) in VLAN 1, native VLAN 1, every VLAN
  // allowed. Ordered steps: access VLAN, mode, native VLAN, allowed VLANs. The VLAN is deleted
  // through the VTP edit buffer (copy, destroy the row, apply, release).
  [[nodiscard]] Result<Plan> plan_release(const Release& release, const SwitchState& actual) const override {
    const std::string who = "port " + std::to_string(release.port) + " (release)";
    const PortEntry* entry = actual.map.by_port(release.port);
    if (entry == nullptr) {
      return fail(ErrorCode::not_found, who + ": not in the switch's port map; check switch.port_map in the inventory");
    }
    auto it = actual.cisco.find(entry->if_index);
    const CiscoPort current = it != actual.cisco.end() ? it->second : CiscoPort{};
    Plan plan;
    if (PortChange ch = release_port(release.port, *entry, current, who); !ch.atomic.varbinds.empty()) {
      plan.ports.push_back(std::move(ch));
    }
    if (release.drop_vlan && actual.vlans.contains(release.vlan)) {
      auto op = [](std::int64_t code) { return VarBind{oid_cat(mib::vtpVlanEditOperation, {1}), Value::integer(code)}; };
      const std::string vlan = "VLAN " + std::to_string(release.vlan);
      plan.postlude.push_back({"VTP: take the edit buffer (copy)", 0,
                               {op(2), {oid_cat(mib::vtpVlanEditBufferOwner, {1}), Value::octets("picluster")}}, {}});
      plan.postlude.push_back({"VTP: delete " + vlan + " (no Pi port left in it)", release.port,
                               {{oid_cat(mib::vtpVlanEditRowStatus, {1, u32(release.vlan)}), Value::integer(mib::kDestroy)}}, {}});
      plan.postlude.push_back({"VTP: apply the edit buffer", 0, {op(3)}, {}});
      plan.postlude.push_back({"VTP: release the edit buffer", 0, {op(4)}, {}});
    }
    return plan;
  }

 private:
  static PortChange release_port(int port, const PortEntry& entry, const CiscoPort& current, const std::string& who) {
    PortChange ch{port, "", {}, {}, {}};
    const std::uint32_t i = u32(entry.if_index);
    SetPdu access, mode, native, vlans;
    auto integer = [&](SetPdu& step, const Oid& column, const std::optional<int>& now, std::int64_t want,
                       const std::string& what) {
      if (!now || *now == want) return;
      const Oid o = oid_cat(column, {i});
      step.varbinds.push_back({o, Value::integer(want)});
      step.undo.push_back({o, Value::integer(*now)});
      ch.changes.push_back(what + " " + std::to_string(*now) + " -> " + std::to_string(want));
    };
    integer(access, mib::vmVlan, current.access_vlan, kDefaultVlan, "access VLAN");
    integer(mode, mib::vlanTrunkPortDynamicState, current.dynamic_state, kTrunkOff, "trunk mode");
    integer(native, mib::vlanTrunkPortNativeVlan, current.native_vlan, kDefaultVlan, "native VLAN");
    const PortSet all = all_vlans();
    if (current.has_trunk_row && !std::includes(current.enabled.begin(), current.enabled.end(), all.begin(), all.end())) {
      for (int k = 0; k < 4; ++k) {
        const PortSet w = slice(all, k), c = slice(current.enabled, k);
        if (std::includes(c.begin(), c.end(), w.begin(), w.end())) continue;
        const Oid o = oid_cat(enabled_column(k), {i});
        vlans.varbinds.push_back({o, Value::octets(encode_bits(w, kBitmapOctets, k * 1024))});
        vlans.undo.push_back({o, Value::octets(encode_bits(c, kBitmapOctets, k * 1024))});
      }
      ch.changes.push_back("allowed VLANs " + format_ranges(current.enabled) + " -> " + format_ranges(all));
    }
    const std::pair<SetPdu*, std::string_view> steps[] = {
        {&access, "access VLAN"}, {&mode, "access mode"}, {&native, "native VLAN"}, {&vlans, "allowed VLANs"}};
    for (auto& [step, what] : steps) {
      if (step->varbinds.empty()) continue;
      step->port = port;
      step->description = who + ": " + std::string(what);
      ch.atomic.varbinds.insert(ch.atomic.varbinds.end(), step->varbinds.begin(), step->varbinds.end());
      ch.steps.push_back(std::move(*step));
    }
    ch.atomic.port = port;
    ch.atomic.description = who + ": " + std::to_string(ch.atomic.varbinds.size()) + " varbinds in one PDU";
    return ch;
  }

  static void plan_vlans(const Desired& desired, const SwitchState& actual, Plan& plan) {
    std::vector<VarBind> rows;
    for (const auto& [v, name] : desired.vlan_names) {
      if (actual.vlans.contains(v)) continue;
      const Oid index{1, u32(v)};
      rows.push_back({oid_cat(mib::vtpVlanEditRowStatus, index), Value::integer(mib::kCreateAndGo)});
      rows.push_back({oid_cat(mib::vtpVlanEditType, index), Value::integer(1)});  // ethernet
      rows.push_back({oid_cat(mib::vtpVlanEditName, index), Value::octets(name)});
      const auto said = static_cast<std::uint32_t>(100000 + v);
      std::string said_octets = {static_cast<char>(said >> 24), static_cast<char>((said >> 16) & 0xff),
                                 static_cast<char>((said >> 8) & 0xff), static_cast<char>(said & 0xff)};
      rows.push_back({oid_cat(mib::vtpVlanEditDot10Said, index), Value::octets(said_octets)});
    }
    if (rows.empty()) return;
    auto op = [](std::int64_t code) { return VarBind{oid_cat(mib::vtpVlanEditOperation, {1}), Value::integer(code)}; };
    plan.prelude.push_back({"VTP: take the edit buffer (copy)", 0,
                            {op(2), {oid_cat(mib::vtpVlanEditBufferOwner, {1}), Value::octets("picluster")}}, {}});
    constexpr std::size_t kPerPdu = 32;  // 8 VLANs
    for (std::size_t i = 0; i < rows.size(); i += kPerPdu) {
      std::vector<VarBind> chunk(rows.begin() + static_cast<long>(i),
                                 rows.begin() + static_cast<long>(std::min(rows.size(), i + kPerPdu)));
      plan.prelude.push_back({"VTP: create " + std::to_string(chunk.size() / 4) + " VLANs", 0, std::move(chunk), {}});
    }
    plan.prelude.push_back({"VTP: apply the edit buffer", 0, {op(3)}, {}});
    plan.prelude.push_back({"VTP: release the edit buffer", 0, {op(4)}, {}});
  }

  static PortChange plan_port(const DesiredPort& dp, const PortEntry& entry, const CiscoPort& current) {
    PortChange ch{dp.port, dp.pi, {}, {}, {}};
    const std::uint32_t i = u32(entry.if_index);
    // An access port that becomes the fileserver's trunk keeps its untagged traffic: its access
    // VLAN becomes the native VLAN, set explicitly (IOS would fall back to VLAN 1), and the trunk
    // carries only that VLAN and the shelf's, not whatever its dormant allowed list held.
    const bool converting = !dp.exact && !current.trunking() && current.access_vlan.has_value();
    // The trunk's untagged VLAN, when the inventory names one (fileserver.trunk_native_vlan).
    const std::optional<int> chosen = dp.exact || dp.untagged.empty() ? std::nullopt : std::optional(*dp.untagged.begin());
    const std::optional<int> native_want = dp.exact ? dp.pvid : chosen ? chosen : converting ? current.access_vlan : std::nullopt;
    PortSet want = dp.exact ? dp.untagged : converting ? PortSet{*current.access_vlan} : current.enabled;
    want.insert(dp.untagged.begin(), dp.untagged.end());
    want.insert(dp.tagged.begin(), dp.tagged.end());
    SetPdu vlans, native, mode;
    for (int k = 0; k < 4; ++k) {
      const PortSet w = slice(want, k), c = slice(current.enabled, k);
      if (w == c) continue;
      const Oid o = oid_cat(enabled_column(k), {i});
      vlans.varbinds.push_back({o, Value::octets(encode_bits(w, kBitmapOctets, k * 1024))});
      vlans.undo.push_back({o, Value::octets(encode_bits(c, kBitmapOctets, k * 1024))});
    }
    if (!vlans.varbinds.empty()) ch.changes.push_back("allowed VLANs " + format_ranges(current.enabled) + " -> " + format_ranges(want));
    if (native_want && current.native_vlan != native_want) {
      const Oid o = oid_cat(mib::vlanTrunkPortNativeVlan, {i});
      native.varbinds.push_back({o, Value::integer(*native_want)});
      if (current.native_vlan) native.undo.push_back({o, Value::integer(*current.native_vlan)});
      ch.changes.push_back("native VLAN " + (current.native_vlan ? std::to_string(*current.native_vlan) : std::string("?")) +
                           " -> " + std::to_string(*native_want) +
                           (chosen ? " (fileserver.trunk_native_vlan)" : converting ? " (its access VLAN)" : ""));
    }
    if (current.dynamic_state != kTrunkOn) {
      const Oid o = oid_cat(mib::vlanTrunkPortDynamicState, {i});
      mode.varbinds.push_back({o, Value::integer(kTrunkOn)});
      if (current.dynamic_state) mode.undo.push_back({o, Value::integer(*current.dynamic_state)});
      ch.changes.push_back("trunk mode on");
    }
    const std::string who = "port " + std::to_string(dp.port) + (dp.pi.empty() ? " (trunk)" : " (" + dp.pi + ")");
    const std::pair<SetPdu*, std::string_view> steps[] = {
        {&vlans, "allowed VLANs"}, {&native, "native VLAN"}, {&mode, "trunk mode"}};
    for (auto& [step, what] : steps) {
      if (step->varbinds.empty()) continue;
      step->port = dp.port;
      step->description = who + ": " + std::string(what);
      ch.atomic.varbinds.insert(ch.atomic.varbinds.end(), step->varbinds.begin(), step->varbinds.end());
      ch.steps.push_back(std::move(*step));
    }
    ch.atomic.port = dp.port;
    ch.atomic.description = who + ": " + std::to_string(ch.atomic.varbinds.size()) + " varbinds in one PDU";
    return ch;
  }
};

}  // namespace

std::unique_ptr<VendorProfile> make_cisco_profile() { return std::make_unique<CiscoProfile>(); }
std::unique_ptr<VendorProfile> make_qbridge_profile();

std::unique_ptr<VendorProfile> make_profile(std::string_view name) {
  if (name == "qbridge") return make_qbridge_profile();
  if (name == "cisco") return make_cisco_profile();
  return nullptr;
}

}  // namespace picluster::switchctl
