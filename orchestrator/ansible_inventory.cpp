#include "orchestrator/ansible_inventory.hpp"

#include <algorithm>
#include <map>
#include <system_error>
#include <vector>

#include "common/text.hpp"

namespace picluster::orchestrator {

using inventory::Inventory;
using inventory::Json;
using inventory::Pi;
using inventory::Shelf;

namespace {

std::string group_safe(std::string_view name) {
  std::string out{name};
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::filesystem::path absolute_path(const std::filesystem::path& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal();
}

// A path from the inventory, relative ones taken from the inventory file's folder; "~" kept for
// Ansible to expand on the controller.
std::string inventory_relative(const std::string& value, const std::filesystem::path& inventory_file) {
  if (value.empty() || value.front() == '/' || value.front() == '~') return value;
  return (absolute_path(inventory_file).parent_path() / value).lexically_normal().string();
}

Json fileserver_vars(const Shelf& shelf, const std::filesystem::path& inventory_file) {
  const auto& fs = shelf.fileserver;
  Json vars = Json::object();
  if (fs.transport == inventory::Transport::local) {
    vars["ansible_connection"] = "local";
  } else {
    vars["ansible_host"] = fs.host;
    vars["ansible_port"] = fs.ssh_port;
    vars["ansible_user"] = fs.user;
    if (!fs.identity_file.empty())
      vars["ansible_ssh_private_key_file"] = inventory_relative(fs.identity_file, inventory_file);
    if (!fs.known_hosts.empty())
      vars["ansible_ssh_common_args"] =
          "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=" +
          shell_quote(inventory_relative(fs.known_hosts, inventory_file));
    // Connection reuse as picluster's own: Ansible's default (ControlPersist=60s) unless the
    // inventory says otherwise; 0 turns OpenSSH's ControlMaster off.
    if (fs.ssh_persist_seconds) {
      vars["ansible_ssh_args"] = *fs.ssh_persist_seconds == 0
                                     ? std::string("-C -o ControlMaster=no -o ControlPath=none")
                                     : "-C -o ControlMaster=auto -o ControlPersist=" +
                                           std::to_string(*fs.ssh_persist_seconds) + "s";
    }
  }
  std::vector<int> vlans;
  for (const auto& pi : shelf.pis) vlans.push_back(pi.vlan);
  std::sort(vlans.begin(), vlans.end());
  vars["picluster_shelf"] = shelf.name;
  vars["picluster_inventory"] = absolute_path(inventory_file).string();
  vars["picluster_transport"] = std::string{to_string(fs.transport)};
  vars["picluster_fileserver_user"] = fs.user;
  vars["picluster_trunk_interface"] = fs.trunk_interface;
  vars["picluster_trunk_port"] = fs.trunk_port;
  vars["picluster_nfs_root"] = fs.nfs_root;
  vars["picluster_tftp_root"] = fs.tftp_root;
  vars["picluster_golden_image"] = fs.golden_image;
  vars["picluster_image_store"] = inventory::image_store_of(fs);  // golden-image.yml pushes versions there
  vars["picluster_clone_method"] = std::string{to_string(fs.clone_method)};
  vars["picluster_net_config"] = std::string{to_string(fs.net_config)};
  if (!fs.root_prefix.empty()) vars["picluster_root_prefix"] = fs.root_prefix;
  vars["picluster_boot_mode"] = std::string{to_string(shelf.boot.mode)};
  vars["picluster_nfs_options"] = shelf.boot.nfs_options;
  vars["picluster_vlans"] = vlans;
  vars["picluster_storage_pool"] = shelf.storage.pool.str();
  vars["picluster_storage_vlan_range"] = Json::array({shelf.storage.vlan_first, shelf.storage.vlan_last});
  vars["picluster_public_vlan"] = shelf.public_net.vlan;
  vars["picluster_public_prefix"] = shelf.public_net.prefix.str();
  if (shelf.public_net.fileserver_address)
    vars["picluster_public_address"] = shelf.public_net.fileserver_address->str();
  return vars;
}

// Switches are driven over SNMP by picluster on the controller, so Ansible "connects" locally.
Json switch_vars(const Shelf& shelf, const std::filesystem::path& inventory_file) {
  const auto& sw = shelf.switch_;
  Json vars = Json::object();
  vars["ansible_connection"] = "local";
  vars["picluster_shelf"] = shelf.name;
  vars["picluster_inventory"] = absolute_path(inventory_file).string();
  vars["picluster_switch_host"] = sw.host;
  vars["picluster_snmp_port"] = sw.snmp_port;
  vars["picluster_snmp_version"] = std::string{to_string(sw.version)};
  vars["picluster_switch_profile"] = sw.profile;
  vars["picluster_port_count"] = sw.port_count;
  vars["picluster_trunk_port"] = shelf.fileserver.trunk_port;
  return vars;
}

Json pi_vars(const Shelf& shelf, const Pi& pi, const std::filesystem::path& inventory_file) {
  Json vars = Json::object();
  vars["ansible_host"] = pi.ipv6.str();
  vars["picluster_shelf"] = shelf.name;
  vars["picluster_inventory"] = absolute_path(inventory_file).string();
  vars["picluster_fileserver"] = ansible_fileserver_host(shelf.name);
  vars["picluster_port"] = pi.port;
  vars["picluster_model"] = std::string{to_string(pi.model)};
  if (pi.serial) vars["picluster_serial"] = *pi.serial;
  if (pi.mac) vars["picluster_mac"] = pi.mac->str();
  vars["picluster_vlan"] = pi.vlan;
  vars["picluster_storage_network"] = pi.storage.network.str() + "/30";
  vars["picluster_storage_fileserver"] = pi.storage.fileserver.str();
  vars["picluster_storage_address"] = pi.storage.pi.str();
  vars["picluster_storage_broadcast"] = pi.storage.broadcast.str();
  vars["picluster_public_vlan"] = shelf.public_net.vlan;
  vars["picluster_ipv6"] = pi.ipv6.str();
  vars["picluster_public_gateway"] = shelf.public_net.gateway.str();
  vars["picluster_nfs_root_path"] = shelf.fileserver.nfs_root + "/" + pi.name;
  return vars;
}

// Records a host name and its shelf; fails if another shelf (or role) already took it.
Result<void> claim(std::map<std::string, std::string>& owners, const std::string& host,
                   const std::string& owner) {
  auto [it, inserted] = owners.emplace(host, owner);
  if (inserted) return {};
  return fail(ErrorCode::invalid_inventory,
              "Ansible host name '" + host + "' is used by both " + it->second + " and " + owner +
                  ": host names must be unique across shelves");
}

Json hosts_group(std::vector<std::string> hosts) {
  Json group = Json::object();
  group["hosts"] = std::move(hosts);
  return group;
}

}  // namespace

std::string ansible_shelf_group(std::string_view shelf_name) { return "shelf_" + group_safe(shelf_name); }

std::string ansible_shelf_pis_group(std::string_view shelf_name) {
  return "picluster_" + group_safe(shelf_name) + "_pis";
}

std::string ansible_fileserver_host(std::string_view shelf_name) {
  return std::string{shelf_name} + "-fileserver";
}

std::string ansible_switch_host(std::string_view shelf_name) { return std::string{shelf_name} + "-switch"; }

Result<Json> ansible_inventory_list(const Inventory& inventory, const std::filesystem::path& inventory_file) {
  Json hostvars = Json::object();
  std::map<std::string, std::string> owners;  // host name -> "shelf 'x' fileserver" etc.
  std::vector<std::string> fileservers, switches, pis, children{"fileservers", "switches", "pis"};
  Json shelf_groups = Json::object();
  for (const auto& shelf : inventory.shelves) {
    if (!is_rfc1123_label(shelf.name))
      return fail(ErrorCode::invalid_inventory, "shelf " + printable(shelf.name) + ": not an RFC 1123 label");
    const std::string fs = ansible_fileserver_host(shelf.name), sw = ansible_switch_host(shelf.name);
    if (auto ok = claim(owners, fs, "shelf '" + shelf.name + "' fileserver"); !ok) return std::unexpected(ok.error());
    if (auto ok = claim(owners, sw, "shelf '" + shelf.name + "' switch"); !ok) return std::unexpected(ok.error());
    hostvars[fs] = fileserver_vars(shelf, inventory_file);
    hostvars[sw] = switch_vars(shelf, inventory_file);
    fileservers.push_back(fs);
    switches.push_back(sw);
    std::vector<std::string> shelf_pis;
    for (const auto& pi : shelf.pis) {
      if (auto ok = claim(owners, pi.name, "shelf '" + shelf.name + "' pi '" + pi.name + "'"); !ok)
        return std::unexpected(ok.error());
      hostvars[pi.name] = pi_vars(shelf, pi, inventory_file);
      shelf_pis.push_back(pi.name);
      pis.push_back(pi.name);
    }
    const std::string group = ansible_shelf_group(shelf.name), pis_group = ansible_shelf_pis_group(shelf.name);
    Json shelf_group = hosts_group({fs, sw});
    shelf_group["children"] = Json::array({pis_group});
    shelf_group["vars"] = Json{{"picluster_shelf", shelf.name}};
    shelf_groups[group] = std::move(shelf_group);
    shelf_groups[pis_group] = hosts_group(std::move(shelf_pis));
    children.push_back(group);
  }
  Json doc = Json::object();
  doc["_meta"] = Json{{"hostvars", std::move(hostvars)}};
  doc["all"] = Json{{"children", std::move(children)}};
  doc["fileservers"] = hosts_group(std::move(fileservers));
  doc["switches"] = hosts_group(std::move(switches));
  doc["pis"] = hosts_group(std::move(pis));
  for (auto& [name, group] : shelf_groups.items()) doc[name] = std::move(group);
  return doc;
}

Result<Json> ansible_inventory_host(const Inventory& inventory, const std::filesystem::path& inventory_file,
                                    std::string_view host) {
  auto list = ansible_inventory_list(inventory, inventory_file);
  if (!list) return std::unexpected(list.error());
  const auto& hostvars = (*list)["_meta"]["hostvars"];
  const auto it = hostvars.find(std::string{host});
  if (it == hostvars.end())
    return fail(ErrorCode::not_found, inventory_file.string() + ": no Ansible host " + printable(host) +
                                          " (Pis by name, \"<shelf>-fileserver\", \"<shelf>-switch\")");
  return *it;
}

}  // namespace picluster::orchestrator
