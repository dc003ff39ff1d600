#include <gtest/gtest.h>

#include "helpers.hpp"
#include "lab/switchsim/port_list.hpp"

namespace picluster::switchsim {
namespace {

using namespace testing;

const std::string k_edit_op = "1.3.6.1.4.1.9.9.46.1.4.1.1.1.1";
std::string edit_col(int column, int vid) {
  return "1.3.6.1.4.1.9.9.46.1.4.2.1." + std::to_string(column) + ".1." + std::to_string(vid);
}
std::string trunk_col(int column, int if_index) {
  return "1.3.6.1.4.1.9.9.46.1.6.1.1." + std::to_string(column) + "." + std::to_string(if_index);
}

class CiscoSet : public ::testing::Test {
 protected:
  SwitchState state = SwitchState::make_default(8);
  Knobs knobs;
  std::expected<SwitchState, SetFailure> set(const std::vector<VarBind>& vbs) {
    return try_set(state, knobs, Mode::cisco, vbs);
  }
  void create_vlans(std::initializer_list<int> vids) {
    auto copied = set({vb(k_edit_op, Value::integer(2))});
    ASSERT_TRUE(copied);
    state = *copied;
    for (int vid : vids) {
      std::string name = "v";
      name += std::to_string(vid);
      auto row = set({vb(edit_col(11, vid), Value::integer(4)), vb(edit_col(4, vid), Value::octets(name))});
      ASSERT_TRUE(row) << row.error().why;
      state = *row;
    }
    auto applied = set({vb(k_edit_op, Value::integer(3)), vb(k_edit_op, Value::integer(4))});
    ASSERT_TRUE(applied) << applied.error().why;
    state = *applied;
  }
};

TEST_F(CiscoSet, VtpEditBufferCreatesVlans) {
  create_vlans({10, 131});
  EXPECT_EQ(state.vlans.at(10).name, "v10");
  EXPECT_EQ(state.vlans.at(131).status, RowStatus::active);
  EXPECT_FALSE(state.vtp_edit);  // released
  const MibMap m = render_mib(state, knobs, Mode::cisco, {});
  EXPECT_EQ(m.at(O("1.3.6.1.4.1.9.9.46.1.3.1.1.4.1.131")), Value::octets("v131"));
}

TEST_F(CiscoSet, EditingWithoutABufferIsRefused) {
  auto after = set({vb(edit_col(11, 10), Value::integer(4))});
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().status, SnmpStatus::inconsistent_value);
  EXPECT_EQ(set({vb(k_edit_op, Value::integer(3))}).error().status, SnmpStatus::inconsistent_value);
}

TEST_F(CiscoSet, PiPortBecomesATrunkWithNativeStorageVlan) {
  create_vlans({10, 131});
  auto after = set({vb(trunk_col(13, 3), Value::integer(1)),
                    vb(trunk_col(5, 3), Value::integer(10)),
                    vb(trunk_col(4, 3), Value::octets(encode_vlan_bitmap({10, 131}, 0, 128))),
                    vb(trunk_col(17, 3), Value::octets(std::string(128, '\0')))});
  ASSERT_TRUE(after) << after.error().why;
  EXPECT_EQ(membership(*after, 3, Mode::cisco), (PortMembership{10, {10}, {131}}));
  EXPECT_EQ(set({vb(trunk_col(4, 3), Value::octets(std::string(129, '\0')))}).error().status,
            SnmpStatus::wrong_length);
}

TEST_F(CiscoSet, AccessVlanMustExist) {
  create_vlans({10});
  auto ok = set({vb("1.3.6.1.4.1.9.9.68.1.2.2.1.2.5", Value::integer(10))});
  ASSERT_TRUE(ok);
  EXPECT_EQ(membership(*ok, 5, Mode::cisco), (PortMembership{10, {10}, {}}));
  EXPECT_EQ(set({vb("1.3.6.1.4.1.9.9.68.1.2.2.1.2.5", Value::integer(99))}).error().status,
            SnmpStatus::inconsistent_value);
}

TEST_F(CiscoSet, CpeExtEnableSwitchesPoe) {
  auto off = set({vb("1.3.6.1.4.1.9.9.402.1.2.1.1.1.2", Value::integer(4))});
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->port(2).poe_enabled);
}

TEST_F(CiscoSet, QBridgeIsNotServedInCiscoMode) {
  EXPECT_EQ(set({vb(pvid_oid(1), Value::gauge(1))}).error().status, SnmpStatus::no_creation);
}

}  // namespace
}  // namespace picluster::switchsim
