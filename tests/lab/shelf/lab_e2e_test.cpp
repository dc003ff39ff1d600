// The virtual shelf end to end (issue 6): a real vde_switch, the switch simulator with the vde
// data plane, a QEMU fileserver reached over SSH, and two QEMU Pis that netboot from their own
// NFS roots over their storage VLANs. Everything goes through the `picluster` binary, as an
// operator would; the fileserver is first prepared by the Ansible role (issue 7) over SSH. Needs root, qemu-system-x86, vde2, mmdebstrap (and the Debian mirror once, to
// fill the image cache). Prints a timing summary at the end.
//
// Every wait is bounded, and all of them together by one deadline (kBudget) that leaves ctest's
// TIMEOUT enough room for TearDown's `lab down`: a test killed by ctest would leave QEMUs behind.
//
// Environment: PICLUSTER_LAB_CACHE (image cache, default /var/cache/picluster-lab),
// PICLUSTER_LAB_KEEP=1 (leave the lab running after the test, for debugging).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "tests/lab/shelf/shelf_fixture.hpp"

namespace picluster::lab {
namespace {
using namespace shelf_test;

// Where TearDown leaves the timing summary for scripts/test.sh (build/ci/lab-timing-summary.txt).
const std::string kSummaryFile = std::string(PICLUSTER_BINARY_DIR) + "/lab-timing-summary.txt";

// A child process whose stdout and stderr go to a file (for `picluster watch`, which runs until
// told to stop). The destructor stops it (SIGTERM, then SIGKILL after 10 s) if it still runs.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const fs::path& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&m_pid, args[0], &actions, nullptr, args.data(), environ) != 0) m_pid = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  ~Background() { (void)stop(); }

  [[nodiscard]] bool started() const { return m_pid > 0; }

  // SIGTERM, bounded wait, SIGKILL. Returns the exit status (128+N when killed by signal N).
  int stop() {
    if (m_pid <= 0) return m_status;
    ::kill(m_pid, SIGTERM);
    for (int i = 0; i < 100; ++i) {  // 10 s
      if (reap(WNOHANG)) return m_status;
      std::this_thread::sleep_for(100ms);
    }
    ::kill(m_pid, SIGKILL);
    reap(0);
    return m_status;
  }

 private:
  bool reap(int flags) {
    int status = 0;
    if (waitpid(m_pid, &status, flags) != m_pid) return false;
    m_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    m_pid = -1;
    return true;
  }
  pid_t m_pid = -1;
  int m_status = -1;
};

class LabEndToEnd : public LabShelfTest {
 protected:
  void SetUp() override {
    set_up({"qemu-system-x86_64", "vde_switch", "mmdebstrap", "mkfs.ext4", "ssh", "ansible-playbook"}, "e2e");
  }

  // 7. Timing summary, also in kSummaryFile, which scripts/test.sh prints after ctest (which drops
  // a passing test's output).
  void TearDown() override { tear_down("lab timing summary", fs::path(kSummaryFile)); }

  // ansible-playbook PLAYBOOK through picluster's dynamic inventory of the lab's inventory, as
  // docs/ansible.md tells operators to run it. `env` sets the environment: argv, never a shell.
  RunResult ansible_playbook(const std::string& playbook, const std::vector<std::string>& extra) {
    const fs::path ansible = fs::path(PICLUSTER_SOURCE_DIR) / "ansible";
    std::vector<std::string> argv{"env",
                                  "ANSIBLE_CONFIG=" + (ansible / "ansible.cfg").string(),
                                  "ANSIBLE_NOCOLOR=1",
                                  "ANSIBLE_LOCAL_TEMP=" + (m_dir / "ansible-tmp").string(),
                                  "PICLUSTER_BIN=" + kPicluster,
                                  "PICLUSTER_INVENTORY=" + (m_dir / "inventory.json").string(),
                                  "ansible-playbook",
                                  "-i",
                                  (ansible / "inventory" / "picluster.sh").string(),
                                  (ansible / "playbooks" / playbook).string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = run(argv, RunOptions{budget(20min), {}});
    if (!r) return RunResult{255, {}, r.error().message};
    return *r;
  }

  // The "changed=N" of `host` in a play recap, -1 when the recap has no line for it.
  static int recap_count(const std::string& out, const std::string& host, const std::string& field) {
    const auto recap = out.rfind("PLAY RECAP");
    if (recap == std::string::npos) return -1;
    std::istringstream lines(out.substr(recap));
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with(host + " ")) continue;
      const auto at = line.find(" " + field + "=");
      if (at == std::string::npos) return -1;
      return std::atoi(line.c_str() + at + field.size() + 2);
    }
    return -1;
  }

  // `picluster discover --json`: every MAC the switch reports learned (over SNMP), with its port.
  std::map<std::string, int> learned_macs() {
    auto d = picluster({"discover", "--json"});
    std::map<std::string, int> out;
    // Before any Pi has power, vde_switch's MAC table can be empty: the simulator serves the
    // table without rows, and discover prints an empty list with exit 0 (issue 12).
    EXPECT_OK(d);
    const auto j = nlohmann::json::parse(d.out, nullptr, false);
    for (const auto& e : j.is_object() ? j.value("learned", nlohmann::json::array()) : nlohmann::json::array()) {
      out[e.value("mac", "")] = e.value("port", 0);
    }
    return out;
  }

  // The probe `picluster watch --probe exec:` runs as PROGRAM NAME ADDRESS: the Pis' public
  // addresses are only reachable from inside the fileserver VM, so it pings from there.
  fs::path write_probe_script() {
    const fs::path script = m_dir / "probe-from-fileserver";
    std::ofstream out(script, std::ios::trunc);
    out << "#!/bin/sh\n"
           "# Lab probe for `picluster watch --probe exec:`: NAME ADDRESS; exit 0 = alive.\n"
           "case \"$2\" in ''|*[!0-9a-fA-F:]*) echo \"bad address: $2\" >&2; exit 2;; esac\n"
           "exec ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o "
        << shell_quote("UserKnownHostsFile=" + (m_dir / "known_hosts").string())
        << " -o ConnectTimeout=10 -i " << shell_quote((m_dir / "keys/id_ed25519").string()) << " -p "
        << m_state.ssh_port << " root@127.0.0.1 ping -6 -c 1 -W 2 \"$2\"\n";
    out.close();
    fs::permissions(script, fs::perms(0755));
    return script;
  }

  // Polls `log` until it contains `text`; false after `limit`.
  bool wait_for_text(const fs::path& log, const std::string& text, std::chrono::seconds limit) {
    const auto start = Clock::now();
    limit = budget(limit);
    while (Clock::now() - start < limit) {
      if (read_text(log).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(2s);
    }
    return read_text(log).find(text) != std::string::npos;
  }
};


TEST_F(LabEndToEnd, ShelfNetbootsIsolatesAndPowerCycles) {
  // 1. lab up with two Pi ports.
  auto t = Clock::now();
  auto up = picluster({"lab", "up", "--pis", "2", "--dir", m_dir.string(), "--cache", m_cache.string()}, kBudget);
  ASSERT_EQ(up.exit_status, 0) << up.out << up.err;
  m_timings["lab up (images + fileserver boot)"] = seconds_since(t);
  auto state = load_state(LabPaths{m_dir});
  ASSERT_TRUE(state) << state.error().message;
  m_state = *state;
  m_timings["fileserver boot to SSH"] = m_state.fileserver_boot_seconds;

  // No Pi has had power yet, so vde_switch has not learned their MACs, and the simulator, whose
  // knobs do name them, must not report them (the FDB comes from vde_switch's table).
  auto unlearned = learned_macs();
  EXPECT_FALSE(unlearned.contains(lab_pi_mac(1)) || unlearned.contains(lab_pi_mac(2)))
      << "Pi MACs in the FDB before any Pi was powered";

  // The image was prepared by the picluster_fileserver role (in a chroot, images.hpp): its files
  // are there before any Ansible run over SSH, and the lab's own copies of them are not.
  EXPECT_OK(on_fileserver({"sh", "-c", "grep -qx 8021q /etc/modules-load.d/picluster.conf && "
                                       "test ! -e /etc/modules-load.d/lab.conf && "
                                       "grep -q '^threads=' /etc/nfs.conf.d/picluster.conf && "
                                       "test -f /etc/sysctl.d/59-picluster-role.conf && grep -qw 8021q /proc/modules"}));

  // The same role over SSH, through `picluster ansible-inventory` on the lab's inventory, as an
  // operator runs it: packages (present: the VM has no mirror), 8021q, NFS and dnsmasq settings,
  // isolation hardening, folders, golden image, services. The image already has the role's files;
  // what the first run does change is the golden image, a plain folder in the image (mkfs.btrfs
  // --rootdir makes no subvolumes), which on the live btrfs /srv it turns into a subvolume. The
  // second run must change nothing. The Pis below are then provisioned on this fileserver.
  EXPECT_NE(on_fileserver({"stat", "-c", "%i", "/srv/golden/pi"}).out, "256\n") << "golden image already a subvolume";
  const std::vector<std::string> offline{"-e", "picluster_apt_update_cache=false"};
  t = Clock::now();
  auto role = ansible_playbook("fileservers.yml", offline);
  ASSERT_EQ(role.exit_status, 0) << role.out << role.err;
  m_timings["ansible role over SSH, first run"] = seconds_since(t);
  m_timings["ansible role over SSH, first run: changed (count)"] = recap_count(role.out, "lab-fileserver", "changed");
  EXPECT_EQ(recap_count(role.out, "lab-fileserver", "failed"), 0) << role.out;
  EXPECT_NE(role.out.find("Swap the subvolume in"), std::string::npos) << role.out;
  EXPECT_EQ(on_fileserver({"stat", "-c", "%i", "/srv/golden/pi"}).out, "256\n") << "golden image is not a subvolume";
  t = Clock::now();
  auto again = ansible_playbook("fileservers.yml", offline);
  ASSERT_EQ(again.exit_status, 0) << again.out << again.err;
  m_timings["ansible role over SSH, second run"] = seconds_since(t);
  EXPECT_EQ(recap_count(again.out, "lab-fileserver", "changed"), 0) << "second run changed something:\n" << again.out;
  EXPECT_EQ(recap_count(again.out, "lab-fileserver", "failed"), 0) << again.out;
  // What the live steps did, seen on the VM itself.
  EXPECT_OK(on_fileserver({"sh", "-c", "grep -qw 8021q /proc/modules && systemctl is-active nfs-server rpcbind nftables && "
                                       "test \"$(sysctl -n net.ipv4.conf.all.arp_ignore)\" = 1 && "
                                       "! systemctl is-active dnsmasq && test -d /srv/nfsroot -a -d /srv/golden/pi"}));
  // The role's nfsd thread count is the one running: Debian 12's nfs-server.service starts
  // rpc.nfsd with no count, so [nfsd] threads in /etc/nfs.conf.d is what it reads
  // (/etc/default/nfs-kernel-server's RPCNFSDCOUNT is only read by the SysV init script).
  auto threads = on_fileserver({"cat", "/proc/fs/nfsd/threads"});
  EXPECT_EQ(threads.out, "16\n") << threads.err;

  // Add both Pis, one verb each: switch port over SNMP, the fileserver's VLAN interface and
  // isolation hardening, the root cloned from the golden image, exports, boot files, PoE on (which
  // cold-starts the Pi's VM through the lab's data plane).
  std::map<int, Clock::time_point> powered;  // end of each add: its last step is PoE on
  for (int port : {1, 2}) {
    const std::string name = "pi0" + std::to_string(port);
    t = Clock::now();
    auto add = picluster({"add", name, "--port", std::to_string(port), "--mac", lab_pi_mac(port)});
    ASSERT_EQ(add.exit_status, 0) << add.out << add.err;
    m_timings["add " + name + " (switch, fileserver, root, exports, boot, PoE)"] = seconds_since(t);
    ASSERT_TRUE(pi_pid(port)) << "PoE on port " << port << " did not start " << name << "'s VM";
    powered[port] = Clock::now();
  }
  // The golden image is a subvolume, so each root was a btrfs snapshot (O(1)), as journaled.
  for (const std::string name : {"pi01", "pi02"}) {
    auto log = picluster({"log", name, "--json"});
    const auto entries = nlohmann::json::parse(log.out, nullptr, false);
    std::string clone;
    for (const auto& e : entries.is_array() ? entries : nlohmann::json::array()) {
      if (e.value("step", "") == "root" && e.value("result", "") == "ok") clone = e.value("detail", "");
    }
    EXPECT_TRUE(clone.starts_with("cloned with btrfs-snapshot")) << name << ": " << clone << "\n" << log.out << log.err;
  }
  // The shelf now matches the inventory: apply would change nothing.
  auto plan = picluster({"plan"});
  EXPECT_OK(plan);
  EXPECT_NE(plan.out.find("no changes"), std::string::npos) << "plan after the adds:\n" << plan.out << plan.err;

  // 2. Both boot from their own NFS roots and answer on eth0.131 (ping and SSH).
  const double pi01_up = wait_for_pi(kPi01Ip6);
  ASSERT_GE(pi01_up, 0);
  m_timings["pi01 power-on to SSH"] = seconds_since(powered[1]);
  ASSERT_GE(wait_for_pi(kPi02Ip6), 0);
  m_timings["pi02 power-on to SSH"] = seconds_since(powered[2]);
  // Each from its own root, through its own VLAN's fileserver address, and each reached the
  // default target (is-system-running --wait blocks until boot is over: running or degraded).
  for (const auto& [ip6, name, source] : {std::tuple{kPi01Ip6, "pi01", "172.30.0.1:/srv/nfsroot/pi01"},
                                          std::tuple{kPi02Ip6, "pi02", "172.30.0.5:/srv/nfsroot/pi02"}}) {
    auto root = on_pi(ip6, {"findmnt", "-n", "-o", "SOURCE", "/"});
    EXPECT_EQ(root.out, std::string(source) + "\n") << name << ": " << root.err;
    EXPECT_EQ(on_pi(ip6, {"hostname"}).out, std::string(name) + "\n");
    auto booted = on_pi(ip6, {"sh", "-c", "systemctl is-system-running --wait; systemctl is-active multi-user.target"}, 300s);
    EXPECT_EQ(booted.exit_status, 0) << name << " did not reach multi-user.target:\n" << booted.out << booted.err
                                     << on_pi(ip6, {"systemctl", "--failed", "--no-pager"}).out;
    EXPECT_TRUE(booted.out.ends_with("\nactive\n")) << name << ": " << booted.out;
  }

  // The switch's FDB, read over SNMP (dot1qTpFdbTable through `picluster discover`), is vde_switch's
  // MAC table: before any Pi had power it had none of their MACs (checked after lab up), now each
  // Pi's MAC is learned on its own port.
  auto learned = learned_macs();
  EXPECT_EQ(learned[lab_pi_mac(1)], 1) << "pi01's MAC not learned on port 1";
  EXPECT_EQ(learned[lab_pi_mac(2)], 2) << "pi02's MAC not learned on port 2";

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
  // The route is set up first (a failure there exits 100, never passing as "no answer"); ping's
  // exit status 1 is "no reply", anything else is a broken probe.
  const auto reach = [&](const std::string& prefix, const std::string& route, const std::string& target) {
    return on_pi(kPi02Ip6, {"sh", "-c", "ip neigh flush all && ip route add " + prefix + " " + route +
                                           " || exit 100; ping -c 2 -W 2 " + target + "; rc=$?; ip route del " +
                                           prefix + " && exit $rc"});
  };
  EXPECT_OK(on_pi(kPi02Ip6, {"ping", "-c", "2", "-W", "2", "172.30.0.5"}));
  // Positive control: the same steps reach pi02's own fileserver address through a route so added.
  auto control = reach("172.30.0.5/32", "dev eth0", "172.30.0.5");
  EXPECT_EQ(control.exit_status, 0) << "the reach probe itself is broken: " << control.out << control.err;
  for (const std::string route : {"via 172.30.0.5", "dev eth0"}) {
    auto to_pi01 = reach("172.30.0.0/30", route, "172.30.0.2");
    EXPECT_EQ(to_pi01.exit_status, 1) << "pi02 reached pi01's storage address, or the probe failed (" << route << "): "
                                      << to_pi01.out << to_pi01.err;
    auto to_fs10 = reach("172.30.0.0/30", route, "172.30.0.1");
    EXPECT_EQ(to_fs10.exit_status, 1) << "pi02 reached the fileserver's address on pi01's VLAN, or the probe failed ("
                                      << route << "): " << to_fs10.out << to_fs10.err;
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

  // 5. Rebuild pi02: one verb powers it off, rebuilds its root atomically and powers it on again.
  // It is run the way docs/ansible.md tells operators to rebuild across shelves: the rebuild
  // playbook, which runs `picluster rebuild` for the shelf's Pis of each batch. A marker written
  // before is gone after, and pi02 boots again (a new VM process: a cold boot).
  EXPECT_OK(on_pi(kPi02Ip6, {"sh", "-c", "echo before > /root/marker && sync"}));
  const auto pi02_before = pi_pid(2);
  t = Clock::now();
  auto rebuild = ansible_playbook("rebuild.yml", {"-e", "pis=pi02", "-e", "picluster_bin=" + kPicluster});
  ASSERT_EQ(rebuild.exit_status, 0) << rebuild.out << rebuild.err;
  EXPECT_EQ(recap_count(rebuild.out, "pi02", "changed"), 1) << rebuild.out;
  m_timings["rebuild pi02 via rebuild.yml (off, clone, on)"] = seconds_since(t);
  const auto pi02_after = pi_pid(2);
  ASSERT_TRUE(pi02_after) << "rebuild did not power pi02 on again";
  EXPECT_NE(pi02_before, pi02_after) << "rebuild did not power-cycle pi02's VM";
  ASSERT_GE(wait_for_pi(kPi02Ip6), 0);
  m_timings["pi02 rebuild to SSH"] = seconds_since(t);
  EXPECT_NE(on_pi(kPi02Ip6, {"test", "-e", "/root/marker"}).exit_status, 0) << "marker survived the rebuild";

  // 6. Freeze pi01 (QEMU monitor `stop`: the process lives on, the machine is dead); `picluster
  // watch` notices, power-cycles it through SNMP PoE, and sees it come back.
  auto stopped = monitor_command(LabPaths{m_dir}.pi(1).monitor(), "stop");
  ASSERT_TRUE(stopped) << stopped.error().message;
  const auto frozen = Clock::now();
  const auto pi01_frozen = pi_pid(1);
  EXPECT_NE(on_fileserver({"ping", "-6", "-c", "2", "-W", "2", kPi01Ip6}).exit_status, 0) << "frozen pi01 answered";
  const fs::path probe = write_probe_script();
  const fs::path watch_log = m_dir / "watch.log";
  // Backoff longer than a TCG boot under load, so a slow boot is not cycled a second time.
  Background watch(picluster_argv({"watch", "--probe", "exec:" + probe.string(), "--failures", "2", "--interval", "5",
                                   "--probe-timeout", "30", "--backoff", "900", "--rounds", "300"}),
                   watch_log);
  ASSERT_TRUE(watch.started()) << "could not start picluster watch";
  const bool cycled = wait_for_text(watch_log, "pi01: cycled", 10min);
  if (cycled) m_timings["watch: freeze to cycle"] = seconds_since(frozen);
  const bool recovered = cycled && wait_for_text(watch_log, "pi01: recovered", 15min);
  if (recovered) m_timings["watch: freeze to pi01 recovered"] = seconds_since(frozen);
  EXPECT_EQ(watch.stop(), 0) << "watch did not stop cleanly on SIGTERM";
  const std::string watched = read_text(watch_log);
  EXPECT_TRUE(cycled) << "watch did not power-cycle the frozen pi01:\n" << watched;
  EXPECT_TRUE(recovered) << "watch did not see pi01 answer again:\n" << watched;
  EXPECT_EQ(watched.find("pi02: cycled"), std::string::npos) << "watch cycled the healthy pi02:\n" << watched;
  EXPECT_NE(pi_pid(1), pi01_frozen) << "pi01's VM is the same (frozen) process";
  // The cycle is in the audit journal.
  auto log = picluster({"log", "pi01", "--json"});
  EXPECT_OK(log);
  const auto entries = nlohmann::json::parse(log.out, nullptr, false);
  bool journaled = false;
  for (const auto& e : entries.is_array() ? entries : nlohmann::json::array()) {
    journaled = journaled || (e.value("verb", "") == "watch" && e.value("step", "") == "power-cycle" && e.value("result", "") == "ok");
  }
  EXPECT_TRUE(journaled) << "no watch power-cycle of pi01 in the journal:\n" << log.out << log.err;
  ASSERT_GE(wait_for_pi(kPi01Ip6), 0);
}

}  // namespace
}  // namespace picluster::lab
