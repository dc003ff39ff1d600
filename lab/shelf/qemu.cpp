#include "lab/shelf/qemu.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/text.hpp"
#include "lab/shelf/process.hpp"

namespace picluster::lab {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

// Options every lab VM shares. arm64: the generic `virt` board (Debian's QEMU has no Pi 4 board,
// and none runs the VideoCore firmware) with a Pi 4's CPU.
std::vector<std::string> common_argv(const VmFiles& f, int memory_mb, PiArch arch = PiArch::x86_64) {
  std::vector<std::string> head = {kQemuBinary, "-accel", "tcg", "-cpu", "max"};
  if (arch == PiArch::arm64) head = {kQemuArm64Binary, "-M", "virt", "-accel", "tcg", "-cpu", "cortex-a72"};
  return with(head, {"-m", std::to_string(memory_mb), "-smp", "1",
          "-nodefaults", "-no-user-config", "-display", "none", "-daemonize",
          "-pidfile", f.pidfile().string(),
          "-chardev", "socket,id=ser0,path=" + f.serial_socket().string() + ",server=on,wait=off,logfile=" +
                          f.serial_log().string() + ",logappend=on",
          "-serial", "chardev:ser0",
          "-monitor", "unix:" + f.monitor().string() + ",server=on,wait=off"});
}

}  // namespace

std::vector<std::string> fileserver_argv(const FileserverVm& vm) {
  auto argv = with(common_argv(vm.files, vm.memory_mb),
                   {"-kernel", vm.kernel.string(), "-initrd", vm.initrd.string(),
                    "-append", "console=ttyS0 root=/dev/vda rw net.ifnames=0",
                    "-drive", "file=" + vm.disk.string() + ",if=virtio,format=qcow2"});
  if (!vm.srv_disk.empty()) argv = with(argv, {"-drive", "file=" + vm.srv_disk.string() + ",if=virtio,format=qcow2"});
  return with(argv,
              {"-netdev", "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:" + std::to_string(vm.ssh_port) + "-:22",
               "-device", "virtio-net-pci,netdev=mgmt,mac=52:54:00:1a:b0:01",
               "-netdev", "vde,id=trunk,sock=" + vm.vde_ctl.string() + ",port=" + std::to_string(vm.trunk_port),
               "-device", "virtio-net-pci,netdev=trunk,mac=52:54:00:1a:b0:02"});
}

std::vector<std::string> pi_argv(const PiVm& vm) {
  auto argv = common_argv(vm.files, vm.memory_mb, vm.arch);
  if (!vm.serial.empty()) argv = with(argv, {"-smbios", "type=1,serial=" + vm.serial});
  return with(argv,
              {"-name", vm.name,
               "-kernel", vm.kernel.string(), "-initrd", vm.initrd.string(), "-append", vm.cmdline,
               "-netdev", "vde,id=net0,sock=" + vm.vde_ctl.string() + ",port=" + std::to_string(vm.port),
               "-device", "virtio-net-pci,netdev=net0,mac=" + vm.mac});
}

std::string pi_cmdline(const std::string& rendered_cmdline, PiArch arch) {
  return rendered_cmdline + " net.ifnames=0 console=" + (arch == PiArch::arm64 ? "ttyAMA0" : "ttyS0") + ",115200";
}

std::string to_string(PiArch arch) { return arch == PiArch::arm64 ? "arm64" : "x86_64"; }

std::optional<PiArch> parse_pi_arch(std::string_view text) {
  if (text == "x86_64" || text == "amd64") return PiArch::x86_64;
  if (text == "arm64" || text == "aarch64") return PiArch::arm64;
  return std::nullopt;
}

bool is_qemu_process(int pid) { return process_matches(pid, kQemuBinary) || process_matches(pid, kQemuArm64Binary); }

Result<bool> ensure_overlay(const fs::path& overlay, const fs::path& backing) {
  std::error_code ec;
  if (fs::exists(overlay, ec)) {
    auto info = run_checked({"qemu-img", "info", "--output=json", "-U", overlay.string()});
    if (!info) return std::unexpected(info.error().with_context("overlay " + overlay.string()));
    const auto j = nlohmann::json::parse(info->out, nullptr, false);
    const std::string current = j.is_object() ? j.value("full-backing-filename", j.value("backing-filename", "")) : "";
    if (!current.empty() && fs::equivalent(current, backing, ec)) return false;
    fs::remove(overlay, ec);
    if (ec) return fail(ErrorCode::io, "remove stale overlay " + overlay.string() + ": " + ec.message());
  }
  if (auto r = run_ok({"qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", backing.string(), overlay.string()}); !r) {
    return std::unexpected(r.error().with_context("overlay " + overlay.string()));
  }
  return true;
}

Result<int> launch(const std::vector<std::string>& argv, const VmFiles& files) {
  std::error_code ec;
  fs::create_directories(files.dir, ec);
  fs::remove(files.pidfile(), ec);
  fs::remove(files.monitor(), ec);
  fs::remove(files.serial_socket(), ec);
  // -daemonize returns once the VM is set up; a bad option or missing file fails here.
  if (auto r = run_ok(argv, RunOptions{std::chrono::seconds(60), files.qemu_log()}); !r) {
    return std::unexpected(r.error().with_context("start VM in " + files.dir.string()));
  }
  const auto pid = running_pid(files);
  if (!pid) return fail(ErrorCode::io, "VM in " + files.dir.string() + " exited at once (see " + files.qemu_log().string() + ")");
  return *pid;
}

Result<std::string> monitor_command(const fs::path& monitor_socket, const std::string& command) {
  if (command.find('\n') != std::string::npos) return fail(ErrorCode::internal, "monitor command with a newline");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = monitor_socket.string();
  if (path.size() >= sizeof addr.sun_path) return fail(ErrorCode::invalid_argument, "monitor path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string msg = std::strerror(errno);
    if (fd >= 0) close(fd);
    return fail(ErrorCode::io, "QEMU monitor " + path + ": " + msg);
  }
  // The monitor prints a banner and "(qemu) "; the command's output ends at the next prompt.
  std::string buffer;
  int prompts = 0;
  const std::string line = command + "\n";
  bool sent = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  char chunk[4096];
  while (prompts < 2 && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, 200) <= 0) continue;
    const ssize_t got = read(fd, chunk, sizeof chunk);
    if (got <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(got));
    prompts = 0;
    for (std::size_t pos = buffer.find("(qemu) "); pos != std::string::npos; pos = buffer.find("(qemu) ", pos + 1)) ++prompts;
    if (prompts >= 1 && !sent) {
      (void)!write(fd, line.data(), line.size());
      sent = true;
    }
  }
  close(fd);
  if (prompts < 2) return fail(ErrorCode::timeout, "QEMU monitor " + path + ": no reply to " + printable(command));
  const auto first = buffer.find("(qemu) ") + 7;
  return buffer.substr(first, buffer.rfind("(qemu) ") - first);
}

std::optional<int> running_pid(const VmFiles& files) {
  const auto pid = read_pidfile(files.pidfile());
  if (!pid || !is_qemu_process(static_cast<int>(*pid))) return std::nullopt;
  return static_cast<int>(*pid);
}

Result<void> kill_vm(const VmFiles& files) {
  const auto pid = running_pid(files);
  std::error_code ec;
  if (pid) {
    kill(*pid, SIGKILL);
    for (int i = 0; i < 250 && is_qemu_process(*pid); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (is_qemu_process(*pid)) {
      return fail(ErrorCode::timeout, "QEMU pid " + std::to_string(*pid) + " survived SIGKILL");
    }
  }
  fs::remove(files.pidfile(), ec);
  return {};
}

}  // namespace picluster::lab
