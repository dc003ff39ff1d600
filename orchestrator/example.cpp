#include "orchestrator/example.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "orchestrator/status.hpp"
#include "orchestrator/verbs.hpp"

extern char** environ;

namespace picluster::orchestrator {
namespace {

namespace fs = std::filesystem;

Result<void> write_text(const fs::path& path, const std::string& text,
                        fs::perms mode = fs::perms(0644)) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) return fail(ErrorCode::io, path.string() + ": cannot write");
  out.close();
  fs::permissions(path, mode, ec);
  return {};
}

// A free UDP port on 127.0.0.1 (bound and released; the simulator binds it right after).
Result<int> free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorCode::io, "socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return fail(ErrorCode::io, "cannot bind a UDP port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The pid in a pidfile, or 0 when the file is missing or does not hold one yet.
pid_t read_pid(const fs::path& pidfile) {
  std::ifstream in(pidfile);
  long pid = 0;
  in >> pid;
  return in && pid > 0 ? static_cast<pid_t>(pid) : 0;
}

// True while `pid` is a process that has not exited (a zombie counts as gone).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  const auto paren = text.rfind(')');
  return stat && paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

// The simulator as a child process in its own session (so a kept one outlives the terminal),
// stdout and stderr appended to `log`; ready once it has written its pidfile. Stopped (SIGTERM,
// then waited for) by the destructor unless released.
class Simulator {
 public:
  static Result<std::unique_ptr<Simulator>> start(const std::vector<std::string>& argv,
                                                  const fs::path& log, const fs::path& pidfile) {
    std::error_code ec;
    fs::remove(pidfile, ec);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    std::vector<std::string> args = argv;
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, cargs[0], &actions, &attr, cargs.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return fail(ErrorCode::io, argv[0] + ": cannot start: " + std::strerror(rc));
    auto sim = std::unique_ptr<Simulator>(new Simulator(pid));
    // Wait (at most 20 s) for the pidfile, written once it serves.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (read_pid(pidfile) != pid && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        sim->release();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (read_pid(pidfile) != pid) {
      return fail(ErrorCode::command_failed,
                  argv[0] + " did not become ready (see " + log.string() + ")");
    }
    return sim;
  }
  [[nodiscard]] pid_t pid() const { return m_pid; }
  void release() { m_pid = -1; }
  ~Simulator() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGTERM);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

 private:
  explicit Simulator(pid_t pid) : m_pid(pid) {}
  pid_t m_pid;
};

std::string pi_name(int i) { return (i < 10 ? "pi0" : "pi") + std::to_string(i); }
std::string pi_mac(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "b8:27:eb:00:00:%02x", static_cast<unsigned>(i) & 0xffU);
  return buf;
}

// A small synthetic Raspberry Pi OS-like tree: enough for cloning, customising and rebuilding.
Result<void> make_golden(const fs::path& golden) {
  for (const auto& [path, text] : std::initializer_list<std::pair<const char*, const char*>>{
           {"etc/hostname", "raspberrypi\n"},
           {"etc/hosts", "127.0.0.1 localhost\n127.0.1.1 raspberrypi\n"},
           {"etc/machine-id", "0123456789abcdef0123456789abcdef\n"},
           {"etc/os-release", "PRETTY_NAME=\"picluster example golden image\"\n"},
           {"etc/ssh/sshd_config", "PermitRootLogin prohibit-password\n"},
           {"etc/ssh/ssh_host_ed25519_key", "golden image key: must never reach a Pi\n"},
           {"usr/share/doc/README", "A synthetic golden image made by `picluster example`.\n"},
           {"var/www/html/index.html", "<h1>Served by a Raspberry Pi</h1>\n"}}) {
    if (auto ok = write_text(golden / path, text); !ok) return ok;
  }
  return {};
}

Result<fs::path> write_inventory(const ExampleOptions& o, int snmp_port) {
  auto inv = inventory::make_default("example");
  auto& shelf = inv.shelves.front();
  shelf.switch_.host = "127.0.0.1";
  shelf.switch_.snmp_port = snmp_port;
  shelf.switch_.secrets_file = "switch-secrets.json";
  shelf.switch_.poe_off_seconds = 1;
  shelf.switch_.timeout_ms = 500;
  shelf.fileserver.transport = inventory::Transport::local;
  shelf.fileserver.host = "localhost";
  shelf.fileserver.root_prefix = fs::absolute(o.dir / "fileserver").lexically_normal().string();
  shelf.fileserver.clone_method = inventory::CloneMethod::automatic;
  // The example's Pis do not exist: probing their public addresses would send traffic off the box.
  shelf.extra["watch"] = inventory::Json{{"probe", "none"}};
  const fs::path path = o.dir / "inventory.json";
  if (auto ok = inventory::save(inv, path); !ok) return std::unexpected(ok.error());
  return path;
}

}  // namespace

fs::path find_switchsim(const fs::path& self) {
  const fs::path dir = self.parent_path();
  for (const auto& candidate :
       {dir / "picluster-switchsim", dir / "../lab/switchsim/picluster-switchsim"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal();
  }
  return "picluster-switchsim";
}

Result<void> run_example(const ExampleOptions& o, const Reporter& reporter) {
  const auto note = [&](const std::string& step, const std::string& detail) {
    reporter({"", step, "ok", detail});
  };
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) return fail(ErrorCode::io, o.dir.string() + ": " + ec.message());
  if (fs::exists(o.dir / "inventory.json")) {
    return fail(ErrorCode::conflict,
                o.dir.string() + " already holds an example shelf; remove it or pick --dir");
  }

  // 1. the switch: picluster-switchsim on 127.0.0.1, MACs per port as the Pis will have them
  auto port = free_udp_port();
  if (!port) return std::unexpected(port.error());
  std::string knobs = "{\"all_ports\": {\"device\": true}, \"ports\": {";
  for (int i = 1; i <= o.pis; ++i)
    knobs += (i > 1 ? ", " : "") +
             ("\"" + std::to_string(i) + "\": {\"device\": true, \"mac\": \"" + pi_mac(i) + "\"}");
  knobs += ", \"24\": {\"device\": true, \"external_power\": true}}}\n";
  if (auto ok = write_text(o.dir / "switchsim-knobs.json", knobs); !ok) return ok;
  // A new switch whose Pi ports are unpowered, so each add's last step really switches PoE on.
  std::string all, ports;
  for (int p = 1; p <= 24; ++p) {
    all += (p > 1 ? "," : "") + std::to_string(p);
    if (p < 24)
      ports += (p > 1 ? ", " : "") +
               ("{\"port\": " + std::to_string(p) + ", \"pvid\": 1, \"poe\": false}");
  }
  const std::string state =
      "{\"version\": 1, \"port_count\": 24, \"vlans\": [{\"id\": 1, \"name\": \"default\", "
      "\"egress\": [" +
      all + "], \"untagged\": [" + all + "]}], \"ports\": [" + ports + "]}\n";
  if (auto ok = write_text(o.dir / "switchsim-state.json", state); !ok) return ok;
  const std::string listen = "udp:127.0.0.1:" + std::to_string(*port);
  // The community reaches the simulator in a file (mode 0600), as picluster reads it: never on a
  // command line, where `ps` shows it to every user.
  const fs::path secrets = o.dir / "switch-secrets.json";
  if (auto ok = write_text(secrets, "{\"community\": \"example\"}\n", fs::perms(0600)); !ok) return ok;
  auto sim = Simulator::start({o.switchsim.string(), "--listen", listen, "--ports", "24", "--state",
                               (o.dir / "switchsim-state.json").string(), "--config",
                               (o.dir / "switchsim-knobs.json").string(), "--secrets", secrets.string(),
                               "--pidfile", (o.dir / kSwitchsimPidfile).string()},
                              o.dir / "switchsim.log", o.dir / kSwitchsimPidfile);
  if (!sim) return std::unexpected(sim.error());
  note("switch", "picluster-switchsim serving SNMP on " + listen + " (24 ports, PoE)");

  // 2. the fileserver: this machine, everything under <dir>/fileserver; a golden image
  auto inv_path = write_inventory(o, *port);
  if (!inv_path) return std::unexpected(inv_path.error());
  const fs::path prefix = o.dir / "fileserver";
  if (auto ok = make_golden(prefix / "srv/golden/raspios"); !ok) return ok;
  fs::create_directories(prefix / "srv/nfsroot",
                         ec);  // what the Ansible role prepares on a real one
  fs::create_directories(prefix / "srv/tftp", ec);
  note("init", inv_path->string() + ": shelf \"example\", fileserver = this machine under " +
                   prefix.string());

  VerbContext ctx;
  ctx.inventory_path = *inv_path;
  ctx.reporter = reporter;
  // 3. add the Pis: allocate, switch port, VLAN interface, root, export, boot files, PoE on
  for (int i = 1; i <= o.pis; ++i) {
    inventory::PiRequest r{
        pi_name(i), i, inventory::PiModel::pi4, {}, inventory::Mac::parse(pi_mac(i))};
    if (auto added = add_pi(ctx, r); !added) return std::unexpected(added.error());
  }
  // 4. a second apply has nothing to do
  if (auto ok = apply(ctx); !ok) return ok;
  // 5. power-cycle a hung Pi through PoE, rebuild another's root
  if (auto ok = power_pis(ctx, {pi_name(std::min(3, o.pis))}, switchctl::PowerAction::cycle, false);
      !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = rebuild_pis(ctx, {pi_name(std::min(5, o.pis))}, "", true); !ok) return ok;
  if (o.before_stop) o.before_stop(*inv_path);
  if (o.keep_running) {
    note("switch", "left running as pid " + std::to_string(sim->get()->pid()) + " (" +
                       (o.dir / kSwitchsimPidfile).string() + ")");
    sim->get()->release();
  }
  return {};
}

Result<void> stop_example(const fs::path& dir) {
  const fs::path pidfile = dir / kSwitchsimPidfile;
  const pid_t pid = read_pid(pidfile);
  if (pid == 0) {
    return fail(ErrorCode::not_found,
                pidfile.string() + ": no switch simulator recorded (was the example run with --keep?)");
  }
  // Only signal the process if it is this example's simulator (the pid may have been reused).
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string state = (dir / "switchsim-state.json").string();
  if (!alive(pid) || cmdline.find("picluster-switchsim") == std::string::npos ||
      cmdline.find(state) == std::string::npos) {
    std::error_code ec;
    fs::remove(pidfile, ec);
    return {};  // already gone
  }
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (alive(pid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (alive(pid)) {
    ::kill(pid, SIGKILL);
    while (alive(pid)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::error_code ec;
  fs::remove(pidfile, ec);
  return {};
}

}  // namespace picluster::orchestrator
