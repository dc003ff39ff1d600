// picluster-test-piboot: the first network steps of a Raspberry Pi's boot, for integration tests.
// Run it inside a network namespace the test created (`ip netns exec NS picluster-test-piboot
// ...`), on the Pi's end of a veth pair; it never touches any other interface.
//
//   1. DHCP DISCOVER from 0.0.0.0:68 (broadcast flag set, chaddr = --mac), with what the Pi 4/5
//      bootloader sends: vendor class "PXEClient:Arch:00000:UNDI:002001", client arch 0, UNDI
//      2.1 and option 97 (client machine id): 0x00, then for pi4/pi5 the fourcc "RPi4"/"RPi5"
//      (0x34695052 little endian), the board revision, the MAC's 4 low bytes and the 4-byte
//      serial (little endian); for pi3 the serial 4 times. Repeated every second until an OFFER.
//   2. The OFFER must carry option 43 with "Raspberry Pi Boot" (else it is reported and ignored,
//      as the bootloader does); then REQUEST, ACK, and the leased address is put on the
//      interface (`ip addr add`).
//   3. TFTP read (RFC 1350, octet) of each --tftp PATH ("{serial}" replaced) from the server.
//
// Prints one line per event ("offer ...", "ack ...", "tftp PATH: N bytes" or
// "tftp PATH: error CODE MESSAGE") and exits 0 after the ACK, 1 when no usable OFFER came within
// --timeout seconds, 2 on a usage error.

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;

struct Args {
  std::string iface = "eth0";
  std::uint8_t mac[6] = {};
  std::uint32_t serial = 0;
  std::string serial_text;
  std::string model = "pi4";
  std::uint32_t board_rev = 0x00c03111;
  int timeout_s = 30;
  std::vector<std::string> tftp;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "picluster-test-piboot: %s\nusage: picluster-test-piboot --iface IF --mac MAC --serial HEX8 "
               "[--model pi3|pi4|pi5] [--timeout S] [--tftp PATH]...\n",
               why.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  bool have_mac = false, have_serial = false;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage("missing value for " + k);
    const std::string v = argv[++i];
    if (k == "--iface") {
      a.iface = v;
    } else if (k == "--mac") {
      unsigned m[6];
      if (std::sscanf(v.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
        usage("bad --mac " + v);
      for (int j = 0; j < 6; ++j) a.mac[j] = static_cast<std::uint8_t>(m[j]);
      have_mac = true;
    } else if (k == "--serial") {
      if (v.size() != 8 || v.find_first_not_of("0123456789abcdef") != std::string::npos) usage("bad --serial " + v);
      a.serial = static_cast<std::uint32_t>(std::stoul(v, nullptr, 16));
      a.serial_text = v;
      have_serial = true;
    } else if (k == "--model") {
      if (v != "pi3" && v != "pi4" && v != "pi5") usage("bad --model " + v);
      a.model = v;
    } else if (k == "--timeout") {
      a.timeout_s = std::atoi(v.c_str());
    } else if (k == "--tftp") {
      a.tftp.push_back(v);
    } else {
      usage("unknown option " + k);
    }
  }
  if (!have_mac || !have_serial) usage("--mac and --serial are required");
  return a;
}

void put_le32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Option 97 as the bootloader builds it (see the header comment).
Bytes machine_id(const Args& a) {
  Bytes id{0x00};
  if (a.model == "pi3") {
    for (int i = 0; i < 4; ++i) put_le32(id, a.serial);
    return id;
  }
  put_le32(id, a.model == "pi5" ? 0x35695052u : 0x34695052u);
  put_le32(id, a.board_rev);
  for (int i = 2; i < 6; ++i) id.push_back(a.mac[i]);
  put_le32(id, a.serial);
  return id;
}

void option(Bytes& b, std::uint8_t code, const Bytes& value) {
  b.push_back(code);
  b.push_back(static_cast<std::uint8_t>(value.size()));
  b.insert(b.end(), value.begin(), value.end());
}
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
Bytes addr(in_addr a) {
  Bytes b(4);
  std::memcpy(b.data(), &a.s_addr, 4);
  return b;
}

Bytes packet(const Args& a, std::uint32_t xid, std::uint8_t type, std::optional<in_addr> requested,
             std::optional<in_addr> server) {
  Bytes b(236, 0);
  b[0] = 1;  // BOOTREQUEST
  b[1] = 1;  // Ethernet
  b[2] = 6;
  std::uint32_t nxid = htonl(xid);
  std::memcpy(&b[4], &nxid, 4);
  b[10] = 0x80;  // broadcast flag: the Pi has no address to receive a unicast reply on
  std::memcpy(&b[28], a.mac, 6);
  for (std::uint8_t c : {std::uint8_t{0x63}, std::uint8_t{0x82}, std::uint8_t{0x53}, std::uint8_t{0x63}}) b.push_back(c);
  option(b, 53, {type});
  option(b, 55, {1, 3, 43, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135});
  option(b, 57, {0x05, 0xc0});
  option(b, 60, text("PXEClient:Arch:00000:UNDI:002001"));
  option(b, 93, {0, 0});
  option(b, 94, {1, 2, 1});
  option(b, 97, machine_id(a));
  if (requested) option(b, 50, addr(*requested));
  if (server) option(b, 54, addr(*server));
  b.push_back(255);
  while (b.size() < 300) b.push_back(0);
  return b;
}

struct Reply {
  std::uint8_t type = 0;
  in_addr yiaddr{}, siaddr{}, server{};
  bool rpi_boot = false;  // option 43 names "Raspberry Pi Boot"
};

std::optional<Reply> decode(const Bytes& b, std::size_t n, std::uint32_t xid) {
  if (n < 240 || b[0] != 2) return std::nullopt;
  std::uint32_t nxid;
  std::memcpy(&nxid, &b[4], 4);
  if (ntohl(nxid) != xid) return std::nullopt;
  Reply r;
  std::memcpy(&r.yiaddr.s_addr, &b[16], 4);
  std::memcpy(&r.siaddr.s_addr, &b[20], 4);
  for (std::size_t i = 240; i < n;) {
    const std::uint8_t code = b[i];
    if (code == 255) break;
    if (code == 0) {
      ++i;
      continue;
    }
    if (i + 1 >= n) break;
    const std::size_t len = b[i + 1];
    if (i + 2 + len > n) break;
    const std::uint8_t* v = &b[i + 2];
    if (code == 53 && len == 1) r.type = v[0];
    if (code == 54 && len == 4) std::memcpy(&r.server.s_addr, v, 4);
    if (code == 43) r.rpi_boot = std::string(reinterpret_cast<const char*>(v), len).find("Raspberry Pi Boot") != std::string::npos;
    i += 2 + len;
  }
  return r;
}

int dhcp_socket(const Args& a) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, a.iface.c_str(), static_cast<socklen_t>(a.iface.size())) != 0) {
    std::perror("SO_BINDTODEVICE");
    std::exit(1);
  }
  sockaddr_in me{};
  me.sin_family = AF_INET;
  me.sin_port = htons(68);
  if (bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0) {
    std::perror("bind :68");
    std::exit(1);
  }
  return fd;
}

// Sends `out` broadcast and waits up to `wait` for a reply of `want` type to `xid`.
std::optional<Reply> exchange(int fd, const Bytes& out, std::uint32_t xid, std::uint8_t want,
                              std::chrono::milliseconds wait) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(67);
  to.sin_addr.s_addr = INADDR_BROADCAST;
  sendto(fd, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  const auto until = std::chrono::steady_clock::now() + wait;
  Bytes in(1500);
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (poll(&p, 1, static_cast<int>(left.count()) + 1) <= 0) continue;
    const ssize_t n = recv(fd, in.data(), in.size(), 0);
    if (n <= 0) continue;
    auto r = decode(in, static_cast<std::size_t>(n), xid);
    if (!r || r->type != want) continue;
    if (!r->rpi_boot) {
      std::printf("ignored reply without option 43 \"Raspberry Pi Boot\"\n");
      continue;
    }
    return r;
  }
  return std::nullopt;
}

std::string str(in_addr a) { return inet_ntoa(a); }

bool run_ip(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// One TFTP read; prints what came back.
void tftp_read(in_addr local, in_addr server, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in me{};
  me.sin_family = AF_INET;
  me.sin_addr = local;
  bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me);
  Bytes rrq{0, 1};
  rrq.insert(rrq.end(), path.begin(), path.end());
  rrq.push_back(0);
  for (char c : std::string("octet")) rrq.push_back(static_cast<std::uint8_t>(c));
  rrq.push_back(0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(69);
  to.sin_addr = server;
  std::size_t total = 0;
  std::uint16_t expect = 1;
  bool sent = false;
  Bytes in(4 + 512 + 64);
  for (int tries = 0; tries < 3;) {
    if (!sent) sendto(fd, rrq.data(), rrq.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 3000) <= 0) {
      ++tries;
      sent = false;
      continue;
    }
    sockaddr_in from{};
    socklen_t flen = sizeof from;
    const ssize_t n = recvfrom(fd, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 4) continue;
    const int op = in[0] << 8 | in[1];
    if (op == 5) {
      std::printf("tftp %s: error %d %.*s\n", path.c_str(), in[2] << 8 | in[3], static_cast<int>(n - 4),
                  reinterpret_cast<const char*>(&in[4]));
      close(fd);
      return;
    }
    if (op != 3) continue;
    const std::uint16_t block = static_cast<std::uint16_t>(in[2] << 8 | in[3]);
    sent = true;
    Bytes ack{0, 4, in[2], in[3]};
    sendto(fd, ack.data(), ack.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
    if (block == expect) {
      total += static_cast<std::size_t>(n - 4);
      ++expect;
      if (n - 4 < 512) {
        std::printf("tftp %s: %zu bytes\n", path.c_str(), total);
        close(fd);
        return;
      }
    }
  }
  std::printf("tftp %s: no answer\n", path.c_str());
  close(fd);
}

std::string expand(std::string path, const std::string& serial) {
  for (auto at = path.find("{serial}"); at != std::string::npos; at = path.find("{serial}"))
    path.replace(at, 8, serial);
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const int fd = dhcp_socket(a);
  std::mt19937 rng(std::random_device{}());
  const std::uint32_t xid = static_cast<std::uint32_t>(rng());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(a.timeout_s);
  std::optional<Reply> offer;
  while (!offer && std::chrono::steady_clock::now() < deadline) {
    offer = exchange(fd, packet(a, xid, 1, std::nullopt, std::nullopt), xid, 2, std::chrono::seconds(1));
  }
  if (!offer) {
    std::printf("no offer after %d s\n", a.timeout_s);
    return 1;
  }
  std::printf("offer %s from %s\n", str(offer->yiaddr).c_str(), str(offer->server).c_str());
  std::optional<Reply> ack;
  for (int i = 0; i < 5 && !ack; ++i) {
    ack = exchange(fd, packet(a, xid, 3, offer->yiaddr, offer->server), xid, 5, std::chrono::seconds(1));
  }
  if (!ack) {
    std::printf("no ack\n");
    return 1;
  }
  std::printf("ack %s\n", str(ack->yiaddr).c_str());
  close(fd);
  // The lease is a /30 (picluster's storage networks).
  if (!run_ip({"ip", "addr", "replace", str(ack->yiaddr) + "/30", "dev", a.iface})) {
    std::printf("ip addr add failed\n");
    return 1;
  }
  const in_addr server = ack->siaddr.s_addr != 0 ? ack->siaddr : ack->server;
  for (const auto& path : a.tftp) tftp_read(ack->yiaddr, server, expand(path, a.serial_text));
  return 0;
}
