#pragma once
// Reading picluster's shelf page as data in tests: its front panel has one <g class="port"> per
// switch port with the port's state in data-* attributes (orchestrator/observe_page.cpp).

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace picluster::testing {

// port -> {pi, poe, probe, held, cycled, trunk}, as the page's attributes say.
inline std::map<int, std::vector<std::string>> port_elements(const std::string& page) {
  static const std::regex port_re(
      "<g class=\"port\" id=\"port-(\\d+)\" data-port=\"\\d+\" data-pi=\"([^\"]*)\" "
      "data-poe=\"(\\w+)\" data-probe=\"(\\w+)\" data-held=\"(\\w+)\" data-cycled=\"(\\w+)\" "
      "data-trunk=\"(\\w+)\">");
  std::map<int, std::vector<std::string>> ports;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), port_re);
       it != std::sregex_iterator(); ++it) {
    ports[std::stoi((*it)[1])] = {(*it)[2], (*it)[3], (*it)[4], (*it)[5], (*it)[6], (*it)[7]};
  }
  return ports;
}

}  // namespace picluster::testing
