#include "lab/switchsim/set_transaction.hpp"

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace picluster::switchsim {
namespace {

using namespace testing;

class QBridgeSet : public ::testing::Test {
 protected:
  SwitchState state = SwitchState::make_default(8);
  Knobs knobs;
  std::expected<SwitchState, SetFailure> set(const std::vector<VarBind>& vbs) {
    return try_set(state, knobs, Mode::qbridge, vbs);
  }
};

TEST_F(QBridgeSet, CreateAndGoWithNameAndPortsInOnePdu) {
  // Columns before the RowStatus in the PDU: order must not matter.
  const auto after = set({vb(static_col(1, 100), Value::octets("pi01-storage")),
                          vb(static_col(2, 100), bytes({0x81})),
                          vb(static_col(4, 100), bytes({0x80})),
                          vb(static_col(5, 100), Value::integer(4))});
  ASSERT_TRUE(after) << after.error().why;
  const Vlan& v = after->vlans.at(100);
  EXPECT_EQ(v.name, "pi01-storage");
  EXPECT_EQ(v.egress, (std::set<int>{1, 8}));
  EXPECT_EQ(v.untagged, (std::set<int>{1}));
  EXPECT_EQ(v.status, RowStatus::active);
}

TEST_F(QBridgeSet, FailingLastVarbindChangesNothing) {
  const auto after = set({vb(static_col(5, 100), Value::integer(4)),
                          vb(poe_admin_oid(2), Value::integer(2)),
                          vb(pvid_oid(1), Value::gauge(100)),
                          vb(static_col(2, 100), bytes({0x80, 0x40}))});  // port 10 on 8 ports
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().index, 3U);
  EXPECT_EQ(after.error().status, SnmpStatus::wrong_value);
  EXPECT_EQ(state, SwitchState::make_default(8));  // the input is never touched
}

TEST_F(QBridgeSet, CreateAndWaitThenActivate) {
  auto waiting = set({vb(static_col(5, 20), Value::integer(5))});
  ASSERT_TRUE(waiting);
  EXPECT_EQ(waiting->vlans.at(20).status, RowStatus::not_in_service);
  state = *waiting;
  auto active = set({vb(static_col(1, 20), Value::octets("x")), vb(static_col(5, 20), Value::integer(1))});
  ASSERT_TRUE(active);
  EXPECT_EQ(active->vlans.at(20).status, RowStatus::active);
}

TEST_F(QBridgeSet, DestroyRemovesTheRowAndCounts) {
  state.vlans[20] = Vlan{"x", {}, {}, {}, RowStatus::active};
  auto after = set({vb(static_col(5, 20), Value::integer(6))});
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->vlans.contains(20));
  EXPECT_EQ(after->vlan_deletes, 1U);
  // Destroying a missing row is not an error (RFC 2579).
  EXPECT_TRUE(set({vb(static_col(5, 33), Value::integer(6))}));
}

TEST_F(QBridgeSet, RowStatusRules) {
  EXPECT_EQ(set({vb(static_col(5, 1), Value::integer(4))}).error().status, SnmpStatus::inconsistent_value);
  EXPECT_EQ(set({vb(static_col(5, 1), Value::integer(6))}).error().status, SnmpStatus::inconsistent_value);
  EXPECT_EQ(set({vb(static_col(5, 20), Value::integer(1))}).error().status, SnmpStatus::inconsistent_value);
  EXPECT_EQ(set({vb(static_col(5, 20), Value::integer(3))}).error().status, SnmpStatus::wrong_value);
  EXPECT_EQ(set({vb(static_col(5, 4095), Value::integer(4))}).error().status, SnmpStatus::no_creation);
  EXPECT_EQ(set({vb(static_col(1, 20), Value::octets("x"))}).error().status, SnmpStatus::no_creation);
  EXPECT_EQ(set({vb(static_col(5, 20), Value::octets("x"))}).error().status, SnmpStatus::wrong_type);
}

TEST_F(QBridgeSet, CrossObjectRulesBlameTheVarbindThatBrokeThem) {
  auto untagged_only = set({vb(static_col(5, 20), Value::integer(4)), vb(static_col(4, 20), bytes({0x80}))});
  ASSERT_FALSE(untagged_only);
  EXPECT_EQ(untagged_only.error().status, SnmpStatus::inconsistent_value);
  EXPECT_EQ(untagged_only.error().index, 1U);

  auto pvid_missing = set({vb(pvid_oid(3), Value::gauge(77))});
  ASSERT_FALSE(pvid_missing);
  EXPECT_EQ(pvid_missing.error().status, SnmpStatus::inconsistent_value);

  state.vlans[20] = Vlan{"x", {3}, {3}, {}, RowStatus::active};
  state.port(3).pvid = 20;
  auto destroy_in_use = set({vb(static_col(5, 20), Value::integer(6))});
  ASSERT_FALSE(destroy_in_use);
  EXPECT_EQ(destroy_in_use.error().status, SnmpStatus::inconsistent_value);
  // ...but moving the PVID away in the same PDU makes it fine.
  EXPECT_TRUE(set({vb(static_col(5, 20), Value::integer(6)), vb(pvid_oid(3), Value::gauge(1))}));
}

TEST_F(QBridgeSet, PvidTypeAndRange) {
  EXPECT_EQ(set({vb(pvid_oid(1), Value::integer(1))}).error().status, SnmpStatus::wrong_type);
  EXPECT_EQ(set({vb(pvid_oid(1), Value::gauge(0))}).error().status, SnmpStatus::wrong_value);
  EXPECT_EQ(set({vb(pvid_oid(9), Value::gauge(1))}).error().status, SnmpStatus::no_creation);
}

TEST_F(QBridgeSet, StrictPvidNeedsPriorUntaggedMembership) {
  knobs.strict_pvid = true;
  const std::vector<VarBind> together{vb(static_col(5, 20), Value::integer(4)),
                                      vb(static_col(2, 20), bytes({0x20})),
                                      vb(static_col(4, 20), bytes({0x20})),
                                      vb(pvid_oid(3), Value::gauge(20))};
  auto refused = set(together);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, SnmpStatus::inconsistent_value);
  EXPECT_EQ(refused.error().index, 3U);
  knobs.strict_pvid = false;
  auto first = set({together.begin(), together.end() - 1});
  ASSERT_TRUE(first);
  state = *first;
  knobs.strict_pvid = true;
  auto second = set({together.back()});
  ASSERT_TRUE(second) << second.error().why;
  EXPECT_EQ(second->port(3).pvid, 20);
}

TEST_F(QBridgeSet, BridgePortOffsetAppliesToPortListsAndPvid) {
  knobs.bridge_port_offset = 8;  // bridge ports 9..16
  auto after = set({vb(static_col(5, 20), Value::integer(4)),
                    vb(static_col(2, 20), bytes({0x00, 0x80})),  // bridge port 9 = front 1
                    vb(pvid_oid(9), Value::gauge(1))});
  ASSERT_TRUE(after) << after.error().why;
  EXPECT_EQ(after->vlans.at(20).egress, (std::set<int>{1}));
  // Bridge port 1 does not exist on this switch.
  EXPECT_EQ(set({vb(static_col(1, 1), Value::octets("x")), vb(static_col(2, 1), bytes({0x80}))}).error().status,
            SnmpStatus::wrong_value);
}

TEST_F(QBridgeSet, ReadOnlyAndMissingObjects) {
  EXPECT_EQ(set({vb("1.3.6.1.2.1.1.1.0", Value::octets("x"))}).error().status, SnmpStatus::not_writable);
  EXPECT_EQ(set({vb("1.3.6.1.2.1.17.7.1.4.2.1.4.0.1", Value::octets("x"))}).error().status,
            SnmpStatus::not_writable);
  EXPECT_EQ(set({vb("1.3.6.1.4.1.99.1", Value::integer(1))}).error().status, SnmpStatus::no_creation);
}

TEST_F(QBridgeSet, PoeAdmin) {
  auto off = set({vb(poe_admin_oid(4), Value::integer(2))});
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->port(4).poe_enabled);
  EXPECT_EQ(set({vb(poe_admin_oid(4), Value::integer(0))}).error().status, SnmpStatus::wrong_value);
  EXPECT_EQ(set({vb("1.3.6.1.2.1.105.1.1.1.3.2.4", Value::integer(1))}).error().status, SnmpStatus::no_creation);
}

TEST_F(QBridgeSet, FailKnobRefusesMatchingOids) {
  knobs.fail_set.push_back({O("1.3.6.1.2.1.17.7.1.4.5.1.1"), SnmpStatus::resource_unavailable});
  auto after = set({vb(poe_admin_oid(4), Value::integer(2)), vb(pvid_oid(2), Value::gauge(1))});
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().index, 1U);
  EXPECT_EQ(after.error().status, SnmpStatus::resource_unavailable);
}

}  // namespace
}  // namespace picluster::switchsim
