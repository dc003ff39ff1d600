// Subcommands for the 'lab' area: the virtual shelf (vde_switch + switch simulator + QEMU
// fileserver and Pis). See docs/lab.md.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "lab/shelf/lab.hpp"
#include "orchestrator/cli/cli.hpp"

namespace picluster::cli {
namespace {
namespace fs = std::filesystem;

struct LabArgs {
  std::string dir;
  std::string cache;
  std::string switch_binary;
  int pis = 2;
  bool netboot = false;
  std::string arch = "x86_64";
  bool json = false;
  bool dry_run = false;
  std::string name;
};

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

Result<void> require_root() {
  if (geteuid() != 0) {
    return fail(ErrorCode::refused,
                "lab: must run as root (it builds images with mmdebstrap, and starts vde_switch and QEMU)");
  }
  return {};
}

// picluster-lab-switch next to this executable (installed), in the build tree, or on PATH.
std::string find_switch_binary(const std::string& given) {
  if (!given.empty()) return given;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& candidate : {self.parent_path() / "picluster-lab-switch",
                                      self.parent_path().parent_path() / "lab/shelf/picluster-lab-switch"}) {
      if (fs::is_regular_file(candidate, ec)) return candidate.string();
    }
  }
  return "picluster-lab-switch";
}

void add_dir_option(CLI::App* cmd, LabArgs& a) {
  cmd->add_option("--dir", a.dir, "Lab folder (default: $PICLUSTER_LAB_DIR or /var/tmp/picluster-lab)");
}

Result<int> run_up(const LabArgs& a) {
  if (auto r = require_root(); !r) return std::unexpected(r.error());
  lab::UpOptions options;
  options.dir = a.dir;
  options.cache = a.cache;
  options.pis = a.pis;
  options.netboot = a.netboot;
  options.arch = lab::parse_pi_arch(a.arch).value_or(lab::PiArch::x86_64);
  options.switch_binary = find_switch_binary(a.switch_binary);
  if (auto ok = lab::check_up_options(options); !ok) return std::unexpected(ok.error().with_context("lab up"));
  if (a.dry_run) {
    std::cout << "would build or reuse images in " << a.cache << "\n"
              << "would start vde_switch (" << lab::kLabPorts << " ports), the fileserver VM (trunk on port "
              << lab::kTrunkPort << "), and " << options.switch_binary << " with the vde data plane\n"
              << "would write " << (fs::absolute(a.dir) / "inventory.json").string() << " with " << a.pis
              << " Pi port(s)" << (a.netboot ? ", boot.mode netboot" : "") << "\n";
    if (options.arch == lab::PiArch::arm64) {
      std::cout << "would build or reuse the arm64 image in " << (fs::absolute(a.cache) / "arm64/images").string()
                << " and boot the Pis with qemu-system-aarch64 -M virt -cpu cortex-a72\n";
    }
    if (a.netboot) {
      std::cout << "would build the netboot boot stage and stage the x86 boot set in each Pi's TFTP folder\n";
    }
    return 0;
  }
  options.progress = [](const std::string& line) { std::cerr << "lab: " << line << "\n"; };
  auto state = lab::lab_up(options);
  if (!state) return std::unexpected(state.error().with_context("lab up"));
  const fs::path dir = fs::absolute(a.dir);
  std::cout << "lab up in " << dir.string() << " (fileserver booted in " << static_cast<int>(state->fileserver_boot_seconds)
            << " s)\n"
            << "  switch:     udp:127.0.0.1:" << state->snmp_port << " (picluster-lab-switch, vde data plane)\n"
            << "  fileserver: ssh root@127.0.0.1 -p " << state->ssh_port << "\n"
            << "  Pi ports:   1-" << state->pis << " (MACs b8:27:eb:1a:b0:NN"
            << (state->netboot ? ", serials 1ab0c0NN, NN the port in hex" : "")
            << (state->arch == lab::PiArch::arm64 ? "; aarch64 VMs on " + state->arm64_images : "")
            << ")\n"
            << "  inventory:  export PICLUSTER_INVENTORY=" << (dir / "inventory.json").string() << "\n";
  return 0;
}

Result<int> run_down(const LabArgs& a) {
  if (auto r = require_root(); !r) return std::unexpected(r.error());
  if (a.dry_run) {
    auto st = lab::lab_status(a.dir);
    if (!st) return std::unexpected(st.error());
    for (const auto& p : st->processes) {
      if (p.running) std::cout << "would stop " << p.name << " (pid " << p.pid << ")\n";
    }
    return 0;
  }
  if (auto r = lab::lab_down(a.dir); !r) return std::unexpected(r.error().with_context("lab down"));
  std::cout << "lab in " << fs::absolute(a.dir).string() << " stopped\n";
  return 0;
}

Result<int> run_status(const LabArgs& a) {
  auto st = lab::lab_status(a.dir);
  if (!st) return std::unexpected(st.error());
  if (a.json) {
    nlohmann::json procs = nlohmann::json::array();
    for (const auto& p : st->processes) procs.push_back({{"name", p.name}, {"pid", p.pid}, {"running", p.running}});
    const nlohmann::json j = {{"dir", fs::absolute(a.dir).string()}, {"pis", st->state.pis},
                              {"ssh_port", st->state.ssh_port}, {"snmp_port", st->state.snmp_port},
                              {"images", st->state.images}, {"arch", lab::to_string(st->state.arch)},
                              {"processes", procs}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "lab " << fs::absolute(a.dir).string() << ": switch udp:127.0.0.1:" << st->state.snmp_port
            << ", fileserver ssh 127.0.0.1:" << st->state.ssh_port << "\n";
  for (const auto& p : st->processes) {
    std::cout << "  " << p.name << std::string(p.name.size() < 12 ? 12 - p.name.size() : 1, ' ')
              << (p.running ? "running (pid " + std::to_string(p.pid) + ")" : "stopped") << "\n";
  }
  return 0;
}

Result<int> run_console(const LabArgs& a) {
  if (auto r = require_root(); !r) return std::unexpected(r.error());
  auto vm = lab::vm_files_for(a.dir, a.name);
  if (!vm) return std::unexpected(vm.error());
  if (stdout_is_terminal()) std::cerr << "lab: console of " << a.name << " (Ctrl-] to leave)\r\n";
  if (auto r = lab::attach_console(*vm); !r) return std::unexpected(r.error());
  return 0;
}

}  // namespace

void register_lab_commands(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<LabArgs>();
  args->dir = env_or("PICLUSTER_LAB_DIR", "/var/tmp/picluster-lab");
  args->cache = env_or("PICLUSTER_LAB_CACHE", "/var/cache/picluster-lab");
  CLI::App* lab_cmd = app.add_subcommand("lab", "The virtual shelf: QEMU Pis netbooting over vde_switch VLANs (root)");
  lab_cmd->require_subcommand(1);

  CLI::App* up = lab_cmd->add_subcommand("up", "Build/reuse images and start switch, simulator and fileserver VM");
  add_dir_option(up, *args);
  up->add_option("--pis", args->pis, "Number of Pi ports (1..N)")->check(CLI::Range(0, 23))->capture_default_str();
  up->add_flag("--netboot", args->netboot,
               "Netboot shelf: Pis boot like a Pi 4 bootloader (DHCP, TFTP from dnsmasq, kexec)");
  up->add_option("--arch", args->arch, "What the Pi VMs are: x86_64, or arm64 (aarch64 VMs on a picluster arm64 image)")
      ->check(CLI::IsMember({"x86_64", "arm64"}))
      ->capture_default_str();
  up->add_option("--cache", args->cache, "Image cache (default: $PICLUSTER_LAB_CACHE or /var/cache/picluster-lab)");
  up->add_option("--switch-binary", args->switch_binary, "picluster-lab-switch to run (default: found beside picluster)");
  up->add_flag("--dry-run", args->dry_run, "Say what would be started, start nothing");
  up->callback([&ctx, args] { ctx.action = [args] { return run_up(*args); }; });

  CLI::App* down = lab_cmd->add_subcommand("down", "Stop everything the lab started, by recorded PID");
  add_dir_option(down, *args);
  down->add_flag("--dry-run", args->dry_run, "List what would be stopped");
  down->callback([&ctx, args] { ctx.action = [args] { return run_down(*args); }; });

  CLI::App* status = lab_cmd->add_subcommand("status", "Show the lab's processes and endpoints");
  add_dir_option(status, *args);
  status->add_flag("--json", args->json, "Machine-readable output");
  status->callback([&ctx, args] { ctx.action = [args] { return run_status(*args); }; });

  CLI::App* console = lab_cmd->add_subcommand("console", "Attach to a VM's serial console (Ctrl-] leaves)");
  add_dir_option(console, *args);
  console->add_option("name", args->name, "fileserver, a Pi name, or portNN")->required();
  console->callback([&ctx, args] { ctx.action = [args] { return run_console(*args); }; });
}

}  // namespace picluster::cli
