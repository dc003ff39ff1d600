// The arm64 lab's pure parts: the aarch64 Pi VM's QEMU command line, its kernel command line,
// the arch names, and the refusal of --netboot with --arch arm64 (nothing started).
#include <gtest/gtest.h>

#include <algorithm>

#include "lab/shelf/arm64.hpp"
#include "lab/shelf/lab.hpp"
#include "lab/shelf/qemu.hpp"

namespace picluster::lab {
namespace {

std::string after(const std::vector<std::string>& argv, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag) return argv[i + 1];
  }
  return "";
}

PiVm arm64_pi() {
  PiVm vm{VmFiles{"/lab/pi/01"}, "pi01", "/cache/e-arm64-lab-1/vmlinuz", "/cache/e-arm64-lab-1/initrd.img",
          "root=/dev/nfs x", "b8:27:eb:1a:b0:01", "/lab/vde/ctl", 1, 512, {}};
  vm.arch = PiArch::arm64;
  return vm;
}

TEST(LabArm64, PiArgvIsAnAarch64VirtBoardWithAPi4Cpu) {
  const auto argv = pi_argv(arm64_pi());
  EXPECT_EQ(argv.front(), "qemu-system-aarch64");
  EXPECT_EQ(after(argv, "-M"), "virt");
  EXPECT_EQ(after(argv, "-cpu"), "cortex-a72") << "the Pi 4's CPU, not -cpu max";
  EXPECT_EQ(after(argv, "-accel"), "tcg");
  EXPECT_EQ(after(argv, "-kernel"), "/cache/e-arm64-lab-1/vmlinuz");
  EXPECT_EQ(after(argv, "-initrd"), "/cache/e-arm64-lab-1/initrd.img");
  EXPECT_EQ(after(argv, "-append"), "root=/dev/nfs x");
  // the same switch port, MAC, serial console and monitor as an x86 Pi
  EXPECT_EQ(after(argv, "-netdev"), "vde,id=net0,sock=/lab/vde/ctl,port=1");
  EXPECT_EQ(after(argv, "-device"), "virtio-net-pci,netdev=net0,mac=b8:27:eb:1a:b0:01");
  EXPECT_EQ(after(argv, "-serial"), "chardev:ser0");
  EXPECT_EQ(after(argv, "-pidfile"), "/lab/pi/01/qemu.pid");
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "-drive"), 0) << "no disk: the root is NFS";
}

TEST(LabArm64, X86PiArgvIsUnchangedByDefault) {
  PiVm vm = arm64_pi();
  vm.arch = PiArch::x86_64;
  const auto argv = pi_argv(vm);
  EXPECT_EQ(argv.front(), "qemu-system-x86_64");
  EXPECT_EQ(after(argv, "-cpu"), "max");
  EXPECT_EQ(after(argv, "-M"), "");
}

TEST(LabArm64, CmdlineEndsWithThePl011Console) {
  const std::string rendered = "console=serial0,115200 console=tty1 root=/dev/nfs nfsroot=172.30.0.1:/srv/nfsroot/pi01,vers=3,tcp rw "
                               "ip=172.30.0.2:172.30.0.1::255.255.255.252:pi01:eth0:off rootwait";
  const std::string cmdline = pi_cmdline(rendered, PiArch::arm64);
  EXPECT_TRUE(cmdline.starts_with(rendered + " ")) << cmdline;
  EXPECT_TRUE(cmdline.ends_with(" net.ifnames=0 console=ttyAMA0,115200")) << cmdline;
  EXPECT_EQ(cmdline.find("ttyS0"), std::string::npos) << cmdline;
}

TEST(LabArm64, ArchNames) {
  EXPECT_EQ(parse_pi_arch("arm64"), PiArch::arm64);
  EXPECT_EQ(parse_pi_arch("aarch64"), PiArch::arm64);
  EXPECT_EQ(parse_pi_arch("x86_64"), PiArch::x86_64);
  EXPECT_EQ(parse_pi_arch("amd64"), PiArch::x86_64);
  EXPECT_EQ(parse_pi_arch("armhf"), std::nullopt);
  EXPECT_EQ(to_string(PiArch::arm64), "arm64");
  EXPECT_EQ(to_string(PiArch::x86_64), "x86_64");
}

TEST(LabArm64, EntryPathsAndStorePrefixLiveInTheCache) {
  const auto images = arm64_images_at_dir("/cache/0123456789abcdef-arm64-lab-1");
  EXPECT_EQ(images.kernel, "/cache/0123456789abcdef-arm64-lab-1/vmlinuz");
  EXPECT_EQ(images.initrd, "/cache/0123456789abcdef-arm64-lab-1/initrd.img");
  EXPECT_EQ(images.srv_disk, "/cache/0123456789abcdef-arm64-lab-1/srv.img");
  EXPECT_FALSE(arm64_images_ready(images));
  EXPECT_EQ(arm64_store_prefix("/cache"), "/cache/arm64");
}

TEST(LabArm64, NetbootWithArm64IsRefusedBeforeAnythingStarts) {
  UpOptions options;
  options.dir = "/nonexistent/lab";
  options.cache = "/nonexistent/cache";
  options.netboot = true;
  options.arch = PiArch::arm64;
  auto r = lab_up(options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find("--netboot with --arch arm64"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace picluster::lab
