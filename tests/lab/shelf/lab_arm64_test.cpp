// arm64 Pis on the virtual shelf (issue 15, label `lab-arm64`): `picluster lab up --arch arm64`
// with one Pi, added with PoE on. Its VM is qemu-system-aarch64 -M virt -cpu cortex-a72 booting
// the kernel and initramfs of a real picluster arm64 image (`image build --arch arm64`, built once
// into the cache: 40-55 minutes on a 2-core machine) with picluster's command line; its root is a
// clone of that image, NFS from the x86 fileserver VM over its storage VLAN. Asserted over SSH on
// eth0.131: aarch64, the NFS root, /proc/cmdline; then a PoE power cycle boots it again.
// Prints a timing summary: PoE on -> kernel -> multi-user -> SSH, and the VM's memory.
//
// Environment: PICLUSTER_LAB_CACHE (default /var/cache/picluster-lab), PICLUSTER_LAB_KEEP=1.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/lab/shelf/shelf_fixture.hpp"

namespace picluster::lab {
namespace {
using namespace shelf_test;

// Above ctest's TIMEOUT for the e2e tests: an aarch64 guest under TCG boots several times slower
// than an x86 one. A cold cache (the arm64 image build) is not part of this budget: build it
// first (docs/lab.md).
constexpr std::chrono::seconds kArm64Budget = 55min;

// VmRSS of a process in MiB, or -1.
double rss_mib(int pid) {
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

class LabArm64 : public LabShelfTest {
 protected:
  void SetUp() override {
    set_up({"qemu-system-x86_64", "qemu-system-aarch64", "vde_switch", "mmdebstrap", "ssh"}, "arm64");
    m_budget = kArm64Budget;
  }

  void TearDown() override { tear_down("lab arm64 timing summary, memory in MiB"); }

  // On pi01 through the fileserver, to its eth0.131 address.
  RunResult on_pi(const std::vector<std::string>& argv, std::chrono::seconds timeout = 120s) {
    return LabShelfTest::on_pi(kPi01Ip6, argv, timeout);
  }

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

  // PoE on -> kernel -> multi-user (console markers) -> SSH on eth0.131; the VM's memory.
  void time_boot(const std::string& label, std::size_t nth) {
    const auto on = Clock::now();
    ASSERT_GE(wait_for_console("Booting Linux on physical CPU", nth, 10min), 0);
    m_timings[label + ": PoE on -> kernel starts"] = seconds_since(on);
    // systemd's status line ("[  OK  ] Reached target multi-user.target - Multi-User System.") is
    // coloured and may shorten the unit's name to fit the console; the description stays.
    ASSERT_GE(wait_for_console("Multi-User System", nth, 30min), 0);
    m_timings[label + ": PoE on -> multi-user.target"] = seconds_since(on);
    ASSERT_GE(wait_for_pi(kPi01Ip6, 15min), 0) << read_text(LabPaths{m_dir}.pi(1).serial_log());
    m_timings[label + ": PoE on -> SSH on eth0.131"] = seconds_since(on);
    if (auto pid = running_pid(LabPaths{m_dir}.pi(1))) m_timings[label + ": QEMU RSS (MiB)"] = rss_mib(*pid);
  }

};

TEST_F(LabArm64, Arm64PiBootsItsImageOverNfsAndPowerCycles) {
  auto t = Clock::now();
  auto up = picluster({"lab", "up", "--arch", "arm64", "--pis", "1", "--dir", m_dir.string(), "--cache", m_cache.string()},
                      kArm64Budget);
  ASSERT_EQ(up.exit_status, 0) << up.out << up.err;
  m_timings["lab up --arch arm64"] = seconds_since(t);
  auto state = load_state(LabPaths{m_dir});
  ASSERT_TRUE(state) << state.error().message;
  m_state = *state;
  ASSERT_EQ(m_state.arch, PiArch::arm64);
  // The fileserver stays an x86 VM.
  ASSERT_TRUE(running_pid(LabPaths{m_dir}.fileserver()));
  EXPECT_TRUE(process_matches(*running_pid(LabPaths{m_dir}.fileserver()), kQemuBinary));

  t = Clock::now();
  auto add = picluster({"add", "pi01", "--port", "1", "--model", "pi4", "--mac", lab_pi_mac(1)});
  ASSERT_EQ(add.exit_status, 0) << add.out << add.err;
  m_timings["add pi01 (switch, fileserver, root clone, exports, PoE on)"] = seconds_since(t);
  const auto pid = running_pid(LabPaths{m_dir}.pi(1));
  ASSERT_TRUE(pid) << "PoE on did not start pi01's VM";
  EXPECT_TRUE(process_matches(*pid, kQemuArm64Binary)) << "pi01's VM is not qemu-system-aarch64";
  time_boot("pi01 cold boot", 1);

  EXPECT_EQ(on_pi({"uname", "-m"}).out, "aarch64\n");
  // / is NFS from the fileserver's storage address on pi01's VLAN, the clone of the arm64 image.
  EXPECT_EQ(on_pi({"findmnt", "-n", "-o", "SOURCE", "/"}).out, "172.30.0.1:/srv/nfsroot/pi01\n");
  EXPECT_EQ(on_pi({"findmnt", "-n", "-o", "FSTYPE", "/"}).out, "nfs\n");
  EXPECT_EQ(on_pi({"cat", "/etc/picluster/image"}).out.rfind("lab@", 0), 0u) << "the root is not the arm64 image's";
  // The kernel runs with picluster's command line (plus the lab's console and interface names).
  auto show = picluster({"show", "pi01", "--json"});
  ASSERT_EQ(show.exit_status, 0) << show.err;
  const auto j = nlohmann::json::parse(show.out, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("cmdline")) << show.out;
  const std::string rendered = j["cmdline"].get<std::string>();
  EXPECT_NE(rendered.find("root=/dev/nfs"), std::string::npos) << rendered;
  EXPECT_EQ(on_pi({"cat", "/proc/cmdline"}).out, pi_cmdline(rendered, PiArch::arm64) + "\n");
  auto booted = on_pi({"sh", "-c", "systemctl is-system-running --wait; systemctl is-active multi-user.target"}, 600s);
  EXPECT_TRUE(booted.out.ends_with("\nactive\n")) << "pi01 did not reach multi-user.target:\n" << booted.out << booted.err;

  // PoE off/on over SNMP: a new aarch64 VM that boots again.
  t = Clock::now();
  auto cycle = picluster({"power", "cycle", "pi01"});
  ASSERT_EQ(cycle.exit_status, 0) << cycle.out << cycle.err;
  m_timings["power cycle pi01 (PoE off, wait, on)"] = seconds_since(t);
  const auto pid2 = running_pid(LabPaths{m_dir}.pi(1));
  ASSERT_TRUE(pid2);
  EXPECT_NE(*pid2, *pid) << "the power cycle did not start a new VM";
  time_boot("pi01 after power cycle", 2);
  EXPECT_EQ(on_pi({"uname", "-m"}).out, "aarch64\n");
  m_timings["whole test"] = seconds_since(m_start);
}

}  // namespace
}  // namespace picluster::lab
