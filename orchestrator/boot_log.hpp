#pragma once
// What dnsmasq's log (with log-dhcp) says about Pis asking to boot: who sent a DHCP request on
// which interface, what its option 97 says, which address it was given, and which files it asked
// for over TFTP. Pure: the text in, facts out (zero-touch enrollment and discover read the log
// through the fileserver's Host).
//
// dnsmasq logs a DHCP exchange as lines sharing the transaction id (xid):
//   1075527901 vendor class: PXEClient:Arch:00000:UNDI:002001
//   1075527901 DHCPDISCOVER(eth0.18) dc:a6:32:01:02:03
//   1075527901 DHCPACK(eth0.18) 10.20.0.34 dc:a6:32:01:02:03 pi09
//   1075527901 sent size: 17 option: 97 client-machine-id  00:52:50:69:34:11:31:c0:00:32:01:02:03:4d...
// Option 97 is logged only as echoed in the reply, and cut after 14 bytes. The Pi 4/5
// bootloader's format is 0x00, the fourcc "RPi4"/"RPi5", the board revision, the MAC's 4 low
// bytes, then the serial (little endian), so its serial is cut off: the log gives the model only.
// The Pi 3 (and a Pi 4 with DHCP_OPTION97=0) sends its serial 4 times (little endian): the log
// gives the serial. Every model then reads `<serial>/start.elf` or `<serial>/start4.elf` (or, Pi 5,
// `<serial>/config.txt`) over TFTP, logged with the client's address:
//   file /srv/tftp/1a2b3c4d/start4.elf not found for 10.20.0.34
//   sent /srv/tftp/abcd1234/start4.elf to 10.20.0.34
// That path is the serial the Pi really uses for its folder, so it wins over option 97.
// Lines may carry a syslog prefix ("Dec  4 17:55:56 fs1 dnsmasq-dhcp[4730]: ") or not.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/inventory.hpp"

namespace picluster::orchestrator {

struct BootRequest {
  inventory::Mac mac;
  std::string interface;                     // "eth0.18"
  std::string vendor_class;                  // "PXEClient:Arch:00000:UNDI:002001"
  std::optional<inventory::PiModel> model;   // from option 97's fourcc (pi4, pi5)
  std::optional<std::string> serial;         // from option 97 in the serial-4-times form
  std::optional<inventory::Ipv4> leased;     // the address of its DHCPACK
};

struct TftpRead {
  inventory::Ipv4 client;
  std::string path;  // as logged (the fileserver's path under tftp-root)
  bool found = false;
};

struct BootLog {
  std::vector<BootRequest> requests;  // one per (xid, MAC), in the order first seen
  std::vector<TftpRead> reads;
};

BootLog parse_dnsmasq_log(std::string_view text);

// The serial a TFTP path names: its folder's name when that is 8 hex digits ("a1b2c3d4").
std::optional<std::string> serial_of_tftp_path(std::string_view path);

struct SerialSighting {
  std::string serial;
  std::string evidence;  // "TFTP read of /srv/tftp/1a2b3c4d/start4.elf from 10.20.0.34"
};

// The serial of the Pi with `mac`: from TFTP reads by `address` or by any address dnsmasq leased
// to `mac` (the last one), else from option 97 of its requests. nullopt when the log has neither.
std::optional<SerialSighting> serial_for(const BootLog& log, const inventory::Mac& mac,
                                         const std::optional<inventory::Ipv4>& address);

// The model option 97 announced for `mac` (pi4/pi5), if any.
std::optional<inventory::PiModel> model_for(const BootLog& log, const inventory::Mac& mac);

// True when the log shows any DHCP request from `mac`.
bool seen(const BootLog& log, const inventory::Mac& mac);

}  // namespace picluster::orchestrator
