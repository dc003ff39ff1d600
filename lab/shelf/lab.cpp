#include "lab/shelf/lab.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "inventory/inventory.hpp"
#include "common/text.hpp"
#include "lab/shelf/arm64.hpp"
#include "lab/shelf/files.hpp"
#include "lab/shelf/images.hpp"
#include "lab/shelf/netboot.hpp"
#include "lab/shelf/process.hpp"

namespace picluster::lab {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
namespace {

std::string two_digits(int n) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", n);
  return buf;
}

Result<void> write_file(const fs::path& path, const std::string& text, fs::perms mode) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) return fail(ErrorCode::io, "write " + path.string());
  }
  fs::permissions(tmp, mode, ec);
  fs::rename(tmp, path, ec);
  if (ec) return fail(ErrorCode::io, "rename " + path.string() + ": " + ec.message());
  return {};
}

std::string random_community() {
  static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 20; ++i) out += alphabet[rd() % (sizeof alphabet - 1)];
  return out;
}

Result<void> save_state(const LabPaths& paths, const LabState& s) {
  const nlohmann::json j = {{"version", 1}, {"pis", s.pis}, {"ssh_port", s.ssh_port}, {"snmp_port", s.snmp_port},
                            {"images", s.images}, {"fileserver_boot_seconds", s.fileserver_boot_seconds},
                            {"netboot", s.netboot}, {"arch", to_string(s.arch)}, {"arm64_images", s.arm64_images}};
  return write_file(paths.state(), j.dump(2) + "\n", fs::perms(0644));
}

// The lab's inventory: one shelf "lab" whose endpoints are the lab's own processes.
Result<void> write_inventory(const LabPaths& paths, const LabState& s) {
  auto inv = inventory::make_default("lab");
  auto& shelf = inv.shelves.front();
  auto& f = shelf.fileserver;
  f.transport = inventory::Transport::ssh;
  f.host = "127.0.0.1";
  f.ssh_port = s.ssh_port;
  f.user = "root";
  f.identity_file = "keys/id_ed25519";
  f.known_hosts = "known_hosts";
  f.trunk_interface = "eth1";
  f.trunk_port = kTrunkPort;
  f.nfs_root = "/srv/nfsroot";
  f.golden_image = "/srv/golden/pi";
  // /srv is btrfs (images.hpp): nfsroot picks reflink clones by itself, and btrfs snapshots once
  // the fileserver role, applied over SSH, has made the golden image a subvolume.
  f.clone_method = inventory::CloneMethod::automatic;
  auto& sw = shelf.switch_;
  sw.host = "127.0.0.1";
  sw.snmp_port = s.snmp_port;
  sw.version = inventory::SnmpVersion::v2c;
  sw.secrets_file = "snmp-secrets.json";
  sw.port_count = kLabPorts;
  sw.timeout_ms = 2000;
  sw.poe_off_seconds = 2;
  auto& pub = shelf.public_net;
  pub.prefix = *inventory::Ipv6Net::parse("fd00:131::/64");  // unique local: never routed anywhere
  pub.gateway = *inventory::Ipv6::parse("fd00:131::1");
  pub.fileserver_address = *inventory::Ipv6::parse("fd00:131::a");
  pub.extra["dad_attempts"] = 0;  // no DAD delay on the Pis' eth0.131 in the lab
  if (s.netboot) {
    // Every model boots the lab's x86 boot set (netboot.hpp): its console and interface names in
    // cmdline.txt, its kernel and initrd named in config.txt.
    shelf.boot.mode = inventory::BootMode::netboot;
    shelf.image = kLabImage;  // made by lab up (stage_lab_image)
    for (const auto model : {inventory::PiModel::pi3, inventory::PiModel::pi3bplus, inventory::PiModel::pi4,
                             inventory::PiModel::pi5}) {
      shelf.boot.models[model] = inventory::ModelBoot{lab_netboot_cmdline_base(), lab_netboot_config_txt(), {}};
    }
  }
  if (auto ok = inventory::validate(inv); !ok) return std::unexpected(ok.error().with_context("lab inventory"));
  return inventory::save(inv, paths.inventory());
}

Result<void> write_switch_config(const LabPaths& paths, int pis) {
  nlohmann::json ports = nlohmann::json::object();
  for (int p = 1; p <= pis; ++p) ports[std::to_string(p)] = {{"mac", lab_pi_mac(p)}, {"device", true}};
  ports[std::to_string(kTrunkPort)] = {{"mac", "52:54:00:1a:b0:02"}, {"external_power", true}, {"power_mw", 0}};
  const nlohmann::json knobs = {{"sys_name", "lab-switch"}, {"ports", ports}};
  if (auto r = write_file(paths.switch_dir() / "knobs.json", knobs.dump(2) + "\n", fs::perms(0644)); !r) return r;
  // A new switch starts with the Pis' ports unpowered (the simulator's state file format,
  // docs/switchsim.md): an unprovisioned Pi would only retry netbooting, and `picluster add`'s
  // PoE-on step is then what cold-starts its VM. An existing state file is the switch's memory.
  const fs::path state = paths.switch_dir() / "state.json";
  if (fs::exists(state)) return {};
  std::vector<int> all;
  for (int p = 1; p <= kLabPorts; ++p) all.push_back(p);
  nlohmann::json pi_ports = nlohmann::json::array();
  for (int p = 1; p <= pis; ++p) pi_ports.push_back({{"port", p}, {"pvid", 1}, {"poe", false}});
  const nlohmann::json initial = {
      {"version", 1}, {"port_count", kLabPorts},
      {"vlans", nlohmann::json::array({{{"id", 1}, {"name", "default"}, {"egress", all}, {"untagged", all}}})},
      {"ports", pi_ports}};
  return write_file(state, initial.dump(2) + "\n", fs::perms(0644));
}

Result<void> write_access(const LabPaths& paths, const Images& images, int ssh_port) {
  std::error_code ec;
  fs::create_directories(paths.client_key().parent_path(), ec);
  fs::permissions(paths.client_key().parent_path(), fs::perms(0700), ec);
  if (auto r = write_file(paths.client_key(), read_text(images.client_key), fs::perms(0600)); !r) return r;
  // known_hosts: "[127.0.0.1]:PORT ssh-ed25519 AAAA..." (the key generated with the image).
  std::istringstream pub(read_text(images.host_key_pub));
  std::string type;
  std::string key;
  pub >> type >> key;
  if (type.empty() || key.empty()) return fail(ErrorCode::io, images.host_key_pub.string() + ": not an SSH public key");
  if (auto r = write_file(paths.known_hosts(), "[127.0.0.1]:" + std::to_string(ssh_port) + " " + type + " " + key + "\n",
                          fs::perms(0644));
      !r) {
    return r;
  }
  if (fs::exists(paths.secrets())) return {};
  return write_file(paths.secrets(), nlohmann::json{{"community", random_community()}}.dump() + "\n", fs::perms(0600));
}

Result<int> start_fileserver(const LabPaths& paths, const Images& images, int ssh_port, const fs::path& srv_disk) {
  const VmFiles files = paths.fileserver();
  std::error_code ec;
  fs::create_directories(files.dir, ec);
  // Copy-on-write overlays on the cached images, which are never written. An overlay left by an
  // earlier lab on another image (the recipe changed) is started afresh.
  const fs::path disk = files.dir / "disk.qcow2";
  const fs::path srv = files.dir / "srv.qcow2";
  for (const auto& [overlay, backing] : {std::pair{disk, images.fileserver_disk}, std::pair{srv, srv_disk}}) {
    if (auto r = ensure_overlay(overlay, backing); !r) return std::unexpected(r.error().with_context("fileserver disk"));
  }
  FileserverVm vm{files, images.kernel, images.initrd, disk, srv, paths.vde().ctl_dir, kTrunkPort, ssh_port, 1024};
  return launch(fileserver_argv(vm), files);
}

// Starts the simulator in the background and waits for its pidfile ("ready" is printed then).
Result<void> start_switch(const LabPaths& paths, const UpOptions& options, int snmp_port) {
  const fs::path dir = paths.switch_dir();
  const std::vector<std::string> argv = {
      "setsid", "-f", options.switch_binary.string(), "--listen", "udp:127.0.0.1:" + std::to_string(snmp_port),
      "--ports", std::to_string(kLabPorts), "--state", (dir / "state.json").string(),
      "--config", (dir / "knobs.json").string(), "--secrets", paths.secrets().string(),
      "--pidfile", (dir / "pid").string(), "--dataplane", "vde",
      "--dataplane-option", "lab=" + paths.dir.string()};
  std::error_code ec;
  fs::remove(dir / "pid", ec);
  if (auto r = run_ok(argv, RunOptions{std::chrono::seconds(10), dir / "switch.log"}); !r) {
    return std::unexpected(r.error().with_context("start switch simulator"));
  }
  for (int i = 0; i < 300; ++i) {  // bounded: 30 s
    if (auto pid = read_pidfile(dir / "pid"); pid && process_matches(*pid, options.switch_binary.filename().string())) {
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string log = read_text(dir / "switch.log");
  return fail(ErrorCode::io, "switch simulator did not start: " + (log.empty() ? "no output" : log));
}

// ssh/scp argv reaching the fileserver VM as the lab inventory does (pinned host key, lab key).
std::vector<std::string> ssh_options(const LabPaths& paths) {
  return {"-i", paths.client_key().string(), "-o", "UserKnownHostsFile=" + paths.known_hosts().string(),
          "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20"};
}

Result<void> fileserver_run(const LabPaths& paths, int ssh_port, const std::vector<std::string>& remote_argv,
                            std::chrono::minutes timeout = std::chrono::minutes(5)) {
  std::vector<std::string> argv = {"ssh"};
  const auto opts = ssh_options(paths);
  argv.insert(argv.end(), opts.begin(), opts.end());
  argv.insert(argv.end(), {"-p", std::to_string(ssh_port), "root@127.0.0.1", "--", shell_join(remote_argv)});
  return run_ok(argv, RunOptions{timeout, {}});
}

// netboot: the boot stage and the firmware files (the debs are cached beside the images).
Result<void> prepare_boot_stage(const LabPaths& paths, const UpOptions& options, const Images& images) {
  options.progress("netboot: boot stage initramfs (busybox, kexec), raspi-firmware, the trimmed initrd");
  if (auto r = ensure_netboot_debs(fs::absolute(options.cache) / "netboot-debs", default_mirror("bookworm"),
                                   "/var/cache/picluster-tests/debs");
      !r) {
    return std::unexpected(r.error().with_context("netboot debs"));
  }
  if (auto r = build_boot_stage(fs::absolute(options.cache) / "netboot-debs", images.initrd, paths.dir / "netboot/work",
                                paths.boot_stage(), paths.firmware());
      !r) {
    return r;
  }
  return build_netboot_initrd(images.initrd, paths.dir / "netboot/initrd-work", paths.netboot_initrd());
}

// netboot: the lab's Pi template becomes image version lab@1 in the fileserver's image store
// (/srv/images/lab/1: a read-only btrfs subvolume, its record etc/picluster/image, image.json),
// whose boot set (root/boot/firmware) is the x86 one: the firmware files, the kernel, the trimmed
// initrd and a config.txt naming them. The lab inventory's Pis follow image "lab", so `picluster
// add` clones their roots from it (a btrfs snapshot) and stages its boot set into each Pi's TFTP
// folder <tftp_root>/vlan-<N>/<serial>/ once the serial is known, as on a real shelf.
Result<void> stage_lab_image(const LabPaths& paths, const LabState& s, const Images& images) {
  const std::string set = "/root/lab-bootset";
  if (auto r = fileserver_run(paths, s.ssh_port, {"mkdir", "-p", set}); !r) return r;
  std::vector<std::string> scp = {"scp", "-q"};
  const auto opts = ssh_options(paths);
  scp.insert(scp.end(), opts.begin(), opts.end());
  scp.insert(scp.end(), {"-P", std::to_string(s.ssh_port)});
  for (const auto& f : netboot_firmware_files()) scp.push_back((paths.firmware() / f).string());
  std::error_code ec;
  fs::create_directories(paths.dir / "netboot/set", ec);
  for (const auto& [from, name] : {std::pair{images.kernel, kLabKernel}, std::pair{paths.netboot_initrd(), kLabInitrd}}) {
    const fs::path named = paths.dir / "netboot/set" / name;
    fs::remove(named, ec);
    fs::create_symlink(from, named, ec);
    if (ec) return fail(ErrorCode::io, "link " + named.string() + ": " + ec.message());
    scp.push_back(named.string());
  }
  scp.push_back("root@127.0.0.1:" + set + "/");
  if (auto r = run_ok(scp, RunOptions{std::chrono::minutes(10), {}}); !r) return std::unexpected(r.error().with_context("scp boot set"));
  char created[32] = "";
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &utc);
  const nlohmann::json meta = {{"name", kLabImage}, {"version", 1}, {"arch", "amd64"}, {"created", created}, {"source", "import"},
                               {"from", "picluster lab up --netboot: the lab's Pi template and x86 boot set"},
                               {"method", "new btrfs subvolume"}, {"kernel", ""}, {"recipe", nullptr}};
  std::string config;
  for (const auto& line : lab_netboot_config_txt()) config += line + "\n";
  // $1 boot set, $2 store/NAME, $3 golden, $4 config.txt, $5 image.json, $6 record.
  const std::string script = R"SH(set -e
v="$2/1"; new="$2/.new-1"
[ -e "$v" ] && exit 0
mkdir -p "$2"; rm -rf "$new"; mkdir "$new"
btrfs subvolume create "$new/root" > /dev/null
cp -a --reflink=always "$3"/. "$new/root"/
mkdir -p "$new/root/boot/firmware" "$new/root/etc/picluster"
cp "$1"/* "$new/root/boot/firmware/"
printf '%s' "$4" > "$new/root/boot/firmware/config.txt"
printf '%s\n' "$6" > "$new/root/etc/picluster/image"
printf '%s\n' "$5" > "$new/image.json"
btrfs property set -ts "$new/root" ro true
sync
mv "$new" "$v"
)SH";
  if (auto r = fileserver_run(paths, s.ssh_port,
                              {"sh", "-c", script, "sh", set, std::string("/srv/images/") + kLabImage, "/srv/golden/pi", config,
                               meta.dump(), std::string(kLabImage) + "@1"},
                              std::chrono::minutes(15));  // a reflink copy of the template under TCG
      !r) {
    return std::unexpected(r.error().with_context("image " + std::string(kLabImage) + "@1"));
  }
  return {};
}

// arm64: the picluster arm64 image (built once into the cache) and the lab entry made of it.
Result<Arm64Images> arm64_lab_images(const UpOptions& options, const Recipe& recipe, const Images& x86) {
  auto version = ensure_arm64_image(options.cache, "/var/cache/picluster-tests/bookworm-arm64", options.progress);
  if (!version) return std::unexpected(version.error());
  return ensure_arm64_images(options.cache, x86, recipe, *version, options.progress);
}

std::vector<int> pi_ports_with_dirs(const LabPaths& paths) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(paths.dir / "pi", ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() == 2 && std::isdigit(static_cast<unsigned char>(name[0])) != 0) out.push_back(std::stoi(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

VmFiles LabPaths::pi(int port) const { return {dir / "pi" / two_digits(port)}; }

std::string lab_pi_mac(int port) { return "b8:27:eb:1a:b0:" + two_digits(port % 100); }

Result<LabState> load_state(const LabPaths& paths) {
  const std::string text = read_text(paths.state());
  if (text.empty()) return fail(ErrorCode::not_found, "no lab in " + paths.dir.string() + " (run `picluster lab up`)");
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(ErrorCode::io, paths.state().string() + ": not JSON");
  LabState s;
  s.pis = j.value("pis", 0);
  s.ssh_port = j.value("ssh_port", 0);
  s.snmp_port = j.value("snmp_port", 0);
  s.images = j.value("images", "");
  s.fileserver_boot_seconds = j.value("fileserver_boot_seconds", 0.0);
  s.netboot = j.value("netboot", false);
  s.arch = parse_pi_arch(j.value("arch", "x86_64")).value_or(PiArch::x86_64);
  s.arm64_images = j.value("arm64_images", "");
  return s;
}

Result<void> wait_for_ssh_banner(int port, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      pollfd pfd{fd, POLLIN, 0};
      char buf[8] = {};
      // QEMU accepts the forwarded connection at once and closes it if the guest is not listening.
      if (poll(&pfd, 1, 3000) > 0 && read(fd, buf, 4) == 4 && std::string(buf, 4) == "SSH-") {
        close(fd);
        return {};
      }
    }
    if (fd >= 0) close(fd);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return fail(ErrorCode::timeout, "no SSH banner on 127.0.0.1:" + std::to_string(port) + " after " +
                                      std::to_string(timeout.count()) + " s");
}

Result<void> check_up_options(const UpOptions& options) {
  if (options.pis < 0 || options.pis >= kTrunkPort) return fail(ErrorCode::invalid_argument, "--pis: 0..23");
  if (options.netboot && options.arch == PiArch::arm64) {
    return fail(ErrorCode::invalid_argument, "--netboot with --arch arm64: the netboot boot stage is x86 (kexec); "
                                             "an arm64 lab boots its Pis' kernel directly");
  }
  return {};
}

Result<LabState> lab_up(const UpOptions& options) {
  if (auto ok = check_up_options(options); !ok) return std::unexpected(ok.error());
  const LabPaths paths{fs::absolute(options.dir)};
  if (auto st = lab_status(paths.dir); st) {
    for (const auto& p : st->processes) {
      if (p.running) return fail(ErrorCode::conflict, "a lab is already running in " + paths.dir.string() + " (" + p.name + ", pid " + std::to_string(p.pid) + "); run `picluster lab down` first");
    }
  }
  // 1. Images (cached), ports, keys, inventory.
  auto recipe = default_recipe();
  if (!recipe) return std::unexpected(recipe.error().with_context("images"));
  auto images = ensure_images(options.cache, *recipe, options.progress);
  if (!images) return std::unexpected(images.error().with_context("images"));
  LabState s;
  s.pis = options.pis;
  s.netboot = options.netboot;
  s.images = images->dir.string();
  s.arch = options.arch;
  fs::path srv_disk = images->srv_disk;
  if (s.arch == PiArch::arm64) {
    auto arm64 = arm64_lab_images(options, *recipe, *images);
    if (!arm64) return std::unexpected(arm64.error().with_context("images"));
    s.arm64_images = arm64->dir.string();
    srv_disk = arm64->srv_disk;
  }
  if (s.netboot) {
    if (auto r = prepare_boot_stage(paths, options, *images); !r) return std::unexpected(r.error());
  }
  auto ssh_port = free_loopback_port(false);
  auto snmp_port = free_loopback_port(true);
  if (!ssh_port || !snmp_port) return std::unexpected((!ssh_port ? ssh_port : snmp_port).error());
  s.ssh_port = *ssh_port;
  s.snmp_port = *snmp_port;
  if (auto r = save_state(paths, s); !r) return std::unexpected(r.error());
  if (auto r = write_access(paths, *images, s.ssh_port); !r) return std::unexpected(r.error());
  if (auto r = write_inventory(paths, s); !r) return std::unexpected(r.error());
  if (auto r = write_switch_config(paths, s.pis); !r) return std::unexpected(r.error());
  const auto cleanup = [&](const Error& e) -> Result<LabState> {
    (void)lab_down(paths.dir);
    return std::unexpected(e);
  };
  // 2. The data plane: vde_switch with every port created.
  options.progress("starting vde_switch");
  std::error_code ec;
  fs::create_directories(paths.vde().ctl_dir.parent_path(), ec);
  if (auto sw = VdeSwitch::start(paths.vde(), kLabPorts); !sw) return cleanup(sw.error());
  // 3. The fileserver VM, then its SSH banner.
  options.progress("booting the fileserver VM (TCG; about a minute)");
  const auto boot_start = Clock::now();
  if (auto pid = start_fileserver(paths, *images, s.ssh_port, srv_disk); !pid) return cleanup(pid.error());
  if (auto r = wait_for_ssh_banner(s.ssh_port, options.ssh_timeout); !r) {
    return cleanup(r.error().with_context("fileserver (console log: " + paths.fileserver().serial_log().string() + ")"));
  }
  s.fileserver_boot_seconds = std::chrono::duration<double>(Clock::now() - boot_start).count();
  if (s.netboot) {
    options.progress("netboot: image lab@1 (the Pi template and the x86 boot set) in /srv/images");
    if (auto r = stage_lab_image(paths, s, *images); !r) return cleanup(r.error().with_context("netboot"));
  }
  // 4. The switch's control plane, driving vde_switch and the Pis' power.
  options.progress("starting the switch simulator on udp:127.0.0.1:" + std::to_string(s.snmp_port));
  if (auto r = start_switch(paths, options, s.snmp_port); !r) return cleanup(r.error());
  if (auto r = save_state(paths, s); !r) return cleanup(r.error());
  return s;
}

Result<void> lab_down(const fs::path& dir) {
  const LabPaths paths{fs::absolute(dir)};
  std::optional<Error> first;
  const auto note = [&](Result<void> r) {
    if (!r && !first) first = r.error();
  };
  // The simulator first, so nothing powers a Pi back on; then the Pis, the fileserver, the switch.
  if (auto pid = read_pidfile(paths.switch_dir() / "pid")) note(stop_process(*pid, "picluster-lab-switch"));
  for (int port : pi_ports_with_dirs(paths)) note(kill_vm(paths.pi(port)));
  if (auto pid = running_pid(paths.fileserver())) {
    note(stop_process(*pid, kQemuBinary, std::chrono::seconds(2)));
  }
  if (auto pid = read_pidfile(paths.vde().pidfile)) note(stop_process(*pid, "vde_switch"));
  if (first) return std::unexpected(*first);
  return {};
}

Result<LabStatus> lab_status(const fs::path& dir) {
  const LabPaths paths{fs::absolute(dir)};
  LabStatus out;
  auto state = load_state(paths);
  if (!state) return std::unexpected(state.error());
  out.state = *state;
  const auto entry = [](std::string name, std::optional<pid_t> pid, const std::string& exe) {
    const bool alive = pid && process_matches(*pid, exe);
    return ProcessStatus{std::move(name), alive ? static_cast<int>(*pid) : 0, alive};
  };
  out.processes.push_back(entry("vde_switch", read_pidfile(paths.vde().pidfile), "vde_switch"));
  out.processes.push_back(entry("switch", read_pidfile(paths.switch_dir() / "pid"), "picluster-lab-switch"));
  out.processes.push_back(entry("fileserver", read_pidfile(paths.fileserver().pidfile()), kQemuBinary));
  for (int port : pi_ports_with_dirs(paths)) {
    const auto pid = running_pid(paths.pi(port));
    out.processes.push_back(ProcessStatus{"port" + two_digits(port), pid.value_or(0), pid.has_value()});
  }
  return out;
}

Result<VmFiles> vm_files_for(const fs::path& dir, const std::string& name) {
  const LabPaths paths{fs::absolute(dir)};
  if (name == "fileserver" || name == "fs") return paths.fileserver();
  if (name.size() == 6 && name.starts_with("port") && std::isdigit(static_cast<unsigned char>(name[4])) != 0 &&
      std::isdigit(static_cast<unsigned char>(name[5])) != 0) {
    return paths.pi(std::stoi(name.substr(4)));
  }
  auto inv = inventory::load(paths.inventory());
  if (!inv) return std::unexpected(inv.error());
  for (const auto& shelf : inv->shelves) {
    if (const auto* pi = shelf.find_pi(name)) return paths.pi(pi->port);
  }
  return fail(ErrorCode::not_found, "lab: no VM named '" + name + "' (fileserver, a Pi of the lab inventory, or portNN)");
}

Result<void> attach_console(const VmFiles& vm) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = vm.serial_socket().string();
  if (path.size() >= sizeof addr.sun_path) return fail(ErrorCode::invalid_argument, "socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) close(fd);
    return fail(ErrorCode::not_found, "console " + path + ": not running (log: " + vm.serial_log().string() + ")");
  }
  termios saved{};
  const bool tty = isatty(0) != 0 && tcgetattr(0, &saved) == 0;
  if (tty) {
    termios raw = saved;
    cfmakeraw(&raw);
    tcsetattr(0, TCSANOW, &raw);
  }
  pollfd fds[2] = {{0, POLLIN, 0}, {fd, POLLIN, 0}};
  char buf[4096];
  for (;;) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if ((fds[1].revents & (POLLIN | POLLHUP)) != 0) {
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0 || write(1, buf, static_cast<std::size_t>(n)) < 0) break;
    }
    if ((fds[0].revents & (POLLIN | POLLHUP)) != 0) {
      const ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0 || (tty && std::memchr(buf, 0x1d, static_cast<std::size_t>(n)) != nullptr)) break;  // Ctrl-]
      if (write(fd, buf, static_cast<std::size_t>(n)) < 0) break;
    }
  }
  if (tty) tcsetattr(0, TCSANOW, &saved);
  close(fd);
  return {};
}

}  // namespace picluster::lab
