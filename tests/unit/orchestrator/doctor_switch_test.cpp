// doctor's switch checks against the fake agent: the fields the vendor work added (issue 12).
#include <gtest/gtest.h>

#include "orchestrator/doctor.hpp"
#include "tests/unit/switchctl/fake_snmp.hpp"

namespace picluster::orchestrator {
namespace {

const Check* find(const std::vector<Check>& checks, const std::string& name) {
  for (const auto& c : checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

inventory::Shelf cisco_shelf(int native_vlan) {
  auto inv = inventory::make_default("shelf1");
  auto shelf = inv.shelves.front();
  shelf.switch_.host = "127.0.0.1";
  shelf.switch_.profile = "cisco";
  shelf.fileserver.extra["trunk_native_vlan"] = native_vlan;
  return shelf;
}

// fileserver.trunk_native_vlan naming a VLAN the switch lacks: apply refuses it, doctor said
// nothing about it (every switch check ok).
TEST(DoctorSwitch, ATrunkNativeVlanTheSwitchLacksFailsNamingTheField) {
  auto agent = switchctl::testing::fresh_cisco(24);
  std::vector<Check> checks;
  check_switch(cisco_shelf(2000), agent, false, checks);
  const Check* c = find(checks, "trunk native vlan");
  ASSERT_NE(c, nullptr) << describe(DoctorReport{checks});
  EXPECT_EQ(c->status, CheckStatus::fail);
  EXPECT_EQ(c->detail, "fileserver.trunk_native_vlan: VLAN 2000 does not exist on the switch; apply refuses it");
  EXPECT_NE(c->fix.find("remove fileserver.trunk_native_vlan"), std::string::npos) << c->fix;

  checks.clear();
  check_switch(cisco_shelf(1), agent, false, checks);
  c = find(checks, "trunk native vlan");
  ASSERT_NE(c, nullptr) << describe(DoctorReport{checks});
  EXPECT_EQ(c->status, CheckStatus::ok) << c->detail;
}

}  // namespace
}  // namespace picluster::orchestrator
