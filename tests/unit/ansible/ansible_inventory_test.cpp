// The Ansible dynamic-inventory document built from an inventory: groups, host variables,
// name collisions, paths, and what must never appear (switch secrets).
#include "orchestrator/ansible_inventory.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace picluster::orchestrator {
namespace {

using inventory::Json;

inventory::PiRequest request(std::string name, int port) {
  inventory::PiRequest r;
  r.name = std::move(name);
  r.port = port;
  return r;
}

inventory::Inventory two_shelves() {
  auto inv = inventory::make_default("north-1");
  inv.shelves[0].fileserver.host = "fs1.example.net";
  inv.shelves[0].fileserver.identity_file = "keys/id_picluster";
  inv.shelves[0].switch_.secrets_file = "secret-community.json";
  EXPECT_TRUE(inventory::add_pi(inv.shelves[0], request("pi01", 1)));
  auto pi02 = request("pi02", 2);
  pi02.model = inventory::PiModel::pi4;
  pi02.serial = "1a2b3c4d";
  pi02.mac = inventory::Mac::parse("b8:27:eb:00:00:02");
  EXPECT_TRUE(inventory::add_pi(inv.shelves[0], pi02));
  auto south = inventory::make_default("south").shelves[0];
  south.fileserver.transport = inventory::Transport::local;
  EXPECT_TRUE(inventory::add_pi(south, request("pi03", 5)));
  inv.shelves.push_back(south);
  return inv;
}

std::vector<std::string> hosts_of(const Json& doc, const std::string& group) {
  return doc.at(group).at("hosts").get<std::vector<std::string>>();
}

TEST(AnsibleInventory, GroupsPerShelfAndRole) {
  auto doc = ansible_inventory_list(two_shelves(), "/etc/picluster/inventory.json");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(hosts_of(*doc, "pis"), (std::vector<std::string>{"pi01", "pi02", "pi03"}));
  EXPECT_EQ(hosts_of(*doc, "fileservers"), (std::vector<std::string>{"north-1-fileserver", "south-fileserver"}));
  EXPECT_EQ(hosts_of(*doc, "switches"), (std::vector<std::string>{"north-1-switch", "south-switch"}));
  EXPECT_EQ(hosts_of(*doc, "picluster_north_1_pis"), (std::vector<std::string>{"pi01", "pi02"}));
  EXPECT_EQ(hosts_of(*doc, "picluster_south_pis"), (std::vector<std::string>{"pi03"}));
  EXPECT_EQ(hosts_of(*doc, "shelf_north_1"), (std::vector<std::string>{"north-1-fileserver", "north-1-switch"}));
  EXPECT_EQ(doc->at("shelf_north_1").at("children"), Json::array({"picluster_north_1_pis"}));
  EXPECT_EQ(doc->at("all").at("children"),
            Json::array({"fileservers", "switches", "pis", "shelf_north_1", "shelf_south"}));
}

TEST(AnsibleInventory, PiVariablesComeFromTheAllocation) {
  const auto inv = two_shelves();
  auto doc = ansible_inventory_list(inv, "/etc/picluster/inventory.json");
  ASSERT_TRUE(doc) << doc.error().message;
  const auto& pi = inv.shelves[0].pis[1];
  const auto& vars = doc->at("_meta").at("hostvars").at("pi02");
  EXPECT_EQ(vars.at("ansible_host"), pi.ipv6.str());
  EXPECT_EQ(vars.at("picluster_shelf"), "north-1");
  EXPECT_EQ(vars.at("picluster_port"), 2);
  EXPECT_EQ(vars.at("picluster_vlan"), pi.vlan);
  EXPECT_EQ(vars.at("picluster_model"), "pi4");
  EXPECT_EQ(vars.at("picluster_serial"), "1a2b3c4d");
  EXPECT_EQ(vars.at("picluster_mac"), "b8:27:eb:00:00:02");
  EXPECT_EQ(vars.at("picluster_storage_network"), pi.storage.network.str() + "/30");
  EXPECT_EQ(vars.at("picluster_storage_address"), pi.storage.pi.str());
  EXPECT_EQ(vars.at("picluster_storage_fileserver"), pi.storage.fileserver.str());
  EXPECT_EQ(vars.at("picluster_public_vlan"), 131);
  EXPECT_EQ(vars.at("picluster_fileserver"), "north-1-fileserver");
  EXPECT_EQ(vars.at("picluster_nfs_root_path"), "/srv/nfsroot/pi02");
  // A Pi without serial or MAC has no such variables (rather than nulls).
  EXPECT_FALSE(doc->at("_meta").at("hostvars").at("pi01").contains("picluster_serial"));
  EXPECT_FALSE(doc->at("_meta").at("hostvars").at("pi01").contains("picluster_mac"));
}

TEST(AnsibleInventory, FileserverVariables) {
  auto doc = ansible_inventory_list(two_shelves(), "/etc/picluster/inventory.json");
  ASSERT_TRUE(doc) << doc.error().message;
  const auto& fs = doc->at("_meta").at("hostvars").at("north-1-fileserver");
  EXPECT_EQ(fs.at("ansible_host"), "fs1.example.net");
  EXPECT_EQ(fs.at("ansible_user"), "root");
  EXPECT_EQ(fs.at("ansible_port"), 22);
  // Relative paths in the inventory are relative to the inventory file's folder.
  EXPECT_EQ(fs.at("ansible_ssh_private_key_file"), "/etc/picluster/keys/id_picluster");
  EXPECT_EQ(fs.at("picluster_nfs_root"), "/srv/nfsroot");
  EXPECT_EQ(fs.at("picluster_image_store"), "/srv/images");  // the default, beside nfs_root
  EXPECT_EQ(fs.at("picluster_trunk_interface"), "eth0");
  EXPECT_EQ(fs.at("picluster_vlans"), Json::array({10, 11}));
  EXPECT_EQ(fs.at("picluster_inventory"), "/etc/picluster/inventory.json");
  // A local fileserver is reached without SSH.
  const auto& local = doc->at("_meta").at("hostvars").at("south-fileserver");
  EXPECT_EQ(local.at("ansible_connection"), "local");
  EXPECT_FALSE(local.contains("ansible_host"));
}

// fileserver.ssh_persist_seconds: absent leaves Ansible's own default (ControlPersist=60s, as
// picluster's); an explicit value becomes ansible_ssh_args, 0 turning ControlMaster off.
TEST(AnsibleInventory, SshPersistSecondsBecomesAnsiblesControlPersist) {
  auto inv = two_shelves();
  const auto fileserver_vars = [&] {
    auto doc = ansible_inventory_list(inv, "/etc/picluster/inventory.json");
    EXPECT_TRUE(doc.has_value());
    return doc ? doc->at("_meta").at("hostvars").at("north-1-fileserver") : Json();
  };
  EXPECT_FALSE(fileserver_vars().contains("ansible_ssh_args"));
  inv.shelves[0].fileserver.ssh_persist_seconds = 300;
  EXPECT_EQ(fileserver_vars().at("ansible_ssh_args"), "-C -o ControlMaster=auto -o ControlPersist=300s");
  inv.shelves[0].fileserver.ssh_persist_seconds = 0;
  EXPECT_EQ(fileserver_vars().at("ansible_ssh_args"), "-C -o ControlMaster=no -o ControlPath=none");
}

TEST(AnsibleInventory, SwitchSecretsNeverAppear) {
  auto doc = ansible_inventory_list(two_shelves(), "/etc/picluster/inventory.json");
  ASSERT_TRUE(doc) << doc.error().message;
  const auto text = doc->dump();
  EXPECT_EQ(text.find("secret-community"), std::string::npos);
  const auto& sw = doc->at("_meta").at("hostvars").at("north-1-switch");
  EXPECT_EQ(sw.at("picluster_port_count"), 24);
  EXPECT_EQ(sw.at("ansible_connection"), "local");
}

TEST(AnsibleInventory, PiNameInTwoShelvesIsAnError) {
  auto inv = two_shelves();
  ASSERT_TRUE(inventory::add_pi(inv.shelves[1], request("pi01", 7)));
  auto doc = ansible_inventory_list(inv, "inv.json");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, ErrorCode::invalid_inventory);
  EXPECT_EQ(doc.error().message,
            "Ansible host name 'pi01' is used by both shelf 'north-1' pi 'pi01' and shelf 'south' pi 'pi01': "
            "host names must be unique across shelves");
}

TEST(AnsibleInventory, PiNamedLikeAFileserverIsAnError) {
  auto inv = two_shelves();
  ASSERT_TRUE(inventory::add_pi(inv.shelves[1], request("north-1-switch", 8)));
  auto doc = ansible_inventory_list(inv, "inv.json");
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().message.find("'north-1-switch' is used by both shelf 'north-1' switch"), std::string::npos)
      << doc.error().message;
}

TEST(AnsibleInventory, HostIsTheListsHostvars) {
  const auto inv = two_shelves();
  auto list = ansible_inventory_list(inv, "/etc/picluster/inventory.json");
  ASSERT_TRUE(list);
  for (const auto& [name, vars] : list->at("_meta").at("hostvars").items()) {
    auto host = ansible_inventory_host(inv, "/etc/picluster/inventory.json", name);
    ASSERT_TRUE(host) << name;
    EXPECT_EQ(*host, vars) << name;
  }
  auto missing = ansible_inventory_host(inv, "/etc/picluster/inventory.json", "pi99");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_EQ(missing.error().message,
            "/etc/picluster/inventory.json: no Ansible host \"pi99\" (Pis by name, \"<shelf>-fileserver\", "
            "\"<shelf>-switch\")");
}

}  // namespace
}  // namespace picluster::orchestrator
