// Real data: Debian's snmpsimd serves the shared recordings of real switches, and
// `picluster switch show --json` must report the port map, PVIDs, VLAN membership and PoE admin
// state the recording holds. Expected values are computed here straight from the .snmprec file.
#include <gtest/gtest.h>

#include "tests/support/shared_data.hpp"

#include "harness.hpp"

namespace picluster::switchctl::it {
namespace {

const fs::path kRecordings = picluster::testing::snmp_recordings_dir();

struct Recording {
  std::map<std::string, std::string> values;  // OID -> value text (hex for 4x)
  std::map<std::string, std::string> types;
  explicit Recording(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      const auto a = line.find('|'), b = line.find('|', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      values[line.substr(0, a)] = line.substr(b + 1);
      types[line.substr(0, a)] = line.substr(a + 1, b - a - 1);
    }
  }
  [[nodiscard]] const std::string* get(const std::string& oid) const {
    auto it = values.find(oid);
    return it == values.end() ? nullptr : &it->second;
  }
  // Bridge ports set in a PortList value, decoded independently of picluster's codec.
  [[nodiscard]] std::set<int> ports(const std::string& oid) const {
    std::set<int> out;
    const std::string* v = get(oid);
    if (v == nullptr) return out;
    std::string bytes = *v;
    if (types.at(oid) == "4x") {
      bytes.clear();
      for (std::size_t i = 0; i + 1 < v->size(); i += 2) bytes += static_cast<char>(std::stoi(v->substr(i, 2), nullptr, 16));
    }
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        if ((static_cast<unsigned char>(bytes[i]) >> (7 - bit)) & 1) out.insert(static_cast<int>(i) * 8 + bit + 1);
      }
    }
    return out;
  }
  [[nodiscard]] bool has_prefix(const std::string& prefix) const {
    auto it = values.lower_bound(prefix);
    return it != values.end() && it->first.rfind(prefix, 0) == 0;
  }
  // VLAN ids present in the static or the current table.
  [[nodiscard]] std::set<int> vlans() const {
    std::set<int> out;
    for (const auto& [oid, v] : values) {
      for (const std::string prefix : {"1.3.6.1.2.1.17.7.1.4.3.1.2.", "1.3.6.1.2.1.17.7.1.4.2.1.4.0."}) {
        if (oid.rfind(prefix, 0) == 0) out.insert(std::stoi(oid.substr(prefix.size())));
      }
    }
    return out;
  }
};

class Recordings : public ::testing::TestWithParam<std::string> {};

TEST_P(Recordings, SwitchShowReportsWhatTheRecordingHolds) {
  const std::string name = GetParam();
  const fs::path file = kRecordings / (name + ".snmprec");
  if (!fs::exists(file) || !fs::exists(kPicluster)) GTEST_SKIP() << "needs " << file << " and picluster";
  if (run({"sh", "-c", "command -v snmpsimd"}, fs::temp_directory_path()).status != 0) GTEST_SKIP() << "apt-get install snmpsim";
  const fs::path dir = make_temp_dir("rec-" + name);
  fs::create_directories(dir / "data");
  fs::copy_file(file, dir / "data" / file.filename());
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(dir / "data", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(dir / "data" / file.filename(), fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  const int port = free_udp_port();
  Server sim({"snmpsimd", "--data-dir=" + (dir / "data").string(),
              "--agent-udpv4-endpoint=127.0.0.1:" + std::to_string(port),
              "--process-user=nobody", "--process-group=nogroup"},
             dir, "snmpsimd", "Listening at UDP/IPv4 endpoint", port);
  ASSERT_TRUE(sim.ready()) << sim.log();

  const Recording rec(file);
  // Inventory: no Pis; the trunk is the highest front-panel port the recording names.
  auto inv = make_inventory(0, port, 2);
  int highest = 0;
  for (const auto& [oid, ifi] : rec.values) {
    if (oid.rfind("1.3.6.1.2.1.17.1.4.1.2.", 0) != 0) continue;
    const std::string* type = rec.get("1.3.6.1.2.1.2.2.1.3." + ifi);
    const std::string* ifname = rec.get("1.3.6.1.2.1.31.1.1.1.1." + ifi);
    if (type != nullptr && *type != "6") continue;
    if (ifname == nullptr) continue;
    std::size_t d = ifname->find_last_not_of("0123456789");
    highest = std::max(highest, std::stoi(ifname->substr(d == std::string::npos ? 0 : d + 1)));
  }
  auto& sw = inv.shelves[0].switch_;
  sw.port_count = highest;
  sw.timeout_ms = 3000;
  inv.shelves[0].fileserver.trunk_port = highest;
  ASSERT_TRUE(inventory::save(inv, dir / "inventory.json"));
  write_file(dir / "switch-secrets.json", R"({"community": ")" + name + R"("})");

  auto r = run({kPicluster.string(), "-i", (dir / "inventory.json").string(), "switch", "show", "--json"}, dir, 120);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_FALSE(j["ports"].empty());
  const std::set<int> vlans = rec.vlans();
  for (const auto& p : j["ports"]) {
    const int bp = p["bridge_port"], ifi = p["if_index"], front = p["port"];
    SCOPED_TRACE("front-panel port " + std::to_string(front));
    EXPECT_EQ(*rec.get("1.3.6.1.2.1.17.1.4.1.2." + std::to_string(bp)), std::to_string(ifi));
    const std::string* ifname = rec.get("1.3.6.1.2.1.31.1.1.1.1." + std::to_string(ifi));
    ASSERT_NE(ifname, nullptr);
    EXPECT_EQ(p["if_name"], *ifname);
    EXPECT_TRUE(ifname->ends_with(std::to_string(front)));
    if (const std::string* pvid = rec.get("1.3.6.1.2.1.17.7.1.4.5.1.1." + std::to_string(bp))) {
      EXPECT_EQ(p["pvid"], std::stoi(*pvid));
    }
    std::set<int> untagged, tagged;
    for (const int v : vlans) {
      const std::string st = "1.3.6.1.2.1.17.7.1.4.3.1.", cur = "1.3.6.1.2.1.17.7.1.4.2.1.";
      const bool has_static = rec.get(st + "2." + std::to_string(v)) != nullptr;
      const auto egress = has_static ? rec.ports(st + "2." + std::to_string(v)) : rec.ports(cur + "4.0." + std::to_string(v));
      const auto untag = has_static ? rec.ports(st + "4." + std::to_string(v)) : rec.ports(cur + "5.0." + std::to_string(v));
      if (!egress.contains(bp)) continue;
      (untag.contains(bp) ? untagged : tagged).insert(v);
    }
    EXPECT_EQ(p["untagged"].get<std::set<int>>(), untagged);
    EXPECT_EQ(p["tagged"].get<std::set<int>>(), tagged);
    const std::string poe_index = p["poe_index"].is_null() ? "" : p["poe_index"].get<std::string>();
    if (const std::string* admin = rec.get("1.3.6.1.2.1.105.1.1.1.3." + poe_index)) {
      EXPECT_EQ(p["poe"]["admin"], *admin == "1" ? "on" : "off");
    }
    if (const std::string* detection = rec.get("1.3.6.1.2.1.105.1.1.1.6." + poe_index)) {
      const char* names[] = {"unknown", "disabled", "searching", "deliveringPower", "fault", "test", "otherFault"};
      const int d = std::stoi(*detection);
      EXPECT_EQ(p["poe"]["detection"], names[d >= 1 && d <= 6 ? d : 0]);
    }
    if (!rec.has_prefix("1.3.6.1.2.1.105.1.1.1.3.")) {
      EXPECT_TRUE(p["poe"].is_null()) << p["poe"];
    }
  }
  // Each front-panel number once; every bridge port whose ifName is exactly a number up to the
  // highest one is listed under that number.
  std::set<int> numbers;
  for (const auto& p : j["ports"]) EXPECT_TRUE(numbers.insert(p["port"].get<int>()).second) << p["port"];
  for (const auto& [oid, ifi] : rec.values) {
    if (oid.rfind("1.3.6.1.2.1.17.1.4.1.2.", 0) != 0) continue;
    const std::string* ifname = rec.get("1.3.6.1.2.1.31.1.1.1.1." + ifi);
    const std::string* type = rec.get("1.3.6.1.2.1.2.2.1.3." + ifi);
    if (ifname == nullptr || ifname->empty() || ifname->size() > 4 || (type != nullptr && *type != "6") ||
        ifname->find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    EXPECT_TRUE(numbers.contains(std::stoi(*ifname))) << "ifName " << *ifname << " missing";
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Shared, Recordings,
                         ::testing::Values("librenms_linksys-ss_lgs318p", "snmpsimdata_hpe-procurve-516733-b21",
                                           "librenms_edgeswitch_us-8-v2", "librenms_procurve"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n) if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace picluster::switchctl::it
