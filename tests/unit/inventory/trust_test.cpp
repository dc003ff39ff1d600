// Bad input never escapes as an exception or a crash, and the rules that keep one Pi's data and
// network apart from another's (issue 13): numbers, nesting, overlapping fileserver paths, MACs,
// a folder or a symlink given as the inventory.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

#include "common/json.hpp"
#include "inventory/inventory.hpp"
#include "tests/unit/inventory/test_util.hpp"

namespace picluster::inventory {
namespace {

namespace fs = std::filesystem;
using testing::parse_json;
using testing::seed_inventory;
using testing::seed_json;

std::string error_of(const Json& j) {
  auto r = parse_json(j);
  return r ? "" : r.error().message;
}

TEST(ParseNumbers, AHugeNumberIsAnErrorWithItsPositionNotAnException) {
  const std::string text = "{\n  \"version\": 1,\n  \"shelves\": [{\"name\": \"a\", \"x\": 1e400}]\n}\n";
  const auto r = parse(text, "inv.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_inventory);
  EXPECT_EQ(r.error().message, "inv.json:3:34: number overflow parsing '1e400'");
}

TEST(ParseNumbers, HugeNumbersInEveryNumericFieldAreErrors) {
  for (const char* field : {"port", "vlan"}) {
    std::string text = serialize(seed_inventory(1));
    const std::string key = std::string("\"") + field + "\": ";
    const auto at = text.find(key);
    ASSERT_NE(at, std::string::npos);
    const auto end = text.find_first_of(",\n", at + key.size());
    text.replace(at + key.size(), end - at - key.size(), "-1e999");
    const auto r = parse(text, "inv.json");
    ASSERT_FALSE(r) << field;
    EXPECT_NE(r.error().message.find("number overflow"), std::string::npos) << r.error().message;
  }
  // A float that fits a double but no int is a type error, not a wrapped value.
  auto j = seed_json(1);
  j["shelves"][0]["pis"][0]["port"] = 1e300;
  EXPECT_EQ(error_of(j), "inventory.json: shelf \"shelf1\": pi \"pi01\": port: expected an integer");
}

TEST(ParseNesting, DeepNestingIsACleanErrorNotACrash) {
  const std::string text = "{\"version\": 1, \"shelves\": [{\"name\": \"a\", \"x\": " +
                           std::string(130000, '[') + std::string(130000, ']') + "}]}";
  const auto r = parse(text, "inv.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "inv.json:1:108: nesting deeper than 64 levels");
  // Unclosed as well (a truncated or hostile file).
  const auto open = parse(std::string(200000, '['), "inv.json");
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().message, "inv.json:1:65: nesting deeper than 64 levels");
}

TEST(ParseNesting, BracketsInStringsDoNotCount) {
  auto j = seed_json(1);
  j["shelves"][0]["note"] = std::string(1000, '[');
  EXPECT_EQ(error_of(j), "");
}

TEST(SafeJson, ParseJsonNeverThrows) {
  EXPECT_FALSE(picluster::parse_json<nlohmann::json>("[1e400]"));
  EXPECT_FALSE(picluster::parse_json<nlohmann::json>("{\"a\": -1e400}"));
  EXPECT_FALSE(picluster::parse_json<nlohmann::json>(std::string(100, '{')));
  EXPECT_FALSE(picluster::parse_json<nlohmann::json>("\"\xff\""));
  EXPECT_TRUE(picluster::parse_json<nlohmann::json>("[1e300, \"[[[\", {\"a\": [1]}]"));
  EXPECT_EQ(picluster::parse_json<nlohmann::json>("[0,\n 1e400]").error().byte, 5u);
  EXPECT_EQ(dump_json(nlohmann::json("\xff")), "\"\xef\xbf\xbd\"");
}

TEST(SafeJson, IntegersAreRangeChecked) {
  EXPECT_EQ(json_integer(nlohmann::json(5), 0, 10), 5);
  EXPECT_FALSE(json_integer(nlohmann::json(1e300), 0, 10));
  EXPECT_FALSE(json_integer(nlohmann::json(18446744073709551615ULL), 0, 1LL << 40));
  EXPECT_FALSE(json_integer(nlohmann::json(-1), 0, 10));
  EXPECT_FALSE(json_integer(nlohmann::json("5"), 0, 10));
}

// validate's message for the seed shelf with one fileserver path field set and the given
// nfs_root and tftp_root ("" when valid).
std::string path_message(std::string Fileserver::*field, const std::string& value, const std::string& nfs,
                         const std::string& tftp) {
  auto inv = seed_inventory(1);
  inv.shelves[0].fileserver.*field = value;
  inv.shelves[0].fileserver.nfs_root = nfs;
  inv.shelves[0].fileserver.tftp_root = tftp;
  auto ok = validate(inv);
  return ok ? std::string() : ok.error().message;
}

TEST(ValidatePaths, GoldenImageMayNotOverlapTheRootsOrTheTftpFolder) {
  const auto message = [](const std::string& golden, const std::string& nfs, const std::string& tftp) {
    return path_message(&Fileserver::golden_image, golden, nfs, tftp);
  };
  EXPECT_EQ(message("/srv/nfsroot", "/srv/nfsroot", "/srv/tftp"),
            "inventory.json: shelf \"shelf1\": fileserver: golden_image: \"/srv/nfsroot\" overlaps nfs_root "
            "\"/srv/nfsroot\" (the golden image is copied whole into each new root; keep it outside the Pis' "
            "roots and the TFTP folder)");
  EXPECT_NE(message("/srv", "/srv/nfsroot", "/srv/tftp"), "");            // contains the roots
  EXPECT_NE(message("/srv/nfsroot/golden", "/srv/nfsroot", "/tftp"), "");  // inside the roots
  EXPECT_NE(message("/srv/tftp/img", "/srv/nfsroot", "/srv/tftp"), "");   // inside the TFTP folder
  EXPECT_NE(message("/", "/srv/nfsroot", "/srv/tftp"), "");
  EXPECT_EQ(message("/srv/golden/raspios", "/srv/nfsroot", "/srv/tftp"), "");
  EXPECT_EQ(message("/srv/nfsroot2", "/srv/nfsroot", "/srv/tftp"), "");  // a sibling, not inside
}

TEST(ValidatePaths, ImageStoreMayNotOverlapTheRootsOrTheTftpFolder) {
  const auto message = [](const std::string& store, const std::string& nfs, const std::string& tftp) {
    return path_message(&Fileserver::image_store, store, nfs, tftp);
  };
  EXPECT_EQ(message("/srv/nfsroot/images", "/srv/nfsroot", "/srv/tftp"),
            "inventory.json: shelf \"shelf1\": fileserver: image_store: \"/srv/nfsroot/images\" overlaps "
            "nfs_root \"/srv/nfsroot\" (keep the image store outside the Pis' roots and the TFTP folder)");
  EXPECT_NE(message("/srv", "/srv/nfsroot", "/srv/tftp"), "");          // around both
  EXPECT_NE(message("/srv/tftp/images", "/srv/nfsroot", "/srv/tftp"), "");  // inside the TFTP folder
  // The default (beside nfs_root) is checked too: a TFTP folder around it is refused.
  EXPECT_NE(message("", "/srv/nfsroot", "/srv"), "");
  EXPECT_EQ(message("", "/srv/nfsroot", "/srv/tftp"), "");
  EXPECT_EQ(message("/srv/images", "/srv/nfsroot", "/srv/tftp"), "");
}

TEST(ValidateMac, BroadcastMulticastAndAllZeroAreRefused) {
  for (const auto& [mac, what] : {std::pair{"ff:ff:ff:ff:ff:ff", "the broadcast address"},
                                  std::pair{"01:00:5e:00:00:01", "a multicast address"},
                                  std::pair{"33:33:00:00:00:01", "a multicast address"},
                                  std::pair{"00:00:00:00:00:00", "the all-zero address"}}) {
    auto j = seed_json(1);
    j["shelves"][0]["pis"][0]["mac"] = mac;
    const std::string error = error_of(j);
    EXPECT_TRUE(error.starts_with("inventory.json: shelf \"shelf1\": pi \"pi01\": mac: " + std::string(mac) +
                                  " is " + what))
        << error;
    // add refuses it too, changing nothing
    auto inv = seed_inventory(1);
    auto added = add_pi(inv.shelves[0], PiRequest{"pi02", 2, PiModel::pi4, {}, Mac::parse(mac)});
    ASSERT_FALSE(added) << mac;
    EXPECT_NE(added.error().message.find(" is " + std::string(what)), std::string::npos) << added.error().message;
    EXPECT_EQ(inv.shelves[0].pis.size(), 1u);
  }
  auto j = seed_json(1);
  j["shelves"][0]["pis"][0]["mac"] = "b8:27:eb:12:34:56";
  EXPECT_EQ(error_of(j), "");
}

class StorePaths : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / ("picluster-trust-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }
  fs::path m_dir;
};

TEST_F(StorePaths, AFolderGivenAsTheInventoryIsSaidSo) {
  const auto r = load(m_dir);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            m_dir.string() + ": is a folder, not an inventory file (give the file with --inventory)");
}

TEST_F(StorePaths, ASymlinkedInventoryIsWrittenThroughAndLocksTheRealFile) {
  fs::create_directories(m_dir / "real");
  const fs::path real = m_dir / "real/inventory.json";
  ASSERT_TRUE(save(seed_inventory(1), real));
  fs::create_symlink("real/inventory.json", m_dir / "link.json");
  fs::create_symlink(m_dir / "link.json", m_dir / "link2.json");  // a chain, absolute
  EXPECT_EQ(resolve_path(m_dir / "link2.json"), real);
  EXPECT_EQ(resolve_path(real), real);
  EXPECT_EQ(resolve_path(m_dir / "missing.json"), m_dir / "missing.json");

  const fs::path resolved = resolve_path(m_dir / "link.json");
  ASSERT_TRUE(save(seed_inventory(2), resolved));
  EXPECT_TRUE(fs::is_symlink(m_dir / "link.json"));
  EXPECT_EQ(load(real)->shelves[0].pis.size(), 2u);
  // One lock, whichever path a run was given.
  auto held = Lock::acquire(resolve_path(m_dir / "link2.json"), false);
  ASSERT_TRUE(held);
  auto second = Lock::acquire(resolve_path(real), false);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::locked);
  EXPECT_FALSE(fs::exists(m_dir / "link.json.lock"));
}

}  // namespace
}  // namespace picluster::inventory

namespace picluster::inventory {
namespace {

// boot.dnsmasq_log (zero-touch enrollment reads it): a safe absolute path that no Pi can read,
// written only when it is not the default.
TEST(ValidatePaths, DnsmasqLogIsASafePathOutsideTheRootsAndTheTftpFolder) {
  auto j = seed_json(1);
  j["shelves"][0]["boot"]["dnsmasq_log"] = "var/log/dnsmasq.log";
  EXPECT_EQ(error_of(j), "inventory.json: shelf \"shelf1\": boot: dnsmasq_log: \"var/log/dnsmasq.log\" is not a "
                         "safe absolute path ([A-Za-z0-9._/-], no '..')");
  j["shelves"][0]["boot"]["dnsmasq_log"] = j["shelves"][0]["fileserver"]["tftp_root"].get<std::string>() + "/dnsmasq.log";
  EXPECT_NE(error_of(j).find("boot: dnsmasq_log: \"/srv/tftp/dnsmasq.log\" overlaps tftp_root \"/srv/tftp\""),
            std::string::npos)
      << error_of(j);
  j["shelves"][0]["boot"]["dnsmasq_log"] = "/var/log/dnsmasq/picluster.log";
  EXPECT_EQ(error_of(j), "");
  const auto parsed = parse(j.dump(), "inventory.json");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->shelves[0].boot.dnsmasq_log, "/var/log/dnsmasq/picluster.log");
  EXPECT_NE(serialize(*parsed).find("\"dnsmasq_log\": \"/var/log/dnsmasq/picluster.log\""), std::string::npos);
  j["shelves"][0]["boot"].erase("dnsmasq_log");
  const auto plain = parse(j.dump(), "inventory.json");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->shelves[0].boot.dnsmasq_log, "/var/log/picluster-dnsmasq.log");
  EXPECT_EQ(serialize(*plain).find("dnsmasq_log"), std::string::npos) << "the default is not written";
}

}  // namespace
}  // namespace picluster::inventory
