// `picluster lab status`, `lab console`, `lab up --dry-run` and `lab down --dry-run` through the
// real binary, on a lab folder the test lays out itself: a stand-in "vde_switch" (a copy of
// sleep under that name, so the PID check that guards every signal recognises it), a serial
// console socket served by the test. Nothing is built or booted. Needs root (the lab verbs
// refuse otherwise).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "lab/shelf/lab.hpp"
#include "lab/shelf/process.hpp"

namespace picluster::lab {
namespace {
namespace fs = std::filesystem;

const std::string kPicluster = std::string(PICLUSTER_BINARY_DIR) + "/orchestrator/picluster";

class LabCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the lab verbs need root";
    m_dir = fs::temp_directory_path() / ("lab-cli-test-" + std::to_string(getpid()));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir / "lab/vde");
    fs::create_directories(m_dir / "lab/fs");
    fs::create_directories(m_dir / "lab/pi/01");
    std::ofstream(m_dir / "lab/lab.json")
        << R"({"version": 1, "pis": 1, "ssh_port": 40022, "snmp_port": 40161, "images": "/cache/x"})";
    // A live process named vde_switch, recorded as the lab's switch.
    fs::create_directories(m_dir / "bin");
    fs::copy_file("/bin/sleep", m_dir / "bin/vde_switch");
    const std::string exe = (m_dir / "bin/vde_switch").string();
    char* argv[] = {const_cast<char*>(exe.c_str()), const_cast<char*>("600"), nullptr};
    ASSERT_EQ(posix_spawn(&m_fake, exe.c_str(), nullptr, nullptr, argv, environ), 0);
    std::ofstream(m_dir / "lab/vde/pid") << m_fake << "\n";
    // A stale fileserver pidfile naming a process that is not QEMU (this test): not running.
    std::ofstream(m_dir / "lab/fs/qemu.pid") << getpid() << "\n";
  }
  void TearDown() override {
    if (m_fake > 0) {
      ::kill(m_fake, SIGKILL);
      waitpid(m_fake, nullptr, 0);
    }
    std::error_code ec;
    if (!m_dir.empty()) fs::remove_all(m_dir, ec);
  }
  RunResult picluster(std::vector<std::string> args) {
    args.insert(args.begin(), kPicluster);
    auto r = run(args, RunOptions{std::chrono::seconds(30), {}});
    return r ? *r : RunResult{255, {}, r.error().message};
  }
  bool fake_alive() { return m_fake > 0 && ::kill(m_fake, 0) == 0 && waitpid(m_fake, nullptr, WNOHANG) == 0; }

  fs::path m_dir;
  pid_t m_fake = -1;
};

TEST_F(LabCli, StatusShowsEachRecordedProcess) {
  auto r = picluster({"lab", "status", "--json", "--dir", (m_dir / "lab").string()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("ssh_port"), 40022);
  EXPECT_EQ(j.at("snmp_port"), 40161);
  std::map<std::string, std::pair<bool, int>> procs;
  for (const auto& p : j.at("processes")) procs[p.at("name")] = {p.at("running"), p.at("pid")};
  EXPECT_EQ(procs["vde_switch"], (std::pair<bool, int>{true, m_fake}));
  EXPECT_EQ(procs["fileserver"], (std::pair<bool, int>{false, 0})) << "a PID that is not QEMU counts as stopped";
  EXPECT_EQ(procs["switch"], (std::pair<bool, int>{false, 0}));
  EXPECT_EQ(procs["port01"], (std::pair<bool, int>{false, 0}));

  auto text = picluster({"lab", "status", "--dir", (m_dir / "lab").string()});
  ASSERT_EQ(text.exit_status, 0) << text.err;
  EXPECT_NE(text.out.find("switch udp:127.0.0.1:40161, fileserver ssh 127.0.0.1:40022"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  vde_switch  running (pid " + std::to_string(m_fake) + ")\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  fileserver  stopped\n"), std::string::npos) << text.out;

  auto none = picluster({"lab", "status", "--dir", (m_dir / "nolab").string()});
  EXPECT_EQ(none.exit_status, 1);
  EXPECT_NE(none.err.find("no lab in"), std::string::npos) << none.err;
}

TEST_F(LabCli, DownDryRunListsWhatItWouldStopAndStopsNothing) {
  auto r = picluster({"lab", "down", "--dry-run", "--dir", (m_dir / "lab").string()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.out, "would stop vde_switch (pid " + std::to_string(m_fake) + ")\n");
  EXPECT_TRUE(fake_alive()) << "--dry-run stopped the process";
}

TEST_F(LabCli, UpDryRunSaysWhatItWouldStartAndCreatesNothing) {
  const fs::path dir = m_dir / "new-lab";
  auto r = picluster({"lab", "up", "--dry-run", "--pis", "3", "--dir", dir.string(), "--cache", (m_dir / "cache").string()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("would build or reuse images in " + (m_dir / "cache").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would start vde_switch (24 ports), the fileserver VM (trunk on port 24)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would write " + (dir / "inventory.json").string() + " with 3 Pi port(s)"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_FALSE(fs::exists(m_dir / "cache"));
}

// --dry-run refuses what the real run refuses (it said "would ..." and exited 0 for --netboot with
// --arch arm64, which lab up then refused).
TEST_F(LabCli, UpDryRunRefusesNetbootWithArm64LikeTheRealRun) {
  const fs::path dir = m_dir / "new-lab";
  auto r = picluster({"lab", "up", "--dry-run", "--arch", "arm64", "--netboot", "--dir", dir.string(), "--cache",
                      (m_dir / "cache").string()});
  EXPECT_NE(r.exit_status, 0) << r.out;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("lab up: --netboot with --arch arm64"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_FALSE(fs::exists(m_dir / "cache"));
}

TEST_F(LabCli, ConsoleRelaysBetweenTheTerminalAndTheSerialSocket) {
  // The serial socket of the Pi on port 1, served here as QEMU would.
  const fs::path sock = m_dir / "lab/pi/01/serial.sock";
  const int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(server, 1), 0);
  // stdin is a FIFO the test writes to: the console starts when the test opens it.
  const fs::path fifo = m_dir / "stdin";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::atomic<bool> got_input{false};
  std::thread vm([&] {
    const int c = accept(server, nullptr, nullptr);
    if (c < 0) return;
    (void)!write(c, "pi01 login: ", 12);
    char buf[64];
    while (received.find("root\n") == std::string::npos) {
      const ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      received.append(buf, static_cast<std::size_t>(n));
    }
    got_input = true;
    close(c);
  });
  std::thread typist([&] {
    const int w = open(fifo.c_str(), O_WRONLY);  // blocks until the console's shell opens it
    (void)!write(w, "root\n", 5);
    for (int i = 0; i < 300 && !got_input; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // bounded: 30 s
    }
    close(w);  // EOF on the console's stdin: it leaves
  });
  auto r = run({"sh", "-c", "exec \"$0\" lab console port01 --dir \"$1\" < \"$2\"", kPicluster, (m_dir / "lab").string(),
                fifo.string()},
               RunOptions{std::chrono::seconds(60), {}});
  typist.join();
  vm.join();
  close(server);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_status, 0) << r->err;
  EXPECT_NE(r->out.find("pi01 login: "), std::string::npos) << "the console's output did not reach the terminal";
  EXPECT_EQ(received, "root\n") << "the terminal's input did not reach the console";

  auto off = picluster({"lab", "console", "port02", "--dir", (m_dir / "lab").string()});
  EXPECT_EQ(off.exit_status, 1);
  EXPECT_NE(off.err.find("pi/02/serial.sock: not running"), std::string::npos) << off.err;
}

}  // namespace
}  // namespace picluster::lab
