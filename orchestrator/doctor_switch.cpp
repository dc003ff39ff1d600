// doctor's switch checks: reachability, the VLAN table (read, and written with --write-test),
// the PoE table and the port map. Reads go through SnmpSession; the only SETs are the write
// test's create and delete of one spare VLAN.

#include <algorithm>
#include <optional>
#include <set>

#include "inventory/vlans.hpp"
#include "orchestrator/doctor.hpp"
#include "switchctl/mib.hpp"
#include "switchctl/profile.hpp"

namespace picluster::orchestrator {
namespace {

namespace mib = switchctl::mib;
using switchctl::Oid;

const Oid kSysUpTime{1, 3, 6, 1, 2, 1, 1, 3, 0};

void add(std::vector<Check>& out, std::string name, CheckStatus status, std::string detail,
         std::string fix = {}) {
  out.push_back({"switch", std::move(name), status, std::move(detail), std::move(fix)});
}

// The last sub-identifier of each row under `column` (VLAN ids, bridge ports).
std::vector<int> row_ids(const std::vector<switchctl::VarBind>& rows, const Oid& column) {
  std::vector<int> ids;
  for (const auto& vb : rows) {
    if (vb.oid.size() == column.size() + 1) ids.push_back(static_cast<int>(vb.oid.back()));
  }
  return ids;
}

bool reachable(const inventory::Shelf& shelf, switchctl::SnmpSession& session,
               std::vector<Check>& out) {
  auto up = session.get({kSysUpTime});
  if (!up) {
    add(out, "reachable", CheckStatus::fail, up.error().message,
        "check switch.host and switch.snmp_port, that SNMP " +
            std::string(inventory::to_string(shelf.switch_.version)) +
            " is enabled on the switch, and the credentials in switch.secrets_file (" +
            shelf.switch_.secrets_file +
            "); a switch ignores a wrong community instead of answering, so it looks like a "
            "timeout");
    return false;
  }
  add(out, "reachable", CheckStatus::ok,
      session.endpoint() + " answers SNMP " + std::string(inventory::to_string(shelf.switch_.version)));
  return true;
}

// Reads the VLAN table and the PVIDs (Q-BRIDGE) or the VTP VLAN table and access VLANs (cisco).
// Returns the VLAN ids the switch has, or nullopt when they cannot be read.
std::optional<std::vector<int>> vlan_table(const inventory::Shelf& shelf,
                                           switchctl::SnmpSession& session,
                                           std::vector<Check>& out) {
  const bool cisco = shelf.switch_.profile == "cisco";
  const Oid& vlans = cisco ? mib::vtpVlanState : mib::dot1qVlanStaticRowStatus;
  const Oid& pvids = cisco ? mib::vmVlan : mib::dot1qPvid;
  const std::string names = cisco ? "vtpVlanState and vmVlan (CISCO-VTP-MIB)"
                                  : "dot1qVlanStaticTable and dot1qPvid (Q-BRIDGE-MIB, RFC 4363)";
  auto cols = switchctl::walk_columns(session, {vlans, pvids});
  if (!cols) {
    add(out, "vlan table", CheckStatus::fail, "reading " + names + ": " + cols.error().message,
        "the switch must let this community/user read " + names);
    return std::nullopt;
  }
  std::vector<int> ids;
  for (const auto& vb : (*cols)[0]) {
    if (vb.oid.size() > vlans.size()) ids.push_back(static_cast<int>(vb.oid.back()));
  }
  const auto ports = row_ids((*cols)[1], pvids);
  if (ids.empty() || ports.empty()) {
    add(out, "vlan table", CheckStatus::fail,
        std::string("the switch shows ") + (ids.empty() ? "no VLANs" : "no port VLANs (PVIDs)") +
            " in " + names,
        cisco ? "use a switch (or SNMP view) that exposes CISCO-VTP-MIB, or profile \"qbridge\""
              : "use a switch (or SNMP view) that exposes Q-BRIDGE-MIB, or profile \"cisco\" for "
                "Cisco IOS");
    return std::nullopt;
  }
  add(out, "vlan table", CheckStatus::ok,
      std::to_string(ids.size()) + " VLANs and " + std::to_string(ports.size()) +
          " port VLANs readable (" + shelf.switch_.profile + ")");
  return ids;
}

// fileserver.trunk_native_vlan (cisco only, checked at load): apply refuses a VLAN the switch lacks.
void trunk_native_check(const inventory::Shelf& shelf, const std::vector<int>& vlans, std::vector<Check>& out) {
  const auto native = inventory::trunk_native_vlan(shelf);
  if (!native) return;
  const int vlan = *native;
  const std::string id = "VLAN " + std::to_string(vlan);
  if (std::find(vlans.begin(), vlans.end(), vlan) != vlans.end()) {
    add(out, "trunk native vlan", CheckStatus::ok, id + " (fileserver.trunk_native_vlan) exists on the switch");
    return;
  }
  add(out, "trunk native vlan", CheckStatus::fail,
      "fileserver.trunk_native_vlan: " + id + " does not exist on the switch; apply refuses it",
      "create " + id + " on the switch, or remove fileserver.trunk_native_vlan (apply then keeps the trunk port's "
      "own native VLAN)");
}

// Creates the spare VLAN and deletes it again (Q-BRIDGE row status createAndGo, destroy).
void write_test(const inventory::Shelf& shelf, switchctl::SnmpSession& session,
                const std::vector<int>& existing, std::vector<Check>& out) {
  if (shelf.switch_.profile == "cisco") {
    add(out, "vlan table writable", CheckStatus::warn,
        "not tested: the write test speaks Q-BRIDGE, this shelf's profile is cisco",
        "check by hand that the VTP edit buffer can be taken with this community");
    return;
  }
  const int vlan = spare_vlan(shelf, existing);
  if (vlan == 0) {
    add(out, "vlan table writable", CheckStatus::warn, "not tested: no spare VLAN id is free",
        "run without --write-test");
    return;
  }
  const auto row = [&](std::int64_t status) {
    return switchctl::VarBind{switchctl::oid_cat(mib::dot1qVlanStaticRowStatus,
                                                 {static_cast<std::uint32_t>(vlan)}),
                              switchctl::Value::integer(status)};
  };
  const std::string fix =
      "give the SNMP community/user write access to dot1qVlanStaticTable and dot1qPvid (the "
      "switch's SNMP view or access group), or use the read-write community in " +
      shelf.switch_.secrets_file;
  if (auto made = switchctl::set_checked(session, {row(mib::kCreateAndGo)}, 0); !made) {
    add(out, "vlan table writable", CheckStatus::fail,
        "creating spare VLAN " + std::to_string(vlan) + ": " + made.error().message, fix);
    return;
  }
  if (auto gone = switchctl::set_checked(session, {row(mib::kDestroy)}, 0); !gone) {
    add(out, "vlan table writable", CheckStatus::fail,
        "created spare VLAN " + std::to_string(vlan) + " but cannot delete it: " +
            gone.error().message,
        "delete VLAN " + std::to_string(vlan) + " on the switch by hand, then fix: " + fix);
    return;
  }
  add(out, "vlan table writable", CheckStatus::ok,
      "created and deleted spare VLAN " + std::to_string(vlan));
}

void port_checks(const inventory::Shelf& shelf, const switchctl::SwitchState& state,
                 std::vector<Check>& out) {
  const auto& map = state.map;
  std::vector<int> front;
  for (const auto& p : map.ports) front.push_back(p.port);
  const std::string have = front.empty() ? "no ports"
                                         : "ports " + std::to_string(front.front()) + "-" +
                                               std::to_string(front.back());
  const int trunk = shelf.fileserver.trunk_port;
  if (map.by_port(trunk) == nullptr) {
    add(out, "trunk port", CheckStatus::fail,
        "fileserver.trunk_port " + std::to_string(trunk) + " is not on the switch (it has " +
            have + ")",
        "set fileserver.trunk_port to the port the fileserver is plugged into, or map it with "
        "switch.port_map");
  } else {
    add(out, "trunk port", CheckStatus::ok,
        "port " + std::to_string(trunk) + " is " + map.by_port(trunk)->if_name);
  }
  std::vector<std::string> unmapped, no_poe;
  for (const auto& pi : shelf.pis) {
    const auto* entry = map.by_port(pi.port);
    if (entry == nullptr) {
      unmapped.push_back(pi.name + " (port " + std::to_string(pi.port) + ")");
    } else if (!entry->has_poe()) {
      no_poe.push_back(pi.name + " (port " + std::to_string(pi.port) + ")");
    }
  }
  const auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (!unmapped.empty()) {
    add(out, "pi ports", CheckStatus::fail, "not on the switch (" + have + "): " + list(unmapped),
        "fix the Pis' ports in the inventory, or map them with switch.port_map");
  } else {
    add(out, "pi ports", CheckStatus::ok,
        std::to_string(shelf.pis.size()) + " Pi ports on the switch (" + have + ")");
  }
  if (map.poe_indexing.empty()) {
    add(out, "poe table", CheckStatus::fail,
        "the switch shows no PoE table (POWER-ETHERNET-MIB pethPsePortTable, RFC 3621): power "
        "on, off and cycle, and watch, cannot work",
        "enable the PoE MIB in the switch's SNMP view, or use a PoE switch that has it");
  } else if (!no_poe.empty()) {
    add(out, "poe table", CheckStatus::fail, "no PoE row for " + list(no_poe),
        "map the ports' PoE rows with switch.port_map (poe_group, poe_port)");
  } else {
    add(out, "poe table", CheckStatus::ok,
        "PoE rows matched to ports by " + map.poe_indexing);
  }
}

}  // namespace

int spare_vlan(const inventory::Shelf& shelf, const std::vector<int>& existing) {
  std::set<int> taken(existing.begin(), existing.end());
  taken.insert(shelf.public_net.vlan);
  for (const auto& pi : shelf.pis) taken.insert(pi.vlan);
  for (int v = 4094; v >= 2; --v) {
    if (v >= shelf.storage.vlan_first && v <= shelf.storage.vlan_last) continue;
    if (!taken.contains(v)) return v;
  }
  return 0;
}

void check_switch(const inventory::Shelf& shelf, switchctl::SnmpSession& session, bool write,
                  std::vector<Check>& out) {
  if (!reachable(shelf, session, out)) return;
  const auto vlans = vlan_table(shelf, session, out);
  if (vlans && write) write_test(shelf, session, *vlans, out);
  if (vlans) trunk_native_check(shelf, *vlans, out);
  auto state = switchctl::read_shelf_ports(session, shelf);
  if (!state) {
    // A forced switch.numbering whose source cannot number the ports, or ENTITY-MIB and LLDP-MIB
    // contradicting each other: the fix is the inventory's numbering, not the switch's view.
    const bool numbering = state.error().message.find("switch.numbering") != std::string::npos;
    add(out, "port map", CheckStatus::fail, state.error().message,
        numbering ? "check the front panel, then set switch.numbering to the source that numbers it right "
                    "(\"auto\", \"entity\", \"lldp\" or \"names\"), or serve the MIB it names"
                  : "the switch must let picluster read IF-MIB ifName and BRIDGE-MIB dot1dBasePortIfIndex, or "
                    "the ports must be mapped with switch.port_map");
    return;
  }
  port_checks(shelf, *state, out);
}

}  // namespace picluster::orchestrator
