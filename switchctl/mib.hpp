#pragma once
// Object identifiers this component reads and writes, grouped by MIB. Column OIDs end at the
// column; the row index is appended by callers.

#include "switchctl/snmp.hpp"

namespace picluster::switchctl::mib {

// IF-MIB (RFC 2863)
inline const Oid ifType{1, 3, 6, 1, 2, 1, 2, 2, 1, 3};
inline const Oid ifName{1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1};
// BRIDGE-MIB (RFC 4188)
inline const Oid dot1dBasePortIfIndex{1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2};
inline const Oid dot1dTpFdbPort{1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 2};  // index: MAC (6)
// LLDP-MIB (IEEE 802.1AB) lldpLocPortTable, index lldpLocPortNum
inline const Oid lldpLocPortIdSubtype{1, 0, 8802, 1, 1, 2, 1, 3, 7, 1, 2};
inline const Oid lldpLocPortId{1, 0, 8802, 1, 1, 2, 1, 3, 7, 1, 3};
inline const Oid lldpLocPortDesc{1, 0, 8802, 1, 1, 2, 1, 3, 7, 1, 4};
// ENTITY-MIB (RFC 6933) entPhysicalTable, index entPhysicalIndex; entAliasMappingTable, index
// entPhysicalIndex.entAliasLogicalIndexOrZero, value an OID such as ifIndex.5
inline const Oid entPhysicalContainedIn{1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 4};
inline const Oid entPhysicalClass{1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 5};
inline const Oid entPhysicalParentRelPos{1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 6};
inline const Oid entPhysicalName{1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 7};
inline const Oid entAliasMappingIdentifier{1, 3, 6, 1, 2, 1, 47, 1, 3, 2, 1, 2};
inline const Oid ifIndex{1, 3, 6, 1, 2, 1, 2, 2, 1, 1};
// Q-BRIDGE-MIB (RFC 4363)
inline const Oid dot1qTpFdbPort{1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 2};  // index: fdbId.MAC
inline const Oid dot1qVlanCurrentEgressPorts{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1, 4};
inline const Oid dot1qVlanCurrentUntaggedPorts{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1, 5};
inline const Oid dot1qVlanStaticName{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 3, 1, 1};
inline const Oid dot1qVlanStaticEgressPorts{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 3, 1, 2};
inline const Oid dot1qVlanStaticUntaggedPorts{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 3, 1, 4};
inline const Oid dot1qVlanStaticRowStatus{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 3, 1, 5};
inline const Oid dot1qPvid{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 5, 1, 1};
// POWER-ETHERNET-MIB (RFC 3621), index group.port
inline const Oid pethPsePortAdminEnable{1, 3, 6, 1, 2, 1, 105, 1, 1, 1, 3};
inline const Oid pethPsePortDetectionStatus{1, 3, 6, 1, 2, 1, 105, 1, 1, 1, 6};
// CISCO-VLAN-MEMBERSHIP-MIB, index ifIndex
inline const Oid vmVlan{1, 3, 6, 1, 4, 1, 9, 9, 68, 1, 2, 2, 1, 2};
// CISCO-VTP-MIB
inline const Oid vtpVlanState{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 3, 1, 1, 2};  // index domain.vlan
inline const Oid vtpVlanName{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 3, 1, 1, 4};
inline const Oid vtpVlanEditOperation{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 4, 1, 1, 1};  // index domain
inline const Oid vtpVlanEditBufferOwner{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 4, 1, 1, 3};
inline const Oid vtpVlanEditType{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 4, 2, 1, 3};  // domain.vlan
inline const Oid vtpVlanEditName{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 4, 2, 1, 4};
inline const Oid vtpVlanEditDot10Said{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 4, 2, 1, 6};
inline const Oid vtpVlanEditRowStatus{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 4, 2, 1, 11};
inline const Oid vlanTrunkPortVlansEnabled{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 6, 1, 1, 4};
inline const Oid vlanTrunkPortNativeVlan{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 6, 1, 1, 5};
inline const Oid vlanTrunkPortDynamicState{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 6, 1, 1, 13};
inline const Oid vlanTrunkPortVlansEnabled2k{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 6, 1, 1, 17};
inline const Oid vlanTrunkPortVlansEnabled3k{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 6, 1, 1, 18};
inline const Oid vlanTrunkPortVlansEnabled4k{1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 6, 1, 1, 19};
// CISCO-POWER-ETHERNET-EXT-MIB, index group.port; milliwatts
inline const Oid cpeExtPsePortPwrConsumption{1, 3, 6, 1, 4, 1, 9, 9, 402, 1, 2, 1, 9};

// RowStatus (RFC 2579) and TruthValue values.
inline constexpr std::int64_t kActive = 1;
inline constexpr std::int64_t kCreateAndGo = 4;
inline constexpr std::int64_t kDestroy = 6;
inline constexpr std::int64_t kTrue = 1;
inline constexpr std::int64_t kFalse = 2;

}  // namespace picluster::switchctl::mib
