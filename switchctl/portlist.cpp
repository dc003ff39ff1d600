#include "switchctl/portlist.hpp"

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

}  // namespace picluster::switchctl
