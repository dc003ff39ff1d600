#pragma once
// Value types for addresses found in the inventory. Parsing is strict (no leading zeros in IPv4
// octets, exactly 6 MAC octets) and printing is canonical (lower-case; see Ipv6::str), so a
// value written by picluster and read back prints the same.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace picluster::inventory {

struct Ipv4 {
  std::uint32_t value = 0;  // host byte order
  static std::optional<Ipv4> parse(std::string_view text);
  [[nodiscard]] std::string str() const;
  auto operator<=>(const Ipv4&) const = default;
};

struct Ipv4Net {
  Ipv4 address;  // network address: host bits are zero
  int prefix = 0;
  // Accepts "a.b.c.d/n" whose host bits are zero.
  static std::optional<Ipv4Net> parse(std::string_view text);
  [[nodiscard]] std::string str() const;
  [[nodiscard]] std::uint64_t size() const { return std::uint64_t{1} << (32 - prefix); }
  [[nodiscard]] bool contains(Ipv4 ip) const;
  auto operator<=>(const Ipv4Net&) const = default;
};

struct Ipv6 {
  std::array<std::uint8_t, 16> bytes{};
  static std::optional<Ipv6> parse(std::string_view text);
  // Lower-case hex, the longest run of zero groups (even a single one; the last on a tie)
  // written "::", which reproduces the seed's "2a00:1098:0:84:1000:1::2".
  [[nodiscard]] std::string str() const;
  auto operator<=>(const Ipv6&) const = default;
};

struct Ipv6Net {
  Ipv6 address;
  int prefix = 0;
  static std::optional<Ipv6Net> parse(std::string_view text);  // "2a00:1098:0:84::/64"
  [[nodiscard]] std::string str() const;
  [[nodiscard]] bool contains(const Ipv6& ip) const;
  auto operator<=>(const Ipv6Net&) const = default;
};

struct Mac {
  std::array<std::uint8_t, 6> bytes{};
  // Accepts "b8:27:eb:12:34:56" or "b8-27-eb-12-34-56", either case.
  static std::optional<Mac> parse(std::string_view text);
  [[nodiscard]] std::string str() const;  // "b8:27:eb:12:34:56"
  auto operator<=>(const Mac&) const = default;
};

// Why `mac` cannot be a Pi's ("ff:ff:ff:ff:ff:ff is the broadcast address ..."), or nullopt for a
// unicast address that is not all-zero.
std::optional<std::string> mac_problem(const Mac& mac);

}  // namespace picluster::inventory
