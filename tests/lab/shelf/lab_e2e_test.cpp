// The virtual shelf end to end (issue 6): a real vde_switch, the switch simulator with the vde
// data plane, a QEMU fileserver reached over SSH, and two QEMU Pis that netboot from their own
// NFS roots over their storage VLANs. Everything goes through the `picluster` binary, as an
// operator would. Needs root, qemu-system-x86, vde2, mmdebstrap (and the Debian mirror once, to
// fill the image cache). Prints a timing summary at the end.
//
// Environment: PICLUSTER_LAB_CACHE (image cache, default /var/cache/picluster-lab),
// PICLUSTER_LAB_KEEP=1 (leave the lab running after the test, for debugging).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "common/text.hpp"
#include "lab/shelf/lab.hpp"
#include "lab/shelf/process.hpp"
#include "lab/shelf/qemu.hpp"

namespace picluster::lab {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string kPicluster = std::string(PICLUSTER_BINARY_DIR) + "/orchestrator/picluster";
const std::string kPi01Ip6 = "fd00:131::1000:1:0:2";
const std::string kPi02Ip6 = "fd00:131::1000:2:0:2";

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class LabEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the lab needs root";
    for (const char* tool : {"qemu-system-x86_64", "vde_switch", "mmdebstrap", "mkfs.ext4", "ssh"}) {
      if (!run({"sh", "-c", "command -v \"$0\"", tool}).value_or(RunResult{1, {}, {}}).exit_status == 0) {
        GTEST_SKIP() << tool << " is not installed";
      }
    }
    m_dir = fs::temp_directory_path() / ("picluster-lab-e2e-" + std::to_string(getpid()));
    fs::create_directories(m_dir);
    const char* cache = std::getenv("PICLUSTER_LAB_CACHE");
    m_cache = cache != nullptr ? cache : "/var/cache/picluster-lab";
  }

  void TearDown() override {
    if (m_dir.empty()) return;
    const char* keep = std::getenv("PICLUSTER_LAB_KEEP");
    if (keep != nullptr && std::string(keep) == "1") return;
    auto down = picluster({"lab", "down", "--dir", m_dir.string()});
    EXPECT_EQ(down.exit_status, 0) << down.err;
    auto status = lab_status(m_dir);
    if (status) {
      for (const auto& p : status->processes) EXPECT_FALSE(p.running) << p.name << " still running after lab down";
    }
    std::error_code ec;
    fs::remove_all(m_dir, ec);
  }

  // Runs `picluster ARGS` against the lab's inventory.
  RunResult picluster(std::vector<std::string> args, std::chrono::seconds timeout = 20min) {
    args.insert(args.begin(), {kPicluster, "-i", (m_dir / "inventory.json").string()});
    auto r = run(args, RunOptions{timeout, {}});
    if (!r) return RunResult{255, {}, r.error().message};
    return *r;
  }

  std::vector<std::string> ssh_argv() {
    return {"ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o",
            "UserKnownHostsFile=" + (m_dir / "known_hosts").string(), "-o", "ConnectTimeout=10", "-i",
            (m_dir / "keys/id_ed25519").string(), "-p", std::to_string(m_state.ssh_port), "root@127.0.0.1"};
  }

  // Runs argv on the fileserver VM (every element quoted for its shell).
  RunResult on_fileserver(const std::vector<std::string>& argv, std::chrono::seconds timeout = 120s) {
    auto full = ssh_argv();
    full.push_back(shell_join(argv));
    auto r = run(full, RunOptions{timeout, {}});
    if (!r) return RunResult{255, {}, r.error().message};
    return *r;
  }

  // Runs argv on a Pi, from the fileserver, over the public VLAN (the fileserver's own key).
  RunResult on_pi(const std::string& ip6, const std::vector<std::string>& argv, std::chrono::seconds timeout = 120s) {
    return on_fileserver({"ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o",
                          "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "root@" + ip6, shell_join(argv)},
                         timeout);
  }

  // Waits until the Pi answers ping and SSH on its eth0.131 address. Returns seconds waited.
  double wait_for_pi(const std::string& ip6, std::chrono::seconds limit = 15min) {
    const auto start = Clock::now();
    while (Clock::now() - start < limit) {
      if (on_fileserver({"ping", "-6", "-c", "1", "-W", "2", ip6}, 30s).exit_status == 0 &&
          on_pi(ip6, {"true"}, 40s).exit_status == 0) {
        return seconds_since(start);
      }
      std::this_thread::sleep_for(5s);
    }
    ADD_FAILURE() << ip6 << " did not answer ping and SSH within " << limit.count() << " s";
    return -1;
  }

  std::optional<int> pi_pid(int port) { return running_pid(LabPaths{m_dir}.pi(port)); }

  fs::path m_dir;
  fs::path m_cache;
  LabState m_state;
  std::map<std::string, double> m_timings;
};

#define EXPECT_OK(result) EXPECT_EQ((result).exit_status, 0) << (result).out << (result).err

TEST_F(LabEndToEnd, ShelfNetbootsIsolatesAndPowerCycles) {
  // 1. lab up with two Pi ports.
  auto t = Clock::now();
  auto up = picluster({"lab", "up", "--pis", "2", "--dir", m_dir.string(), "--cache", m_cache.string()}, 40min);
  ASSERT_EQ(up.exit_status, 0) << up.out << up.err;
  m_timings["lab up (images + fileserver boot)"] = seconds_since(t);
  auto state = load_state(LabPaths{m_dir});
  ASSERT_TRUE(state) << state.error().message;
  m_state = *state;
  m_timings["fileserver boot to SSH"] = m_state.fileserver_boot_seconds;

  // Add both Pis through the normal verbs. TODO(issue 5): once `picluster add` configures the
  // switch, the fileserver, the root, the boot files and powers the port on in one verb, replace
  // the six commands below with `add pi01 --port 1` and `add pi02 --port 2` alone.
  t = Clock::now();
  EXPECT_OK(picluster({"add", "pi01", "--port", "1", "--mac", lab_pi_mac(1)}));
  EXPECT_OK(picluster({"add", "pi02", "--port", "2", "--mac", lab_pi_mac(2)}));
  EXPECT_OK(picluster({"switch", "apply"}));
  EXPECT_OK(picluster({"rebuild", "pi01", "pi02"}));
  EXPECT_OK(picluster({"fileserver", "apply"}));
  EXPECT_OK(picluster({"power", "cycle", "pi01", "pi02"}));
  m_timings["add pi01+pi02 (switch, roots, exports, power)"] = seconds_since(t);
  ASSERT_TRUE(pi_pid(1)) << "PoE on port 1 did not start pi01's VM";
  ASSERT_TRUE(pi_pid(2)) << "PoE on port 2 did not start pi02's VM";

  // 2. Both boot from their own NFS roots and answer on eth0.131 (ping and SSH).
  t = Clock::now();
  m_timings["pi01 power-on to SSH"] = wait_for_pi(kPi01Ip6);
  m_timings["pi02 power-on to SSH"] = seconds_since(t);
  ASSERT_GE(wait_for_pi(kPi02Ip6), 0);
  auto root01 = on_pi(kPi01Ip6, {"findmnt", "-n", "-o", "SOURCE", "/"});
  EXPECT_NE(root01.out.find("172.30.0.1:/srv/nfsroot/pi01"), std::string::npos) << root01.out << root01.err;
  auto host02 = on_pi(kPi02Ip6, {"hostname"});
  EXPECT_EQ(host02.out, "pi02\n");

  // 3. Isolation, each with a positive control so a broken tool cannot pass it.
  auto own = on_pi(kPi02Ip6, {"sh", "-c", "mkdir -p /mnt/own && mount -t nfs -o vers=3,tcp,nolock,addr=172.30.0.5 "
                                           "172.30.0.5:/srv/nfsroot/pi02 /mnt/own && umount /mnt/own"});
  EXPECT_OK(own);
  auto other = on_pi(kPi02Ip6, {"sh", "-c", "mkdir -p /mnt/other && mount -t nfs -o vers=3,tcp,nolock,addr=172.30.0.5 "
                                             "172.30.0.5:/srv/nfsroot/pi01 /mnt/other"});
  EXPECT_NE(other.exit_status, 0) << "pi02 mounted pi01's root";
  // pi02 has no route to pi01's /30 by itself; give it the two an attacker would try: through the
  // fileserver as a gateway, and on-link (ARP on its own VLAN). Neither may reach pi01 or the
  // fileserver's VLAN-10 address (the "weak host" leak of lab-notes.md).
  const auto reach = [&](const std::string& route, const std::string& target) {
    return on_pi(kPi02Ip6, {"sh", "-c", "ip neigh flush all; ip route add 172.30.0.0/30 " + route +
                                           "; ping -c 2 -W 2 " + target + "; rc=$?; ip route del 172.30.0.0/30; exit $rc"});
  };
  EXPECT_OK(on_pi(kPi02Ip6, {"ping", "-c", "2", "-W", "2", "172.30.0.5"}));
  for (const std::string route : {"via 172.30.0.5", "dev eth0"}) {
    EXPECT_NE(reach(route, "172.30.0.2").exit_status, 0) << "pi02 reached pi01's storage address (" << route << ")";
    EXPECT_NE(reach(route, "172.30.0.1").exit_status, 0)
        << "pi02 reached the fileserver's address on pi01's VLAN (" << route << ")";
  }
  // Frames tagged with pi01's VLAN (10) from pi02's port: counted on the fileserver's eth1.10.
  EXPECT_OK(on_fileserver({"sh", "-c",
                           "nft add table netdev labprobe && "
                           "nft add chain netdev labprobe v10 '{ type filter hook ingress device eth1.10 priority 0; }' && "
                           "nft add chain netdev labprobe v11 '{ type filter hook ingress device eth1.11 priority 0; }' && "
                           "nft add rule netdev labprobe v10 ether saddr " + lab_pi_mac(2) + " counter && "
                           "nft add rule netdev labprobe v11 ether saddr " + lab_pi_mac(2) + " counter"}));
  EXPECT_OK(on_pi(kPi02Ip6, {"sh", "-c", "modprobe 8021q; ip link add link eth0 name eth0.10 type vlan id 10 && "
                                         "ip addr add 10.99.99.2/24 dev eth0.10 && ip link set eth0.10 up && "
                                         "(ping -c 3 -W 1 10.99.99.1; ping -c 2 -W 1 172.30.0.5; "
                                         "ip link del eth0.10; true)"}));
  auto counters = on_fileserver({"nft", "list", "table", "netdev", "labprobe"});
  EXPECT_OK(counters);
  const auto v10 = counters.out.find("chain v10");
  const auto v11 = counters.out.find("chain v11");
  ASSERT_NE(v10, std::string::npos);
  ASSERT_NE(v11, std::string::npos);
  EXPECT_NE(counters.out.substr(v10, v11 - v10).find("counter packets 0 "), std::string::npos)
      << "frames tagged VLAN 10 from pi02's port reached the fileserver:\n" << counters.out;
  EXPECT_EQ(counters.out.substr(v11).find("counter packets 0 "), std::string::npos)
      << "positive control: pi02's own VLAN saw nothing:\n" << counters.out;
  (void)on_fileserver({"nft", "delete", "table", "netdev", "labprobe"});

  // 4. Power cycle through SNMP PoE: the VM is cut (new QEMU process) and comes back.
  const auto before = pi_pid(1);
  t = Clock::now();
  EXPECT_OK(picluster({"power", "cycle", "pi01"}));
  const auto after = pi_pid(1);
  ASSERT_TRUE(after);
  EXPECT_NE(before, after) << "power cycle did not restart pi01's VM";
  ASSERT_GE(wait_for_pi(kPi01Ip6), 0);
  m_timings["pi01 power cycle to SSH"] = seconds_since(t);

  // 5. Rebuild pi02: a marker written before is gone after, and pi02 boots again.
  // TODO(issue 5): `picluster rebuild pi02` will power off, rebuild and power on by itself;
  // until then the test does the power steps around it.
  EXPECT_OK(on_pi(kPi02Ip6, {"sh", "-c", "echo before > /root/marker && sync"}));
  t = Clock::now();
  EXPECT_OK(picluster({"power", "off", "pi02"}));
  EXPECT_OK(picluster({"rebuild", "pi02"}));
  EXPECT_OK(picluster({"power", "on", "pi02"}));
  ASSERT_GE(wait_for_pi(kPi02Ip6), 0);
  m_timings["pi02 rebuild to SSH"] = seconds_since(t);
  EXPECT_NE(on_pi(kPi02Ip6, {"test", "-e", "/root/marker"}).exit_status, 0) << "marker survived the rebuild";

  // 6. Freeze pi01 (QEMU monitor `stop`): it stops answering.
  // TODO(issue 5): run `picluster watch` here and expect it to power-cycle pi01 through SNMP and
  // pi01 to answer again; until watch exists the test only checks the freeze, then thaws it.
  auto stopped = monitor_command(LabPaths{m_dir}.pi(1).monitor(), "stop");
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_NE(on_fileserver({"ping", "-6", "-c", "2", "-W", "2", kPi01Ip6}).exit_status, 0) << "frozen pi01 answered";
  ASSERT_TRUE(monitor_command(LabPaths{m_dir}.pi(1).monitor(), "cont"));

  // 7. Timing summary.
  std::cout << "\nlab timing summary (seconds):\n";
  for (const auto& [what, secs] : m_timings) std::cout << "  " << what << ": " << static_cast<int>(secs) << "\n";
}

}  // namespace
}  // namespace picluster::lab
