#include "orchestrator/boot_log.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>

namespace picluster::orchestrator {
namespace {

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

// The message after "dnsmasq-dhcp[PID]: " / "dnsmasq-tftp[PID]: " (syslog or log-facility), with
// which of the two it was; nullopt for other lines.
std::optional<std::pair<bool, std::string_view>> message_of(std::string_view line) {
  for (const bool dhcp : {true, false}) {
    const std::string_view tag = dhcp ? "dnsmasq-dhcp[" : "dnsmasq-tftp[";
    const auto at = line.find(tag);
    if (at == std::string_view::npos) continue;
    const auto end = line.find("]: ", at);
    if (end == std::string_view::npos) return std::nullopt;
    return std::pair{dhcp, line.substr(end + 3)};
  }
  return std::nullopt;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    const auto start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Option 97 as logged: "00:52:50:69:34:..." (at most 14 bytes, then "...").
void read_machine_id(std::string_view logged, BootRequest& r) {
  if (logged.ends_with("...")) logged.remove_suffix(3);
  std::vector<unsigned> bytes;
  for (std::size_t i = 0; i + 2 <= logged.size(); i += 3) {
    unsigned b = 0;
    const auto part = logged.substr(i, 2);
    if (!is_hex(part) || std::from_chars(part.data(), part.data() + 2, b, 16).ec != std::errc()) return;
    bytes.push_back(b);
  }
  if (bytes.size() < 5 || bytes[0] != 0) return;
  if (bytes[1] == 0x52 && bytes[2] == 0x50 && bytes[3] == 0x69 && (bytes[4] == 0x34 || bytes[4] == 0x35)) {
    r.model = bytes[4] == 0x34 ? inventory::PiModel::pi4 : inventory::PiModel::pi5;
    return;
  }
  // The serial 4 times, little endian: trust it only when the repeats that were logged agree.
  if (bytes.size() < 9) return;
  for (std::size_t i = 5; i < bytes.size(); ++i) {
    if (bytes[i] != bytes[1 + (i - 1) % 4]) return;
  }
  char text[9];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x", bytes[4], bytes[3], bytes[2], bytes[1]);
  if (std::string_view(text) != "00000000") r.serial = text;
}

struct Parser {
  BootLog log;
  std::map<std::string, std::size_t> by_xid;       // xid -> index of its current request
  std::map<std::string, std::string> vendor_of;    // xid -> vendor class seen before the MAC

  BootRequest* request(std::string_view xid) {
    const auto it = by_xid.find(std::string(xid));
    return it == by_xid.end() ? nullptr : &log.requests[it->second];
  }

  // "DHCPDISCOVER(eth0.18) dc:a6:..." / "DHCPACK(eth0.18) 10.20.0.34 dc:a6:... pi09"
  void dhcp_packet(std::string_view xid, const std::vector<std::string_view>& w) {
    const auto open = w[1].find('(');
    if (!w[1].ends_with(")") || open == std::string_view::npos) return;
    const std::string type(w[1].substr(0, open));
    const std::string iface(w[1].substr(open + 1, w[1].size() - open - 2));
    std::optional<inventory::Ipv4> address;
    std::optional<inventory::Mac> mac;
    for (std::size_t i = 2; i < w.size() && !mac; ++i) {
      if (!address) address = inventory::Ipv4::parse(w[i]);
      mac = inventory::Mac::parse(w[i]);
    }
    if (!mac) return;
    BootRequest* r = request(xid);
    if (r == nullptr || r->mac != *mac || r->interface != iface) {
      BootRequest fresh;
      fresh.mac = *mac;
      fresh.interface = iface;
      log.requests.push_back(std::move(fresh));
      by_xid[std::string(xid)] = log.requests.size() - 1;
      r = &log.requests.back();
    }
    if (auto v = vendor_of.find(std::string(xid)); v != vendor_of.end()) r->vendor_class = v->second;
    if (type == "DHCPACK" && address) r->leased = address;
  }

  void dhcp_line(std::string_view message) {
    const auto w = words(message);
    if (w.size() < 2 || !std::all_of(w[0].begin(), w[0].end(), [](char c) { return c >= '0' && c <= '9'; }))
      return;
    const std::string_view rest = message.substr(message.find(w[1]));
    if (rest.starts_with("vendor class: ")) {
      vendor_of[std::string(w[0])] = std::string(rest.substr(14));
    } else if (w[1].starts_with("DHCP") && w[1].find('(') != std::string_view::npos) {
      dhcp_packet(w[0], w);
    } else if (rest.starts_with("sent size:") && w.size() >= 8 && w[6] == "client-machine-id") {
      if (BootRequest* r = request(w[0])) read_machine_id(w[7], *r);
    }
  }

  // "file PATH not found for IP" / "sent PATH to IP"
  void tftp_line(std::string_view message) {
    const auto w = words(message);
    TftpRead read;
    std::optional<inventory::Ipv4> client;
    if (w.size() == 6 && w[0] == "file" && w[2] == "not" && w[3] == "found" && w[4] == "for") {
      client = inventory::Ipv4::parse(w[5]);
    } else if (w.size() == 4 && w[0] == "sent" && w[2] == "to") {
      client = inventory::Ipv4::parse(w[3]);
      read.found = true;
    }
    if (!client) return;
    read.client = *client;
    read.path = std::string(w[1]);
    log.reads.push_back(std::move(read));
  }
};

}  // namespace

BootLog parse_dnsmasq_log(std::string_view text) {
  Parser p;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    const auto message = message_of(line);
    if (!message) continue;
    if (message->first) {
      p.dhcp_line(message->second);
    } else {
      p.tftp_line(message->second);
    }
  }
  return std::move(p.log);
}

std::optional<std::string> serial_of_tftp_path(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const auto folder_start = path.rfind('/', slash - 1);
  const auto folder = path.substr(folder_start == std::string_view::npos ? 0 : folder_start + 1,
                                  slash - (folder_start == std::string_view::npos ? 0 : folder_start + 1));
  if (folder.size() != 8 || !is_hex(folder)) return std::nullopt;
  return lower(folder);
}

std::optional<SerialSighting> serial_for(const BootLog& log, const inventory::Mac& mac,
                                         const std::optional<inventory::Ipv4>& address) {
  std::vector<inventory::Ipv4> addresses;
  if (address) addresses.push_back(*address);
  for (const auto& r : log.requests) {
    if (r.mac == mac && r.leased) addresses.push_back(*r.leased);
  }
  // The last TFTP read from one of the Pi's addresses that names a serial folder.
  for (auto it = log.reads.rbegin(); it != log.reads.rend(); ++it) {
    if (std::find(addresses.begin(), addresses.end(), it->client) == addresses.end()) continue;
    if (auto serial = serial_of_tftp_path(it->path)) {
      return SerialSighting{*serial, "TFTP read of " + it->path + " from " + it->client.str()};
    }
  }
  for (auto it = log.requests.rbegin(); it != log.requests.rend(); ++it) {
    if (it->mac == mac && it->serial) {
      return SerialSighting{*it->serial, "DHCP option 97 from " + mac.str() + " on " + it->interface};
    }
  }
  return std::nullopt;
}

std::optional<inventory::PiModel> model_for(const BootLog& log, const inventory::Mac& mac) {
  for (auto it = log.requests.rbegin(); it != log.requests.rend(); ++it) {
    if (it->mac == mac && it->model) return it->model;
  }
  return std::nullopt;
}

bool seen(const BootLog& log, const inventory::Mac& mac) {
  return std::any_of(log.requests.begin(), log.requests.end(), [&](const BootRequest& r) { return r.mac == mac; });
}

}  // namespace picluster::orchestrator
