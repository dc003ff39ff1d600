// The Pi boot protocol on the virtual shelf (issue 15), with two Pis: `picluster lab up --netboot
// --pis 2`, then `picluster add pi01 --port 1` and `add pi02 --port 2` with neither MAC nor serial
// (zero-touch enrollment: the MAC from the switch's forwarding table, the serial from dnsmasq's
// log of the Pi's TFTP request). Each Pi VM's boot stage does what a Pi 4's bootloader does over
// its own storage VLAN through vde_switch (DHCP with PXEClient and option 97, TFTP of
// <serial>/start4.elf, config.txt and what it includes, cmdline.txt, kernel, initramfs, then
// kexec), against the real dnsmasq that picluster configured on the fileserver VM; the kernel
// then mounts its NFS root. Both boot in parallel.
//
// Then: pi02 cannot get a lease with pi01's MAC nor read pi01's TFTP folder (each storage VLAN has
// its own TFTP root); `power cycle pi01` netboots it again; `rebuild pi02 --from lab@2` (a
// version made by `picluster image exec` whose boot set names another kernel file) changes what
// pi02 fetches (and its root's record), and `rollback pi02` brings lab@1's back.
//
// Needs root, qemu-system-x86, vde2, mmdebstrap and the Debian mirror once (image cache, the boot
// stage's .debs). Prints a timing summary: per Pi and boot, PoE on -> DHCP offer -> TFTP done ->
// SSH (PoE on = the VM process starting, the two boot-stage markers as they appear on the Pi's
// console, SSH = the first answer; all on the test's clock, polled every second).
//
// Environment: PICLUSTER_LAB_CACHE (default /var/cache/picluster-lab), PICLUSTER_LAB_KEEP=1.
#include <atomic>
#include <future>
#include <mutex>

#include "inventory/inventory.hpp"
#include "lab/shelf/netboot.hpp"
#include "tests/lab/shelf/shelf_fixture.hpp"

namespace picluster::lab {
namespace {
using namespace shelf_test;

const std::string kPiboot = std::string(PICLUSTER_BINARY_DIR) + "/tests/support/picluster-test-piboot";
const std::string kOffer = "picluster-bootstage: DHCP offer accepted";
const std::string kTftpDone = "picluster-bootstage: TFTP done";

// A lab Pi as the test knows it after its enrollment.
struct LabPi {
  int port = 0;
  std::string name, ip6;
  std::string vlan_if;  // the fileserver's interface on its storage VLAN (eth1.N)
  std::string ip4;      // its storage address
  std::string fs_ip4;   // the fileserver's address on its storage VLAN
  std::string folder;   // its TFTP folder on the fileserver
};

// Records, every second, when each Pi VM starts (a new QEMU process: PoE on) and when the boot
// stage's markers appear on its console, on the test's clock.
class BootWatch {
 public:
  BootWatch(fs::path dir, std::vector<int> ports) : m_dir(std::move(dir)), m_ports(std::move(ports)) {
    m_thread = std::thread([this] {
      while (!m_stop) {
        poll();
        std::this_thread::sleep_for(1s);
      }
    });
  }
  BootWatch(const BootWatch&) = delete;
  BootWatch& operator=(const BootWatch&) = delete;
  ~BootWatch() {
    m_stop = true;
    m_thread.join();
  }

  // The first time `event` ("power on", or a console marker) was seen on `port` at or after `t`.
  std::optional<Clock::time_point> first_after(int port, const std::string& event, Clock::time_point t) {
    std::lock_guard lock(m_mutex);
    for (const auto& at : m_seen[{port, event}]) {
      if (at >= t) return at;
    }
    return std::nullopt;
  }
  std::optional<Clock::time_point> last(int port, const std::string& event) {
    std::lock_guard lock(m_mutex);
    const auto& v = m_seen[{port, event}];
    if (v.empty()) return std::nullopt;
    return v.back();
  }

 private:
  void poll() {
    const auto now = Clock::now();
    for (int port : m_ports) {
      const auto files = LabPaths{m_dir}.pi(port);
      const auto pid = running_pid(files);
      const std::string console = read_text(files.serial_log());
      std::lock_guard lock(m_mutex);
      if (pid && pid != m_pid[port]) m_seen[{port, "power on"}].push_back(now);
      m_pid[port] = pid;
      for (const auto& marker : {kOffer, kTftpDone}) {
        auto& seen = m_seen[{port, marker}];
        for (std::size_t n = count(console, marker); seen.size() < n;) seen.push_back(now);
      }
    }
  }

  fs::path m_dir;
  std::vector<int> m_ports;
  std::mutex m_mutex;
  std::map<std::pair<int, std::string>, std::vector<Clock::time_point>> m_seen;
  std::map<int, std::optional<int>> m_pid;
  std::atomic<bool> m_stop = false;
  std::thread m_thread;
};

class LabNetboot : public LabShelfTest {
 protected:
  void SetUp() override {
    set_up({"qemu-system-x86_64", "vde_switch", "mmdebstrap", "ssh", "scp", "cpio", "dpkg-deb"}, "netboot");
    // Three boot-stage runs of pi02 in a row (cold, rebuild, rollback) under TCG: 27 minutes, 2
    // below this test's ctest TIMEOUT (tests/lab/shelf/CMakeLists.txt).
    m_budget = 27min;
  }
  void TearDown() override {
    m_watch.reset();
    tear_down("lab netboot timing summary");
  }

  // picluster's dnsmasq file sends the log to boot.dnsmasq_log (log-facility; the default path).
  std::string dnsmasq_log() { return on_fileserver({"cat", "/var/log/picluster-dnsmasq.log"}).out; }

  // Waits for `pi` to answer, then records its boot `label` that started with the PoE on at or
  // after `since`: PoE on -> DHCP offer -> TFTP done -> SSH.
  void time_boot(const LabPi& pi, const std::string& label, Clock::time_point since) {
    ASSERT_GE(wait_for_pi(pi.ip6, 15min, 3s), 0) << pi.name << " (" << label << "); console:\n"
                                                  << read_text(LabPaths{m_dir}.pi(pi.port).serial_log());
    const auto ssh = Clock::now();
    const auto on = m_watch->first_after(pi.port, "power on", since);
    ASSERT_TRUE(on) << pi.name << ": no VM start seen";
    const auto offer = m_watch->first_after(pi.port, kOffer, *on);
    const auto tftp = offer ? m_watch->first_after(pi.port, kTftpDone, *offer) : std::nullopt;
    ASSERT_TRUE(offer && tftp) << pi.name << ": no boot-stage markers after its PoE on";
    const auto secs = [&](Clock::time_point t) { return std::chrono::duration<double>(t - *on).count(); };
    m_timings[pi.name + " " + label + ": PoE on -> DHCP offer"] = secs(*offer);
    m_timings[pi.name + " " + label + ": PoE on -> TFTP done"] = secs(*tftp);
    m_timings[pi.name + " " + label + ": PoE on -> SSH"] = secs(ssh);
  }

  // Waits until `marker` appears on `pi`'s console after its first PoE on at or after `since`.
  std::optional<Clock::time_point> wait_for_stage(const LabPi& pi, const std::string& marker, Clock::time_point since) {
    for (const auto until = Clock::now() + budget(15min); Clock::now() < until; std::this_thread::sleep_for(2s)) {
      const auto on = m_watch->first_after(pi.port, "power on", since);
      if (auto at = on ? m_watch->first_after(pi.port, marker, *on) : std::nullopt) return at;
    }
    return std::nullopt;
  }

  // Polls dnsmasq's log until `text` occurs more than `seen` times; when that was seen.
  std::optional<Clock::time_point> wait_for_log(const std::string& text, std::size_t seen, std::chrono::seconds limit) {
    for (const auto until = Clock::now() + budget(limit); Clock::now() < until; std::this_thread::sleep_for(3s)) {
      if (count(dnsmasq_log(), text) > seen) return Clock::now();
    }
    return std::nullopt;
  }

  // After a rebuild or rollback of `pi` (PoE on at or after `since`): waits until dnsmasq has sent
  // it the kernel file `sent` names (more than `seen` times), and records PoE on -> DHCP offer ->
  // kernel fetched under `label`.
  bool kernel_fetched(const LabPi& pi, const std::string& label, Clock::time_point since, const std::string& sent,
                      std::size_t seen) {
    const auto fetched = wait_for_log(sent, seen, 10min);
    const auto on = m_watch->first_after(pi.port, "power on", since);
    const auto offer = on ? m_watch->first_after(pi.port, kOffer, *on) : std::nullopt;
    if (!fetched || !on || !offer) {
      ADD_FAILURE() << pi.name << " (" << label << "): " << (!on ? "no PoE on" : !offer ? "no DHCP offer" : "no \"" + sent + "\"")
                    << " seen; console:\n" << read_text(LabPaths{m_dir}.pi(pi.port).serial_log());
      return false;
    }
    m_timings[pi.name + " " + label + ": PoE on -> DHCP offer"] = std::chrono::duration<double>(*offer - *on).count();
    m_timings[pi.name + " " + label + ": PoE on -> kernel fetched"] = std::chrono::duration<double>(*fetched - *on).count();
    return true;
  }

  std::unique_ptr<BootWatch> m_watch;
};

TEST_F(LabNetboot, TwoPisEnrollByPortNetbootFromTheirOwnVlanAndFollowTheirImage) {
  // 1. lab up --netboot with two Pi ports: image lab@1 (the Pi template and the x86 boot set).
  auto t = Clock::now();
  auto up = picluster({"lab", "up", "--netboot", "--pis", "2", "--dir", m_dir.string(), "--cache", m_cache.string()},
                      m_budget);
  ASSERT_EQ(up.exit_status, 0) << up.out << up.err;
  m_timings["lab up --netboot"] = seconds_since(t);
  auto state = load_state(LabPaths{m_dir});
  ASSERT_TRUE(state) << state.error().message;
  m_state = *state;
  ASSERT_TRUE(m_state.netboot);
  m_watch = std::make_unique<BootWatch>(m_dir, std::vector<int>{1, 2});
  EXPECT_OK(on_fileserver({"test", "-s", "/srv/images/lab/1/root/boot/firmware/vmlinuz", "-a", "-s",
                           "/srv/images/lab/1/root/boot/firmware/start4.elf", "-a", "!", "-e", "/srv/tftp/vlan-10"}));

  // Zero-touch enrollment: only the port. PoE on starts the VM, whose DHCP requests teach the
  // switch its MAC; with the MAC's lease, its TFTP request names its serial.
  std::vector<LabPi> pis;
  for (int port : {1, 2}) {
    const std::string name = "pi0" + std::to_string(port);
    t = Clock::now();
    auto add = picluster({"add", name, "--port", std::to_string(port), "--model", "pi4", "--wait-mac", "300",
                          "--wait-serial", "300"});
    ASSERT_EQ(add.exit_status, 0) << add.out << add.err;
    m_timings["add " + name + " --port " + std::to_string(port) + " (zero-touch: allocate, apply, PoE, MAC, serial, boot set)"] =
        seconds_since(t);
    auto inv = inventory::load(m_dir / "inventory.json");
    ASSERT_TRUE(inv) << inv.error().message;
    const auto* pi = inv->shelves.front().find_pi(name);
    ASSERT_NE(pi, nullptr);
    ASSERT_TRUE(pi->mac) << name << " has no MAC in the inventory";
    EXPECT_EQ(pi->mac->str(), lab_pi_mac(port)) << name << ": not the VM's MAC";
    EXPECT_EQ(pi->serial, lab_pi_serial(port)) << name << ": not the VM's serial";
    pis.push_back(LabPi{port, name, port == 1 ? kPi01Ip6 : kPi02Ip6, "eth1." + std::to_string(pi->vlan),
                        pi->storage.pi.str(), pi->storage.fileserver.str(),
                        "/srv/tftp/vlan-" + std::to_string(pi->vlan) + "/" + lab_pi_serial(port)});
  }
  ASSERT_EQ(pis.size(), 2u);
  const LabPi& pi01 = pis[0];
  const LabPi& pi02 = pis[1];

  // 2. Both boot (in parallel) to multi-user from their own NFS roots and answer on eth0.131.
  // Once both have their boot files (the fileserver VM is their TFTP server, so not before), and
  // while their kernels boot: version lab@2, whose boot set names another kernel file (its
  // config.txt, staged as picluster-image.txt, is included by picluster's config.txt), for step 3.
  for (const auto& pi : pis) {
    ASSERT_TRUE(wait_for_stage(pi, kTftpDone, m_start)) << pi.name << ": no TFTP done";
  }
  const auto exec_started = Clock::now();
  auto exec = std::async(std::launch::async, [this] {
    return picluster({"image", "exec", "lab", "--", "sh", "-c",
                      "mv /boot/firmware/vmlinuz /boot/firmware/vmlinuz-v2 && "
                      "sed -i 's/^kernel=.*/kernel=vmlinuz-v2/' /boot/firmware/config.txt"});
  });
  for (const auto& pi : pis) time_boot(pi, "cold boot", m_start);
  if (HasFatalFailure()) return;
  std::vector<std::future<RunResult>> booted;
  for (const auto& pi : pis) {
    booted.push_back(std::async(std::launch::async, [this, ip6 = pi.ip6] {
      return on_pi(ip6, {"sh", "-c", "systemctl is-system-running --wait; systemctl is-active multi-user.target"}, 300s);
    }));
  }
  for (const auto& pi : pis) {
    auto cmdline_txt = on_fileserver({"cat", pi.folder + "/cmdline.txt"});
    EXPECT_OK(cmdline_txt);
    EXPECT_EQ(on_pi(pi.ip6, {"cat", "/proc/cmdline"}).out, cmdline_txt.out) << pi.name;
    EXPECT_EQ(on_pi(pi.ip6, {"findmnt", "-n", "-o", "SOURCE", "/"}).out,
              pi.fs_ip4 + ":/srv/nfsroot/" + pi.name + "\n");
    EXPECT_EQ(on_pi(pi.ip6, {"cat", "/etc/picluster/image"}).out, "lab@1\n") << pi.name;
  }
  // dnsmasq, from picluster's rendered file, served each Pi on its own VLAN interface, from its
  // own VLAN's TFTP root; the first TFTP request (before the serial was known) found nothing.
  std::string log = dnsmasq_log();
  std::size_t offers = 0;
  for (const auto& pi : pis) {
    const std::string mac = lab_pi_mac(pi.port);
    EXPECT_NE(log.find("DHCPOFFER(" + pi.vlan_if + ") " + pi.ip4 + " " + mac), std::string::npos) << pi.name << "\n" << log;
    EXPECT_NE(log.find("DHCPACK(" + pi.vlan_if + ") " + pi.ip4 + " " + mac), std::string::npos) << pi.name << "\n" << log;
    EXPECT_NE(log.find("file " + pi.folder + "/start4.elf not found for " + pi.ip4), std::string::npos) << pi.name << "\n" << log;
    for (const std::string file : {"start4.elf", "fixup4.dat", "config.txt", "picluster-image.txt", "cmdline.txt", "vmlinuz",
                                   "initrd.img"}) {
      EXPECT_NE(log.find("sent " + pi.folder + "/" + file + " to " + pi.ip4), std::string::npos) << pi.name << ": " << file;
    }
    offers += count(log, "DHCPOFFER(" + pi.vlan_if + ")");
  }
  EXPECT_EQ(count(log, "DHCPOFFER("), offers) << "an offer on an interface of neither Pi:\n" << log;
  EXPECT_NE(log.find("client-machine-id  00:52:50:69:34:1a:b0"), std::string::npos) << "option 97 not echoed:\n" << log;

  // 2b. Isolation, from inside pi02 (the test's Pi boot client, put into pi02's root by the
  // fileserver): a DHCP request with pi01's MAC and serial gets no offer on pi02's VLAN; with
  // pi02's own MAC it gets pi02's own lease and reads pi02's folder (the positive control), but
  // none of pi01's, by relative, absolute or ../ path.
  {
    std::vector<std::string> scp = {"scp", "-q", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o",
                                    "UserKnownHostsFile=" + (m_dir / "known_hosts").string(), "-i",
                                    (m_dir / "keys/id_ed25519").string(), "-P", std::to_string(m_state.ssh_port), kPiboot,
                                    "root@127.0.0.1:/srv/nfsroot/pi02/usr/local/bin/picluster-test-piboot"};
    auto copied = run(scp, RunOptions{budget(120s), {}});
    ASSERT_TRUE(copied && copied->exit_status == 0) << (copied ? copied->err : copied.error().message);
    const std::string client = "/usr/local/bin/picluster-test-piboot";
    auto stolen = on_pi(pi02.ip6, {client, "--iface", "eth0", "--mac", lab_pi_mac(1), "--serial", lab_pi_serial(1),
                                   "--model", "pi4", "--timeout", "15", "--tftp", "{serial}/cmdline.txt"});
    EXPECT_EQ(stolen.exit_status, 1) << "pi01's MAC got a lease on pi02's port:\n" << stolen.out << stolen.err;
    EXPECT_NE(stolen.out.find("no offer"), std::string::npos) << stolen.out << stolen.err;
    const std::string pi01_rel = lab_pi_serial(1) + "/cmdline.txt";
    const std::string pi01_vlan = pi01.folder.substr(std::string("/srv/tftp/").size());  // vlan-10/1ab0c001
    auto own = on_pi(pi02.ip6, {client, "--iface", "eth0", "--mac", lab_pi_mac(2), "--serial", lab_pi_serial(1),
                                "--model", "pi4", "--timeout", "30", "--tftp", lab_pi_serial(2) + "/cmdline.txt", "--tftp",
                                pi01_rel, "--tftp", pi01.folder + "/cmdline.txt", "--tftp", "../" + pi01_vlan + "/cmdline.txt"});
    EXPECT_EQ(own.exit_status, 0) << own.out << own.err;
    EXPECT_NE(own.out.find("ack " + pi02.ip4), std::string::npos) << own.out;
    EXPECT_NE(own.out.find("tftp " + lab_pi_serial(2) + "/cmdline.txt: "), std::string::npos) << own.out;
    EXPECT_EQ(own.out.find("tftp " + lab_pi_serial(2) + "/cmdline.txt: error"), std::string::npos)
        << "positive control: pi02 could not read its own folder:\n" << own.out;
    for (const auto& path : {pi01_rel, pi01.folder + "/cmdline.txt", "../" + pi01_vlan + "/cmdline.txt"}) {
      EXPECT_NE(own.out.find("tftp " + path + ": error"), std::string::npos) << "pi02 read " << path << ":\n" << own.out;
    }
    log = dnsmasq_log();
    EXPECT_NE(log.find("DHCPDISCOVER(" + pi02.vlan_if + ") " + lab_pi_mac(1)), std::string::npos) << log;
    EXPECT_EQ(log.find("DHCPOFFER(" + pi02.vlan_if + ") " + pi01.ip4), std::string::npos) << log;
    EXPECT_EQ(log.find("sent " + pi01.folder + "/cmdline.txt to " + pi02.ip4), std::string::npos) << log;
    EXPECT_OK(on_pi(pi02.ip6, {"true"}));  // the probes left pi02's root (on eth0) alone
  }

  for (std::size_t i = 0; i < pis.size(); ++i) {
    const auto r = booted[i].get();
    EXPECT_TRUE(r.out.ends_with("\nactive\n")) << pis[i].name << " did not reach multi-user.target:\n" << r.out << r.err;
  }
  const auto made = exec.get();
  ASSERT_EQ(made.exit_status, 0) << made.out << made.err;
  m_timings["image exec lab (lab@2), beside the checks above"] = seconds_since(exec_started);

  // 3. PoE off/on of pi01, and in parallel pi02 rebuilt from lab@2, then rolled back. pi02's two
  // boots are checked by the kernel file its boot stage fetched over TFTP (the one its image's
  // config.txt names) and by the record of its root (its NFS root, on the fileserver): booting
  // each to SSH would not fit the budget under TCG. pi01 netboots again.
  const auto pid01 = pi_pid(1);
  const std::size_t cmdline_reads = count(log, "sent " + pi01.folder + "/cmdline.txt to " + pi01.ip4);
  const std::string v2_kernel = "sent " + pi02.folder + "/vmlinuz-v2 to " + pi02.ip4;
  const std::string v1_kernel = "sent " + pi02.folder + "/vmlinuz to " + pi02.ip4;
  const auto phase2 = Clock::now();
  auto cycle = picluster({"power", "cycle", "pi01"});
  ASSERT_EQ(cycle.exit_status, 0) << cycle.out << cycle.err;
  EXPECT_NE(pi_pid(1), pid01) << "the power cycle did not start a new VM";
  t = Clock::now();
  auto rebuild = picluster({"rebuild", "pi02", "--from", "lab@2"});
  ASSERT_EQ(rebuild.exit_status, 0) << rebuild.out << rebuild.err;
  m_timings["rebuild pi02 --from lab@2 (off, snapshot, boot set, on)"] = seconds_since(t);
  EXPECT_OK(on_fileserver({"sh", "-c", "test -s \"$1\"/vmlinuz-v2 && test ! -e \"$1\"/vmlinuz", "sh", pi02.folder}));
  EXPECT_EQ(on_fileserver({"cat", "/srv/nfsroot/pi02/etc/picluster/image"}).out, "lab@2\n");
  ASSERT_TRUE(kernel_fetched(pi02, "after rebuild --from lab@2", t, v2_kernel, 0));
  log = dnsmasq_log();
  const std::size_t v2_reads = count(log, v2_kernel);
  const std::size_t v1_reads = count(log, v1_kernel);

  // rollback (as soon as lab@2's kernel was fetched: a PoE off mid-boot): lab@1's root and boot
  // set again, and pi02's boot stage fetches lab@1's kernel.
  t = Clock::now();
  auto rollback = picluster({"rollback", "pi02"});
  ASSERT_EQ(rollback.exit_status, 0) << rollback.out << rollback.err;
  m_timings["rollback pi02 (off, previous root, boot set, on)"] = seconds_since(t);
  EXPECT_OK(on_fileserver({"sh", "-c", "test -s \"$1\"/vmlinuz && test ! -e \"$1\"/vmlinuz-v2", "sh", pi02.folder}));
  EXPECT_EQ(on_fileserver({"cat", "/srv/nfsroot/pi02/etc/picluster/image"}).out, "lab@1\n");
  ASSERT_TRUE(kernel_fetched(pi02, "after rollback", t, v1_kernel, v1_reads));
  EXPECT_EQ(count(dnsmasq_log(), v2_kernel), v2_reads) << "pi02 fetched lab@2's kernel after the rollback";

  // pi01, power-cycled meanwhile, netbooted again: a new DHCP offer, its folder's files fetched
  // again, its kernel kexec'd (its boot to SSH is the cold boot's, above).
  const auto cycled_on = m_watch->first_after(1, "power on", phase2);
  const auto cycled_tftp = wait_for_stage(pi01, kTftpDone, phase2);
  ASSERT_TRUE(cycled_on && cycled_tftp) << "pi01 did not netboot after the power cycle; console:\n"
                                        << read_text(LabPaths{m_dir}.pi(1).serial_log());
  if (const auto offer = m_watch->first_after(1, kOffer, *cycled_on)) {
    m_timings["pi01 after power cycle: PoE on -> DHCP offer"] = std::chrono::duration<double>(*offer - *cycled_on).count();
  }
  m_timings["pi01 after power cycle: PoE on -> TFTP done"] = std::chrono::duration<double>(*cycled_tftp - *cycled_on).count();
  EXPECT_GT(count(dnsmasq_log(), "sent " + pi01.folder + "/cmdline.txt to " + pi01.ip4), cmdline_reads)
      << "pi01 did not netboot again";
  m_timings["whole test"] = seconds_since(m_start);
}

}  // namespace
}  // namespace picluster::lab
