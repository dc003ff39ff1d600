// Secrets file checks, and that no message ever carries a secret.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "switchctl/net_snmp_session.hpp"

namespace picluster::switchctl {
namespace {

class Secrets : public ::testing::Test {
 protected:
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("picluster-secrets-" + std::to_string(::getpid()));
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path write(const std::string& text, mode_t mode) {
    const auto p = dir / "secrets.json";
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p;
  }
};

TEST_F(Secrets, ReadsACommunity) {
  auto c = load_credentials(write(R"({"community": "s3cret-c0mm"})", 0600), inventory::SnmpVersion::v2c);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->community, "s3cret-c0mm");
}

TEST_F(Secrets, RefusesAFileOthersCanRead) {
  const auto p = write(R"({"community": "s3cret-c0mm"})", 0644);
  auto c = load_credentials(p, inventory::SnmpVersion::v2c);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::refused);
  EXPECT_EQ(c.error().message, "secrets file " + p.string() + " can be read or written by group or others; run chmod 600 " + p.string());
}

TEST_F(Secrets, NamesTheMissingFieldNeverTheValues) {
  auto c = load_credentials(write(R"({"user": "admin", "auth_password": "auth-pass-123"})", 0600), inventory::SnmpVersion::v3);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("'priv_password' must be a non-empty string"), std::string::npos);
  auto bad = load_credentials(write(R"({"community": "s3cret-c0mm", )", 0600), inventory::SnmpVersion::v2c);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("s3cret"), std::string::npos) << bad.error().message;
}

TEST_F(Secrets, OnlyShaAndAes) {
  auto c = load_credentials(write(R"({"user": "u", "auth_protocol": "MD5", "auth_password": "12345678", "priv_password": "12345678"})", 0600),
                            inventory::SnmpVersion::v3);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("'auth_protocol' must be \"SHA\""), std::string::npos);
}

TEST(NetSnmpSession, TimeoutMessageNamesTheObjectNotTheCommunity) {
  SessionConfig config{"127.0.0.1", 9, 100, 0, {inventory::SnmpVersion::v2c, "s3cret-c0mm", {}, {}, {}}};
  auto session = open_net_snmp_session(config);
  ASSERT_TRUE(session) << session.error().message;
  auto r = (*session)->get({Oid{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 5, 1, 1, 5}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("s3cret"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("get dot1qPvid.5"), std::string::npos) << r.error().message;
  EXPECT_EQ((*session)->endpoint(), "127.0.0.1:9");
}

}  // namespace
}  // namespace picluster::switchctl
