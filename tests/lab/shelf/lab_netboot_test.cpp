// The Pi boot protocol on the virtual shelf (issue 15): `picluster lab up --netboot`, one Pi added
// with its MAC and serial, PoE on. The Pi VM's boot stage does what a Pi 4's bootloader does over
// its own storage VLAN through vde_switch (DHCP with PXEClient and option 97, TFTP of
// <serial>/start4.elf, config.txt, cmdline.txt, kernel, initramfs, then kexec), against the real
// dnsmasq that picluster configured on the fileserver VM; then the kernel mounts its NFS root.
// Needs root, qemu-system-x86, vde2, mmdebstrap and the Debian mirror once (image cache, the boot
// stage's .debs). Prints a timing summary: PoE on -> DHCP offer -> TFTP done -> SSH.
//
// Environment: PICLUSTER_LAB_CACHE (default /var/cache/picluster-lab), PICLUSTER_LAB_KEEP=1.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "common/text.hpp"
#include "lab/shelf/lab.hpp"
#include "lab/shelf/netboot.hpp"
#include "lab/shelf/process.hpp"
#include "lab/shelf/qemu.hpp"

namespace picluster::lab {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string kPicluster = std::string(PICLUSTER_BINARY_DIR) + "/orchestrator/picluster";
const std::string kPi01Ip6 = "fd00:131::1000:1:0:2";
// pi01 is the shelf's first Pi: VLAN 10 (eth1.10 on the fileserver's trunk), 172.30.0.0/30.
const std::string kPi01Vlan = "eth1.10";
const std::string kPi01Ip4 = "172.30.0.2";
// As the e2e test: below ctest's TIMEOUT (1500 s) by a margin for TearDown's `lab down`.
constexpr std::chrono::seconds kBudget = 23min;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

#define EXPECT_OK(result) EXPECT_EQ((result).exit_status, 0) << (result).out << (result).err

class LabNetboot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the lab needs root";
    for (const char* tool : {"qemu-system-x86_64", "vde_switch", "mmdebstrap", "ssh", "scp", "cpio", "dpkg-deb"}) {
      if (run({"sh", "-c", "command -v \"$0\"", tool}).value_or(RunResult{1, {}, {}}).exit_status != 0) {
        GTEST_SKIP() << tool << " is not installed";
      }
    }
    m_dir = fs::temp_directory_path() / ("picluster-lab-netboot-" + std::to_string(getpid()));
    fs::create_directories(m_dir);
    const char* cache = std::getenv("PICLUSTER_LAB_CACHE");
    m_cache = cache != nullptr ? cache : "/var/cache/picluster-lab";
  }

  void TearDown() override {
    if (m_dir.empty()) return;
    std::cout << "\nlab netboot timing summary (seconds; " << (HasFailure() ? "test FAILED" : "test passed") << "):\n";
    for (const auto& [what, secs] : m_timings) std::cout << "  " << what << ": " << static_cast<int>(secs) << "\n";
    const char* keep = std::getenv("PICLUSTER_LAB_KEEP");
    if (keep != nullptr && std::string(keep) == "1") return;
    auto down = picluster({"lab", "down", "--dir", m_dir.string()});
    EXPECT_EQ(down.exit_status, 0) << down.err;
    if (auto status = lab_status(m_dir)) {
      for (const auto& p : status->processes) EXPECT_FALSE(p.running) << p.name << " still running after lab down";
    }
    std::error_code ec;
    fs::remove_all(m_dir, ec);
  }

  std::chrono::seconds budget(std::chrono::seconds limit) const {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(m_start + kBudget - Clock::now());
    return std::max(1s, std::min(limit, left));
  }

  RunResult picluster(std::vector<std::string> args, std::chrono::seconds timeout = 20min) {
    args.insert(args.begin(), {kPicluster, "-i", (m_dir / "inventory.json").string()});
    auto r = run(args, RunOptions{budget(timeout), {}});
    if (!r) return RunResult{255, {}, r.error().message};
    return *r;
  }

  RunResult on_fileserver(const std::vector<std::string>& argv, std::chrono::seconds timeout = 120s) {
    std::vector<std::string> full = {"ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o",
                                     "UserKnownHostsFile=" + (m_dir / "known_hosts").string(), "-o", "ConnectTimeout=10",
                                     "-i", (m_dir / "keys/id_ed25519").string(), "-p", std::to_string(m_state.ssh_port),
                                     "root@127.0.0.1", shell_join(argv)};
    auto r = run(full, RunOptions{budget(timeout), {}});
    if (!r) return RunResult{255, {}, r.error().message};
    return *r;
  }

  RunResult on_pi(const std::vector<std::string>& argv, std::chrono::seconds timeout = 120s) {
    return on_fileserver({"ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o",
                          "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "root@" + kPi01Ip6, shell_join(argv)},
                         timeout);
  }

  // Seconds until pi01 answers ping and SSH on eth0.131 (from the fileserver), or -1.
  double wait_for_pi(std::chrono::seconds limit = 12min) {
    const auto start = Clock::now();
    limit = budget(limit);
    while (Clock::now() - start < limit) {
      if (on_fileserver({"ping", "-6", "-c", "1", "-W", "2", kPi01Ip6}, 30s).exit_status == 0 &&
          on_pi({"true"}, 40s).exit_status == 0) {
        return seconds_since(start);
      }
      std::this_thread::sleep_for(3s);
    }
    ADD_FAILURE() << "pi01 did not answer ping and SSH within " << limit.count() << " s";
    return -1;
  }

  // Waits until the console log holds `text` at least `times` times; the time it took, or -1.
  double wait_for_console(const std::string& text, std::size_t times, std::chrono::seconds limit) {
    const fs::path log = LabPaths{m_dir}.pi(1).serial_log();
    const auto start = Clock::now();
    limit = budget(limit);
    while (Clock::now() - start < limit) {
      if (count(read_text(log), text) >= times) return seconds_since(start);
      std::this_thread::sleep_for(1s);
    }
    ADD_FAILURE() << "no \"" << text << "\" (x" << times << ") on pi01's console after " << limit.count()
                  << " s; console:\n" << read_text(log);
    return -1;
  }

  // PoE on -> DHCP offer -> TFTP done -> SSH, as console markers of the boot stage show them.
  void time_boot(const std::string& label, std::size_t nth) {
    const auto on = Clock::now();
    const double offer = wait_for_console("picluster-bootstage: DHCP offer accepted", nth, 8min);
    ASSERT_GE(offer, 0);
    m_timings[label + ": PoE on -> DHCP offer"] = offer;
    const double tftp = wait_for_console("picluster-bootstage: TFTP done", nth, 8min);
    ASSERT_GE(tftp, 0);
    m_timings[label + ": PoE on -> TFTP done"] = seconds_since(on);
    ASSERT_GE(wait_for_pi(), 0);
    m_timings[label + ": PoE on -> SSH"] = seconds_since(on);
  }

  // picluster's dnsmasq file sends the log to boot.dnsmasq_log (log-facility; the default path);
  // what dnsmasq wrote before that file took effect is in the journal.
  std::string dnsmasq_log() {
    return on_fileserver({"sh", "-c", "journalctl -u dnsmasq --no-pager -o cat; cat /var/log/picluster-dnsmasq.log 2>/dev/null; true"}).out;
  }

  Clock::time_point m_start = Clock::now();
  fs::path m_dir;
  fs::path m_cache;
  LabState m_state;
  std::map<std::string, double> m_timings;
};

TEST_F(LabNetboot, PiBootsThroughDhcpTftpAndKexecFromDnsmasq) {
  auto t = Clock::now();
  auto up = picluster({"lab", "up", "--netboot", "--pis", "1", "--dir", m_dir.string(), "--cache", m_cache.string()},
                      kBudget);
  ASSERT_EQ(up.exit_status, 0) << up.out << up.err;
  m_timings["lab up --netboot"] = seconds_since(t);
  auto state = load_state(LabPaths{m_dir});
  ASSERT_TRUE(state) << state.error().message;
  m_state = *state;
  ASSERT_TRUE(m_state.netboot);
  const std::string serial = lab_pi_serial(1);
  const std::string folder = "/srv/tftp/" + serial;

  // The boot set is staged before the Pi exists in the inventory; nothing answers DHCP yet.
  EXPECT_OK(on_fileserver({"test", "-s", folder + "/start4.elf", "-a", "-s", folder + "/vmlinuz", "-a", "-s",
                           folder + "/initrd.img"}));
  t = Clock::now();
  auto add = picluster({"add", "pi01", "--port", "1", "--model", "pi4", "--mac", lab_pi_mac(1), "--serial", serial});
  ASSERT_EQ(add.exit_status, 0) << add.out << add.err;
  m_timings["add pi01 (switch, fileserver, root, exports + dnsmasq, boot, PoE)"] = seconds_since(t);
  ASSERT_TRUE(running_pid(LabPaths{m_dir}.pi(1))) << "PoE on did not start pi01's VM";
  time_boot("pi01 cold boot", 1);

  // dnsmasq, from picluster's rendered file, served the Pi on its own VLAN, and only there.
  const std::string log = dnsmasq_log();
  EXPECT_NE(log.find("DHCPOFFER(" + kPi01Vlan + ") " + kPi01Ip4 + " " + lab_pi_mac(1)), std::string::npos) << log;
  EXPECT_NE(log.find("DHCPACK(" + kPi01Vlan + ") " + kPi01Ip4 + " " + lab_pi_mac(1)), std::string::npos) << log;
  EXPECT_NE(log.find("vendor class: PXEClient:Arch:00000:UNDI:002001"), std::string::npos) << log;
  EXPECT_NE(log.find("client-machine-id  00:52:50:69:34:" + serial.substr(0, 2) + ":" + serial.substr(2, 2)),
            std::string::npos) << "option 97 with RPi4 and the serial not echoed:\n" << log;
  for (const std::string file : {"start4.elf", "fixup4.dat", "config.txt", "cmdline.txt", "vmlinuz", "initrd.img"}) {
    EXPECT_NE(log.find("sent " + folder + "/" + file + " to " + kPi01Ip4), std::string::npos) << file << "\n" << log;
  }
  EXPECT_EQ(count(log, "DHCPOFFER("), count(log, "DHCPOFFER(" + kPi01Vlan + ")")) << log;

  // The kernel runs with the TFTP folder's cmdline.txt, byte for byte, and boots its NFS root.
  auto cmdline_txt = on_fileserver({"cat", folder + "/cmdline.txt"});
  EXPECT_OK(cmdline_txt);
  auto proc_cmdline = on_pi({"cat", "/proc/cmdline"});
  EXPECT_OK(proc_cmdline);
  EXPECT_EQ(proc_cmdline.out, cmdline_txt.out);
  EXPECT_EQ(on_pi({"findmnt", "-n", "-o", "SOURCE", "/"}).out, "172.30.0.1:/srv/nfsroot/pi01\n");
  auto booted = on_pi({"sh", "-c", "systemctl is-system-running --wait; systemctl is-active multi-user.target"}, 300s);
  EXPECT_TRUE(booted.out.ends_with("\nactive\n")) << "pi01 did not reach multi-user.target:\n" << booted.out << booted.err;

  // PoE off/on over SNMP: a new VM, which netboots again through dnsmasq.
  const auto pid = running_pid(LabPaths{m_dir}.pi(1));
  const std::size_t sent_before = count(dnsmasq_log(), "sent " + folder + "/cmdline.txt");
  t = Clock::now();
  auto cycle = picluster({"power", "cycle", "pi01"});
  ASSERT_EQ(cycle.exit_status, 0) << cycle.out << cycle.err;
  m_timings["power cycle pi01 (PoE off, wait, on)"] = seconds_since(t);
  ASSERT_TRUE(running_pid(LabPaths{m_dir}.pi(1)));
  EXPECT_NE(running_pid(LabPaths{m_dir}.pi(1)), pid) << "the power cycle did not start a new VM";
  time_boot("pi01 after power cycle", 2);
  EXPECT_GT(count(dnsmasq_log(), "sent " + folder + "/cmdline.txt"), sent_before) << "no second TFTP read of cmdline.txt";
  EXPECT_EQ(on_pi({"cat", "/proc/cmdline"}).out, cmdline_txt.out);
  m_timings["whole test"] = seconds_since(m_start);
}

}  // namespace
}  // namespace picluster::lab
