#include "lab/switchsim/port_list.hpp"

namespace picluster::switchsim {

namespace {
bool bit_set(const std::string& octets, std::size_t bit) {
  const auto byte = static_cast<unsigned char>(octets[bit / 8]);
  return (byte & (0x80U >> (bit % 8))) != 0;
}

void set_bit(std::string& octets, std::size_t bit) {
  auto byte = static_cast<unsigned char>(octets[bit / 8]);
  byte = static_cast<unsigned char>(byte | (0x80U >> (bit % 8)));
  octets[bit / 8] = static_cast<char>(byte);
}
}  // namespace

std::string encode_port_list(const std::set<int>& ports, int width) {
  const auto octets = static_cast<std::size_t>((width + 7) / 8);
  std::string out(octets, '\0');
  for (const int port : ports) {
    if (port < 1 || port > width) continue;
    set_bit(out, static_cast<std::size_t>(port - 1));
  }
  return out;
}

Result<std::set<int>> decode_port_list(const std::string& octets, int max_port) {
  std::set<int> out;
  for (std::size_t bit = 0; bit < octets.size() * 8; ++bit) {
    if (!bit_set(octets, bit)) continue;
    const int port = static_cast<int>(bit) + 1;
    if (port > max_port) {
      return fail(ErrorCode::invalid_argument,
                  "PortList names port " + std::to_string(port) + " but the highest port is " +
                      std::to_string(max_port));
    }
    out.insert(port);
  }
  return out;
}

std::string encode_vlan_bitmap(const std::set<int>& vlans, int first, std::size_t octets) {
  std::string out(octets, '\0');
  const int last = first + static_cast<int>(octets * 8) - 1;
  for (const int vlan : vlans) {
    if (vlan < first || vlan > last) continue;
    set_bit(out, static_cast<std::size_t>(vlan - first));
  }
  return out;
}

std::set<int> decode_vlan_bitmap(const std::string& octets, int first) {
  std::set<int> out;
  for (std::size_t bit = 0; bit < octets.size() * 8; ++bit) {
    if (bit_set(octets, bit)) out.insert(first + static_cast<int>(bit));
  }
  return out;
}

}  // namespace picluster::switchsim
