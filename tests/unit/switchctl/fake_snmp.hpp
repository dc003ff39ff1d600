#pragma once
// A stateful fake SNMP agent for unit tests: a sorted OID -> value store answering GET, GETNEXT,
// GETBULK and SET like an agent would, with RowStatus createAndGo/destroy, an optional validator
// (strict vendors, injected errors) and a record of every request. Loads .snmprec recordings.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "switchctl/mib.hpp"
#include "switchctl/portlist.hpp"
#include "switchctl/snmp.hpp"

namespace picluster::switchctl::testing {

class FakeSnmp final : public SnmpSession {
 public:
  std::map<Oid, Value> data;
  // Called with the store as it would be after the SET; a non-ok status rejects the SET whole.
  std::function<PduStatus(const std::vector<VarBind>&, const std::map<Oid, Value>& before,
                          const std::map<Oid, Value>& after)> validate;
  std::function<void(std::map<Oid, Value>& data)> after_set;  // the device reacting to a SET
  std::vector<std::vector<VarBind>> sets;  // every SET request, in order
  int fail_next_set_transport = 0;          // that many SETs time out (after being applied)
  // Objects the agent does not implement: a GET under one answers noSuchObject (the rest that is
  // missing answers noSuchInstance, as for an implemented column without that row).
  std::vector<Oid> unimplemented;
  SessionStats counters;
  // Cisco IOS's per-VLAN contexts (community@VLAN): VLAN -> that context's agent. A request to a
  // VLAN without one times out, as IOS drops it. No contexts at all: vlan_context answers nullptr
  // (a session that cannot address contexts). context_requests: the VLAN of every such request.
  std::map<int, std::shared_ptr<FakeSnmp>> contexts;
  std::vector<int> context_requests;
  std::unique_ptr<SnmpSession> vlan_context(int vlan) override;

  [[nodiscard]] std::string endpoint() const override { return "127.0.0.1:16161"; }
  [[nodiscard]] SessionStats stats() const override { return counters; }

  Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) override {
    count(oids.size());
    std::vector<VarBind> out;
    for (const auto& o : oids) {
      auto it = data.find(o);
      const bool known = std::none_of(unimplemented.begin(), unimplemented.end(),
                                      [&](const Oid& u) { return oid_starts_with(o, u); });
      out.push_back({o, it != data.end() ? it->second
                                         : Value::exception(known ? ValueType::no_such_instance : ValueType::no_such_object)});
    }
    return out;
  }
  Result<std::vector<VarBind>> get_next(const std::vector<Oid>& oids) override {
    count(oids.size());
    std::vector<VarBind> out;
    for (const auto& o : oids) out.push_back(next(o));
    return out;
  }
  Result<std::vector<VarBind>> get_bulk(const std::vector<Oid>& oids, int, int reps) override {
    count(oids.size());
    std::vector<VarBind> out;
    std::vector<Oid> cur = oids;
    for (int r = 0; r < reps; ++r) {
      for (auto& c : cur) {
        VarBind vb = next(c);
        c = vb.oid;
        out.push_back(std::move(vb));
      }
    }
    return out;
  }
  Result<PduStatus> set(const std::vector<VarBind>& vbs) override {
    count(vbs.size());
    sets.push_back(vbs);
    std::map<Oid, Value> after = data;
    for (const auto& vb : vbs) apply(after, vb);
    if (validate) {
      PduStatus s = validate(vbs, data, after);
      if (!s.ok()) return s;
    }
    data = std::move(after);
    if (after_set) after_set(data);
    if (fail_next_set_transport > 0) {
      --fail_next_set_transport;
      return fail(ErrorCode::timeout, "set: no response (timeout)");
    }
    return PduStatus{};
  }

  void put(const Oid& o, Value v) { data[o] = std::move(v); }

  // Loads an snmpsim .snmprec file: "OID|type|value" (types 2, 4, 4x, 6, 64-67, 70).
  static FakeSnmp from_snmprec(const std::filesystem::path& file) {
    FakeSnmp f;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      const auto a = line.find('|'), b = line.find('|', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      auto oid = parse_oid(line.substr(0, a));
      if (!oid) continue;
      const std::string type = line.substr(a + 1, b - a - 1), text = line.substr(b + 1);
      Value v;
      if (type == "4x") v = Value::octets(unhex(text));
      else if (type == "4") v = Value::octets(text);
      else if (type == "2") v = Value::integer(std::stoll(text));
      else if (type == "6") {
        auto id = parse_oid(text);
        if (!id) continue;
        v = Value{ValueType::object_id, 0, {}, *id};
      }
      else if (type == "66") v = Value::gauge(std::stoll(text));
      else if (type == "65" || type == "67" || type == "70") v = {type == "65" ? ValueType::counter32 : type == "67" ? ValueType::timeticks : ValueType::counter64, std::stoll(text), {}, {}};
      else continue;
      f.data[*oid] = v;
    }
    return f;
  }
  static std::string unhex(const std::string& h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
    return out;
  }

 private:
  void count(std::size_t n) {
    ++counters.pdus;
    counters.varbinds += static_cast<long>(n);
  }
  VarBind next(const Oid& o) const {
    auto it = data.upper_bound(o);
    if (it == data.end()) return {o, Value::exception(ValueType::end_of_mib_view)};
    return {it->first, it->second};
  }
  // RowStatus columns of the tables the profiles create rows in.
  static bool row_status(const Oid& o, std::size_t& entry_len) {
    for (const Oid* col : {&mib::dot1qVlanStaticRowStatus, &mib::vtpVlanEditRowStatus}) {
      if (oid_starts_with(o, *col)) {
        entry_len = col->size() - 1;
        return true;
      }
    }
    return false;
  }
  static void apply(std::map<Oid, Value>& store, const VarBind& vb) {
    std::size_t entry_len = 0;
    if (row_status(vb.oid, entry_len) && vb.value.number == mib::kDestroy) {
      const Oid entry(vb.oid.begin(), vb.oid.begin() + static_cast<long>(entry_len));
      const Oid index(vb.oid.begin() + static_cast<long>(entry_len) + 1, vb.oid.end());
      std::erase_if(store, [&](const auto& kv) {
        return oid_starts_with(kv.first, entry) && kv.first.size() == entry_len + 1 + index.size() &&
               std::equal(index.begin(), index.end(), kv.first.begin() + static_cast<long>(entry_len) + 1);
      });
      return;
    }
    if (row_status(vb.oid, entry_len) && vb.value.number == mib::kCreateAndGo) {
      store[vb.oid] = Value::integer(mib::kActive);
      return;
    }
    store[vb.oid] = vb.value;
  }
};

// FakeSnmp's view of one VLAN context: requests go to contexts[vlan] and count on the parent.
class FakeContext final : public SnmpSession {
 public:
  FakeContext(FakeSnmp& parent, int vlan) : m_parent(parent), m_vlan(vlan) {}
  [[nodiscard]] std::string endpoint() const override { return m_parent.endpoint(); }
  [[nodiscard]] SessionStats stats() const override { return m_parent.stats(); }
  Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) override {
    return forward([&](FakeSnmp& f) { return f.get(oids); });
  }
  Result<std::vector<VarBind>> get_next(const std::vector<Oid>& oids) override {
    return forward([&](FakeSnmp& f) { return f.get_next(oids); });
  }
  Result<std::vector<VarBind>> get_bulk(const std::vector<Oid>& oids, int n, int reps) override {
    return forward([&](FakeSnmp& f) { return f.get_bulk(oids, n, reps); });
  }
  Result<PduStatus> set(const std::vector<VarBind>&) override {
    return fail(ErrorCode::snmp, "set in a VLAN context: notWritable");
  }

 private:
  template <typename F>
  Result<std::vector<VarBind>> forward(F&& call) {
    m_parent.context_requests.push_back(m_vlan);
    ++m_parent.counters.pdus;
    auto it = m_parent.contexts.find(m_vlan);
    if (it == m_parent.contexts.end()) return fail(ErrorCode::timeout, "get-bulk: no response (timeout)");
    return call(*it->second);
  }
  FakeSnmp& m_parent;
  int m_vlan;
};

inline std::unique_ptr<SnmpSession> FakeSnmp::vlan_context(int vlan) {
  if (contexts.empty()) return nullptr;
  return std::make_unique<FakeContext>(*this, vlan);
}

// A fresh Q-BRIDGE switch: n ports (bridge port = front + offset, ifIndex = front + 100), VLAN 1
// with every port untagged, PVID 1, PoE on and delivering on every port.
inline FakeSnmp fresh_qbridge(int n, int bridge_offset = 0) {
  FakeSnmp f;
  std::set<int> all;
  for (int p = 1; p <= n; ++p) {
    const auto bp = static_cast<std::uint32_t>(p + bridge_offset), ifi = static_cast<std::uint32_t>(p + 100);
    f.put(oid_cat(mib::dot1dBasePortIfIndex, {bp}), Value::integer(p + 100));
    f.put(oid_cat(mib::ifName, {ifi}), Value::octets("gi" + std::to_string(p)));
    f.put(oid_cat(mib::ifType, {ifi}), Value::integer(6));
    f.put(oid_cat(mib::dot1qPvid, {bp}), Value::gauge(1));
    f.put(oid_cat(mib::pethPsePortAdminEnable, {1, static_cast<std::uint32_t>(p)}), Value::integer(1));
    f.put(oid_cat(mib::pethPsePortDetectionStatus, {1, static_cast<std::uint32_t>(p)}), Value::integer(3));
    all.insert(p + bridge_offset);
  }
  const std::size_t octets = static_cast<std::size_t>(n + bridge_offset + 7) / 8;
  f.put(oid_cat(mib::dot1qVlanStaticName, {1}), Value::octets("default"));
  f.put(oid_cat(mib::dot1qVlanStaticEgressPorts, {1}), Value::octets(encode_bits(all, octets)));
  f.put(oid_cat(mib::dot1qVlanStaticUntaggedPorts, {1}), Value::octets(encode_bits(all, octets)));
  f.put(oid_cat(mib::dot1qVlanStaticRowStatus, {1}), Value::integer(1));
  return f;
}

// A fresh Cisco IOS switch: fresh_qbridge's tables plus VTP VLAN 1 and every port an access port
// in VLAN 1 (vmVlan, native VLAN 1, trunking off, VLANs 0-1023 enabled on the trunk column).
inline FakeSnmp fresh_cisco(int n) {
  FakeSnmp f = fresh_qbridge(n);
  f.put(oid_cat(mib::vtpVlanState, {1, 1}), Value::integer(1));
  f.put(oid_cat(mib::vtpVlanName, {1, 1}), Value::octets("default"));
  for (int p = 1; p <= n; ++p) {
    const auto ifi = static_cast<std::uint32_t>(p + 100);
    f.put(oid_cat(mib::vmVlan, {ifi}), Value::integer(1));
    f.put(oid_cat(mib::vlanTrunkPortNativeVlan, {ifi}), Value::integer(1));
    f.put(oid_cat(mib::vlanTrunkPortDynamicState, {ifi}), Value::integer(2));
    f.put(oid_cat(mib::vlanTrunkPortVlansEnabled, {ifi}), Value::octets(std::string(128, '\xff')));
  }
  return f;
}

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point t{};
  std::vector<std::chrono::milliseconds> sleeps;
  std::function<void()> on_sleep;
  std::chrono::steady_clock::time_point now() override { return t; }
  void sleep_for(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    t += d;
    if (on_sleep) on_sleep();
  }
};

}  // namespace picluster::switchctl::testing
