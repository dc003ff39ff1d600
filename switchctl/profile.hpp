#pragma once
// Vendor profiles: how one family of switches stores VLAN membership and how to change it.
// "qbridge": Q-BRIDGE-MIB (RFC 4363) static VLAN table + dot1qPvid, PoE via POWER-ETHERNET-MIB.
// "cisco": Cisco IOS access switches; a Pi port becomes an 802.1Q trunk whose native VLAN is the
// Pi's storage VLAN and whose allowed VLANs are {storage, public} (CISCO-VTP-MIB), VLANs are
// created through the VTP edit buffer, power drawn comes from CISCO-POWER-ETHERNET-EXT-MIB.
// The port map and PoE admin/detection (RFC 3621) are read the same way for both.

#include <memory>
#include <string_view>

#include "switchctl/state.hpp"

namespace picluster::switchctl {

class VendorProfile {
 public:
  virtual ~VendorProfile() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  // Fills VLANs and port membership (and profile-specific PoE data) into state; state.map and
  // state.poe are already read.
  virtual Result<void> read(SnmpSession& session, SwitchState& state) const = 0;
  // The port's PVID and VLAN membership in profile-neutral terms.
  [[nodiscard]] virtual PortView view(const SwitchState& state, const PortEntry& port) const = 0;
  // Pure: the SETs that bring the ports in `desired` from `actual` to what is desired, touching
  // nothing that belongs to other ports. Fails when a desired port is missing from the map.
  [[nodiscard]] virtual Result<Plan> plan(const Desired& desired, const SwitchState& actual) const = 0;
  // Pure: the SETs that put release.port back to the switch default (see Release) as one
  // PortChange, then, when release.drop_vlan and the VLAN exists, its deletion in the postlude.
  // Empty when the switch is already there. Touches no other port's membership.
  [[nodiscard]] virtual Result<Plan> plan_release(const Release& release, const SwitchState& actual) const = 0;
};

// nullptr for an unknown name.
std::unique_ptr<VendorProfile> make_profile(std::string_view name);

// Reads the port map (with inventory overrides) and PoE admin/detection status. stack_member and
// numbering are switch.stack_member and switch.numbering (see build_port_map).
Result<SwitchState> read_common(SnmpSession& session,
                                const std::map<int, inventory::PortMapOverride>& overrides, int stack_member = 1,
                                std::string_view numbering = "auto");

// read_common with the shelf's overrides (port_overrides), stack member and numbering. An override the
// switch cannot satisfy (an interface name it does not list) is ErrorCode::invalid_inventory
// naming the shelf and the inventory field.
Result<SwitchState> read_shelf_ports(SnmpSession& session, const inventory::Shelf& shelf);

// Reads the forwarding database: dot1qTpFdbTable, or dot1dTpFdbTable when that is empty.
Result<std::vector<LearnedMac>> read_fdb(SnmpSession& session, const PortMap& map);

// Whether the agent implements a table column that a walk found empty: a GET of an instance that
// does not exist (the column and `index_len` zeros) answers noSuchInstance when the object is
// implemented (served, no rows) and noSuchObject when it is not (RFC 3416 4.2.1). `said` is what
// the GET answered, for messages ("GET dot1qTpFdbPort.0.0.0.0.0.0.0: noSuchObject").
struct ColumnProbe {
  bool served = false;
  std::string said;
};
Result<ColumnProbe> probe_column(SnmpSession& session, const Oid& column, std::size_t index_len);

// The forwarding database and whether any FDB table is served (a served, empty table is "no MAC
// learned"; no table served is "could not read"). `tried` says what was asked, for the error.
struct FdbRead {
  std::vector<LearnedMac> learned;
  bool served = false;
  std::vector<std::string> tried;
};
Result<FdbRead> read_fdb_tables(SnmpSession& session, const PortMap& map);
// read_fdb_tables in the default context only (no per-VLAN contexts).
Result<FdbRead> read_fdb_tables_default(SnmpSession& session, const PortMap& map);

// The varbind that switches PoE on a port on or off (pethPsePortAdminEnable).
VarBind poe_admin_varbind(const PortEntry& port, bool on);

}  // namespace picluster::switchctl
