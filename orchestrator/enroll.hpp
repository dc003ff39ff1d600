#pragma once
// Zero-touch enrollment: `picluster add NAME --port N` on a netboot shelf with neither --mac nor
// --serial. The Pi's identity is learned from what it does when it gets power:
//
//   allocate     VLAN, /30, IPv6 written into the inventory (as add)
//   apply        switch port, VLAN interface, root, export, boot files, PoE on (as add)
//   mac          the switch's forwarding table is polled until one Raspberry Pi MAC (by OUI) is
//                learned on port N; several are refused, naming them; one that another Pi in the
//                inventory already has is refused, naming that Pi; it is written (atomic, locked)
//   dnsmasq      apply again: dnsmasq's file gets the Pi's static lease and dnsmasq restarts
//   serial       dnsmasq's log (boot.dnsmasq_log, log-dhcp) is polled until the Pi's boot request
//                names its serial: the TFTP read of `<serial>/start.elf|start4.elf|config.txt`
//                (every model; the folder does not exist yet, so dnsmasq logs "not found") or
//                option 97 (Pi 3: the serial 4 times); see boot_log.hpp. Taken = refused; written
//   boot         apply again: `<tftp_root>/<serial>/` staged; the Pi's next request finds it
//
// Every wait is bounded and its error says what was waited for. A run that stops after allocate
// leaves the Pi in the inventory without a MAC or serial: the same `add` command again finishes
// it (the Pi is found by name and port, and the steps already done are skipped).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "orchestrator/boot_log.hpp"
#include "orchestrator/verbs.hpp"
#include "switchctl/state.hpp"

namespace picluster::orchestrator {

struct EnrollOptions {
  std::chrono::seconds wait_mac{60};
  std::chrono::seconds wait_serial{120};
  std::chrono::milliseconds poll{1000};
};

struct Enrollment {
  inventory::Pi pi;
  bool enrolled = false;        // the MAC or serial was learned (false: a plain add)
  std::string mac_evidence;     // "learned on port 9 (switch forwarding table)"
  std::string serial_evidence;  // "TFTP read of /srv/tftp/1a2b3c4d/start4.elf from 10.0.0.34"
};

// True when `add` of `request` on `shelf` enrolls: a netboot shelf, neither MAC nor serial given.
bool enrolls(const inventory::Shelf& shelf, const inventory::PiRequest& request);

// add, or zero-touch enrollment when enrolls() (see above).
Result<Enrollment> add_or_enroll(const VerbContext& ctx, const inventory::PiRequest& request,
                                 const EnrollOptions& options);

// The one Raspberry Pi MAC learned on `port`: nullopt when none (yet); a conflict error naming
// them when there are several.
Result<std::optional<inventory::Mac>> pi_mac_on_port(const std::vector<switchctl::LearnedMac>& learned,
                                                     int port);

// A conflict error when a Pi other than `name` (on any shelf) already has `mac` / `serial`.
Result<void> check_mac_free(const inventory::Inventory& inv, const std::string& name, const inventory::Mac& mac);
Result<void> check_serial_free(const inventory::Inventory& inv, const std::string& name, const std::string& serial);

// dnsmasq's log on the shelf's fileserver (boot.dnsmasq_log, under root_prefix), parsed; empty
// when dnsmasq has not written it yet.
Result<BootLog> read_boot_log(ShelfSession& session);

// A Raspberry Pi that is not in the inventory but sits on a switch port asking to boot: discover.
struct AskingPi {
  int port = 0;
  inventory::Mac mac;
  std::optional<std::string> serial;       // when dnsmasq's log names it
  std::optional<inventory::PiModel> model; // when its option 97 says so (pi4, pi5)
  bool dnsmasq_saw = false;                // dnsmasq logged a DHCP request from it
};
std::vector<AskingPi> asking_to_boot(const std::vector<switchctl::LearnedMac>& unknown_pis, const BootLog& log);

}  // namespace picluster::orchestrator
