#pragma once
// Numeric OIDs of every object the simulator serves, checked against the MIB texts:
// SNMPv2-MIB/IF-MIB (RFC 3418/2863), BRIDGE-MIB (RFC 4188), Q-BRIDGE-MIB (RFC 4363),
// POWER-ETHERNET-MIB (RFC 3621), CISCO-VTP-MIB, CISCO-VLAN-MEMBERSHIP-MIB,
// CISCO-POWER-ETHERNET-EXT-MIB. Table entries are given without their column number.

#include "lab/switchsim/snmp_types.hpp"

namespace picluster::switchsim::oids {

// SNMPv2-MIB system group and IF-MIB.
inline const Oid sys_descr{1, 3, 6, 1, 2, 1, 1, 1, 0};
inline const Oid sys_object_id{1, 3, 6, 1, 2, 1, 1, 2, 0};
inline const Oid sys_uptime{1, 3, 6, 1, 2, 1, 1, 3, 0};
inline const Oid sys_name{1, 3, 6, 1, 2, 1, 1, 5, 0};
inline const Oid if_number{1, 3, 6, 1, 2, 1, 2, 1, 0};
inline const Oid if_entry{1, 3, 6, 1, 2, 1, 2, 2, 1};          // .1 ifIndex .2 ifDescr .3 ifType
                                                               // .5 ifSpeed .7 admin .8 oper
inline const Oid if_x_entry{1, 3, 6, 1, 2, 1, 31, 1, 1, 1};    // .1 ifName

// LLDP-MIB (IEEE 802.1AB) lldpLocPortTable, indexed by lldpLocPortNum: .2 lldpLocPortIdSubtype
// .3 lldpLocPortId .4 lldpLocPortDesc. Outside 1.3.6.1: the agent registers 1.0.8802 too.
inline const Oid lldp_loc_port_entry{1, 0, 8802, 1, 1, 2, 1, 3, 7, 1};

// ENTITY-MIB (RFC 6933): entPhysicalTable (.2 descr .4 containedIn .5 class .6 parentRelPos
// .7 name, index entPhysicalIndex) and entAliasMappingTable (.2 identifier, index
// entPhysicalIndex.entAliasLogicalIndexOrZero).
inline const Oid ent_physical_entry{1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1};
inline const Oid ent_alias_mapping_entry{1, 3, 6, 1, 2, 1, 47, 1, 3, 2, 1};
inline const Oid if_index_column{1, 3, 6, 1, 2, 1, 2, 2, 1, 1};

// BRIDGE-MIB.
inline const Oid dot1d_base_bridge_address{1, 3, 6, 1, 2, 1, 17, 1, 1, 0};
inline const Oid dot1d_base_num_ports{1, 3, 6, 1, 2, 1, 17, 1, 2, 0};
inline const Oid dot1d_base_type{1, 3, 6, 1, 2, 1, 17, 1, 3, 0};
inline const Oid dot1d_base_port_entry{1, 3, 6, 1, 2, 1, 17, 1, 4, 1};  // .1 port .2 ifIndex
inline const Oid dot1d_tp_fdb_entry{1, 3, 6, 1, 2, 1, 17, 4, 3, 1};     // .1 addr .2 port .3 status

// Q-BRIDGE-MIB.
inline const Oid q_bridge{1, 3, 6, 1, 2, 1, 17, 7};
inline const Oid dot1q_vlan_version_number{1, 3, 6, 1, 2, 1, 17, 7, 1, 1, 1, 0};
inline const Oid dot1q_max_vlan_id{1, 3, 6, 1, 2, 1, 17, 7, 1, 1, 2, 0};
inline const Oid dot1q_max_supported_vlans{1, 3, 6, 1, 2, 1, 17, 7, 1, 1, 3, 0};
inline const Oid dot1q_num_vlans{1, 3, 6, 1, 2, 1, 17, 7, 1, 1, 4, 0};
inline const Oid dot1q_gvrp_status{1, 3, 6, 1, 2, 1, 17, 7, 1, 1, 5, 0};
inline const Oid dot1q_fdb_entry{1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 1, 1};     // .2 dynamic count
inline const Oid dot1q_tp_fdb_entry{1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1};  // .2 port .3 status
inline const Oid dot1q_vlan_num_deletes{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 1, 0};
inline const Oid dot1q_vlan_current_entry{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1};
inline const Oid dot1q_vlan_static_entry{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 3, 1};
inline const Oid dot1q_port_vlan_entry{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 5, 1};  // .1 dot1qPvid

// dot1qVlanStaticTable columns.
constexpr std::uint32_t static_name = 1;
constexpr std::uint32_t static_egress = 2;
constexpr std::uint32_t static_forbidden = 3;
constexpr std::uint32_t static_untagged = 4;
constexpr std::uint32_t static_row_status = 5;

// POWER-ETHERNET-MIB.
inline const Oid peth_pse_port_entry{1, 3, 6, 1, 2, 1, 105, 1, 1, 1};  // .3 admin .6 detection
                                                                       // .10 classification
inline const Oid peth_main_pse_entry{1, 3, 6, 1, 2, 1, 105, 1, 3, 1, 1};  // .2 power .3 oper
                                                                          // .4 consumption
// The simulator's own column (net-snmp's experimental playpen arc): power drawn per PSE port in
// milliwatts, indexed like pethPsePortTable. Served in both modes.
inline const Oid sim_pse_port_power_mw{1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 105, 1, 1};
inline const Oid sim_object_id{1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 1};
inline const Oid sim_cisco_object_id{1, 3, 6, 1, 4, 1, 9, 1, 9999};

// CISCO-VTP-MIB (management domain 1 only).
inline const Oid vtp_vlan_entry{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 3, 1, 1};   // .2 state .3 type
                                                                           // .4 name .5 mtu
inline const Oid vtp_edit_control_entry{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 4, 1, 1};  // .1 op
                                                                                  // .2 apply st.
                                                                                  // .3 owner
inline const Oid vtp_vlan_edit_entry{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 4, 2, 1};  // .2 state .3 type
                                                                              // .4 name .11 rs
inline const Oid vlan_trunk_port_entry{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 6, 1, 1};
// vlanTrunkPortTable columns.
constexpr std::uint32_t trunk_domain = 2;
constexpr std::uint32_t trunk_encapsulation = 3;
constexpr std::uint32_t trunk_vlans_enabled = 4;  // VLANs 0..1023
constexpr std::uint32_t trunk_native_vlan = 5;
constexpr std::uint32_t trunk_row_status = 6;
constexpr std::uint32_t trunk_dynamic_state = 13;
constexpr std::uint32_t trunk_dynamic_status = 14;
constexpr std::uint32_t trunk_vlans_enabled_2k = 17;  // 1024..2047
constexpr std::uint32_t trunk_vlans_enabled_3k = 18;  // 2048..3071
constexpr std::uint32_t trunk_vlans_enabled_4k = 19;  // 3072..4095

// CISCO-VLAN-MEMBERSHIP-MIB vmMembershipTable, indexed by ifIndex.
inline const Oid vm_membership_entry{1, 3, 6, 1, 4, 1, 9, 9, 68, 1, 2, 2, 1};  // .1 type .2 vmVlan
                                                                                // .3 port status
// CISCO-POWER-ETHERNET-EXT-MIB cpeExtPsePortTable (augments pethPsePortEntry).
inline const Oid cpe_ext_pse_port_entry{1, 3, 6, 1, 4, 1, 9, 9, 402, 1, 2, 1};  // .1 enable
                                                                                // .9 consumption

}  // namespace picluster::switchsim::oids
