#pragma once
// `picluster doctor`: a read-only preflight of a site, run before the first `apply`. Each check
// is one line, ok / warn / fail, with what was found and, unless ok, the fix.
//
//   inventory   loads and validates
//   switch      answers with the configured SNMP version and credentials; the VLAN table and
//               PVIDs are readable (and, with write_test, writable: a spare VLAN id no one uses is
//               created and deleted again); the PoE table is there and matched to the Pi ports;
//               the trunk port and every Pi's port are on the switch
//   fileserver  reachable (SSH with the pinned host key, or local); nfsd running; 8021q
//               available; nftables present; dnsmasq for netboot shelves; the clone method the
//               filesystem supports; free space for N more roots; the golden image present; each
//               Pi's root present
//
// Nothing is written anywhere except the spare VLAN of the write test. When a check fails
// that later checks depend on (the switch does not answer, the fileserver cannot be reached),
// those later checks are left out, so each fault gives one fail.
//
// With root_prefix set (a folder standing in for the fileserver, as in the example shelf and the
// tests), the kernel facts (/proc/fs/nfsd, /sys/module/8021q) are read under the prefix like
// every other fileserver path; the commands (nft, dnsmasq, df) run on the host itself.

#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "inventory/inventory.hpp"
#include "nfsroot/host.hpp"
#include "switchctl/snmp.hpp"

namespace picluster::orchestrator {

enum class CheckStatus { ok, warn, fail };
std::string_view to_string(CheckStatus status);  // "ok", "warn", "fail"

struct Check {
  std::string area;    // "inventory", "switch", "fileserver"
  std::string name;    // "reachable", "vlan table", ...
  CheckStatus status = CheckStatus::ok;
  std::string detail;  // what was found
  std::string fix;     // what to do about it; empty when ok
};

struct DoctorOptions {
  std::filesystem::path inventory_path;
  std::string shelf;        // "" = the only shelf
  bool write_test = false;  // create and delete a spare VLAN on the switch
  int roots = 0;            // free space for this many more roots; 0 = the Pis without one (min 1)
};

struct DoctorReport {
  std::vector<Check> checks;
  [[nodiscard]] bool failed() const;
};

DoctorReport run_doctor(const DoctorOptions& options);

// The parts, for tests and for run_doctor. Each appends its checks.
void check_switch(const inventory::Shelf& shelf, switchctl::SnmpSession& session,
                  bool write_test, std::vector<Check>& out);
void check_fileserver(const inventory::Shelf& shelf, nfsroot::Host& host, int roots,
                      std::vector<Check>& out);

// A VLAN id for the write test: the highest id in 2..4094 that the switch does not have and the
// shelf neither uses nor may allocate (storage range, public VLAN); 0 when there is none.
int spare_vlan(const inventory::Shelf& shelf, const std::vector<int>& existing);

// Terminal form: "ok    switch: reachable: ..." and, unless ok, "      fix: ..." below it.
std::string describe(const DoctorReport& report);
inventory::Json to_json(const DoctorReport& report);

}  // namespace picluster::orchestrator
