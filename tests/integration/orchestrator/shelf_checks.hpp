#pragma once
// What the tests read back from the shelf, the way an operator would look: the switch through
// `picluster switch show --json` and snmpget, the fileserver through its files.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/orchestrator/shelf_fixture.hpp"

namespace picluster::orchestrator::it {

// `picluster show NAME --json` (vlan, storage.pi, cmdline, ...).
inline json show_pi(const TestShelf& shelf, const std::string& name) { return shelf.pic_json({"show", name, "--json"}); }

// The switch ports of `switch show --json`, by port number.
inline std::map<int, json> switch_ports(const TestShelf& shelf) {
  std::map<int, json> ports;
  const json shown = shelf.pic_json({"switch", "show", "--json"});
  if (shown.contains("ports")) {
    for (const auto& p : shown["ports"]) ports[p["port"].get<int>()] = p;
  }
  return ports;
}

inline std::set<int> int_set(const json& array) {
  std::set<int> out;
  if (array.is_array()) {
    for (const auto& v : array) out.insert(v.get<int>());
  }
  return out;
}

// Export lines of the shelf's exports file: root path -> the client specs after it.
inline std::map<std::string, std::vector<std::string>> exports(const TestShelf& shelf) {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream in(testing::read_file(shelf.exports_file()));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string path;
    words >> path;
    for (std::string client; words >> client;) out[path].push_back(client);
  }
  return out;
}

// snmpget's value alone ("12", or "No Such Instance currently exists at this OID").
inline std::string snmp_value(const TestShelf& shelf, const std::string& oid) {
  const auto r = shelf.snmpget(oid);
  EXPECT_EQ(r.status, 0) << "snmpget " << oid << ": " << r.err;
  std::string v = r.out;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

// Every step of an `apply --json` / `add --json` answer.
inline std::vector<json> steps(const json& answer) {
  std::vector<json> out;
  if (answer.contains("steps")) {
    for (const auto& s : answer["steps"]) out.push_back(s);
  }
  return out;
}

// The lines of the journal, parsed.
inline std::vector<json> journal(const TestShelf& shelf) {
  std::vector<json> out;
  std::istringstream in(testing::read_file(shelf.journal_file()));
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(j);
  }
  return out;
}

// The names left in the roots' staging folder (an interrupted clone leaves one there).
inline std::vector<std::string> staging_leftovers(const TestShelf& shelf) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(shelf.prefix() / "srv/nfsroot/.staging", ec)) {
    out.push_back(e.path().filename().string());
  }
  return out;
}

}  // namespace picluster::orchestrator::it
