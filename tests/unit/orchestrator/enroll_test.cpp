// Zero-touch enrollment's decisions: which MAC on a port is the new Pi, and a MAC or serial that
// another Pi already has. (The whole flow runs against the switch simulator and a real dnsmasq in
// tests/integration/orchestrator/enroll_test.cpp.)

#include "orchestrator/enroll.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace picluster::orchestrator {
namespace {

using ::testing::HasSubstr;
using inventory::Mac;

switchctl::LearnedMac learned(const char* mac, int port) {
  switchctl::LearnedMac l;
  l.mac = *Mac::parse(mac);
  l.port = port;
  l.vlans = {1};
  return l;
}

TEST(Enroll, OneRaspberryPiMacOnThePortIsThePi) {
  const std::vector<switchctl::LearnedMac> fdb{learned("52:54:00:00:00:01", 9),   // not a Pi OUI
                                               learned("dc:a6:32:00:00:08", 8),   // another port
                                               learned("28:cd:c1:00:00:09", 9),
                                               learned("28:cd:c1:00:00:09", 9)};  // second VLAN
  auto mac = pi_mac_on_port(fdb, 9);
  ASSERT_TRUE(mac) << mac.error().message;
  EXPECT_EQ(*mac, Mac::parse("28:cd:c1:00:00:09"));
  auto none = pi_mac_on_port(fdb, 10);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(Enroll, SeveralRaspberryPiMacsOnThePortAreRefusedNamingThem) {
  const std::vector<switchctl::LearnedMac> fdb{learned("dc:a6:32:00:00:01", 9), learned("b8:27:eb:00:00:02", 9)};
  auto mac = pi_mac_on_port(fdb, 9);
  ASSERT_FALSE(mac);
  EXPECT_EQ(mac.error().code, ErrorCode::conflict);
  EXPECT_THAT(mac.error().message, HasSubstr("port 9 has 2 Raspberry Pi MACs (dc:a6:32:00:00:01, b8:27:eb:00:00:02)"));
}

TEST(Enroll, AMacOrSerialAnotherPiHasIsRefusedNamingIt) {
  auto inv = inventory::make_default("rack1");
  inventory::PiRequest r;
  r.name = "pi03";
  r.port = 3;
  r.mac = *Mac::parse("dc:a6:32:00:00:03");
  r.serial = "0000abcd";
  ASSERT_TRUE(inventory::add_pi(inv.shelves.front(), r));
  auto mac = check_mac_free(inv, "pi09", *Mac::parse("dc:a6:32:00:00:03"));
  ASSERT_FALSE(mac);
  EXPECT_EQ(mac.error().code, ErrorCode::conflict);
  EXPECT_THAT(mac.error().message, HasSubstr("MAC dc:a6:32:00:00:03 is already pi03's (shelf rack1, port 3)"));
  auto serial = check_serial_free(inv, "pi09", "0000abcd");
  ASSERT_FALSE(serial);
  EXPECT_THAT(serial.error().message, HasSubstr("serial 0000abcd is already pi03's (shelf rack1, port 3)"));
  // The Pi's own values are not a conflict (an enrollment finished by running add again).
  EXPECT_TRUE(check_mac_free(inv, "pi03", *Mac::parse("dc:a6:32:00:00:03")));
  EXPECT_TRUE(check_serial_free(inv, "pi09", "0000abce"));
}

TEST(Enroll, OnlyANetbootAddWithoutMacAndSerialEnrolls) {
  auto inv = inventory::make_default("rack1");
  auto& shelf = inv.shelves.front();
  inventory::PiRequest r;
  r.name = "pi09";
  r.port = 9;
  EXPECT_FALSE(enrolls(shelf, r)) << "sdcard shelf";
  shelf.boot.mode = inventory::BootMode::netboot;
  EXPECT_TRUE(enrolls(shelf, r));
  r.serial = "0000abcd";
  EXPECT_FALSE(enrolls(shelf, r));
}

TEST(Enroll, AskingToBootJoinsTheSwitchAndDnsmasqsLog) {
  const auto log = parse_dnsmasq_log(
      "dnsmasq-dhcp[1]: 77 DHCPDISCOVER(eth0.11) b8:27:eb:cd:ab:34 no address available\n"
      "dnsmasq-dhcp[1]: 77 sent size: 17 option: 97 client-machine-id  00:34:12:cd:ab:34:12:cd:ab:34:12:cd:ab:34...\n");
  const auto asking = asking_to_boot({learned("b8:27:eb:cd:ab:34", 5), learned("dc:a6:32:00:00:07", 7)}, log);
  ASSERT_EQ(asking.size(), 2u);
  EXPECT_EQ(asking[0].port, 5);
  EXPECT_EQ(asking[0].serial, "abcd1234");
  EXPECT_TRUE(asking[0].dnsmasq_saw);
  EXPECT_EQ(asking[1].serial, std::nullopt);
  EXPECT_FALSE(asking[1].dnsmasq_saw);
}

}  // namespace
}  // namespace picluster::orchestrator
