#include "switchctl/snmp.hpp"

#include <algorithm>
#include <charconv>
#include <thread>
#include <utility>

#include "switchctl/mib.hpp"

namespace picluster::switchctl {

std::string oid_str(const Oid& oid) {
  std::string out;
  for (std::size_t i = 0; i < oid.size(); ++i) {
    if (i != 0) out += '.';
    out += std::to_string(oid[i]);
  }
  return out;
}

std::optional<Oid> parse_oid(std::string_view text) {
  if (!text.empty() && text.front() == '.') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  Oid out;
  while (!text.empty()) {
    const auto dot = text.find('.');
    const auto part = text.substr(0, dot);
    std::uint32_t v = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc{} || ptr != part.data() + part.size()) return std::nullopt;
    out.push_back(v);
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
    if (text.empty()) return std::nullopt;
  }
  return out;
}

Oid oid_cat(const Oid& base, std::initializer_list<std::uint32_t> tail) {
  Oid out = base;
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

Oid oid_cat(const Oid& base, const Oid& tail) {
  Oid out = base;
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

bool oid_starts_with(const Oid& oid, const Oid& prefix) {
  return oid.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), oid.begin());
}

std::string oid_name(const Oid& oid) {
  static const std::pair<const Oid*, std::string_view> kNames[] = {
      {&mib::ifType, "ifType"},
      {&mib::ifName, "ifName"},
      {&mib::dot1dBasePortIfIndex, "dot1dBasePortIfIndex"},
      {&mib::lldpLocPortIdSubtype, "lldpLocPortIdSubtype"},
      {&mib::lldpLocPortId, "lldpLocPortId"},
      {&mib::lldpLocPortDesc, "lldpLocPortDesc"},
      {&mib::entPhysicalContainedIn, "entPhysicalContainedIn"},
      {&mib::entPhysicalClass, "entPhysicalClass"},
      {&mib::entPhysicalParentRelPos, "entPhysicalParentRelPos"},
      {&mib::entPhysicalName, "entPhysicalName"},
      {&mib::entAliasMappingIdentifier, "entAliasMappingIdentifier"},
      {&mib::dot1dTpFdbPort, "dot1dTpFdbPort"},
      {&mib::dot1qTpFdbPort, "dot1qTpFdbPort"},
      {&mib::dot1qVlanCurrentEgressPorts, "dot1qVlanCurrentEgressPorts"},
      {&mib::dot1qVlanCurrentUntaggedPorts, "dot1qVlanCurrentUntaggedPorts"},
      {&mib::dot1qVlanStaticName, "dot1qVlanStaticName"},
      {&mib::dot1qVlanStaticEgressPorts, "dot1qVlanStaticEgressPorts"},
      {&mib::dot1qVlanStaticUntaggedPorts, "dot1qVlanStaticUntaggedPorts"},
      {&mib::dot1qVlanStaticRowStatus, "dot1qVlanStaticRowStatus"},
      {&mib::dot1qPvid, "dot1qPvid"},
      {&mib::pethPsePortAdminEnable, "pethPsePortAdminEnable"},
      {&mib::pethPsePortDetectionStatus, "pethPsePortDetectionStatus"},
      {&mib::vmVlan, "vmVlan"},
      {&mib::vtpVlanState, "vtpVlanState"},
      {&mib::vtpVlanName, "vtpVlanName"},
      {&mib::vtpVlanEditOperation, "vtpVlanEditOperation"},
      {&mib::vtpVlanEditBufferOwner, "vtpVlanEditBufferOwner"},
      {&mib::vtpVlanEditType, "vtpVlanEditType"},
      {&mib::vtpVlanEditName, "vtpVlanEditName"},
      {&mib::vtpVlanEditDot10Said, "vtpVlanEditDot10Said"},
      {&mib::vtpVlanEditRowStatus, "vtpVlanEditRowStatus"},
      {&mib::vlanTrunkPortVlansEnabled, "vlanTrunkPortVlansEnabled"},
      {&mib::vlanTrunkPortNativeVlan, "vlanTrunkPortNativeVlan"},
      {&mib::vlanTrunkPortDynamicState, "vlanTrunkPortDynamicState"},
      {&mib::vlanTrunkPortVlansEnabled2k, "vlanTrunkPortVlansEnabled2k"},
      {&mib::vlanTrunkPortVlansEnabled3k, "vlanTrunkPortVlansEnabled3k"},
      {&mib::vlanTrunkPortVlansEnabled4k, "vlanTrunkPortVlansEnabled4k"},
      {&mib::cpeExtPsePortPwrConsumption, "cpeExtPsePortPwrConsumption"},
  };
  for (const auto& [prefix, name] : kNames) {
    if (oid == *prefix) return std::string(name);  // a column root, as walks name it
    if (oid_starts_with(oid, *prefix) && oid.size() > prefix->size()) {
      return std::string(name) + "." + oid_str(Oid(oid.begin() + static_cast<long>(prefix->size()), oid.end()));
    }
  }
  return oid_str(oid);
}

std::string_view to_string(ValueType type) {
  switch (type) {
    case ValueType::integer: return "INTEGER";
    case ValueType::octet_string: return "OCTET STRING";
    case ValueType::object_id: return "OBJECT IDENTIFIER";
    case ValueType::ip_address: return "IpAddress";
    case ValueType::counter32: return "Counter32";
    case ValueType::gauge32: return "Gauge32";
    case ValueType::timeticks: return "TimeTicks";
    case ValueType::counter64: return "Counter64";
    case ValueType::null: return "NULL";
    case ValueType::no_such_object: return "noSuchObject";
    case ValueType::no_such_instance: return "noSuchInstance";
    case ValueType::end_of_mib_view: return "endOfMibView";
  }
  return "?";
}

std::string Value::str() const {
  switch (type) {
    case ValueType::octet_string: {
      const bool text = !bytes.empty() && std::all_of(bytes.begin(), bytes.end(), [](char c) {
        return c >= 0x20 && c < 0x7f;
      });
      if (text) return "\"" + bytes + "\"";
      static constexpr char kHex[] = "0123456789abcdef";
      std::string out = "0x";
      for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += kHex[b >> 4];
        out += kHex[b & 0xf];
      }
      return out;
    }
    case ValueType::object_id: return oid_str(oid);
    case ValueType::ip_address: {
      std::string out;
      for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i != 0) out += '.';
        out += std::to_string(static_cast<unsigned char>(bytes[i]));
      }
      return out;
    }
    case ValueType::null:
    case ValueType::no_such_object:
    case ValueType::no_such_instance:
    case ValueType::end_of_mib_view: return std::string(to_string(type));
    default: return std::to_string(number);
  }
}

std::string_view to_string(ErrorStatus status) {
  static constexpr std::string_view kNames[] = {
      "noError",      "tooBig",         "noSuchName",       "badValue",
      "readOnly",     "genErr",         "noAccess",         "wrongType",
      "wrongLength",  "wrongEncoding",  "wrongValue",       "noCreation",
      "inconsistentValue", "resourceUnavailable", "commitFailed", "undoFailed",
      "authorizationError", "notWritable", "inconsistentName"};
  const auto i = static_cast<std::size_t>(status);
  return i < std::size(kNames) ? kNames[i] : std::string_view("unknown error-status");
}

std::string describe_set_failure(const std::vector<VarBind>& varbinds, const PduStatus& status,
                                 int port) {
  std::string where;
  if (status.error_index >= 1 && static_cast<std::size_t>(status.error_index) <= varbinds.size()) {
    where = oid_name(varbinds[static_cast<std::size_t>(status.error_index) - 1].oid);
  } else if (varbinds.size() == 1) {
    where = oid_name(varbinds.front().oid);
  } else {
    where = std::to_string(varbinds.size()) + " varbinds";
  }
  std::string out = "set " + where;
  if (port > 0) out += " (port " + std::to_string(port) + ")";
  out += ": ";
  out += to_string(status.status);
  return out;
}

namespace {

Error bad_value(const VarBind& vb, std::string_view port, std::string_view expected) {
  std::string msg = oid_name(vb.oid);
  if (!port.empty()) msg += " (" + std::string(port) + ")";
  if (vb.value.is_exception()) return Error{ErrorCode::snmp, msg + ": " + std::string(to_string(vb.value.type))};
  msg += ": " + std::string(to_string(vb.value.type));
  if (vb.value.type != ValueType::null) msg += " " + vb.value.str();
  return Error{ErrorCode::snmp, msg + " where " + std::string(expected) + " was expected"};
}

}  // namespace

Result<std::int64_t> number_of(const VarBind& vb, std::string_view port) {
  switch (vb.value.type) {
    case ValueType::integer:
    case ValueType::gauge32:
    case ValueType::counter32:
    case ValueType::timeticks: return vb.value.number;
    default: return std::unexpected(bad_value(vb, port, "an integer"));
  }
}

Result<std::string> octets_of(const VarBind& vb, std::string_view port) {
  if (vb.value.type == ValueType::octet_string) return vb.value.bytes;
  return std::unexpected(bad_value(vb, port, "an OCTET STRING"));
}

Result<void> set_checked(SnmpSession& session, const std::vector<VarBind>& varbinds, int port) {
  auto status = session.set(varbinds);
  if (!status) return std::unexpected(status.error());
  if (!status->ok()) return fail(ErrorCode::snmp, describe_set_failure(varbinds, *status, port));
  return {};
}

Result<std::vector<std::vector<VarBind>>> walk_columns(SnmpSession& session,
                                                       const std::vector<Oid>& roots,
                                                       int max_repetitions, int max_rows) {
  std::vector<std::vector<VarBind>> out(roots.size());
  std::vector<Oid> cursor = roots;
  std::vector<bool> done(roots.size(), false);
  for (int round = 0; round <= max_rows; ++round) {
    std::vector<std::size_t> active;
    std::vector<Oid> request;
    for (std::size_t i = 0; i < roots.size(); ++i) {
      if (!done[i]) {
        active.push_back(i);
        request.push_back(cursor[i]);
      }
    }
    if (active.empty()) return out;
    auto reply = session.get_bulk(request, 0, max_repetitions);
    if (!reply) return std::unexpected(reply.error().with_context("walk " + oid_name(roots[active[0]])));
    if (reply->empty()) return fail(ErrorCode::snmp, "walk " + oid_name(roots[active[0]]) + ": empty response");
    for (std::size_t k = 0; k < reply->size(); ++k) {
      const std::size_t col = active[k % active.size()];
      if (done[col]) continue;
      VarBind& vb = (*reply)[k];
      if (vb.value.is_exception() || !oid_starts_with(vb.oid, roots[col]) || vb.oid.size() == roots[col].size()) {
        done[col] = true;
        continue;
      }
      if (!(cursor[col] < vb.oid)) {
        return fail(ErrorCode::snmp, "walk " + oid_name(roots[col]) + ": agent returned " +
                                         oid_str(vb.oid) + " out of order");
      }
      cursor[col] = vb.oid;
      out[col].push_back(std::move(vb));
      if (std::ssize(out[col]) > max_rows) {
        return fail(ErrorCode::snmp, "walk " + oid_name(roots[col]) + ": more than " +
                                         std::to_string(max_rows) + " rows");
      }
    }
  }
  return fail(ErrorCode::snmp, "walk: too many rounds");
}

std::chrono::steady_clock::time_point SystemClock::now() { return std::chrono::steady_clock::now(); }

void SystemClock::sleep_for(std::chrono::milliseconds duration) {
  std::this_thread::sleep_for(duration);
}

Result<std::vector<VarBind>> OneVarbindPerPdu::get(const std::vector<Oid>& oids) {
  std::vector<VarBind> out;
  for (const auto& oid : oids) {
    auto one = m_inner.get({oid});
    if (!one) return std::unexpected(one.error());
    out.insert(out.end(), one->begin(), one->end());
  }
  return out;
}

Result<std::vector<VarBind>> OneVarbindPerPdu::get_next(const std::vector<Oid>& oids) {
  std::vector<VarBind> out;
  for (const auto& oid : oids) {
    auto one = m_inner.get_next({oid});
    if (!one) return std::unexpected(one.error());
    out.insert(out.end(), one->begin(), one->end());
  }
  return out;
}

Result<std::vector<VarBind>> OneVarbindPerPdu::get_bulk(const std::vector<Oid>& oids, int,
                                                        int) {
  return get_next(oids);
}

Result<PduStatus> OneVarbindPerPdu::set(const std::vector<VarBind>& varbinds) {
  for (std::size_t i = 0; i < varbinds.size(); ++i) {
    auto status = m_inner.set({varbinds[i]});
    if (!status) return status;
    if (!status->ok()) return PduStatus{status->status, static_cast<int>(i) + 1};
  }
  return PduStatus{};
}

}  // namespace picluster::switchctl
