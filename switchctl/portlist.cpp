#include "switchctl/portlist.hpp"

#include <cctype>

namespace picluster::switchctl {

PortSet decode_bits(std::string_view octets, int first) {
  PortSet out;
  for (std::size_t i = 0; i < octets.size(); ++i) {
    const auto byte = static_cast<unsigned char>(octets[i]);
    for (int bit = 0; bit < 8; ++bit) {
      if ((byte & (0x80u >> bit)) != 0) out.insert(first + static_cast<int>(i) * 8 + bit);
    }
  }
  return out;
}

std::string encode_bits(const PortSet& numbers, std::size_t min_octets, int first) {
  std::size_t octets = min_octets;
  if (!numbers.empty() && *numbers.rbegin() >= first) {
    octets = std::max(octets, static_cast<std::size_t>(*numbers.rbegin() - first) / 8 + 1);
  }
  std::string out(octets, '\0');
  for (const int n : numbers) {
    if (n < first) continue;
    const auto offset = static_cast<std::size_t>(n - first);
    auto byte = static_cast<unsigned char>(out[offset / 8]);
    byte = static_cast<unsigned char>(byte | (0x80u >> (offset % 8)));
    out[offset / 8] = static_cast<char>(byte);
  }
  return out;
}

std::string format_ranges(const PortSet& numbers) {
  if (numbers.empty()) return "-";
  std::string out;
  auto it = numbers.begin();
  while (it != numbers.end()) {
    const int start = *it;
    int end = start;
    auto next = std::next(it);
    while (next != numbers.end() && *next == end + 1) {
      end = *next;
      ++next;
    }
    if (!out.empty()) out += ',';
    out += std::to_string(start);
    if (end != start) out += "-" + std::to_string(end);
    it = next;
  }
  return out;
}

std::string_view to_string(PortListForm form) {
  return form == PortListForm::bitmap ? "bitmap" : "comma list";
}

namespace {

// Decimal numbers separated by commas (spaces allowed); nullopt on anything else.
std::optional<PortSet> parse_comma_list(std::string_view text) {
  PortSet out;
  long current = -1;
  for (const char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      current = (current < 0 ? 0 : current) * 10 + (c - '0');
      if (current > 1000000) return std::nullopt;
    } else if (c == ',') {
      if (current < 0) return std::nullopt;
      out.insert(static_cast<int>(current));
      current = -1;
    } else if (c != ' ') {
      return std::nullopt;
    }
  }
  if (current >= 0) out.insert(static_cast<int>(current));
  else if (!text.empty()) return std::nullopt;
  return out;
}

}  // namespace

DecodedPortList decode_port_list(std::string_view octets, PortListForm form, const std::set<int>& bridge_ports) {
  DecodedPortList out;
  PortSet found;
  if (form == PortListForm::bitmap) {
    found = decode_bits(octets);
  } else if (auto list = parse_comma_list(octets)) {
    found = std::move(*list);
  } else {
    out.problem = "not a comma-separated list of bridge port numbers";
    return out;
  }
  PortSet unknown;
  for (const int p : found) (bridge_ports.contains(p) ? out.ports : unknown).insert(p);
  if (!unknown.empty()) {
    out.problem = (form == PortListForm::bitmap ? "bits for bridge ports " : "bridge ports ") + format_ranges(unknown) +
                  ", which the switch does not list";
  }
  return out;
}

}  // namespace picluster::switchctl
