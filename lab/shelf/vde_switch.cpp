#include "lab/shelf/vde_switch.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>

#include "common/text.hpp"
#include "lab/shelf/process.hpp"

namespace picluster::lab {
namespace {

constexpr std::string_view kPrompt = "vde$ ";
constexpr std::string_view kDataStart = "0000 DATA END WITH '.'";

std::optional<int> to_int(std::string_view text) {
  int value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// The whitespace-separated words of a line.
std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])) != 0) ++i;
    const std::size_t start = i;
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])) == 0) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// "tagged=1" -> "1"
std::string_view value_of(std::string_view word) {
  const auto pos = word.find('=');
  return pos == std::string_view::npos ? std::string_view{} : word.substr(pos + 1);
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<MgmtReply> parse_reply(std::string_view raw) {
  MgmtReply reply;
  bool in_data = false;
  bool have_status = false;
  for (const auto& piece : split(raw, '\n')) {
    std::string_view line = piece;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (in_data) {
      if (line == ".") {
        in_data = false;
      } else {
        reply.data.emplace_back(line);
      }
      continue;
    }
    if (line.starts_with(kDataStart)) {
      in_data = true;
      continue;
    }
    if (line.size() >= 4) {
      if (const auto code = to_int(line.substr(0, 4)); code && *code >= 1000) {
        reply.status = *code;
        reply.status_text = std::string(line.size() > 5 ? line.substr(5) : std::string_view{});
        have_status = true;
      }
    }
  }
  if (!have_status) return fail(ErrorCode::io, "vde_switch: reply without a status line: " + printable(raw));
  return reply;
}

std::vector<VlanInfo> parse_vlan_allprint(const std::vector<std::string>& data) {
  std::vector<VlanInfo> out;
  for (const auto& line : data) {
    const auto w = words(line);
    if (w.size() >= 2 && w[0] == "VLAN") {
      if (const auto vlan = to_int(w[1])) out.push_back(VlanInfo{*vlan, {}});
    } else if (w.size() >= 4 && w[0] == "--" && w[1] == "Port" && !out.empty()) {
      const auto port = to_int(w[2]);
      if (port) out.back().members.push_back(VlanMember{*port, value_of(w[3]) == "1"});
    }
  }
  return out;
}

std::vector<FdbEntry> parse_hash_print(const std::vector<std::string>& data) {
  // Hash: 0012 Addr: 52:54:00:12:34:56 VLAN 0010 to port: 001  age 3 secs
  std::vector<FdbEntry> out;
  for (const auto& line : data) {
    const auto w = words(line);
    if (w.size() < 10 || w[0] != "Hash:" || w[2] != "Addr:" || w[4] != "VLAN" || w[7] != "port:") continue;
    const auto vlan = to_int(w[5]);
    const auto port = to_int(w[8]);
    if (!is_mac(w[3]) || !vlan || !port) continue;
    const auto age = w.size() >= 11 ? to_int(w[10]) : std::optional<int>{};
    out.push_back(FdbEntry{lower(w[3]), *vlan, *port, age.value_or(0)});
  }
  return out;
}

bool is_mac(std::string_view text) {
  if (text.size() != 17) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i % 3 == 2) {
      if (text[i] != ':') return false;
    } else if (std::isxdigit(static_cast<unsigned char>(text[i])) == 0) {
      return false;
    }
  }
  return true;
}

// --- VdeMgmt ----------------------------------------------------------------------------------

Result<VdeMgmt> VdeMgmt::connect(const std::filesystem::path& socket_path, int timeout_ms) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = socket_path.string();
  if (path.size() >= sizeof addr.sun_path) {
    return fail(ErrorCode::invalid_argument, "vde_switch: socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorCode::io, "vde_switch: socket: " + std::string(std::strerror(errno)));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string msg = std::strerror(errno);
    close(fd);
    return fail(ErrorCode::io, "vde_switch: connect " + path + ": " + msg);
  }
  VdeMgmt mgmt(fd, path);
  mgmt.m_timeout_ms = timeout_ms;
  if (auto banner = mgmt.read_until_prompt(); !banner) return std::unexpected(banner.error());
  return mgmt;
}

VdeMgmt::VdeMgmt(VdeMgmt&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_path(std::move(other.m_path)), m_timeout_ms(other.m_timeout_ms) {}

VdeMgmt& VdeMgmt::operator=(VdeMgmt&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
    m_path = std::move(other.m_path);
    m_timeout_ms = other.m_timeout_ms;
  }
  return *this;
}

VdeMgmt::~VdeMgmt() {
  if (m_fd >= 0) close(m_fd);
}

Result<std::string> VdeMgmt::read_until_prompt() {
  std::string buffer;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(m_timeout_ms);
  char chunk[4096];
  while (!buffer.ends_with(kPrompt)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return fail(ErrorCode::timeout, "vde_switch " + m_path + ": no prompt");
    pollfd pfd{m_fd, POLLIN, 0};
    const int n = poll(&pfd, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    const ssize_t got = read(m_fd, chunk, sizeof chunk);
    if (got <= 0) return fail(ErrorCode::io, "vde_switch " + m_path + ": connection closed");
    buffer.append(chunk, static_cast<std::size_t>(got));
  }
  buffer.resize(buffer.size() - kPrompt.size());
  return buffer;
}

Result<MgmtReply> VdeMgmt::command(std::string_view line) {
  if (m_fd < 0) return fail(ErrorCode::internal, "vde_switch: not connected");
  if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
    return fail(ErrorCode::internal, "vde_switch: command with a newline: " + printable(line));
  }
  std::string out(line);
  out += '\n';
  std::size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = send(m_fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(ErrorCode::io, "vde_switch " + m_path + ": send: " + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  auto raw = read_until_prompt();
  if (!raw) return std::unexpected(raw.error());
  return parse_reply(*raw);
}

// --- VdeSwitch --------------------------------------------------------------------------------

Result<VdeSwitch> VdeSwitch::start(const VdeSwitchPaths& paths, int ports) {
  if (ports < 1 || ports > 4000) return fail(ErrorCode::invalid_argument, "vde_switch: bad port count");
  if (auto old = read_pidfile(paths.pidfile); old && process_matches(*old, "vde_switch")) {
    return fail(ErrorCode::conflict, "vde_switch already running (pid " + std::to_string(*old) +
                                         ", " + paths.pidfile.string() + ")");
  }
  std::error_code ec;
  std::filesystem::remove(paths.mgmt_socket, ec);
  std::filesystem::remove(paths.pidfile, ec);
  const std::vector<std::string> argv = {
      "vde_switch", "-d", "-s", paths.ctl_dir.string(), "-M", paths.mgmt_socket.string(),
      "-p", paths.pidfile.string(), "-n", std::to_string(ports + 8)};
  if (auto r = run_checked(argv, RunOptions{std::chrono::seconds(20), {}}); !r) {
    return std::unexpected(r.error().with_context("start vde_switch"));
  }
  // -d forks; the socket appears shortly after the parent exits. Bounded: 100 x 50 ms.
  for (int i = 0; i < 100 && !std::filesystem::exists(paths.mgmt_socket); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto sw = attach(paths);
  if (!sw) return sw;
  for (int port = 1; port <= ports; ++port) {
    if (auto r = sw->create_port(port); !r) return std::unexpected(r.error());
  }
  return sw;
}

Result<VdeSwitch> VdeSwitch::attach(const VdeSwitchPaths& paths) {
  auto mgmt = VdeMgmt::connect(paths.mgmt_socket);
  if (!mgmt) return std::unexpected(mgmt.error());
  return VdeSwitch(paths, std::move(*mgmt));
}

std::optional<int> VdeSwitch::pid() const {
  auto pid = read_pidfile(m_paths.pidfile);
  if (!pid) return std::nullopt;
  return static_cast<int>(*pid);
}

Result<void> VdeSwitch::stop() {
  const auto recorded = read_pidfile(m_paths.pidfile);
  (void)m_mgmt.command("shutdown");  // the switch closes the socket without a reply
  if (recorded) {
    for (int i = 0; i < 100 && process_matches(*recorded, "vde_switch"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (auto r = stop_process(*recorded, "vde_switch"); !r) return r;
  }
  return {};
}

Result<MgmtReply> VdeSwitch::checked(const std::string& line) {
  auto reply = m_mgmt.command(line);
  if (!reply) return std::unexpected(reply.error().with_context(line));
  if (!reply->ok()) {
    return fail(reply->status == 1006 ? ErrorCode::not_found : ErrorCode::command_failed,
                "vde_switch: " + line + ": " + reply->status_text + " (" + std::to_string(reply->status) + ")");
  }
  return reply;
}

Result<void> VdeSwitch::create_port(int port) {
  auto r = m_mgmt.command("port/create " + std::to_string(port));
  if (!r) return std::unexpected(r.error());
  if (r->ok() || r->status == 1000 + EEXIST) return {};
  return fail(ErrorCode::command_failed, "vde_switch: port/create " + std::to_string(port) + ": " + r->status_text);
}

Result<void> VdeSwitch::create_vlan(int vlan) {
  const std::string line = "vlan/create " + std::to_string(vlan);
  auto r = m_mgmt.command(line);
  if (!r) return std::unexpected(r.error());
  if (r->ok() || r->status == 1000 + EEXIST) return {};
  return fail(ErrorCode::command_failed, "vde_switch: " + line + ": " + r->status_text);
}

Result<void> VdeSwitch::remove_vlan(int vlan) {
  auto r = checked("vlan/remove " + std::to_string(vlan));
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<void> VdeSwitch::set_untagged(int port, int vlan) {
  auto r = checked("port/setvlan " + std::to_string(port) + " " + std::to_string(vlan));
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<void> VdeSwitch::add_tagged(int vlan, int port) {
  auto r = checked("vlan/addport " + std::to_string(vlan) + " " + std::to_string(port));
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<void> VdeSwitch::remove_tagged(int vlan, int port) {
  auto all = vlans();
  if (!all) return std::unexpected(all.error());
  bool member = false;
  for (const auto& v : *all) {
    if (v.vlan != vlan) continue;
    for (const auto& m : v.members) member = member || (m.port == port && m.tagged);
  }
  if (!member) return {};
  auto r = checked("vlan/delport " + std::to_string(vlan) + " " + std::to_string(port));
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<std::vector<VlanInfo>> VdeSwitch::vlans() {
  auto r = checked("vlan/allprint");
  if (!r) return std::unexpected(r.error());
  return parse_vlan_allprint(r->data);
}

Result<std::vector<FdbEntry>> VdeSwitch::fdb() {
  auto r = checked("hash/print");
  if (!r) return std::unexpected(r.error());
  return parse_hash_print(r->data);
}

Result<std::optional<FdbEntry>> VdeSwitch::find_mac(std::string_view mac) {
  if (!is_mac(mac)) return fail(ErrorCode::invalid_argument, "not a MAC address: " + printable(mac));
  auto all = fdb();
  if (!all) return std::unexpected(all.error());
  const std::string want = lower(mac);
  for (const auto& e : *all) {
    if (e.mac == want) return std::optional<FdbEntry>(e);
  }
  return std::optional<FdbEntry>{};
}

}  // namespace picluster::lab
