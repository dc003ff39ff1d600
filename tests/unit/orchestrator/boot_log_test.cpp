// parse_dnsmasq_log against lines dnsmasq 2.90 (Debian 12's dnsmasq-base) really wrote: data/
// dnsmasq-boot.log was captured from `dnsmasq --log-dhcp` in a network namespace answering
// tests/support/pi_boot_client.cpp (a Pi 4 with serial 1a2b3c4d and no TFTP folder yet, then the
// same MAC as a Pi 3 with serial abcd1234 whose folder exists); only the TFTP root was renamed.

#include "orchestrator/boot_log.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/process.hpp"

namespace picluster::orchestrator {
namespace {

using inventory::Ipv4;
using inventory::Mac;
using inventory::PiModel;

std::string captured() {
  return testing::read_file(testing::source_dir() / "tests/unit/orchestrator/data/dnsmasq-boot.log");
}

const Mac kPi = *Mac::parse("dc:a6:32:01:02:03");

TEST(BootLog, ReadsTheRequestsOfACapturedLog) {
  const auto log = parse_dnsmasq_log(captured());
  ASSERT_EQ(log.requests.size(), 2u);
  const auto& pi4 = log.requests[0];
  EXPECT_EQ(pi4.mac, kPi);
  EXPECT_EQ(pi4.interface, "eth0.18");
  EXPECT_EQ(pi4.vendor_class, "PXEClient:Arch:00000:UNDI:002001");
  EXPECT_EQ(pi4.model, PiModel::pi4);
  EXPECT_EQ(pi4.serial, std::nullopt) << "option 97 is logged cut after 14 bytes: a Pi 4's serial is not in it";
  EXPECT_EQ(pi4.leased, Ipv4::parse("10.20.0.34"));
  const auto& pi3 = log.requests[1];
  EXPECT_EQ(pi3.model, std::nullopt);
  EXPECT_EQ(pi3.serial, "abcd1234") << "a Pi 3 sends its serial 4 times, little endian";
}

TEST(BootLog, ReadsTheTftpReadsWithTheirClient) {
  const auto log = parse_dnsmasq_log(captured());
  ASSERT_EQ(log.reads.size(), 3u);
  EXPECT_EQ(log.reads[0].path, "/srv/tftp/1a2b3c4d/start4.elf");
  EXPECT_FALSE(log.reads[0].found);
  EXPECT_EQ(log.reads[0].client, *Ipv4::parse("10.20.0.34"));
  EXPECT_EQ(log.reads[2].path, "/srv/tftp/abcd1234/start4.elf");
  EXPECT_TRUE(log.reads[2].found);
}

TEST(BootLog, TheSerialComesFromTheLastTftpReadOfThePisAddress) {
  const auto log = parse_dnsmasq_log(captured());
  const auto s = serial_for(log, kPi, Ipv4::parse("10.20.0.34"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->serial, "abcd1234");
  EXPECT_EQ(s->evidence, "TFTP read of /srv/tftp/abcd1234/start4.elf from 10.20.0.34");
  // Only the Pi 4 part of the log: the serial of its missing folder.
  const std::string text = captured();
  const auto first = parse_dnsmasq_log(text.substr(0, text.find("4053005331")));
  const auto s4 = serial_for(first, kPi, std::nullopt);  // found through the DHCPACK's address
  ASSERT_TRUE(s4);
  EXPECT_EQ(s4->serial, "1a2b3c4d");
  EXPECT_EQ(model_for(first, kPi), PiModel::pi4);
}

TEST(BootLog, OtherPisAndOtherAddressesDoNotCount) {
  const auto log = parse_dnsmasq_log(captured());
  EXPECT_FALSE(serial_for(log, *Mac::parse("dc:a6:32:01:02:04"), Ipv4::parse("10.20.0.38")));
  EXPECT_FALSE(seen(log, *Mac::parse("dc:a6:32:01:02:04")));
  EXPECT_TRUE(seen(log, kPi));
}

TEST(BootLog, ASyslogPrefixAndOption97AloneAreEnough) {
  // The same lines as syslog writes them (host name and program), and a Pi 3 that never got as
  // far as TFTP: its option 97 still names it.
  const std::string text =
      "Dec  4 17:55:56 fs1 dnsmasq-dhcp[4730]: 4053005331 vendor class: PXEClient:Arch:00000:UNDI:002001\n"
      "Dec  4 17:55:56 fs1 dnsmasq-dhcp[4730]: 4053005331 DHCPDISCOVER(eth0.11) b8:27:eb:cd:ab:34 no address available\n"
      "Dec  4 17:55:56 fs1 dnsmasq-dhcp[4730]: 4053005331 sent size: 17 option: 97 client-machine-id  "
      "00:34:12:cd:ab:34:12:cd:ab:34:12:cd:ab:34...\n";
  const auto log = parse_dnsmasq_log(text);
  ASSERT_EQ(log.requests.size(), 1u);
  EXPECT_EQ(log.requests[0].interface, "eth0.11");
  const auto s = serial_for(log, *Mac::parse("b8:27:eb:cd:ab:34"), std::nullopt);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->serial, "abcd1234");
  EXPECT_EQ(s->evidence, "DHCP option 97 from b8:27:eb:cd:ab:34 on eth0.11");
}

TEST(BootLog, SerialOfTftpPath) {
  EXPECT_EQ(serial_of_tftp_path("/srv/tftp/A1B2C3D4/start.elf"), "a1b2c3d4");
  EXPECT_EQ(serial_of_tftp_path("a1b2c3d4/config.txt"), "a1b2c3d4");
  EXPECT_EQ(serial_of_tftp_path("/srv/tftp/bootcode.bin"), std::nullopt);
  EXPECT_EQ(serial_of_tftp_path("/srv/tftp/sdcard/start.elf"), std::nullopt);
  EXPECT_EQ(serial_of_tftp_path("/srv/tftp/a1b2c3d/start.elf"), std::nullopt);
}

TEST(BootLog, GarbageIsIgnored) {
  const auto log = parse_dnsmasq_log(
      "dnsmasq-dhcp[1]: \ndnsmasq-dhcp[1]: x DHCPACK(\ndnsmasq-tftp[1]: file\nrandom line\n"
      "dnsmasq-dhcp[1]: 12 sent size: 17 option: 97 client-machine-id  zz:zz\n");
  EXPECT_TRUE(log.requests.empty());
  EXPECT_TRUE(log.reads.empty());
}

}  // namespace
}  // namespace picluster::orchestrator
