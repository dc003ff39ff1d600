// The netboot lab's pure parts: serials, option 97, the boot stage's scripts, the Pi VM's serial.
#include <gtest/gtest.h>

#include <algorithm>

#include "lab/shelf/netboot.hpp"
#include "lab/shelf/qemu.hpp"

namespace picluster::lab {
namespace {

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

TEST(LabNetboot, EachPortHasItsOwnEightHexDigitSerial) {
  EXPECT_EQ(lab_pi_serial(1), "1ab0c001");
  EXPECT_EQ(lab_pi_serial(23), "1ab0c017");
  EXPECT_NE(lab_pi_serial(1), lab_pi_serial(2));
  for (int port = 1; port <= 23; ++port) {
    const auto s = lab_pi_serial(port);
    EXPECT_EQ(s.size(), 8U);
    EXPECT_TRUE(std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
        << s;
  }
}

TEST(LabNetboot, Option97IsTypeZeroRPi4TheSerialAndPaddingTo17Bytes) {
  const auto hex = pi4_client_machine_id_hex("1ab0c001");
  EXPECT_EQ(hex, "00" "52506934" "1ab0c001" "0000000000000000");
  EXPECT_EQ(hex.size(), 34U) << "17 bytes: dnsmasq only takes a 17-byte option 97 with type 0 as a PXE UUID";
}

TEST(LabNetboot, BootStageAsksLikeAPi4AndKexecsTheFetchedCmdline) {
  const auto init = boot_stage_init({"virtio_ring", "virtio_net"});
  EXPECT_TRUE(init.starts_with("#!/bin/busybox sh\n"));
  EXPECT_TRUE(has(init, "for m in virtio_ring virtio_net; do insmod")) << init;
  EXPECT_TRUE(has(init, "serial=$(cat /sys/class/dmi/id/product_serial")) << init;
  EXPECT_TRUE(has(init, "-V PXEClient:Arch:00000:UNDI:002001")) << init;
  EXPECT_TRUE(has(init, "-x 0x61:0052506934${serial}0000000000000000")) << init;
  EXPECT_TRUE(has(init, "-O 43")) << init;
  // The Pi 4's order: firmware, config.txt, cmdline.txt, then what config.txt names.
  const auto order = {"fetch start4.elf", "fetch fixup4.dat", "fetch config.txt", "fetch cmdline.txt", "fetch \"$kernel\"",
                      "fetch \"$initrd\""};
  std::size_t at = 0;
  for (const char* step : order) {
    const auto next = init.find(step, at);
    EXPECT_NE(next, std::string::npos) << step << " missing or out of order";
    if (next != std::string::npos) at = next;
  }
  EXPECT_TRUE(has(init, "tftp -g -b 1468 -r \"$serial/$1\"")) << "files come from the serial's folder";
  EXPECT_TRUE(has(init, "--command-line=\"$(cat /boot/cmdline.txt)\" && kexec -e")) << init;
}

TEST(LabNetboot, BootStageFollowsConfigTxtIncludesForTheKernelAndInitramfs) {
  // picluster's config.txt ends with "include picluster-image.txt" (the image's own, naming its
  // kernel): the firmware reads it in place, so the boot stage fetches it from the same folder
  // and takes kernel= and initramfs from the merged text, the last one winning.
  const auto init = boot_stage_init({"virtio_net"});
  EXPECT_TRUE(has(init, "include\\ *) inc=${line#include }")) << init;
  EXPECT_TRUE(has(init, "if fetch \"$inc\"; then cat \"/boot/$inc\" >> /tmp/config.all")) << init;
  EXPECT_TRUE(has(init, "$1 == \"kernel\" { k = $2 } END { print k }' /tmp/config.all")) << init;
  EXPECT_TRUE(has(init, "$1 == \"initramfs\" { i = $2 } END { print i }' /tmp/config.all")) << init;
  EXPECT_LT(init.find("done < /boot/config.txt"), init.find("fetch \"$kernel\""));
}

TEST(LabNetboot, TrimmedInitrdKeepsTheNicAndNfsAndDropsDisksAndOtherFileSystems) {
  for (const char* keep : {"drivers/virtio/virtio_pci.ko", "drivers/virtio/virtio_ring.ko", "drivers/net/virtio_net.ko",
                           "drivers/net/net_failover.ko", "net/core/failover.ko", "net/sunrpc/sunrpc.ko",
                           "fs/nfs/nfs.ko", "fs/nfs/nfsv3.ko", "fs/nfs_common/grace.ko", "fs/lockd/lockd.ko",
                           "fs/fscache/fscache.ko", "fs/netfs/netfs.ko", "lib/crc32c_generic.ko"}) {
    EXPECT_TRUE(netboot_initrd_keeps(keep)) << keep;
  }
  for (const char* drop : {"drivers/gpu/drm/i915/i915.ko", "drivers/scsi/sd_mod.ko", "drivers/net/ethernet/intel/e1000e/e1000e.ko",
                           "drivers/block/virtio_blk.ko", "fs/ext4/ext4.ko", "fs/btrfs/btrfs.ko", "fs/nfsd/nfsd.ko"}) {
    EXPECT_FALSE(netboot_initrd_keeps(drop)) << drop;
  }
}

TEST(LabNetboot, DhcpScriptKeepsOnlyALeaseWithRaspberryPiBootInOption43) {
  const auto script = boot_stage_dhcp_script();
  // "Raspberry Pi Boot" in hex, as inside option 43's PXE menu.
  EXPECT_TRUE(has(script, "grep -qi 52617370626572727920506920426f6f74")) << script;
  EXPECT_TRUE(has(script, "${tftp:-$serverid}")) << "TFTP server: option 66, else the server identifier";
  const auto ignored = script.find("ignored");
  const auto lease = script.find("> /tmp/lease");
  ASSERT_NE(ignored, std::string::npos);
  ASSERT_NE(lease, std::string::npos);
  EXPECT_LT(ignored, lease) << "the option 43 check comes before the lease is recorded";
}

TEST(LabNetboot, LabBootSettingsNameTheStagedKernelAndAnX86Console) {
  const auto config = lab_netboot_config_txt();
  EXPECT_NE(std::find(config.begin(), config.end(), "kernel=vmlinuz"), config.end());
  EXPECT_NE(std::find(config.begin(), config.end(), "initramfs initrd.img followkernel"), config.end());
  EXPECT_TRUE(has(lab_netboot_cmdline_base(), "console=ttyS0,115200 net.ifnames=0 root=/dev/nfs rootfstype=nfs"));
}

TEST(LabNetboot, PiVmWithASerialReportsItThroughSmbios) {
  PiVm vm{VmFiles{"/lab/pi/01"}, "pi01", "/cache/vmlinuz", "/lab/netboot/bootstage.cpio.gz", "console=ttyS0,115200 quiet",
          "b8:27:eb:1a:b0:01", "/lab/vde/ctl", 1, 512, "1ab0c001"};
  auto argv = pi_argv(vm);
  const auto it = std::find(argv.begin(), argv.end(), "-smbios");
  ASSERT_NE(it, argv.end());
  EXPECT_EQ(*(it + 1), "type=1,serial=1ab0c001");
  vm.serial.clear();
  argv = pi_argv(vm);
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "-smbios"), argv.end()) << "no serial, no -smbios";
}

}  // namespace
}  // namespace picluster::lab
