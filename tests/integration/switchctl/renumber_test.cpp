// `picluster renumber` against picluster-switchsim with a pre-existing foreign VLAN (issue 12):
// pi02's storage VLAN 11 is the switch's 'cameras' (ports 20, 21, and pi02's own port 2). show
// refuses it and names `picluster renumber pi02`; renumber picks a VLAN that is neither the
// switch's (34 'printers') nor reserved (35), writes the inventory, and switch apply then moves
// port 2 out of VLAN 11 (its previous membership) into the new VLAN, leaving 'cameras' as it was.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace picluster::switchctl::it {
namespace {

nlohmann::json port_row(const nlohmann::json& show, int port) {
  for (const auto& p : show["ports"]) {
    if (p["port"] == port) return p;
  }
  return nullptr;
}

const char* kForeign = R"({"all_ports": {"device": true, "mac": "auto"},
  "initial_vlans": [{"id": 11, "name": "cameras", "untagged": [2, 20, 21]},
                    {"id": 34, "name": "printers", "untagged": [22]}]})";

TEST_F(SwitchSim, RenumberMovesAPiOffAForeignVlanAndApplyTakesItsPortOutOfIt) {
  start(kForeign);
  inv.shelves[0].storage.extra["reserved_vlans"] = nlohmann::ordered_json::array({35});
  save_inventory();
  // show refuses and names the fix
  auto show = pic({"switch", "show", "--json"});
  EXPECT_EQ(show.status, 1) << show.err;
  EXPECT_NE(show.out.find("fix: `picluster renumber pi02` (gives pi02 a free VLAN and adds 11 to "
                          "storage.reserved_vlans), then `picluster apply`"),
            std::string::npos)
      << show.out;
  const std::string before = slurp(dir / "inventory.json");
  // --vlan is checked: another network's, another Pi's, reserved, out of range
  for (const auto& [vlan, why] : std::vector<std::pair<std::string, std::string>>{
           {"34", "VLAN 34 cannot be used: it exists on the switch as another network's VLAN"},
           {"12", "VLAN 12 cannot be used: it is pi03's storage VLAN"},
           {"35", "VLAN 35 cannot be used: it is in storage.reserved_vlans"},
           {"5", "VLAN 5 is outside storage.vlan_range [10, 1009]"}}) {
    auto r = pic({"renumber", "pi02", "--vlan", vlan});
    EXPECT_EQ(r.status, 2) << vlan << r.out << r.err;  // a --vlan that cannot be used: usage error
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
  }
  // dry run: says what it would do, writes nothing
  auto dry = pic({"renumber", "pi02", "--dry-run", "--json"});
  ASSERT_EQ(dry.status, 0) << dry.out << dry.err;
  const auto planned = nlohmann::json::parse(dry.out);
  EXPECT_EQ(planned["old_vlan"], 11);
  EXPECT_EQ(planned["new_vlan"], 36) << dry.out;  // 11 is cameras; 34 printers, 35 reserved
  EXPECT_EQ(slurp(dir / "inventory.json"), before);
  // for real
  auto r = pic({"renumber", "pi02"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("renumbered pi02: VLAN 11 -> 36"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("next: run `picluster apply`: it puts port 2 into VLAN 36 (switch and fileserver VLAN "
                       "interface) and takes it out of VLAN 11, pi02's previous membership (previous_vlan)"),
            std::string::npos)
      << r.out;
  const auto written = nlohmann::json::parse(slurp(dir / "inventory.json"));
  const auto& shelf = written["shelves"][0];
  for (const auto& pi : shelf["pis"]) {
    if (pi["name"] != "pi02") continue;
    EXPECT_EQ(pi["vlan"], 36);
    EXPECT_EQ(pi["previous_vlan"], 11);
  }
  EXPECT_EQ(shelf["storage"]["reserved_vlans"], nlohmann::json::array({35, 11}));
  // apply: port 2 leaves VLAN 11 (previous membership), joins 36; cameras keeps 20 and 21
  auto applied = pic({"switch", "apply"});
  ASSERT_EQ(applied.status, 0) << applied.out << applied.err;
  EXPECT_EQ(walk("1.3.6.1.2.1.17.7.1.4.5.1.1").at("1.3.6.1.2.1.17.7.1.4.5.1.1.2"), "36");
  auto after = pic({"switch", "show", "--json"});
  ASSERT_EQ(after.status, 0) << after.out << after.err;
  const auto j = nlohmann::json::parse(after.out);
  EXPECT_EQ(port_row(j, 2)["untagged"], nlohmann::json::array({36}));
  EXPECT_EQ(port_row(j, 2)["tagged"], nlohmann::json::array({131}));
  EXPECT_EQ(port_row(j, 20)["untagged"], nlohmann::json::array({11}));
  EXPECT_EQ(port_row(j, 21)["untagged"], nlohmann::json::array({11}));
  EXPECT_EQ(port_row(j, 22)["untagged"], nlohmann::json::array({34}));
  EXPECT_EQ(walk("1.3.6.1.2.1.17.7.1.4.3.1.1").at("1.3.6.1.2.1.17.7.1.4.3.1.1.11"), "\"cameras\"");
}

// The switch's VLANs decide what is free: when a configured switch does not answer, renumber
// refuses rather than pick a VLAN that may be another network's.
TEST_F(SwitchSim, RenumberNeedsTheSwitchWhenOneIsConfigured) {
  start(kForeign);
  sim.reset();  // the switch stops answering
  auto r = pic({"renumber", "pi02"});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("renumber: the switch's VLANs are needed to pick a VLAN that is no other network's"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace picluster::switchctl::it
