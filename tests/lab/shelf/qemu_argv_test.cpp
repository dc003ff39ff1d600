// The lab's pure builders: QEMU command lines and the Pi's kernel command line.
#include <gtest/gtest.h>

#include <algorithm>

#include "lab/shelf/qemu.hpp"

namespace picluster::lab {
namespace {

// The value after `flag` in argv ("" when absent), and how often `flag` occurs.
std::string after(const std::vector<std::string>& argv, const std::string& flag, int nth = 0) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag && nth-- == 0) return argv[i + 1];
  }
  return "";
}
long count(const std::vector<std::string>& argv, const std::string& flag) {
  return std::count(argv.begin(), argv.end(), flag);
}

TEST(LabQemu, PiCmdlineKeepsPicluster_sAndEndsWithTheSerialConsole) {
  const std::string rendered =
      "console=serial0,115200 root=/dev/nfs nfsroot=172.30.0.1:/srv/nfsroot/pi01,vers=3,tcp rw "
      "ip=172.30.0.2:172.30.0.1::255.255.255.252:pi01:eth0:off";
  const std::string cmdline = pi_cmdline(rendered);
  EXPECT_TRUE(cmdline.starts_with(rendered + " ")) << cmdline;
  // net.ifnames=0 so the cmdline's eth0 is the NIC; console=ttyS0 last so it is /dev/console.
  EXPECT_TRUE(cmdline.ends_with(" net.ifnames=0 console=ttyS0,115200")) << cmdline;
}

TEST(LabQemu, PiArgvBootsTheKernelOnItsAccessPortWithItsMac) {
  PiVm vm{VmFiles{"/lab/pi/07"}, "pi07", "/cache/vmlinuz", "/cache/initrd.img", "root=/dev/nfs x",
          "b8:27:eb:1a:b0:07", "/lab/vde/ctl", 7, 512, {}};
  const auto argv = pi_argv(vm);
  EXPECT_EQ(argv.front(), "qemu-system-x86_64");
  EXPECT_EQ(after(argv, "-accel"), "tcg");
  EXPECT_EQ(after(argv, "-m"), "512");
  EXPECT_EQ(after(argv, "-kernel"), "/cache/vmlinuz");
  EXPECT_EQ(after(argv, "-initrd"), "/cache/initrd.img");
  EXPECT_EQ(after(argv, "-append"), "root=/dev/nfs x");
  EXPECT_EQ(after(argv, "-pidfile"), "/lab/pi/07/qemu.pid");
  EXPECT_EQ(after(argv, "-netdev"), "vde,id=net0,sock=/lab/vde/ctl,port=7");
  EXPECT_EQ(after(argv, "-device"), "virtio-net-pci,netdev=net0,mac=b8:27:eb:1a:b0:07");
  EXPECT_EQ(count(argv, "-netdev"), 1) << "a Pi has one NIC";
  EXPECT_EQ(count(argv, "-drive"), 0) << "a Pi has no disk: its root is NFS";
  EXPECT_NE(after(argv, "-monitor").find("/lab/pi/07/monitor.sock"), std::string::npos);
  EXPECT_NE(after(argv, "-chardev").find("path=/lab/pi/07/serial.sock"), std::string::npos);
}

TEST(LabQemu, FileserverArgvHasRestrictedManagementNicThenTheTrunk) {
  FileserverVm vm{VmFiles{"/lab/fs"}, "/cache/vmlinuz", "/cache/initrd.img", "/lab/fs/disk.qcow2", "/lab/fs/srv.qcow2",
                  "/lab/vde/ctl", 24, 40022, 1024};
  const auto argv = fileserver_argv(vm);
  EXPECT_EQ(after(argv, "-m"), "1024");
  EXPECT_EQ(after(argv, "-drive", 0), "file=/lab/fs/disk.qcow2,if=virtio,format=qcow2");
  EXPECT_EQ(after(argv, "-drive", 1), "file=/lab/fs/srv.qcow2,if=virtio,format=qcow2");
  // eth0: user networking that reaches nothing but the forwarded SSH port on loopback.
  EXPECT_EQ(after(argv, "-netdev", 0), "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22");
  // eth1: the trunk on the switch's port 24.
  EXPECT_EQ(after(argv, "-netdev", 1), "vde,id=trunk,sock=/lab/vde/ctl,port=24");
  EXPECT_NE(after(argv, "-append").find("root=/dev/vda"), std::string::npos);
  vm.srv_disk.clear();
  EXPECT_EQ(count(fileserver_argv(vm), "-drive"), 1) << "no /srv disk: one drive";
}

}  // namespace
}  // namespace picluster::lab
