// The dynamic inventory of the real picluster binary, read by Ansible's own ansible-inventory
// through the wrapper script, checked against the three-shelf example inventory file as
// picluster's inventory library reads it.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "inventory/inventory.hpp"
#include "tests/integration/ansible/run.hpp"

namespace picluster::testing {
namespace {

using nlohmann::json;

std::filesystem::path example() { return ansible_dir() / "examples" / "three-shelves.json"; }

std::string group_name(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> members(const json& doc, const std::string& group, const char* kind) {
  if (!doc.contains(group) || !doc.at(group).contains(kind)) return {};
  return sorted(doc.at(group).at(kind).get<std::vector<std::string>>());
}

class DynamicInventory : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = inventory::load(example());
    ASSERT_TRUE(loaded) << loaded.error().message;
    m_inventory = *loaded;
    ASSERT_EQ(m_inventory.shelves.size(), 3U) << "the example must keep three shelves";
  }
  inventory::Inventory m_inventory;
};

TEST_F(DynamicInventory, AnsibleSeesEveryShelfFileserverSwitchAndPi) {
  if (!have_program("ansible-inventory")) GTEST_SKIP() << "ansible not installed (apt-get install ansible)";
  auto r = run({"ansible-inventory", "-i", (ansible_dir() / "inventory" / "picluster.sh").string(), "--list"},
               with_env(ansible_env(example()), 120));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("WARNING"), std::string::npos) << r.err;
  const json doc = json::parse(r.out);
  const json& hostvars = doc.at("_meta").at("hostvars");

  std::vector<std::string> all_pis, fileservers, switches;
  for (const auto& shelf : m_inventory.shelves) {
    const std::string fs = shelf.name + "-fileserver", sw = shelf.name + "-switch";
    const std::string shelf_group = "shelf_" + group_name(shelf.name);
    const std::string pis_group = "picluster_" + group_name(shelf.name) + "_pis";
    fileservers.push_back(fs);
    switches.push_back(sw);
    EXPECT_EQ(members(doc, shelf_group, "hosts"), sorted({fs, sw})) << shelf_group;
    EXPECT_EQ(members(doc, shelf_group, "children"), std::vector<std::string>{pis_group}) << shelf_group;

    std::vector<std::string> shelf_pis;
    for (const auto& pi : shelf.pis) {
      SCOPED_TRACE(pi.name);
      shelf_pis.push_back(pi.name);
      all_pis.push_back(pi.name);
      ASSERT_TRUE(hostvars.contains(pi.name));
      const json& v = hostvars.at(pi.name);
      EXPECT_EQ(v.at("ansible_host"), pi.ipv6.str());
      EXPECT_EQ(v.at("picluster_shelf"), shelf.name);
      EXPECT_EQ(v.at("picluster_port"), pi.port);
      EXPECT_EQ(v.at("picluster_vlan"), pi.vlan);
      EXPECT_EQ(v.at("picluster_model"), std::string{inventory::to_string(pi.model)});
      EXPECT_EQ(v.at("picluster_storage_network"), pi.storage.network.str() + "/30");
      EXPECT_EQ(v.at("picluster_storage_address"), pi.storage.pi.str());
      EXPECT_EQ(v.at("picluster_storage_fileserver"), pi.storage.fileserver.str());
      EXPECT_EQ(v.at("picluster_storage_broadcast"), pi.storage.broadcast.str());
      EXPECT_EQ(v.at("picluster_public_vlan"), shelf.public_net.vlan);
      EXPECT_EQ(v.value("picluster_serial", json()), pi.serial ? json(*pi.serial) : json());
      EXPECT_EQ(v.value("picluster_mac", json()), pi.mac ? json(pi.mac->str()) : json());
    }
    EXPECT_EQ(members(doc, pis_group, "hosts"), sorted(shelf_pis)) << pis_group;

    SCOPED_TRACE(fs);
    const json& f = hostvars.at(fs);
    EXPECT_EQ(f.at("ansible_host"), shelf.fileserver.host);
    EXPECT_EQ(f.at("ansible_user"), shelf.fileserver.user);
    EXPECT_EQ(f.at("ansible_port"), shelf.fileserver.ssh_port);
    EXPECT_EQ(f.at("picluster_nfs_root"), shelf.fileserver.nfs_root);
    EXPECT_EQ(f.at("picluster_trunk_interface"), shelf.fileserver.trunk_interface);
    EXPECT_EQ(f.at("picluster_golden_image"), shelf.fileserver.golden_image);
    std::vector<int> vlans;
    for (const auto& pi : shelf.pis) vlans.push_back(pi.vlan);
    std::sort(vlans.begin(), vlans.end());
    EXPECT_EQ(f.at("picluster_vlans").get<std::vector<int>>(), vlans);
    const json& s = hostvars.at(sw);
    EXPECT_EQ(s.at("picluster_switch_host"), shelf.switch_.host);
    EXPECT_EQ(s.at("picluster_switch_profile"), shelf.switch_.profile);
    EXPECT_EQ(s.at("picluster_port_count"), shelf.switch_.port_count);
    // Never the secrets, nor where they are kept.
    EXPECT_EQ(r.out.find(shelf.switch_.secrets_file), std::string::npos) << shelf.switch_.secrets_file;
  }
  EXPECT_EQ(members(doc, "pis", "hosts"), sorted(all_pis));
  EXPECT_EQ(members(doc, "fileservers", "hosts"), sorted(fileservers));
  EXPECT_EQ(members(doc, "switches", "hosts"), sorted(switches));
  std::size_t hosts = 0;
  for (const auto& shelf : m_inventory.shelves) hosts += shelf.pis.size() + 2;
  EXPECT_EQ(hostvars.size(), hosts) << "no host beyond the Pis, fileservers and switches";
}

TEST_F(DynamicInventory, HostMatchesMetaForEveryHost) {
  auto list = run({picluster_exe().string(), "--inventory", example().string(), "ansible-inventory", "--list"});
  ASSERT_EQ(list.status, 0) << list.err;
  const json doc = json::parse(list.out);
  ASSERT_FALSE(doc.at("_meta").at("hostvars").empty());
  for (const auto& [name, vars] : doc.at("_meta").at("hostvars").items()) {
    auto host = run({picluster_exe().string(), "--inventory", example().string(), "ansible-inventory", "--host", name});
    ASSERT_EQ(host.status, 0) << name << ": " << host.err;
    EXPECT_EQ(json::parse(host.out), vars) << name;
  }
}

TEST_F(DynamicInventory, UnknownHostAndMissingModeAreClearErrors) {
  auto unknown = run({picluster_exe().string(), "--inventory", example().string(), "ansible-inventory", "--host", "pi99"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_EQ(unknown.out, "");
  EXPECT_EQ(unknown.err, "picluster: error: " + example().string() +
                             ": no Ansible host \"pi99\" (Pis by name, \"<shelf>-fileserver\", \"<shelf>-switch\")\n");
  auto neither = run({picluster_exe().string(), "--inventory", example().string(), "ansible-inventory"});
  EXPECT_EQ(neither.status, 2);
  EXPECT_EQ(neither.err, "picluster: error: ansible-inventory: give --list or --host NAME\n");
}

TEST_F(DynamicInventory, ShelfOptionListsOneShelf) {
  auto r = run({picluster_exe().string(), "--inventory", example().string(), "--shelf", "south", "ansible-inventory",
                "--list"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(members(doc, "fileservers", "hosts"), std::vector<std::string>{"south-fileserver"});
  std::vector<std::string> south;
  for (const auto& pi : m_inventory.find_shelf("south")->pis) south.push_back(pi.name);
  EXPECT_EQ(members(doc, "pis", "hosts"), sorted(south));
}

}  // namespace
}  // namespace picluster::testing
