// A real vde_switch in a temporary folder, driven through VdeSwitch: the VLAN membership the lab
// programs is the membership the switch reports back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "lab/shelf/process.hpp"
#include "lab/shelf/vde_switch.hpp"

namespace picluster::lab {
namespace {

class VdeSwitchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::filesystem::temp_directory_path() / ("lab-vde-" + std::to_string(getpid()));
    std::filesystem::create_directories(m_dir);
    m_paths = {m_dir / "ctl", m_dir / "mgmt", m_dir / "pid"};
    auto sw = VdeSwitch::start(m_paths, 24);
    ASSERT_TRUE(sw) << sw.error().message;
    m_switch.emplace(std::move(*sw));
  }
  void TearDown() override {
    if (m_switch) {
      EXPECT_TRUE(m_switch->stop());
    }
    std::filesystem::remove_all(m_dir);
  }
  const VlanInfo* find(const std::vector<VlanInfo>& all, int vlan) {
    for (const auto& v : all) {
      if (v.vlan == vlan) return &v;
    }
    return nullptr;
  }
  std::filesystem::path m_dir;
  VdeSwitchPaths m_paths;
  std::optional<VdeSwitch> m_switch;
};

TEST_F(VdeSwitchTest, AccessAndTrunkMembershipReadsBack) {
  auto& sw = *m_switch;
  ASSERT_TRUE(sw.create_vlan(10));
  ASSERT_TRUE(sw.create_vlan(10)) << "creating an existing VLAN is not an error";
  ASSERT_TRUE(sw.create_vlan(131));
  ASSERT_TRUE(sw.set_untagged(1, 10));
  ASSERT_TRUE(sw.add_tagged(131, 1));
  ASSERT_TRUE(sw.add_tagged(10, 24));
  ASSERT_TRUE(sw.add_tagged(131, 24));
  auto all = sw.vlans();
  ASSERT_TRUE(all) << all.error().message;
  const auto* v10 = find(*all, 10);
  const auto* v131 = find(*all, 131);
  ASSERT_NE(v10, nullptr);
  ASSERT_NE(v131, nullptr);
  EXPECT_EQ(v10->members, (std::vector<VlanMember>{{1, false}, {24, true}}));
  EXPECT_EQ(v131->members, (std::vector<VlanMember>{{1, true}, {24, true}}));
}

TEST_F(VdeSwitchTest, RemovingMembershipAndVlans) {
  auto& sw = *m_switch;
  ASSERT_TRUE(sw.create_vlan(11));
  ASSERT_TRUE(sw.add_tagged(11, 24));
  auto busy = sw.remove_vlan(11);
  ASSERT_FALSE(busy) << "a VLAN with ports cannot be removed";
  EXPECT_NE(busy.error().message.find("vlan/remove 11"), std::string::npos) << busy.error().message;
  ASSERT_TRUE(sw.remove_tagged(11, 24));
  ASSERT_TRUE(sw.remove_tagged(11, 24)) << "removing a non-member is not an error";
  ASSERT_TRUE(sw.remove_vlan(11));
  auto all = sw.vlans();
  ASSERT_TRUE(all);
  EXPECT_EQ(find(*all, 11), nullptr);
}

TEST_F(VdeSwitchTest, ErrorsNameTheCommandAndStatus) {
  auto r = m_switch->set_untagged(1, 99);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "vde_switch: port/setvlan 1 99: No such device or address (1006)");
}

TEST_F(VdeSwitchTest, EmptyMacTableAndStop) {
  auto fdb = m_switch->fdb();
  ASSERT_TRUE(fdb) << fdb.error().message;
  EXPECT_TRUE(fdb->empty());
  auto found = m_switch->find_mac("52:54:00:00:00:01");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
  const auto pid = m_switch->pid();
  ASSERT_TRUE(pid);
  ASSERT_TRUE(m_switch->stop());
  EXPECT_FALSE(process_matches(*pid, "vde_switch"));
  m_switch.reset();
}

TEST_F(VdeSwitchTest, SecondStartOnSamePathsIsRefused) {
  auto again = VdeSwitch::start(m_paths, 24);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
}

}  // namespace
}  // namespace picluster::lab
