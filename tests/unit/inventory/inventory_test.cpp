#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "inventory/inventory.hpp"
#include "tests/unit/inventory/test_util.hpp"

namespace picluster::inventory {
namespace {

using testing::parse_json;
using testing::seed_inventory;
using testing::seed_json;

// The message of a failed parse, or "" when it parsed.
std::string error_of(const Json& j) {
  auto r = parse_json(j);
  return r ? "" : r.error().message;
}

TEST(Parse, SyntaxErrorNamesFileLineAndColumn) {
  const auto r = parse("{\n  \"version\": 1,\n  \"shelves\": [,]\n}\n", "/etc/picluster/inv.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_inventory);
  EXPECT_TRUE(r.error().message.starts_with("/etc/picluster/inv.json:3:15: syntax error"))
      << r.error().message;
}

TEST(Parse, TruncatedFileIsASyntaxError) {
  const auto r = parse("{\"version\": 1, \"shelves\": [", "inv.json");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().message.starts_with("inv.json:1:")) << r.error().message;
}

TEST(Parse, MinimalShelfGetsTheSeedDefaults) {
  const auto r = parse(R"({"version": 1, "shelves": [{"name": "rack1"}]})", "inv.json");
  ASSERT_TRUE(r) << r.error().message;
  const auto& shelf = r->shelves.at(0);
  EXPECT_EQ(shelf.fileserver.trunk_port, 24);
  EXPECT_EQ(shelf.fileserver.trunk_interface, "eth0");
  EXPECT_EQ(shelf.public_net.vlan, 131);
  EXPECT_EQ(shelf.boot.cmdline_base,
            "dwc_otg.lpm_enable=0 console=ttyAMA0,115200 console=tty1 root=/dev/nfs "
            "rootfstype=nfs elevator=deadline rootwait");
  EXPECT_EQ(shelf.boot.nfs_options, "vers=3,tcp");
}

TEST(Parse, WrongTypesNameTheField) {
  auto j = seed_json(2);
  j["shelves"][0]["pis"][1]["port"] = "two";
  EXPECT_EQ(error_of(j), "inventory.json: shelf \"shelf1\": pi \"pi02\": port: expected an integer");
  j = seed_json(1);
  j["shelves"][0]["switch"]["port_count"] = 0;
  EXPECT_EQ(error_of(j), "inventory.json: shelf \"shelf1\": switch: port_count: 0 is out of range 1-4096");
  j = seed_json(1);
  j["shelves"][0]["pis"][0].erase("vlan");
  EXPECT_EQ(error_of(j),
            "inventory.json: shelf \"shelf1\": pi \"pi01\": vlan: missing (allocations are "
            "written by `picluster add`)");
}

struct BadField {
  const char* label;
  std::function<void(Json&)> edit;
  const char* message;
};

class Validation : public ::testing::TestWithParam<BadField> {};

TEST_P(Validation, RejectsWithAMessageNamingShelfPiAndField) {
  auto j = seed_json(3);
  GetParam().edit(j);
  EXPECT_EQ(error_of(j), GetParam().message);
}

Json& pi(Json& j, int i) { return j["shelves"][0]["pis"][static_cast<std::size_t>(i)]; }
Json& shelf(Json& j) { return j["shelves"][0]; }

INSTANTIATE_TEST_SUITE_P(
    EveryRule, Validation,
    ::testing::Values(
        BadField{"duplicate_name", [](Json& j) { pi(j, 1)["name"] = "pi01"; },
                 "inventory.json: shelf \"shelf1\": pi \"pi01\": name: \"pi01\" is already used by "
                 "another pi"},
        BadField{"duplicate_port", [](Json& j) { pi(j, 2)["port"] = 1; },
                 "inventory.json: shelf \"shelf1\": pi \"pi03\": port: 1 is already used by pi "
                 "\"pi01\""},
        BadField{"duplicate_vlan", [](Json& j) { pi(j, 1)["vlan"] = 10; },
                 "inventory.json: shelf \"shelf1\": pi \"pi02\": vlan: 10 is already used by pi "
                 "\"pi01\""},
        BadField{"duplicate_serial",
                 [](Json& j) {
                   pi(j, 0)["serial"] = "a1b2c3d4";
                   pi(j, 1)["serial"] = "A1B2C3D4";
                 },
                 "inventory.json: shelf \"shelf1\": pi \"pi02\": serial: a1b2c3d4 is already used "
                 "by pi \"pi01\""},
        BadField{"duplicate_mac",
                 [](Json& j) {
                   pi(j, 0)["mac"] = "b8:27:eb:00:00:01";
                   pi(j, 2)["mac"] = "B8-27-EB-00-00-01";
                 },
                 "inventory.json: shelf \"shelf1\": pi \"pi03\": mac: b8:27:eb:00:00:01 is already "
                 "used by pi \"pi01\""},
        BadField{"duplicate_storage", [](Json& j) { pi(j, 1)["storage"] = pi(j, 0)["storage"]; },
                 "inventory.json: shelf \"shelf1\": pi \"pi02\": storage: network: 172.30.0.0/30 "
                 "is already used by pi \"pi01\""},
        BadField{"duplicate_ipv6", [](Json& j) { pi(j, 2)["ipv6"] = pi(j, 0)["ipv6"]; },
                 "inventory.json: shelf \"shelf1\": pi \"pi03\": ipv6: 2a00:1098:0:84:1000:1::2 is "
                 "already used by pi \"pi01\""},
        BadField{"name_not_rfc1123", [](Json& j) { pi(j, 0)["name"] = "Pi_01"; },
                 "inventory.json: shelf \"shelf1\": pi \"Pi_01\": name: \"Pi_01\" is not a host "
                 "name (RFC 1123 label: a-z, 0-9, '-', at most 63)"},
        BadField{"name_with_shell", [](Json& j) { pi(j, 0)["name"] = "pi01;rm -rf /"; },
                 "inventory.json: shelf \"shelf1\": pi \"pi01;rm -rf /\": name: \"pi01;rm -rf /\" "
                 "is not a host name (RFC 1123 label: a-z, 0-9, '-', at most 63)"},
        BadField{"name_with_subst", [](Json& j) { pi(j, 0)["name"] = "$(reboot)"; },
                 "inventory.json: shelf \"shelf1\": pi \"$(reboot)\": name: \"$(reboot)\" is not a "
                 "host name (RFC 1123 label: a-z, 0-9, '-', at most 63)"},
        BadField{"name_with_newline", [](Json& j) { pi(j, 0)["name"] = "pi01\nevil"; },
                 "inventory.json: shelf \"shelf1\": pi \"pi01\\x0aevil\": name: \"pi01\\x0aevil\" "
                 "is not a host name (RFC 1123 label: a-z, 0-9, '-', at most 63)"},
        BadField{"name_with_dotdot", [](Json& j) { pi(j, 0)["name"] = "../etc"; },
                 "inventory.json: shelf \"shelf1\": pi \"../etc\": name: \"../etc\" is not a host "
                 "name (RFC 1123 label: a-z, 0-9, '-', at most 63)"},
        BadField{"port_out_of_range", [](Json& j) { pi(j, 0)["port"] = 25; },
                 "inventory.json: shelf \"shelf1\": pi \"pi01\": port: 25 is outside the switch's "
                 "ports 1-24"},
        BadField{"port_is_trunk", [](Json& j) { pi(j, 0)["port"] = 24; },
                 "inventory.json: shelf \"shelf1\": pi \"pi01\": port: 24 is the fileserver's "
                 "trunk port"},
        BadField{
            "vlan_out_of_range", [](Json& j) { pi(j, 0)["vlan"] = 4095; },
            "inventory.json: shelf \"shelf1\": pi \"pi01\": vlan: 4095 is out of range 1-4094"},
        BadField{"vlan_is_public", [](Json& j) { pi(j, 0)["vlan"] = 131; },
                 "inventory.json: shelf \"shelf1\": pi \"pi01\": vlan: 131 is the public VLAN"},
        BadField{"bad_mac", [](Json& j) { pi(j, 0)["mac"] = "b8:27:eb:00:00"; },
                 "inventory.json: shelf \"shelf1\": pi \"pi01\": mac: \"b8:27:eb:00:00\" is not a "
                 "MAC address (b8:27:eb:12:34:56)"},
        BadField{"bad_serial", [](Json& j) { pi(j, 0)["serial"] = "1234567"; },
                 "inventory.json: shelf \"shelf1\": pi \"pi01\": serial: \"1234567\" is not 8 hex "
                 "digits"},
        BadField{"bad_cidr", [](Json& j) { shelf(j)["storage"]["pool"] = "172.30.0.1/20"; },
                 "inventory.json: shelf \"shelf1\": storage: pool: \"172.30.0.1/20\" is not an "
                 "IPv4 network in CIDR form (a.b.c.d/n)"},
        BadField{"bad_ipv6", [](Json& j) { pi(j, 1)["ipv6"] = "2a00:1098::84::2"; },
                 "inventory.json: shelf \"shelf1\": pi \"pi02\": ipv6: \"2a00:1098::84::2\" is not "
                 "an IPv6 address"},
        BadField{"ipv6_outside_prefix", [](Json& j) { pi(j, 1)["ipv6"] = "2a00:1098:0:85::2"; },
                 "inventory.json: shelf \"shelf1\": pi \"pi02\": ipv6: 2a00:1098:0:85::2 is not in "
                 "2a00:1098:0:84::/64"},
        BadField{"storage_outside_pool",
                 [](Json& j) {
                   pi(j, 0)["storage"] = Json{{"network", "10.0.0.0"}, {"fileserver", "10.0.0.1"},
                                              {"pi", "10.0.0.2"}, {"broadcast", "10.0.0.3"}};
                 },
                 "inventory.json: shelf \"shelf1\": pi \"pi01\": storage: network: 10.0.0.0 is not "
                 "in the pool 172.30.0.0/20"},
        BadField{
            "storage_inconsistent", [](Json& j) { pi(j, 0)["storage"]["pi"] = "172.30.0.1"; },
            "inventory.json: shelf \"shelf1\": pi \"pi01\": storage: addresses must be network, "
            "network+1 (fileserver), network+2 (pi), network+3 (broadcast) of one /30"},
        BadField{"nfs_root_escape",
                 [](Json& j) { shelf(j)["fileserver"]["nfs_root"] = "/srv/../etc"; },
                 "inventory.json: shelf \"shelf1\": fileserver: nfs_root: \"/srv/../etc\" is not a "
                 "safe absolute path ([A-Za-z0-9._/-], no '..')"},
        BadField{"nfs_root_space",
                 [](Json& j) { shelf(j)["fileserver"]["nfs_root"] = "/srv/nfs root"; },
                 "inventory.json: shelf \"shelf1\": fileserver: nfs_root: \"/srv/nfs root\" is not "
                 "a safe absolute path ([A-Za-z0-9._/-], no '..')"},
        BadField{"trunk_interface_shell",
                 [](Json& j) { shelf(j)["fileserver"]["trunk_interface"] = "eth0;id"; },
                 "inventory.json: shelf \"shelf1\": fileserver: trunk_interface: \"eth0;id\" is "
                 "not an interface name (1-10 of [A-Za-z0-9_-])"},
        BadField{"cmdline_newline",
                 [](Json& j) { shelf(j)["boot"]["cmdline_base"] = "root=/dev/nfs\ninit=/bin/sh"; },
                 "inventory.json: shelf \"shelf1\": boot: cmdline_base: "
                 "\"root=/dev/nfs\\x0ainit=/bin/sh\" is not a kernel command line (letters, "
                 "digits, spaces and =,.:/_+-@)"},
        BadField{"cmdline_shell",
                 [](Json& j) { shelf(j)["boot"]["cmdline_base"] = "rootwait $(reboot);"; },
                 "inventory.json: shelf \"shelf1\": boot: cmdline_base: \"rootwait $(reboot);\" is "
                 "not a kernel command line (letters, digits, spaces and =,.:/_+-@)"},
        BadField{"cmdline_tab",
                 [](Json& j) { shelf(j)["boot"]["cmdline_base"] = "rootwait\tquiet"; },
                 "inventory.json: shelf \"shelf1\": boot: cmdline_base: \"rootwait\\x09quiet\" is "
                 "not a kernel command line (letters, digits, spaces and =,.:/_+-@)"},
        BadField{"identity_file_shell",
                 [](Json& j) { shelf(j)["fileserver"]["identity_file"] = "$(reboot); ../x y"; },
                 "inventory.json: shelf \"shelf1\": fileserver: identity_file: \"$(reboot); ../x "
                 "y\" is not a path of [A-Za-z0-9._/+@,:=~-]"},
        BadField{"known_hosts_newline",
                 [](Json& j) { shelf(j)["fileserver"]["known_hosts"] = "/tmp/kh\nx"; },
                 "inventory.json: shelf \"shelf1\": fileserver: known_hosts: \"/tmp/kh\\x0ax\" is "
                 "not a path of [A-Za-z0-9._/+@,:=~-]"},
        BadField{"secrets_file_shell",
                 [](Json& j) { shelf(j)["switch"]["secrets_file"] = "`id`.json"; },
                 "inventory.json: shelf \"shelf1\": switch: secrets_file: \"`id`.json\" is not a "
                 "path of [A-Za-z0-9._/+@,:=~-]"},
        BadField{"vlan_range_wraps",
                 [](Json& j) {
                   shelf(j)["storage"]["vlan_range"] = Json::array({10, 4294968305LL});
                 },
                 "inventory.json: shelf \"shelf1\": storage: vlan_range: [10, 4294968305] is not a "
                 "range within 1-4094"},
        BadField{"vlan_range_negative",
                 [](Json& j) {
                   shelf(j)["storage"]["vlan_range"] = Json::array({-4294967286LL, 20});
                 },
                 "inventory.json: shelf \"shelf1\": storage: vlan_range: [-4294967286, 20] is not "
                 "a range within 1-4094"},
        BadField{"pi_vlan_wraps", [](Json& j) { pi(j, 0)["vlan"] = 4294967306LL; },
                 "inventory.json: shelf \"shelf1\": pi \"pi01\": vlan: 4294967306 is out of range "
                 "1-4094"},
        BadField{"port_unsigned_huge", [](Json& j) { pi(j, 0)["port"] = 18446744073709551615ULL; },
                 "inventory.json: shelf \"shelf1\": pi \"pi01\": port: 18446744073709551615 is out "
                 "of range 1-4096"},
        BadField{"port_map_wraps",
                 [](Json& j) {
                   shelf(j)["switch"]["port_map"] = Json{{"3", Json{{"if_index", 4294967299LL}}}};
                 },
                 "inventory.json: shelf \"shelf1\": switch: port_map: 3: if_index: 4294967299 is "
                 "out of range 0-1073741824"},
        BadField{"fileserver_address_is_a_pi",
                 [](Json& j) { shelf(j)["public"]["fileserver_address"] = pi(j, 1)["ipv6"]; },
                 "inventory.json: shelf \"shelf1\": pi \"pi02\": ipv6: 2a00:1098:0:84:1000:2::2 is "
                 "the fileserver's address (public: fileserver_address)"},
        BadField{"fileserver_address_is_gateway",
                 [](Json& j) { shelf(j)["public"]["fileserver_address"] = "2a00:1098:0:84::1"; },
                 "inventory.json: shelf \"shelf1\": public: fileserver_address: 2a00:1098:0:84::1 "
                 "is the gateway's address"},
        BadField{"vlan_range",
                 [](Json& j) {
                   shelf(j)["storage"]["vlan_range"] = Json::array({10, 5000});
                 },
                 "inventory.json: shelf \"shelf1\": storage: vlan_range: [10, 5000] is not a range "
                 "within 1-4094"},
        BadField{"unknown_model", [](Json& j) { pi(j, 0)["model"] = "pi2"; },
                 "inventory.json: shelf \"shelf1\": pi \"pi01\": model: \"pi2\" is not one of pi3, "
                 "pi3b+, pi4, pi5"},
        BadField{"boot_models_unknown_model",
                 [](Json& j) { shelf(j)["boot"]["models"] = Json{{"pi2", Json::object()}}; },
                 "inventory.json: shelf \"shelf1\": boot: models: \"pi2\" is not a model (one "
                 "of pi3, pi3b+, pi4, pi5)"},
        BadField{"boot_models_not_an_object",
                 [](Json& j) { shelf(j)["boot"]["models"] = Json::array(); },
                 "inventory.json: shelf \"shelf1\": boot: models: expected a JSON object (model "
                 "name -> settings)"},
        BadField{"boot_models_cmdline_type",
                 [](Json& j) { shelf(j)["boot"]["models"] = Json{{"pi4", {{"cmdline_base", 4}}}}; },
                 "inventory.json: shelf \"shelf1\": boot: models: pi4: cmdline_base: expected a "
                 "string"},
        BadField{"boot_models_cmdline_syntax",
                 [](Json& j) {
                   shelf(j)["boot"]["models"] =
                       Json{{"pi5", {{"cmdline_base", "console=serial0,115200 $(reboot)"}}}};
                 },
                 "inventory.json: shelf \"shelf1\": boot: models: pi5: cmdline_base: "
                 "\"console=serial0,115200 $(reboot)\" is not a kernel command line (letters, "
                 "digits, spaces and =,.:/_+-@)"},
        BadField{"boot_models_config_not_lines",
                 [](Json& j) {
                   shelf(j)["boot"]["models"] = Json{{"pi3b+", {{"config_txt", "arm_64bit=1"}}}};
                 },
                 "inventory.json: shelf \"shelf1\": boot: models: pi3b+: config_txt: expected an "
                 "array of lines"},
        BadField{"boot_models_config_newline",
                 [](Json& j) {
                   shelf(j)["boot"]["models"] =
                       Json{{"pi4", {{"config_txt", Json::array({"enable_uart=1",
                                                                 "arm_64bit=1\nkernel=evil"})}}}};
                 },
                 "inventory.json: shelf \"shelf1\": boot: models: pi4: config_txt: line 2: "
                 "\"arm_64bit=1\\x0akernel=evil\" is not a config.txt line (printable ASCII, not "
                 "starting with '[')"},
        BadField{"boot_models_config_section",
                 [](Json& j) {
                   shelf(j)["boot"]["models"] =
                       Json{{"pi4", {{"config_txt", Json::array({"[pi5]"})}}}};
                 },
                 "inventory.json: shelf \"shelf1\": boot: models: pi4: config_txt: line 1: "
                 "\"[pi5]\" is not a config.txt line (printable ASCII, not starting with '[')"},
        // Fields the vendor work added (issue 12), kept in `extra`: checked at load, so every
        // verb refuses them before reading the switch (they were only checked, if at all, when
        // the switch was planned; a storage or public VLAN as native VLAN passed).
        BadField{"trunk_native_vlan_string",
                 [](Json& j) {
                   shelf(j)["switch"]["profile"] = "cisco";
                   shelf(j)["fileserver"]["trunk_native_vlan"] = "5";
                 },
                 "inventory.json: shelf \"shelf1\": fileserver: trunk_native_vlan: \"5\" is not a VLAN id (1-4094)"},
        BadField{"trunk_native_vlan_out_of_range",
                 [](Json& j) {
                   shelf(j)["switch"]["profile"] = "cisco";
                   shelf(j)["fileserver"]["trunk_native_vlan"] = 4095;
                 },
                 "inventory.json: shelf \"shelf1\": fileserver: trunk_native_vlan: 4095 is not a VLAN id (1-4094)"},
        BadField{"trunk_native_vlan_qbridge", [](Json& j) { shelf(j)["fileserver"]["trunk_native_vlan"] = 5; },
                 "inventory.json: shelf \"shelf1\": fileserver: trunk_native_vlan: only the cisco profile sets the "
                 "trunk's native VLAN (the \"qbridge\" profile leaves the trunk's PVID alone); remove it"},
        BadField{"trunk_native_vlan_public",
                 [](Json& j) {
                   shelf(j)["switch"]["profile"] = "cisco";
                   shelf(j)["fileserver"]["trunk_native_vlan"] = 131;
                 },
                 "inventory.json: shelf \"shelf1\": fileserver: trunk_native_vlan: 131 is the public VLAN, which the "
                 "fileserver's trunk must carry tagged"},
        BadField{"trunk_native_vlan_storage",
                 [](Json& j) {
                   shelf(j)["switch"]["profile"] = "cisco";
                   shelf(j)["fileserver"]["trunk_native_vlan"] = 11;
                 },
                 "inventory.json: shelf \"shelf1\": fileserver: trunk_native_vlan: 11 is pi \"pi02\"'s storage VLAN, "
                 "which the fileserver's trunk must carry tagged"},
        BadField{"numbering_unknown", [](Json& j) { shelf(j)["switch"]["numbering"] = "entiti"; },
                 "inventory.json: shelf \"shelf1\": switch: numbering: \"entiti\" is not one of \"auto\", \"entity\", "
                 "\"lldp\", \"names\""},
        BadField{"numbering_not_a_string", [](Json& j) { shelf(j)["switch"]["numbering"] = 3; },
                 "inventory.json: shelf \"shelf1\": switch: numbering: 3 is not one of \"auto\", \"entity\", "
                 "\"lldp\", \"names\""},
        BadField{"stack_member_string", [](Json& j) { shelf(j)["switch"]["stack_member"] = "2"; },
                 "inventory.json: shelf \"shelf1\": switch: stack_member: \"2\" is not a stack member number (1-1024)"},
        BadField{"stack_member_zero", [](Json& j) { shelf(j)["switch"]["stack_member"] = 0; },
                 "inventory.json: shelf \"shelf1\": switch: stack_member: 0 is not a stack member number (1-1024)"},
        BadField{"pi_name_across_shelves",
                 [](Json& j) {
                   Json second = shelf(j);
                   second["name"] = "shelf2";
                   second["pis"] = Json::array({pi(j, 0)});
                   j["shelves"].push_back(second);
                 },
                 "inventory.json: shelf \"shelf2\": pi \"pi01\": name: \"pi01\" is already used by "
                 "another pi"}),
    [](const auto& test_info) { return std::string(test_info.param.label); });

TEST(RoundTrip, UnknownFieldsSurviveAtEveryObjectLevel) {
  auto j = seed_json(2);
  j["x-site"] = "london";
  shelf(j)["x-rack"] = Json{{"row", 3}};
  shelf(j)["fileserver"]["x-os"] = "debian";
  shelf(j)["switch"]["x-model"] = "GS724TP";
  shelf(j)["switch"]["port_map"] = Json{{"7", Json{{"if_index", 107}, {"x-label", "blue"}}}};
  shelf(j)["storage"]["x-note"] = "carved by hand";
  shelf(j)["public"]["x-isp"] = "mythic";
  shelf(j)["boot"]["x-note"] = true;
  pi(j, 1)["x-owner"] = "web team";
  pi(j, 1)["storage"]["x-cable"] = "C7";
  auto inv = parse_json(j);
  ASSERT_TRUE(inv) << inv.error().message;
  ASSERT_TRUE(add_pi(inv->shelves[0], PiRequest{"pi09", 9, PiModel::pi4, {}, {}}));
  const Json back = Json::parse(serialize(*inv));
  const Json& s = back["shelves"][0];
  EXPECT_EQ(back["x-site"], "london");
  EXPECT_EQ(s["x-rack"]["row"], 3);
  EXPECT_EQ(s["fileserver"]["x-os"], "debian");
  EXPECT_EQ(s["switch"]["x-model"], "GS724TP");
  EXPECT_EQ(s["switch"]["port_map"]["7"]["if_index"], 107);
  EXPECT_EQ(s["switch"]["port_map"]["7"]["x-label"], "blue");
  EXPECT_EQ(s["storage"]["x-note"], "carved by hand");
  EXPECT_EQ(s["public"]["x-isp"], "mythic");
  EXPECT_EQ(s["boot"]["x-note"], true);
  EXPECT_EQ(s["pis"][1]["x-owner"], "web team");
  EXPECT_EQ(s["pis"][1]["storage"]["x-cable"], "C7");
  EXPECT_EQ(s["pis"][2]["name"], "pi09");
  // Known keys first, unknown ones after them, and a second rewrite changes nothing.
  EXPECT_EQ(s["pis"][1]["storage"].items().begin().key(), "network");
  auto again = parse(serialize(*inv), "inventory.json");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(serialize(*again), serialize(*inv));
}

TEST(RoundTrip, BootModelsAndTheirUnknownFieldsSurviveARewrite) {
  auto j = seed_json(1);
  shelf(j)["boot"]["models"] =
      Json{{"pi5", {{"config_txt", Json::array({"arm_64bit=1", "dtparam=uart0_console"})},
                    {"x-why", "GPIO console"}}},
           {"pi4", {{"cmdline_base", "console=serial0,115200 root=/dev/nfs rootwait"}}},
           {"pi3", {{"x-note", "seed line"}}}};
  auto inv = parse_json(j);
  ASSERT_TRUE(inv) << inv.error().message;
  const auto& models = inv->shelves[0].boot.models;
  ASSERT_EQ(models.size(), 3U);
  EXPECT_EQ(models.at(PiModel::pi4).cmdline_base, "console=serial0,115200 root=/dev/nfs rootwait");
  EXPECT_FALSE(models.at(PiModel::pi4).config_txt);
  EXPECT_EQ(models.at(PiModel::pi5).config_txt,
            (std::vector<std::string>{"arm_64bit=1", "dtparam=uart0_console"}));
  EXPECT_FALSE(models.at(PiModel::pi3).cmdline_base);
  ASSERT_TRUE(add_pi(inv->shelves[0], PiRequest{"pi09", 9, PiModel::pi5, {}, {}}));
  const Json back = Json::parse(serialize(*inv));
  const Json& m = back["shelves"][0]["boot"]["models"];
  EXPECT_EQ(m["pi5"]["x-why"], "GPIO console");
  EXPECT_EQ(m["pi3"]["x-note"], "seed line");
  EXPECT_EQ(m["pi4"]["cmdline_base"], "console=serial0,115200 root=/dev/nfs rootwait");
  EXPECT_EQ(m["pi5"]["config_txt"][1], "dtparam=uart0_console");
  auto again = parse(serialize(*inv), "inventory.json");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(serialize(*again), serialize(*inv));
  // A shelf without overrides writes no "models" member at all.
  EXPECT_FALSE(Json::parse(serialize(seed_inventory(1)))["shelves"][0]["boot"].contains("models"));
}

TEST(Parse, DuplicateKeysAreAnErrorWithLineAndColumn) {
  std::string text = serialize(seed_inventory(1));
  const auto pos = text.find("\"port\": 1,");
  ASSERT_NE(pos, std::string::npos);
  text.insert(pos + 10, "\n          \"port\": 24,");
  const auto r = parse(text, "inv.json");
  ASSERT_FALSE(r);
  std::size_t line = 1;
  for (std::size_t i = 0; i < pos; ++i) line += text[i] == '\n' ? 1U : 0U;
  EXPECT_EQ(r.error().message, "inv.json:" + std::to_string(line + 1) +
                                   ":11: duplicate key \"port\" (first at " + std::to_string(line) +
                                   ":11); keep one");
  // The same key in different objects is fine; an escaped spelling is still the same key.
  EXPECT_TRUE(parse(R"({"version": 1, "shelves": [{"name": "a"}, {"name": "b"}]})", "inv.json"));
  const auto escaped = parse(R"({"version": 1, "shelves": [], "\u0076ersion": 1})", "inv.json");
  ASSERT_FALSE(escaped);
  EXPECT_EQ(escaped.error().message,
            "inv.json:1:31: duplicate key \"version\" (first at 1:2); keep one");
}

TEST(Parse, SyntaxErrorPointsAtTheTokenStartAndEscapesBytes) {
  const auto literal = parse("{\n  \"version\": tru x}", "inv.json");
  ASSERT_FALSE(literal);
  EXPECT_TRUE(literal.error().message.starts_with("inv.json:2:14: syntax error"))
      << literal.error().message;
  const auto number = parse("{\n  \"version\": 12x}", "inv.json");
  ASSERT_FALSE(number);
  EXPECT_TRUE(number.error().message.starts_with("inv.json:2:14: syntax error"))
      << number.error().message;
  const auto bad_byte = parse("{\"version\": \"ab\xff\"}", "inv.json");
  ASSERT_FALSE(bad_byte);
  EXPECT_TRUE(bad_byte.error().message.starts_with("inv.json:1:13: syntax error"))
      << bad_byte.error().message;
  EXPECT_NE(bad_byte.error().message.find("\\xff"), std::string::npos) << bad_byte.error().message;
  for (const char c : bad_byte.error().message) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f)
        << "raw byte " << static_cast<int>(static_cast<unsigned char>(c));
  }
}

TEST(RoundTrip, UnknownFieldsSurviveARewrite) {
  auto j = seed_json(2);
  j["x-site"] = "london";
  shelf(j)["x-rack"] = Json{{"row", 3}};
  shelf(j)["switch"]["x-model"] = "GS724TP";
  pi(j, 1)["x-owner"] = "web team";
  shelf(j)["boot"]["x-note"] = true;
  auto inv = parse_json(j);
  ASSERT_TRUE(inv) << inv.error().message;
  ASSERT_TRUE(add_pi(inv->shelves[0], PiRequest{"pi09", 9, PiModel::pi4, {}, {}}));
  const Json back = Json::parse(serialize(*inv));
  EXPECT_EQ(back["x-site"], "london");
  EXPECT_EQ(back["shelves"][0]["x-rack"]["row"], 3);
  EXPECT_EQ(back["shelves"][0]["switch"]["x-model"], "GS724TP");
  EXPECT_EQ(back["shelves"][0]["pis"][1]["x-owner"], "web team");
  EXPECT_EQ(back["shelves"][0]["boot"]["x-note"], true);
  EXPECT_EQ(back["shelves"][0]["pis"][2]["name"], "pi09");
}

// fileserver.ssh_persist_seconds: absent means the default (connection reuse for 60 s) and stays
// absent through a rewrite; an explicit value, 0 (reuse off) included, is kept as written.
TEST(RoundTrip, SshPersistSecondsAbsentStaysAbsentAndAnExplicitZeroStaysZero) {
  for (const std::optional<int> written : {std::optional<int>(), std::optional<int>(0), std::optional<int>(600)}) {
    auto j = seed_json(1);
    if (written) shelf(j)["fileserver"]["ssh_persist_seconds"] = *written;
    auto inv = parse_json(j);
    ASSERT_TRUE(inv) << inv.error().message;
    EXPECT_EQ(inv->shelves[0].fileserver.ssh_persist_seconds, written);
    EXPECT_EQ(ssh_persist_of(inv->shelves[0].fileserver), written.value_or(60));
    ASSERT_TRUE(add_pi(inv->shelves[0], PiRequest{"pi09", 9, PiModel::pi4, {}, {}}));
    const Json back = Json::parse(serialize(*inv));
    const Json& fs = back["shelves"][0]["fileserver"];
    EXPECT_EQ(fs.contains("ssh_persist_seconds"), written.has_value()) << fs.dump();
    if (written) {
      EXPECT_EQ(fs["ssh_persist_seconds"], *written);
    }
  }
  auto j = seed_json(1);
  shelf(j)["fileserver"]["ssh_persist_seconds"] = 86401;
  auto bad = parse_json(j);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, ::testing::HasSubstr("fileserver: ssh_persist_seconds"));
}

TEST(RoundTrip, OutputIsStableAndOrdered) {
  const auto inv = seed_inventory(3);
  const std::string once = serialize(inv);
  auto again = parse(once, "inventory.json");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(serialize(*again), once);
  EXPECT_TRUE(once.starts_with("{\n  \"version\": 1,\n  \"shelves\": [\n    {\n      \"name\": \"shelf1\",\n"))
      << once.substr(0, 200);
  EXPECT_EQ(once.back(), '\n');
  // Known keys of a Pi come in a fixed order.
  const auto pos = [&](const char* key) { return once.find(key); };
  EXPECT_LT(pos("\"name\": \"pi01\""), pos("\"port\": 1"));
  EXPECT_LT(pos("\"port\": 1"), pos("\"vlan\": 10"));
  EXPECT_LT(pos("\"vlan\": 10"), pos("\"ipv6\": \"2a00:1098:0:84:1000:1::2\""));
}

}  // namespace
}  // namespace picluster::inventory
