// Zero-touch enrollment end to end: `picluster add pi09 --port 9` on a netboot shelf with no MAC
// and no serial. The switch is the real picluster-switchsim, whose port 9 learns the Pi's MAC
// only some time after PoE goes on (knob mac_after_poe_ms); the fileserver is this machine under
// root_prefix, and the DHCP/TFTP server is the real dnsmasq, run by the test in a network
// namespace of its own (`fs`) with the shelf's rendered file. The Pi is
// tests/support/pi_boot_client.cpp in a second namespace (`pi`), joined to `fs` by a veth pair
// named like the fileserver's VLAN interface (eth0.N). Nothing touches the host's own interfaces.
//
// Under root_prefix picluster does not restart dnsmasq itself, so the test plays systemd: when
// picluster rewrites etc/dnsmasq.d/picluster.conf, the test restarts its dnsmasq with it (paths
// moved under the prefix).

#include <gmock/gmock.h>
#include <unistd.h>

#include <future>

#include "tests/integration/orchestrator/shelf_checks.hpp"

namespace picluster::orchestrator::it {
namespace {

using ::testing::HasSubstr;

std::string poe_admin_oid(int port) { return ".1.3.6.1.2.1.105.1.1.1.3.1." + std::to_string(port); }

fs::path piboot_exe() { return testing::binary_dir() / "tests/support/picluster-test-piboot"; }

// A namespace and veth pairs created by the test, removed by its destructor.
class Netns {
 public:
  explicit Netns(std::string name) : m_name(std::move(name)) {
    m_ok = testing::run({"ip", "netns", "add", m_name}).status == 0 &&
           testing::run({"ip", "-n", m_name, "link", "set", "lo", "up"}).status == 0;
  }
  ~Netns() { testing::run({"ip", "netns", "del", m_name}); }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  [[nodiscard]] bool ok() const { return m_ok; }
  [[nodiscard]] const std::string& name() const { return m_name; }
  [[nodiscard]] std::vector<std::string> exec(const std::vector<std::string>& argv) const {
    std::vector<std::string> out{"ip", "netns", "exec", m_name};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }

 private:
  std::string m_name;
  bool m_ok = false;
};

// fs's `eth0.VLAN` (the fileserver's address) <-> pi's `eth0` (the Pi's MAC).
bool link(const Netns& fsns, const Netns& pins, int vlan, const std::string& fs_address, const std::string& mac) {
  const std::string a = "pf" + std::to_string(getpid() % 100000) + "v" + std::to_string(vlan);
  const std::string b = "pp" + std::to_string(getpid() % 100000) + "v" + std::to_string(vlan);
  const std::string fs_if = "eth0." + std::to_string(vlan);
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"ip", "link", "add", a, "netns", fsns.name(), "type", "veth", "peer", "name", b, "netns", pins.name()},
           {"ip", "-n", fsns.name(), "link", "set", a, "name", fs_if},
           {"ip", "-n", pins.name(), "link", "set", b, "name", "eth0", "address", mac},
           {"ip", "-n", fsns.name(), "addr", "add", fs_address + "/30", "dev", fs_if},
           {"ip", "-n", fsns.name(), "link", "set", fs_if, "up"},
           {"ip", "-n", pins.name(), "link", "set", "eth0", "up"}}) {
    if (testing::run(argv).status != 0) return false;
  }
  return true;
}

class EnrollTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0 || !testing::have_program("ip") || !fs::exists("/usr/sbin/dnsmasq")) {
      GTEST_SKIP() << "needs root, iproute2 and dnsmasq (dnsmasq-base)";
    }
    m_shelf = std::make_unique<TestShelf>(Transport::local);
    if (!m_shelf->ready()) GTEST_SKIP() << m_shelf->why_not();
    const std::string tag = std::to_string(getpid());
    m_fs = std::make_unique<Netns>("picl-fs-" + tag);
    m_pi = std::make_unique<Netns>("picl-pi9-" + tag);
    m_pi11 = std::make_unique<Netns>("picl-pi11-" + tag);
    ASSERT_TRUE(m_fs->ok() && m_pi->ok() && m_pi11->ok()) << "ip netns add failed";
    // A netboot shelf; pi03 is already in it, with a MAC and a serial.
    auto inv = inventory::load(m_shelf->inventory_path());
    ASSERT_TRUE(inv);
    inv->shelves.front().boot.mode = inventory::BootMode::netboot;
    ASSERT_TRUE(inventory::save(*inv, m_shelf->inventory_path()));
    fs::create_directories(m_shelf->prefix() / "var/log");
    // Port 9: the new Pi 4, learned 1.5 s after PoE on. Port 10: a Pi with the MAC the inventory
    // gives pi03 (moved without telling picluster). Port 11: a Pi whose MAC is new (its serial
    // will be pi03's).
    json ports = json::object();
    for (int p = 1; p < 24; ++p) ports[std::to_string(p)] = {{"device", true}, {"mac", pi_mac(p)}};
    ports["9"] = {{"device", true}, {"mac", kMac9}, {"mac_after_poe_ms", 1500}};
    ports["10"] = {{"device", true}, {"mac", kMac3}, {"mac_after_poe_ms", 0}};
    ports["11"] = {{"device", true}, {"mac", kMac11}, {"mac_after_poe_ms", 0}};
    ports["24"] = {{"device", true}, {"external_power", true}};
    m_shelf->stop_switch();
    testing::write_file(m_shelf->dir() / "switchsim-knobs.json", json{{"ports", ports}}.dump(2) + "\n");
    ASSERT_TRUE(m_shelf->start_switch()) << m_shelf->why_not();
    const auto r = m_shelf->pic({"add", "pi03", "--port", "3", "--mac", kMac3, "--serial", kSerial3, "--model", "pi4"});
    ASSERT_EQ(r.status, 0) << TestShelf::describe({"add", "pi03"}, r);
    // The new Pis' ports are off, as after unboxing.
    for (int port : {9, 10, 11}) ASSERT_EQ(m_shelf->snmpset(poe_admin_oid(port), "i", "2").status, 0);
  }

  // `picluster ARGS` in the background (it waits for the Pi).
  std::future<RunResult> start(const std::vector<std::string>& args) const {
    return std::async(std::launch::async, [this, args] { return m_shelf->pic(args, 180); });
  }

  std::optional<inventory::Pi> pi(const std::string& name) const {
    auto inv = inventory::load(m_shelf->inventory_path());
    if (!inv) return std::nullopt;
    const auto* p = inv->shelves.front().find_pi(name);
    return p ? std::optional(*p) : std::nullopt;
  }

  // Plays systemd: (re)starts dnsmasq in `fs` once the rendered file serves `mac`.
  bool serve(const std::string& mac) {
    const fs::path rendered = m_shelf->prefix() / "etc/dnsmasq.d/picluster.conf";
    const bool ready = testing::wait_until(
        [&] { return testing::read_file(rendered).find("dhcp-host=" + mac) != std::string::npos; },
        std::chrono::seconds(60), std::chrono::milliseconds(100));
    if (!ready) return false;
    std::string conf = testing::read_file(rendered);
    const std::string prefix = m_shelf->prefix().string();
    for (const std::string key : {"tftp-root=", "log-facility="}) {  // every one: a root per VLAN
      for (auto at = conf.find("\n" + key); at != std::string::npos; at = conf.find("\n" + key, at + 1)) {
        conf.insert(at + 1 + key.size(), prefix);
      }
    }
    testing::write_file(m_shelf->dir() / "dnsmasq.conf", conf);
    m_dnsmasq.reset();
    m_dnsmasq = testing::Daemon::start(
        m_fs->exec({"/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=" + (m_shelf->dir() / "dnsmasq.conf").string(),
                    "--pid-file=" + (m_shelf->dir() / "dnsmasq.pid").string(),
                    "--dhcp-leasefile=" + (m_shelf->dir() / "dnsmasq.leases").string(), "--user=root", "--group=root"}),
        m_shelf->dir() / "dnsmasq.out");
    return m_dnsmasq && testing::wait_until(
                            [&] { return testing::read_file(log_file()).find("TFTP root is") != std::string::npos; },
                            std::chrono::seconds(20));
  }
  fs::path log_file() const { return m_shelf->prefix() / "var/log/picluster-dnsmasq.log"; }

  // The Pi boots: DHCP with option 97, then TFTP reads.
  RunResult boot(const Netns& ns, const std::string& mac, const std::string& serial,
                 const std::vector<std::string>& files) const {
    std::vector<std::string> argv{piboot_exe().string(), "--iface", "eth0", "--mac", mac, "--serial", serial,
                                  "--model", "pi4", "--timeout", "30"};
    for (const auto& f : files) {
      argv.push_back("--tftp");
      argv.push_back(f);
    }
    return testing::run(ns.exec(argv));
  }

  static constexpr const char* kMac3 = "dc:a6:32:03:03:03";
  static constexpr const char* kMac9 = "dc:a6:32:09:09:09";
  static constexpr const char* kMac11 = "dc:a6:32:11:11:11";
  static constexpr const char* kSerial3 = "0000abcd";
  std::unique_ptr<TestShelf> m_shelf;
  std::unique_ptr<Netns> m_fs, m_pi, m_pi11;
  std::unique_ptr<testing::Daemon> m_dnsmasq;
};

TEST_F(EnrollTest, AddWithOnlyAPortLearnsTheMacFromTheSwitchAndTheSerialFromDnsmasq) {
  auto add = start({"add", "pi09", "--port", "9", "--model", "pi4", "--json", "--wait-mac", "30", "--wait-serial", "60"});
  // The Pi's VLAN and /30 are allocated first: wire its port to the fileserver's eth0.N.
  ASSERT_TRUE(testing::wait_until([&] { return pi("pi09").has_value(); }, std::chrono::seconds(60)));
  const auto allocated = *pi("pi09");
  EXPECT_FALSE(allocated.mac);
  ASSERT_TRUE(link(*m_fs, *m_pi, allocated.vlan, allocated.storage.fileserver.str(), kMac9));
  // picluster writes the MAC it learned and dnsmasq's static lease for it; the Pi then boots and
  // asks for <serial>/start4.elf, which is not there yet.
  ASSERT_TRUE(serve(kMac9)) << testing::read_file(m_shelf->dir() / "dnsmasq.out");
  const auto first = boot(*m_pi, kMac9, "1a2b3c4d", {"{serial}/start4.elf"});
  EXPECT_THAT(first.out, HasSubstr("ack " + allocated.storage.pi.str()));
  EXPECT_THAT(first.out, HasSubstr("tftp 1a2b3c4d/start4.elf: error 1 file"));
  const auto r = add.get();
  ASSERT_EQ(r.status, 0) << TestShelf::describe({"add", "pi09"}, r) << "\ndnsmasq log:\n" << testing::read_file(log_file());
  const json j = json::parse(r.out);
  EXPECT_EQ(j["learned"]["mac"], kMac9);
  EXPECT_EQ(j["learned"]["mac_from"], "learned on port 9 (switch forwarding table)");
  EXPECT_EQ(j["learned"]["serial"], "1a2b3c4d");
  EXPECT_THAT(j["learned"]["serial_from"].get<std::string>(),
              HasSubstr("TFTP read of " + m_shelf->prefix().string() + "/srv/tftp/vlan-" +
                        std::to_string(allocated.vlan) + "/1a2b3c4d/start4.elf from " +
                        allocated.storage.pi.str()));
  const auto enrolled = *pi("pi09");
  ASSERT_TRUE(enrolled.mac);
  EXPECT_EQ(enrolled.mac->str(), kMac9);
  EXPECT_EQ(enrolled.serial, "1a2b3c4d");
  EXPECT_EQ(enrolled.vlan, allocated.vlan);
  // The TFTP folder is staged: the Pi's next boot reads its files.
  EXPECT_TRUE(fs::exists(m_shelf->prefix() / ("srv/tftp/vlan-" + std::to_string(allocated.vlan)) / "1a2b3c4d/cmdline.txt"));
  ASSERT_TRUE(serve(kMac9));
  const auto second = boot(*m_pi, kMac9, "1a2b3c4d", {"{serial}/cmdline.txt", "{serial}/config.txt"});
  EXPECT_THAT(second.out, ::testing::ContainsRegex("tftp 1a2b3c4d/cmdline.txt: [1-9][0-9]* bytes"));
  EXPECT_THAT(second.out, ::testing::ContainsRegex("tftp 1a2b3c4d/config.txt: [1-9][0-9]* bytes"));
}

// Each storage VLAN has its own TFTP root (tftp-root=DIR,eth0.N): pi09, booted on its own VLAN,
// reads its own folder but not pi03's, by relative, absolute or ../ path; and a DHCP request
// with pi03's MAC and serial from pi09's VLAN gets no offer. With one shared tftp-root, dnsmasq
// served pi03's cmdline.txt (its NFS root and addresses) to any Pi that asked.
TEST_F(EnrollTest, APiReadsOnlyItsOwnVlansTftpRootAndAnotherPisMacGetsNoOffer) {
  const auto r = m_shelf->pic({"add", "pi09", "--port", "9", "--model", "pi4", "--mac", kMac9, "--serial", "1a2b3c4d"});
  ASSERT_EQ(r.status, 0) << TestShelf::describe({"add", "pi09"}, r);
  const auto pi09 = *pi("pi09");
  const auto pi03 = *pi("pi03");
  ASSERT_NE(pi09.vlan, pi03.vlan);
  const std::string tftp = m_shelf->prefix().string() + "/srv/tftp";
  const std::string pi03_folder = "vlan-" + std::to_string(pi03.vlan) + "/" + kSerial3;
  ASSERT_TRUE(fs::exists(tftp + "/" + pi03_folder + "/cmdline.txt")) << "pi03's folder is not where the test looks";
  ASSERT_TRUE(link(*m_fs, *m_pi, pi09.vlan, pi09.storage.fileserver.str(), kMac9));
  ASSERT_TRUE(serve(kMac9)) << testing::read_file(m_shelf->dir() / "dnsmasq.out");
  const auto own = boot(*m_pi, kMac9, "1a2b3c4d",
                        {"{serial}/cmdline.txt", std::string(kSerial3) + "/cmdline.txt", tftp + "/" + pi03_folder + "/cmdline.txt",
                         "../" + pi03_folder + "/cmdline.txt", "/" + pi03_folder + "/cmdline.txt"});
  EXPECT_THAT(own.out, HasSubstr("ack " + pi09.storage.pi.str())) << own.out;
  EXPECT_THAT(own.out, ::testing::ContainsRegex("tftp 1a2b3c4d/cmdline.txt: [1-9][0-9]* bytes")) << own.out;
  for (const auto& path : {std::string(kSerial3) + "/cmdline.txt", tftp + "/" + pi03_folder + "/cmdline.txt",
                           "../" + pi03_folder + "/cmdline.txt", "/" + pi03_folder + "/cmdline.txt"}) {
    EXPECT_THAT(own.out, HasSubstr("tftp " + path + ": error")) << own.out;
  }
  // pi03's MAC (and serial) on pi09's VLAN: pi03's static lease is not in this VLAN's range.
  const auto stolen = boot(*m_pi, kMac3, kSerial3, {"{serial}/cmdline.txt"});
  EXPECT_EQ(stolen.status, 1) << stolen.out;
  EXPECT_THAT(stolen.out, HasSubstr("no offer")) << stolen.out;
  const std::string log = testing::read_file(log_file());
  EXPECT_THAT(log, HasSubstr("DHCPDISCOVER(eth0." + std::to_string(pi09.vlan) + ") " + kMac3)) << log;
  EXPECT_THAT(log, ::testing::Not(HasSubstr("DHCPOFFER(eth0." + std::to_string(pi09.vlan) + ") " +
                                            pi03.storage.pi.str()))) << log;
}

TEST_F(EnrollTest, AMacAnotherPiHasIsRefusedNamingIt) {
  const auto r = m_shelf->pic({"add", "pi10", "--port", "10", "--wait-mac", "30"});
  EXPECT_EQ(r.status, 1) << TestShelf::describe({"add", "pi10"}, r);
  EXPECT_THAT(r.err, HasSubstr(std::string("MAC ") + kMac3 + " is already pi03's (shelf orchtest, port 3)"));
  EXPECT_THAT(r.err, HasSubstr("run `picluster add pi10 --port 10` again to finish"));
  ASSERT_TRUE(pi("pi10"));
  EXPECT_FALSE(pi("pi10")->mac);
}

TEST_F(EnrollTest, ASerialAnotherPiHasIsRefusedAndDiscoverShowsThePiAskingToBoot) {
  auto add = start({"add", "pi11", "--port", "11", "--wait-mac", "30", "--wait-serial", "60"});
  ASSERT_TRUE(testing::wait_until([&] { return pi("pi11").has_value(); }, std::chrono::seconds(60)));
  const auto allocated = *pi("pi11");
  ASSERT_TRUE(link(*m_fs, *m_pi11, allocated.vlan, allocated.storage.fileserver.str(), kMac11));
  ASSERT_TRUE(serve(kMac11)) << testing::read_file(m_shelf->dir() / "dnsmasq.out");
  boot(*m_pi11, kMac11, kSerial3, {"{serial}/start4.elf"});
  const auto r = add.get();
  EXPECT_EQ(r.status, 1) << TestShelf::describe({"add", "pi11"}, r);
  EXPECT_THAT(r.err, HasSubstr("serial 0000abcd is already pi03's (shelf orchtest, port 3)"));
  EXPECT_FALSE(pi("pi11")->serial);

  // Taken out of the inventory, the Pi still asks to boot on port 11: discover names its serial.
  ASSERT_EQ(m_shelf->pic({"remove", "pi11"}).status, 0);
  ASSERT_EQ(m_shelf->snmpset(poe_admin_oid(11), "i", "1").status, 0);
  const json d = m_shelf->pic_json({"discover", "--json"});
  json port11;
  for (const auto& u : d["unknown_pis"]) {
    if (u["port"] == 11) port11 = u;
  }
  ASSERT_FALSE(port11.is_null()) << d.dump(2);
  EXPECT_EQ(port11["mac"], kMac11);
  EXPECT_EQ(port11["serial"], kSerial3);
  EXPECT_EQ(port11["model"], "pi4");
  EXPECT_EQ(port11["dnsmasq_saw"], true);
  const auto text = m_shelf->pic({"discover"});
  EXPECT_EQ(text.status, 0);
  EXPECT_THAT(text.out, ::testing::ContainsRegex("11 +dc:a6:32:11:11:11 +0000abcd"));
}

TEST_F(EnrollTest, DryRunSaysWhatItWouldWaitForAndAWaitIsBounded) {
  const auto dry = m_shelf->pic({"add", "pi12", "--port", "12", "--dry-run"});
  EXPECT_EQ(dry.status, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("wait up to 60 s for one Raspberry Pi MAC on port 12"));
  EXPECT_THAT(dry.out, HasSubstr("wait up to 120 s for its serial in /var/log/picluster-dnsmasq.log"));
  EXPECT_FALSE(pi("pi12"));
  // Port 13's Pi never sends a frame (no MAC in the knobs after this): the wait ends, saying why.
  json knobs = json::parse(testing::read_file(m_shelf->dir() / "switchsim-knobs.json"));
  knobs["ports"]["13"] = {{"device", true}};
  m_shelf->stop_switch();
  testing::write_file(m_shelf->dir() / "switchsim-knobs.json", knobs.dump(2) + "\n");
  ASSERT_TRUE(m_shelf->start_switch());
  const auto r = m_shelf->pic({"add", "pi13", "--port", "13", "--wait-mac", "2"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("no MAC on port 13 after 2 s: is the Pi plugged in and its PoE class supported?"));
}

}  // namespace
}  // namespace picluster::orchestrator::it
