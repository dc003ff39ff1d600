#pragma once
// Ansible's dynamic-inventory protocol for a picluster inventory.
//
// Ansible runs an executable inventory source twice over: `--list` prints every group with its
// hosts and children plus `_meta.hostvars` (so Ansible never needs `--host`), and `--host NAME`
// prints one host's variables. Both are pure functions of the inventory here; the CLI only loads
// the file and prints.
//
// Hosts: each Pi under its own name, each shelf's fileserver as "<shelf>-fileserver" and its
// switch as "<shelf>-switch". Host names must be unique across shelves (Ansible has one flat
// namespace), so a Pi name used in two shelves is an error naming both.
// Groups: `fileservers`, `switches`, `pis`, and per shelf `shelf_<shelf>` (its fileserver and
// switch, with child group `picluster_<shelf>_pis`). A '-' in a shelf name becomes '_' in group
// names (Ansible group names are Python identifiers); RFC 1123 names make that mapping unique.
// Variables are prefixed `picluster_` except Ansible's own connection variables. Switch secrets
// (community, v3 passwords, the secrets file's path) are never emitted.

#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "inventory/inventory.hpp"

namespace picluster::orchestrator {

// "shelf_" / "picluster_<shelf>_pis" group names for a shelf name ('-' becomes '_').
std::string ansible_shelf_group(std::string_view shelf_name);
std::string ansible_shelf_pis_group(std::string_view shelf_name);

// Inventory host names of a shelf's fileserver and switch.
std::string ansible_fileserver_host(std::string_view shelf_name);
std::string ansible_switch_host(std::string_view shelf_name);

// The `--list` document. `inventory_file` is the file the inventory came from; it is published
// as `picluster_inventory` (made absolute) so playbooks can run picluster on the same file, and
// relative identity/known_hosts paths are resolved against its folder.
// Fails with invalid_inventory when two hosts would share a name.
Result<inventory::Json> ansible_inventory_list(const inventory::Inventory& inventory,
                                               const std::filesystem::path& inventory_file);

// The `--host NAME` document: exactly `_meta.hostvars[NAME]` of the list. not_found for a name
// that is not a host of the inventory.
Result<inventory::Json> ansible_inventory_host(const inventory::Inventory& inventory,
                                               const std::filesystem::path& inventory_file,
                                               std::string_view host);

}  // namespace picluster::orchestrator
