// Vendor habits of issue 12 against real processes: picluster-switchsim set up with one knob per
// habit (tests/integration/switchctl/habits/NAME.json), and the same switches recorded from the
// simulator with snmprec (habits/NAME.snmprec, see habits/capture.sh) served by Debian's snmpsimd.
// For each: `switch show` is right or its refusal names the cause, and `switch apply --dry-run`
// never plans a foreign VLAN or a misnumbered port. Then power for several Pis and discover.
#include <gtest/gtest.h>

#include "common/text.hpp"
#include "harness.hpp"

namespace picluster::switchctl::it {
namespace {

const fs::path kHabits =
    fs::path(PICLUSTER_SOURCE_DIR) / "tests" / "integration" / "switchctl" / "habits";

nlohmann::json port_of(const nlohmann::json& show, int port) {
  for (const auto& p : show["ports"]) {
    if (p["port"] == port) return p;
  }
  return nullptr;
}

std::set<int> ints(const nlohmann::json& j) { return j.get<std::set<int>>(); }

// What show and apply --dry-run must say for one habit, whoever serves it. `apply` is run only
// where a real switch (the simulator) is behind.
struct Habit {
  std::string name;
  bool cisco = false;
};

// The checks shared by the simulator and the recording: r_show is `switch show --json`, r_plan
// `switch apply --dry-run`, both against the switch set up as habit `name` with pi01..pi08.
void check_habit(const std::string& name, const Output& r_show, const Output& r_plan) {
  SCOPED_TRACE(name);
  ASSERT_FALSE(r_show.out.empty()) << r_show.err;
  const auto show = nlohmann::json::parse(r_show.out);
  const auto problems = show["problems"].dump();
  if (name == "foreign_vlans") {
    EXPECT_EQ(r_show.status, 1) << r_show.err;
    EXPECT_NE(problems.find("VLAN 11 (pi02's storage VLAN) already exists on the switch as "
                            "'cameras' with member port(s) 20, 21"),
              std::string::npos)
        << problems;
    EXPECT_EQ(ints(port_of(show, 20)["untagged"]), std::set<int>{11});
    EXPECT_EQ(ints(port_of(show, 22)["tagged"]), std::set<int>{300});
    EXPECT_NE(r_plan.status, 0);
    EXPECT_NE(r_plan.err.find("'cameras'"), std::string::npos) << r_plan.err;
    EXPECT_EQ(r_plan.out.find("SET"), std::string::npos) << r_plan.out;
  } else if (name == "comma_portlists") {
    EXPECT_EQ(r_show.status, 1) << r_show.err;
    EXPECT_NE(problems.find("comma-separated bridge port numbers"), std::string::npos) << problems;
    EXPECT_EQ(ints(port_of(show, 20)["untagged"]), std::set<int>{300});
    EXPECT_EQ(port_of(show, 20)["pvid"], 300);
    EXPECT_EQ(ints(port_of(show, 21)["tagged"]), std::set<int>{300});
    EXPECT_EQ(ints(port_of(show, 5)["untagged"]), std::set<int>{1});
    EXPECT_NE(r_plan.status, 0);
    EXPECT_NE(r_plan.err.find("comma-separated"), std::string::npos) << r_plan.err;
    EXPECT_EQ(r_plan.out.find("SET"), std::string::npos) << r_plan.out;
  } else if (name == "stray_octets") {
    EXPECT_EQ(r_show.status, 1) << r_show.err;
    EXPECT_NE(problems.find("dot1qVlanStaticEgressPorts.1"), std::string::npos) << problems;
    EXPECT_NE(problems.find("bits for bridge ports 25-32, which the switch does not list"),
              std::string::npos)
        << problems;
    EXPECT_EQ(show["ports"].size(), 24u);
    EXPECT_EQ(ints(port_of(show, 24)["untagged"]), std::set<int>{1});
    EXPECT_NE(r_plan.status, 0);
    EXPECT_EQ(r_plan.out.find("SET"), std::string::npos) << r_plan.out;
  } else if (name == "no_bridge_port_table") {
    // Cisco: mapped by ifIndex; the missing table is named; the plan is for the right ports.
    EXPECT_EQ(r_show.status, 0) << r_show.err;
    EXPECT_EQ(show["ports"].size(), 24u);
    EXPECT_EQ(port_of(show, 5)["if_index"], 5);
    EXPECT_EQ(port_of(show, 5)["if_name"], "gi5");
    EXPECT_EQ(r_plan.status, 0) << r_plan.err;
    EXPECT_NE(r_plan.out.find("# port 1: native VLAN 1 -> 10"), std::string::npos) << r_plan.out;
    EXPECT_NE(r_plan.out.find("vlanTrunkPortNativeVlan.1 = 10"), std::string::npos) << r_plan.out;
    EXPECT_EQ(r_plan.out.find("# port 9:"), std::string::npos) << r_plan.out;
  } else if (name == "cisco_access_trunk") {
    EXPECT_EQ(r_show.status, 0) << r_show.err;
    EXPECT_EQ(port_of(show, 24)["pvid"], 3);
    EXPECT_EQ(r_plan.status, 0) << r_plan.err;
    EXPECT_NE(r_plan.out.find("# port 24: native VLAN 1 -> 3 (its access VLAN)"), std::string::npos)
        << r_plan.out;
    EXPECT_NE(r_plan.out.find("vlanTrunkPortNativeVlan.24 = 3"), std::string::npos) << r_plan.out;
  } else if (name == "zero_based_names") {
    // swp00 is front-panel port 1: no port 0, and port 1's PVID is bridge port 1's.
    EXPECT_EQ(r_show.status, 0) << r_show.err;
    EXPECT_EQ(show["ports"].size(), 24u);
    EXPECT_TRUE(port_of(show, 0).is_null());
    EXPECT_EQ(port_of(show, 1)["if_name"], "swp00");
    EXPECT_EQ(port_of(show, 24)["if_name"], "swp23");
    EXPECT_NE(port_of(show, 1)["numbering"].get<std::string>().find("names start at 0"),
              std::string::npos);
    EXPECT_EQ(r_plan.status, 0) << r_plan.err;
    EXPECT_NE(r_plan.out.find("dot1qPvid.1 = 10\n"), std::string::npos) << r_plan.out;
    EXPECT_NE(r_plan.out.find("dot1qPvid.8 = 17\n"), std::string::npos) << r_plan.out;
    EXPECT_EQ(r_plan.out.find("# port 0:"), std::string::npos) << r_plan.out;
  } else if (name == "stack_module_ports") {
    // gi1/0/N are the front-panel ports; te1/0/k and unit 2's gi2/0/N are left out, not a clash.
    EXPECT_EQ(r_show.status, 0) << r_show.err;
    EXPECT_EQ(show["ports"].size(), 24u);
    EXPECT_EQ(port_of(show, 5)["if_name"], "gi1/0/5");
    std::set<std::string> left;
    for (const auto& l : show["left_out"]) left.insert(l["if_name"].get<std::string>());
    EXPECT_TRUE(left.contains("te1/0/1")) << show["left_out"];
    EXPECT_TRUE(left.contains("gi2/0/5")) << show["left_out"];
    EXPECT_EQ(r_plan.status, 0) << r_plan.err;
    EXPECT_NE(r_plan.out.find("dot1qPvid.5 = 14\n"), std::string::npos) << r_plan.out;
  } else if (name == "lldp_juniper_names") {
    // ge-0/0/00..ge-0/0/23 read like stack unit 0; the switch's LLDP local port table says
    // ge-0/0/00 is front-panel port 1: every port numbered by it, none shifted or left out.
    EXPECT_EQ(r_show.status, 0) << r_show.err;
    EXPECT_EQ(show["ports"].size(), 24u);
    EXPECT_TRUE(port_of(show, 0).is_null());
    EXPECT_EQ(port_of(show, 1)["if_name"], "ge-0/0/00");
    EXPECT_EQ(port_of(show, 24)["if_name"], "ge-0/0/23");
    EXPECT_EQ(port_of(show, 1)["numbering"], "LLDP-MIB lldpLocPortNum 1 ('ge-0/0/00')");
    EXPECT_EQ(r_plan.status, 0) << r_plan.err;
    EXPECT_NE(r_plan.out.find("dot1qPvid.1 = 10\n"), std::string::npos) << r_plan.out;
    EXPECT_NE(r_plan.out.find("dot1qPvid.8 = 17\n"), std::string::npos) << r_plan.out;
    EXPECT_EQ(r_plan.out.find("# port 0:"), std::string::npos) << r_plan.out;
    EXPECT_EQ(r_plan.out.find("# port 9:"), std::string::npos) << r_plan.out;
  } else if (name == "entity_stack") {
    // ENTITY-MIB: a stack of two chassis, member 1 with an uplink module. Port 5 is member 1's
    // entPhysicalParentRelPos 5; te1/0/k sit on the module and gi2/0/N on member 2: left out.
    EXPECT_EQ(r_show.status, 0) << r_show.err;
    EXPECT_EQ(show["ports"].size(), 24u);
    EXPECT_EQ(port_of(show, 5)["if_name"], "gi1/0/5");
    EXPECT_EQ(port_of(show, 5)["if_index"], 5);
    EXPECT_EQ(port_of(show, 5)["numbering"], "ENTITY-MIB entPhysicalParentRelPos 5, member 1 ('gi1/0/5')");
    std::map<std::string, std::string> why;
    for (const auto& l : show["left_out"]) why[l["if_name"].get<std::string>()] = l["why"].get<std::string>();
    EXPECT_EQ(why["te1/0/1"], "left out: module port on 'uplink module' (ENTITY-MIB; name it with if_name in "
                              "switch.port_map)");
    EXPECT_EQ(why["gi2/0/5"], "left out: stack member 2 (ENTITY-MIB), not switch.stack_member 1");
    EXPECT_EQ(r_plan.status, 0) << r_plan.err;
    EXPECT_NE(r_plan.out.find("dot1qPvid.1 = 10\n"), std::string::npos) << r_plan.out;
    EXPECT_NE(r_plan.out.find("dot1qPvid.5 = 14\n"), std::string::npos) << r_plan.out;
    // Never a module port (bridge ports 25, 26) nor a member-2 port (2001..).
    EXPECT_EQ(r_plan.out.find("dot1qPvid.25 "), std::string::npos) << r_plan.out;
    EXPECT_EQ(r_plan.out.find("dot1qPvid.20"), std::string::npos) << r_plan.out;
    EXPECT_EQ(r_plan.out.find("# port 9:"), std::string::npos) << r_plan.out;
  } else if (name == "entity_generic_names") {
    // Every ifName is "Ethernet Interface" and bridge port = front port + 2: the names would make
    // bridge port 3 "port 3". ENTITY-MIB says it is front-panel port 1 (ifIndex 101).
    EXPECT_EQ(r_show.status, 0) << r_show.err;
    EXPECT_EQ(show["ports"].size(), 24u);
    EXPECT_EQ(port_of(show, 1)["if_index"], 101);
    EXPECT_EQ(port_of(show, 1)["bridge_port"], 3);
    EXPECT_EQ(port_of(show, 1)["numbering"], "ENTITY-MIB entPhysicalParentRelPos 1, member 1 ('Ethernet Interface')");
    EXPECT_TRUE(port_of(show, 25).is_null());
    EXPECT_EQ(r_plan.status, 0) << r_plan.err;
    EXPECT_NE(r_plan.out.find("dot1qPvid.3 = 10\n"), std::string::npos) << r_plan.out;   // pi01, front port 1
    EXPECT_NE(r_plan.out.find("dot1qPvid.10 = 17\n"), std::string::npos) << r_plan.out;  // pi08, front port 8
    EXPECT_EQ(r_plan.out.find("dot1qPvid.1 ="), std::string::npos) << r_plan.out;
  } else if (name == "bridge_tables_per_vlan") {
    // Cisco IOS: no port table or FDB in the default context; read per VLAN with community@VLAN.
    EXPECT_EQ(r_show.status, 0) << r_show.err;
    EXPECT_EQ(show["ports"].size(), 24u);
    EXPECT_EQ(port_of(show, 1)["bridge_port"], 1);
    EXPECT_EQ(port_of(show, 24)["bridge_port"], 24);
    EXPECT_EQ(port_of(show, 1)["macs"], nlohmann::json::array({"b8:27:eb:00:00:01"}));
    EXPECT_EQ(port_of(show, 2)["macs"], nlohmann::json::array({"b8:27:eb:00:00:02"}));
    EXPECT_EQ(port_of(show, 5)["macs"], nlohmann::json::array({"dc:a6:32:5e:00:05"}));
    EXPECT_NE(show["notes"].dump().find("dot1dBasePortIfIndex is not served in the default context; read it "
                                        "per VLAN with community@VLAN for VLANs 1, 10, 11 (Cisco IOS)"),
              std::string::npos)
        << show["notes"];
    EXPECT_EQ(r_plan.status, 0) << r_plan.err;
    EXPECT_NE(r_plan.out.find("vlanTrunkPortNativeVlan.1 = 10"), std::string::npos) << r_plan.out;
    EXPECT_NE(r_plan.out.find("vlanTrunkPortNativeVlan.8 = 17"), std::string::npos) << r_plan.out;
    EXPECT_EQ(r_plan.out.find("# port 9:"), std::string::npos) << r_plan.out;
  } else {
    FAIL() << "unknown habit " << name;
  }
}

const Habit kHabitList[] = {{"foreign_vlans", false},     {"comma_portlists", false},
                            {"stray_octets", false},      {"no_bridge_port_table", true},
                            {"cisco_access_trunk", true}, {"zero_based_names", false},
                            {"stack_module_ports", false}, {"lldp_juniper_names", false},
                            {"entity_stack", false},       {"entity_generic_names", false},
                            {"bridge_tables_per_vlan", true}};

class HabitSim : public SwitchSim, public ::testing::WithParamInterface<Habit> {
 protected:
  // bridge_tables_per_vlan against the simulator: what the agent serves where, then discover,
  // power and apply for real.
  void check_per_vlan_bridge() {
    // Nothing in the default context; VLAN 10's port map and FDB with community@10.
    EXPECT_FALSE(walk("1.3.6.1.2.1.17.1.4.1.2").contains("1.3.6.1.2.1.17.1.4.1.2.1"));
    const auto v10 = snmpwalk(port, community + "@10", "1.3.6.1.2.1.17", dir);
    EXPECT_EQ(v10.at("1.3.6.1.2.1.17.1.4.1.2.1"), "1");
    EXPECT_EQ(v10.at("1.3.6.1.2.1.17.4.3.1.2.184.39.235.0.0.1"), "1");  // b8:27:eb:00:00:01: bridge port 1
    EXPECT_FALSE(v10.contains("1.3.6.1.2.1.17.1.4.1.2.5"));              // port 5 is in VLAN 1 only
    // discover: every MAC once per port, with the VLANs it was learned in.
    auto r = pic({"discover", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto d = nlohmann::json::parse(r.out);
    std::map<std::string, nlohmann::json> by_mac;
    for (const auto& l : d["learned"]) {
      EXPECT_FALSE(by_mac.contains(l["mac"].get<std::string>())) << l;
      by_mac[l["mac"].get<std::string>()] = l;
    }
    EXPECT_EQ(by_mac["b8:27:eb:00:00:01"]["port"], 1);
    EXPECT_EQ(by_mac["b8:27:eb:00:00:01"]["vlans"], nlohmann::json::array({10}));
    EXPECT_EQ(by_mac["dc:a6:32:5e:00:09"]["port"], 9);
    EXPECT_EQ(by_mac["dc:a6:32:5e:00:09"]["vlans"], nlohmann::json::array({1}));
    EXPECT_EQ(d["unknown_pis"].size(), 15u) << r.out;  // ports 9..23
    // power off checks pi01's MAC in VLAN 10's forwarding table first.
    r = pic({"power", "off", "pi01"});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_EQ(walk("1.3.6.1.2.1.105.1.1.1.3.1").at("1.3.6.1.2.1.105.1.1.1.3.1.1"), "2");
    r = pic({"power", "on", "pi01"});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    // apply for real: the VLANs it creates get their contexts, read back and shown.
    r = pic({"switch", "apply"});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    const auto after = pic({"switch", "show", "--json"});
    ASSERT_EQ(after.status, 0) << after.err;
    const auto j = nlohmann::json::parse(after.out);
    EXPECT_NE(j["notes"].dump().find("for VLANs 1, 10, 11, 12, 13, 14, 15, 16, 17"), std::string::npos) << j["notes"];
    EXPECT_EQ(port_of(j, 8)["bridge_port"], 8);
    EXPECT_EQ(port_of(j, 8)["macs"], nlohmann::json::array({"dc:a6:32:5e:00:08"}));
    // The community is never printed, with or without its @VLAN.
    for (const Output* out : std::vector<const Output*>{&r, &after}) {
      EXPECT_EQ(out->out.find(community), std::string::npos);
      EXPECT_EQ(out->err.find(community), std::string::npos);
    }
  }
};

TEST_P(HabitSim, ShowIsRightOrNamesTheCauseAndApplyPlansNoForeignVlan) {
  const Habit h = GetParam();
  start(slurp(kHabits / (h.name + ".json")),
        h.cisco ? std::vector<std::string>{"--mode", "cisco"} : std::vector<std::string>{});
  if (h.cisco) {
    inv.shelves[0].switch_.profile = "cisco";
    save_inventory();
  }
  const auto show = pic({"switch", "show", "--json"});
  const auto plan = pic({"switch", "apply", "--dry-run"});
  check_habit(h.name, show, plan);
  // switch probe: read only, says whether apply could drive the switch and why not.
  const auto probed = pic({"switch", "probe", "--json"});
  ASSERT_FALSE(probed.out.empty()) << probed.err;
  const auto probe = nlohmann::json::parse(probed.out);
  const bool refused =
      h.name == "foreign_vlans" || h.name == "comma_portlists" || h.name == "stray_octets";
  EXPECT_EQ(probe["drivable"], !refused) << probe.dump(2);
  EXPECT_EQ(probed.status, refused ? 1 : 0);
  std::map<std::string, bool> served;
  for (const auto& t : probe["tables"])
    served[t["table"].get<std::string>()] = t["served"].get<bool>();
  EXPECT_EQ(served["dot1dBasePortIfIndex"], h.name != "no_bridge_port_table" && h.name != "bridge_tables_per_vlan");
  EXPECT_EQ(served["vtpVlanTable"], h.cisco);
  EXPECT_EQ(served["pethPsePortTable"], true);
  EXPECT_EQ(served["lldpLocPortTable"], h.name == "lldp_juniper_names");
  const bool entity = h.name.starts_with("entity_");
  EXPECT_EQ(served["entPhysicalTable"], entity);
  EXPECT_EQ(served["entAliasMappingTable"], entity);
  if (entity) {
    ASSERT_FALSE(probe["ports"].empty());
    EXPECT_EQ(probe["ports"][0]["numbering"].get<std::string>().rfind("ENTITY-MIB entPhysicalParentRelPos 1, member 1", 0), 0u)
        << probe["ports"][0];
  }
  if (h.name == "entity_stack") {
    // switch.stack_member 2: member 2's ports are the shelf's, by ENTITY-MIB.
    inv.shelves[0].switch_.extra["stack_member"] = 2;
    save_inventory();
    const auto second = pic({"switch", "show", "--json"});
    ASSERT_FALSE(second.out.empty()) << second.err;
    const auto j = nlohmann::json::parse(second.out);
    EXPECT_EQ(port_of(j, 1)["if_name"], "gi2/0/1");
    EXPECT_EQ(port_of(j, 1)["if_index"], 2001);
    EXPECT_EQ(port_of(j, 1)["numbering"], "ENTITY-MIB entPhysicalParentRelPos 1, member 2 ('gi2/0/1')");
    // The uplink on member 1's module named as the trunk.
    inv.shelves[0].switch_.extra.erase("stack_member");
    inv.shelves[0].fileserver.trunk_port_name = "te1/0/1";
    inv.shelves[0].fileserver.trunk_port = 25;
    save_inventory();
    const auto named = pic({"switch", "show", "--json"});
    ASSERT_EQ(named.status, 0) << named.out << named.err;
    EXPECT_EQ(port_of(nlohmann::json::parse(named.out), 25)["if_name"], "te1/0/1");
    const auto planned = pic({"switch", "apply", "--dry-run"});
    ASSERT_EQ(planned.status, 0) << planned.out << planned.err;
    EXPECT_NE(planned.out.find("dot1qVlanStaticEgressPorts.10 = 0x80000080\n"), std::string::npos) << planned.out;
    return;
  }
  EXPECT_EQ(probe["portlist_form"], h.cisco                       ? "n/a (cisco)"
                                    : h.name == "comma_portlists" ? "comma list"
                                                                  : "bitmap");
  EXPECT_EQ(probe["poe_rows"], 24);
  EXPECT_EQ(probe["bridge_tables"], h.name == "bridge_tables_per_vlan" ? "per VLAN (community@vlan)"
                                    : h.name == "no_bridge_port_table" ? "not served"
                                                                       : "default context");
  if (h.name == "foreign_vlans") {
    // add reads the switch first: pi02's natural VLAN 11 is the switch's 'cameras', so it gets
    // another.
    auto& pis = inv.shelves[0].pis;
    std::erase_if(pis, [](const inventory::Pi& pi) { return pi.name == "pi02"; });
    save_inventory();
    const auto added = pic({"add", "pi02", "--port", "2", "--dry-run"});
    EXPECT_NE(added.out.find("pi02: allocate: planned (VLAN "), std::string::npos)
        << added.out << added.err;
    EXPECT_EQ(added.out.find("(VLAN 11,"), std::string::npos) << added.out;
    ASSERT_EQ(probe["foreign_vlans"].size(), 1u);
    EXPECT_EQ(probe["foreign_vlans"][0]["vlan"], 300);
    EXPECT_EQ(probe["foreign_vlans"][0]["name"], "voice");
    EXPECT_NE(probe["why"].get<std::string>().find("'cameras'"), std::string::npos);
  }
  if (h.name == "stack_module_ports") {
    // The trunk on module port te1/0/1, named in switch.port_map as front-panel port 25.
    inv.shelves[0].switch_.port_count = 26;
    inv.shelves[0].fileserver.trunk_port = 25;
    inv.shelves[0].switch_.port_map[25].extra["if_name"] = "te1/0/1";
    save_inventory();
    const auto on_module = nlohmann::json::parse(pic({"switch", "show", "--json"}).out);
    EXPECT_EQ(port_of(on_module, 25)["if_name"], "te1/0/1");
    EXPECT_EQ(port_of(on_module, 25)["bridge_port"], 25);
    EXPECT_EQ(port_of(on_module, 25)["numbering"], "switch.port_map in the inventory");
    // The simulator keeps membership for front ports only, so this one is checked as a plan:
    // VLAN 10's egress list holds pi01's port 1 and the trunk's bridge port 25.
    auto planned = pic({"switch", "apply", "--dry-run"});
    ASSERT_EQ(planned.status, 0) << planned.out << planned.err;
    EXPECT_NE(planned.out.find("dot1qVlanStaticEgressPorts.10 = 0x80000080\n"), std::string::npos)
        << planned.out;
    // The same trunk named directly: "trunk_port": "te1/0/1" (numbered port_count + 1 = 25).
    inv.shelves[0].switch_.port_count = 24;
    inv.shelves[0].switch_.port_map.clear();
    inv.shelves[0].fileserver.trunk_port_name = "te1/0/1";
    inv.shelves[0].fileserver.trunk_port = 25;
    save_inventory();
    EXPECT_NE(slurp(dir / "inventory.json").find("\"trunk_port\": \"te1/0/1\""), std::string::npos);
    const auto named = pic({"switch", "show", "--json"});
    ASSERT_EQ(named.status, 0) << named.out << named.err;
    const auto named_show = nlohmann::json::parse(named.out);
    EXPECT_EQ(port_of(named_show, 25)["if_name"], "te1/0/1");
    EXPECT_EQ(port_of(named_show, 25)["role"], "trunk");
    EXPECT_EQ(port_of(named_show, 25)["numbering"], "fileserver.trunk_port 'te1/0/1' in the inventory");
    planned = pic({"switch", "apply", "--dry-run"});
    ASSERT_EQ(planned.status, 0) << planned.out << planned.err;
    EXPECT_NE(planned.out.find("dot1qVlanStaticEgressPorts.10 = 0x80000080\n"), std::string::npos)
        << planned.out;
    // A name the switch does not have: the inventory file and field are named.
    inv.shelves[0].fileserver.trunk_port_name = "te1/0/9";
    save_inventory();
    const auto missing = pic({"switch", "show"});
    EXPECT_EQ(missing.status, 1) << missing.out << missing.err;
    EXPECT_NE(missing.err.find((dir / "inventory.json").string() + ": switch 127.0.0.1:"), std::string::npos)
        << missing.err;
    EXPECT_NE(missing.err.find("shelf 'shelf1': fileserver: trunk_port: 'te1/0/9' is not an interface of the switch"),
              std::string::npos)
        << missing.err;
    return;
  }
  if (h.name == "bridge_tables_per_vlan") {
    check_per_vlan_bridge();
    return;
  }
  if (h.name != "cisco_access_trunk") return;
  // Applied for real: the trunk's native VLAN is its old access VLAN, read back by picluster
  // (verified) and by snmpwalk; the trunk carries VLAN 3 untagged and the shelf's VLANs tagged.
  auto r = pic({"switch", "apply"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(walk("1.3.6.1.4.1.9.9.46.1.6.1.1.5").at("1.3.6.1.4.1.9.9.46.1.6.1.1.5.24"), "3");
  const auto after = nlohmann::json::parse(pic({"switch", "show", "--json"}).out);
  EXPECT_EQ(ints(port_of(after, 24)["untagged"]), std::set<int>{3});
  EXPECT_EQ(ints(port_of(after, 24)["tagged"]),
            (std::set<int>{10, 11, 12, 13, 14, 15, 16, 17, 131}));
}

INSTANTIATE_TEST_SUITE_P(Knobs, HabitSim, ::testing::ValuesIn(kHabitList),
                         [](const auto& param_info) { return param_info.param.name; });

// The same habits recorded from the simulator (habits/NAME.snmprec) and served by snmpsimd.
class HabitRecording : public ::testing::TestWithParam<Habit> {};

TEST_P(HabitRecording, ShowIsRightOrNamesTheCauseAndApplyPlansNoForeignVlan) {
  const Habit h = GetParam();
  const fs::path file = kHabits / (h.name + ".snmprec");
  if (!fs::exists(kPicluster)) GTEST_SKIP() << "build picluster first";
  ASSERT_TRUE(fs::exists(file)) << file << ": run habits/capture.sh";
  if (run({"sh", "-c", "command -v snmpsimd"}, fs::temp_directory_path()).status != 0)
    GTEST_SKIP() << "apt-get install snmpsim";
  const fs::path dir = make_temp_dir("habit-" + h.name);
  fs::create_directories(dir / "data");
  fs::copy_file(file, dir / "data" / file.filename());
  // Per-VLAN communities (Cisco IOS): NAME@VLAN.snmprec answers community NAME@VLAN.
  std::vector<fs::path> served_files{file.filename()};
  for (const auto& e : fs::directory_iterator(kHabits)) {
    const std::string f = e.path().filename().string();
    if (f.starts_with(h.name + "@") && f.ends_with(".snmprec")) {
      fs::copy_file(e.path(), dir / "data" / f);
      served_files.push_back(f);
    }
  }
  const auto readable = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(dir, readable);
  fs::permissions(dir / "data", readable);
  for (const auto& f : served_files) {
    fs::permissions(dir / "data" / f, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                          fs::perms::others_read);
  }
  const int port = free_udp_port();
  Server sim({"snmpsimd", "--data-dir=" + (dir / "data").string(),
              "--agent-udpv4-endpoint=127.0.0.1:" + std::to_string(port), "--process-user=nobody",
              "--process-group=nogroup"},
             dir, "snmpsimd", "Listening at UDP/IPv4 endpoint", port);
  ASSERT_TRUE(sim.ready()) << sim.log();
  auto inv = make_inventory(8, port);
  inv.shelves[0].switch_.timeout_ms = 3000;
  if (h.cisco) inv.shelves[0].switch_.profile = "cisco";
  ASSERT_TRUE(inventory::save(inv, dir / "inventory.json"));
  write_file(dir / "switch-secrets.json", R"({"community": ")" + h.name + R"("})");
  const std::vector<std::string> base = {kPicluster.string(), "-i",
                                         (dir / "inventory.json").string()};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), base.begin(), base.end());
    return args;
  };
  const auto show = run(with({"switch", "show", "--json"}), dir, 120);
  const auto plan = run(with({"switch", "apply", "--dry-run"}), dir, 120);
  check_habit(h.name, show, plan);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Recorded, HabitRecording, ::testing::ValuesIn(kHabitList),
                         [](const auto& param_info) { return param_info.param.name; });

// SNMPv3: the per-VLAN contexts are addressed by contextName vlan-N (the session has no community).
TEST_F(SwitchSim, PerVlanBridgeTablesOverV3UseContextNames) {
  start(slurp(kHabits / "bridge_tables_per_vlan.json"),
        {"--mode", "cisco", "--v3-user", "picluster", "--v3-auth-pass", "authpass-123", "--v3-priv-pass",
         "privpass-456"});
  inv.shelves[0].switch_.profile = "cisco";
  inv.shelves[0].switch_.version = inventory::SnmpVersion::v3;
  save_inventory();
  write_file(dir / "switch-secrets.json",
             R"({"user": "picluster", "auth_protocol": "SHA", "auth_password": "authpass-123", "priv_protocol": "AES", "priv_password": "privpass-456"})");
  const auto r = pic({"switch", "show", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto show = nlohmann::json::parse(r.out);
  EXPECT_EQ(port_of(show, 1)["bridge_port"], 1);
  EXPECT_EQ(port_of(show, 1)["macs"], nlohmann::json::array({"b8:27:eb:00:00:01"}));
  EXPECT_NE(show["notes"].dump().find("read it per VLAN with community@VLAN for VLANs 1, 10, 11"), std::string::npos)
      << show["notes"];
}

// The same Juniper-style names without the LLDP table: nothing tells ge-0/0/00 is port 1, so no
// port is numbered from them and apply refuses rather than configure a shifted port.
TEST_F(SwitchSim, JuniperNamesWithoutLldpAreNeverMisnumbered) {
  start(R"({"ifname_prefix": "ge-0/0/", "ifname_from_zero": true})");
  const auto show = pic({"switch", "show", "--json"});
  EXPECT_EQ(show.status, 1) << show.err;
  const auto j = nlohmann::json::parse(show.out);
  EXPECT_TRUE(j["ports"].empty()) << show.out;
  EXPECT_NE(j["problems"].dump().find("not in the switch's port map"), std::string::npos) << show.out;
  const auto plan = pic({"switch", "apply", "--dry-run"});
  EXPECT_NE(plan.status, 0);
  EXPECT_EQ(plan.out.find("SET"), std::string::npos) << plan.out;
}

// Cisco mode works on ifIndex: with unhelpful ifNames and bridge port = front port + 2, only
// ENTITY-MIB says that "port 1" is ifIndex 101; the plan configures exactly that interface.
TEST_F(SwitchSim, EntityMibGivesCiscoThePort1IfIndexWhenNamesSayNothing) {
  start(slurp(kHabits / "entity_generic_names.json"), {"--mode", "cisco"});
  inv.shelves[0].switch_.profile = "cisco";
  save_inventory();
  const auto plan = pic({"switch", "apply", "--dry-run"});
  ASSERT_EQ(plan.status, 0) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("# port 1: native VLAN 1 -> 10"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("vlanTrunkPortNativeVlan.101 = 10\n"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("vlanTrunkPortNativeVlan.108 = 17\n"), std::string::npos) << plan.out;
  EXPECT_EQ(plan.out.find("vlanTrunkPortNativeVlan.103 = 10"), std::string::npos) << plan.out;
  // Forced to the names (switch.numbering "names"), the bridge port numbers 3..26 stand in for
  // front-panel numbers: pi01's port 1 is not in the map and the whole plan is refused.
  inv.shelves[0].switch_.extra["numbering"] = "names";
  save_inventory();
  const auto names = pic({"switch", "apply", "--dry-run"});
  EXPECT_NE(names.status, 0) << names.out;
  EXPECT_EQ(names.out.find("SET"), std::string::npos) << names.out;
}

// Both ENTITY-MIB and LLDP-MIB served, agreeing: ENTITY-MIB numbers, the agreement is noted.
TEST_F(SwitchSim, EntityAndLldpThatAgreeAreBothUsed) {
  start(R"({"ifname_prefix": "ge-0/0/", "ifname_from_zero": true, "lldp_local_ports": true, "entity_mib": true})");
  const auto show = pic({"switch", "show", "--json"});
  ASSERT_EQ(show.status, 0) << show.out << show.err;
  const auto j = nlohmann::json::parse(show.out);
  EXPECT_EQ(port_of(j, 1)["numbering"], "ENTITY-MIB entPhysicalParentRelPos 1, member 1 ('ge-0/0/00')");
  EXPECT_NE(j["notes"].dump().find("LLDP-MIB's local port table agrees with ENTITY-MIB"), std::string::npos)
      << j["notes"];
}

// power for several Pis: everything is checked before the first SET.
TEST_F(SwitchSim, PowerOffOfSeveralPisSwitchesNoneWhenOneIsOnTheWrongPort) {
  // pi03's port has learned another device's MAC; pi01 and pi02 are where they should be.
  start(R"({"all_ports": {"device": true},
            "ports": {"1": {"device": true, "mac": "b8:27:eb:00:00:01"},
                      "2": {"device": true, "mac": "b8:27:eb:00:00:02"},
                      "3": {"device": true, "mac": "b8:27:eb:00:00:99"}}})");
  auto r = pic({"power", "off", "pi01", "pi02", "pi03"});
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.err.find("pi03: port 3 has learned b8:27:eb:00:00:99"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was switched"), std::string::npos) << r.err;
  const auto admin = walk("1.3.6.1.2.1.105.1.1.1.3.1");
  for (const char* p : {"1", "2", "3"})
    EXPECT_EQ(admin.at("1.3.6.1.2.1.105.1.1.1.3.1." + std::string(p)), "1") << p;
}

TEST_F(SwitchSim, PowerOffAllAsksForYesAndANameTwiceIsPoweredOnce) {
  start(R"({"all_ports": {"device": true}})", {}, 3);
  auto r = pic({"power", "off", "--all"});  // stdin is /dev/null: no terminal to ask on
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("power off --all switches PoE off on 3 Pis of shelf 'shelf1': pi01 (port "
                       "1), pi02 (port 2), pi03 (port 3); say --yes to confirm"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(walk("1.3.6.1.2.1.105.1.1.1.3.1").at("1.3.6.1.2.1.105.1.1.1.3.1.1"), "1");
  r = pic({"power", "off", "--all", "--yes"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(walk("1.3.6.1.2.1.105.1.1.1.3.1").at("1.3.6.1.2.1.105.1.1.1.3.1.3"), "2");
  r = pic({"power", "on", "pi01", "pi01", "pi02"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("pi01 named 2 times; powered on once"), std::string::npos) << r.err;
  std::size_t lines = 0;
  for (std::size_t at = r.out.find("pi01 (port 1)"); at != std::string::npos;
       at = r.out.find("pi01 (port 1)", at + 1))
    ++lines;
  EXPECT_EQ(lines, 1u) << r.out;
}

// On a terminal, power off --all asks: anything but "yes" switches nothing, "yes" goes on.
// util-linux `script` gives picluster a terminal; the answer is typed on its stdin.
TEST_F(SwitchSim, PowerOffAllOnATerminalGoesOnOnlyAfterYes) {
  if (run({"sh", "-c", "command -v script"}, dir).status != 0) GTEST_SKIP() << "needs util-linux script";
  start(R"({"all_ports": {"device": true}})", {}, 3);
  const std::string command =
      shell_join({kPicluster.string(), "-i", (dir / "inventory.json").string(), "power", "off", "--all"});
  auto typed = [&](const std::string& answer) {
    return run({"sh", "-c", "printf '%s\\n' \"$1\" | script -qec \"$2\" /dev/null", "sh", answer, command}, dir);
  };
  auto r = typed("no");
  EXPECT_NE(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Type 'yes' to go on"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not confirmed; nothing was switched"), std::string::npos) << r.out;
  EXPECT_EQ(walk("1.3.6.1.2.1.105.1.1.1.3.1").at("1.3.6.1.2.1.105.1.1.1.3.1.2"), "1");
  r = typed("yes");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(walk("1.3.6.1.2.1.105.1.1.1.3.1").at("1.3.6.1.2.1.105.1.1.1.3.1.2"), "2");
}

// Served but empty (nothing learned yet): an empty list, exit 0.
TEST_F(SwitchSim, DiscoverOfAnEmptyForwardingTableIsAnEmptyList) {
  start(R"({"all_ports": {"device": true}})", {}, 1);  // nothing learned anywhere
  auto r = pic({"discover", "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["learned"].empty()) << r.out;
  EXPECT_TRUE(j["unknown_pis"].empty()) << r.out;
  r = pic({"discover"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("(0 MACs learned)"), std::string::npos) << r.out;
}

// Not served at all (knob fdb_tables false; MACs are plugged in but no table shows them): exit 1
// naming both tables and what was asked.
TEST_F(SwitchSim, DiscoverFailsWhenNoForwardingTableIsServed) {
  start(R"({"all_ports": {"device": true, "mac": "auto"}, "fdb_tables": false})", {}, 1);
  auto r = pic({"discover"});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("no forwarding table could be read: neither dot1qTpFdbTable (Q-BRIDGE-MIB) nor "
                       "dot1dTpFdbTable (BRIDGE-MIB) is served"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("GET dot1qTpFdbPort.0.0.0.0.0.0.0: noSuchObject"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("GET dot1dTpFdbPort.0.0.0.0.0.0: noSuchObject"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace picluster::switchctl::it
