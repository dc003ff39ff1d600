#include "inventory/net.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "common/text.hpp"

namespace picluster::inventory {
namespace {

// Parses a decimal number in [0, max] with no sign, no leading zeros and nothing after it.
std::optional<int> parse_small_uint(std::string_view text, int max) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text.front() == '0')) {
    return std::nullopt;
  }
  int value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || value < 0 || value > max) return std::nullopt;
  return value;
}

std::optional<int> hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// Splits "addr/len" into its parts; nullopt without exactly one '/'.
std::optional<std::pair<std::string_view, int>> split_prefix(std::string_view text, int max_len) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || text.find('/', slash + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  const auto len = parse_small_uint(text.substr(slash + 1), max_len);
  if (!len) return std::nullopt;
  return std::pair{text.substr(0, slash), *len};
}

}  // namespace

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
  const auto parts = split(text, '.');
  if (parts.size() != 4) return std::nullopt;
  std::uint32_t value = 0;
  for (const auto& part : parts) {
    const auto octet = parse_small_uint(part, 255);
    if (!octet) return std::nullopt;
    value = (value << 8) | static_cast<std::uint32_t>(*octet);
  }
  return Ipv4{value};
}

std::string Ipv4::str() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", (value >> 24) & 0xffU, (value >> 16) & 0xffU,
                (value >> 8) & 0xffU, value & 0xffU);
  return buf;
}

std::optional<Ipv4Net> Ipv4Net::parse(std::string_view text) {
  const auto parts = split_prefix(text, 32);
  if (!parts) return std::nullopt;
  const auto address = Ipv4::parse(parts->first);
  if (!address) return std::nullopt;
  Ipv4Net net{*address, parts->second};
  const std::uint64_t host_mask = net.size() - 1;
  if ((address->value & host_mask) != 0) return std::nullopt;  // host bits set
  return net;
}

std::string Ipv4Net::str() const { return address.str() + "/" + std::to_string(prefix); }

bool Ipv4Net::contains(Ipv4 ip) const {
  const std::uint64_t mask = ~(size() - 1) & 0xffffffffULL;
  return (ip.value & mask) == address.value;
}

std::optional<Ipv6> Ipv6::parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  for (char c : text) {
    if (!hex_digit(c) && c != ':') return std::nullopt;  // no zone ids, no embedded IPv4
  }
  const std::string copy(text);
  Ipv6 out;
  if (inet_pton(AF_INET6, copy.c_str(), out.bytes.data()) != 1) return std::nullopt;
  return out;
}

std::string Ipv6::str() const {
  std::array<unsigned, 8> groups{};
  for (std::size_t i = 0; i < 8; ++i) {
    groups[i] = (static_cast<unsigned>(bytes[2 * i]) << 8) | bytes[2 * i + 1];
  }
  // Longest run of zero groups; on a tie the last one (see the header).
  std::size_t best_start = 8, best_len = 0;
  for (std::size_t i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i >= best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  std::string out;
  char buf[8];
  for (std::size_t i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", groups[i]);
    out += buf;
  }
  return out;
}

std::optional<Ipv6Net> Ipv6Net::parse(std::string_view text) {
  const auto parts = split_prefix(text, 128);
  if (!parts) return std::nullopt;
  const auto address = Ipv6::parse(parts->first);
  if (!address) return std::nullopt;
  Ipv6Net net{*address, parts->second};
  for (int bit = net.prefix; bit < 128; ++bit) {  // host bits must be zero
    const auto byte = static_cast<std::size_t>(bit / 8);
    if ((address->bytes[byte] >> (7 - bit % 8)) & 1U) return std::nullopt;
  }
  return net;
}

std::string Ipv6Net::str() const { return address.str() + "/" + std::to_string(prefix); }

bool Ipv6Net::contains(const Ipv6& ip) const {
  for (int bit = 0; bit < prefix; ++bit) {
    const auto byte = static_cast<std::size_t>(bit / 8);
    const auto shift = 7 - bit % 8;
    if (((ip.bytes[byte] >> shift) & 1U) != ((address.bytes[byte] >> shift) & 1U)) return false;
  }
  return true;
}

std::optional<Mac> Mac::parse(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  const char sep = text[2];
  if (sep != ':' && sep != '-') return std::nullopt;
  Mac mac;
  for (std::size_t i = 0; i < 6; ++i) {
    const auto hi = hex_digit(text[3 * i]);
    const auto lo = hex_digit(text[3 * i + 1]);
    if (!hi || !lo) return std::nullopt;
    if (i < 5 && text[3 * i + 2] != sep) return std::nullopt;
    mac.bytes[i] = static_cast<std::uint8_t>(*hi * 16 + *lo);
  }
  return mac;
}

std::string Mac::str() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

std::optional<std::string> mac_problem(const Mac& mac) {
  if (mac == Mac{}) return mac.str() + " is the all-zero address (a Pi's MAC is unicast)";
  if ((mac.bytes[0] & 1U) == 0) return std::nullopt;
  const bool broadcast = std::ranges::all_of(mac.bytes, [](std::uint8_t b) { return b == 0xff; });
  return mac.str() + " is " + (broadcast ? "the broadcast" : "a multicast") +
         " address (a Pi's MAC is unicast: its first octet is even)";
}

}  // namespace picluster::inventory
