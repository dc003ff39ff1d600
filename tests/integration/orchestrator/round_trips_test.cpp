// Issue 16: over SSH, plan, status, fileserver show and a no-change apply each cost a constant
// number of round trips (SSH channels, from picluster's own counter), whatever the number of Pis:
// measured on a shelf of two Pis, then of five.

#include <gmock/gmock.h>

#include <regex>

#include "tests/integration/orchestrator/shelf_fixture.hpp"

namespace picluster::orchestrator::it {
namespace {

struct Trips {
  std::uint64_t plan = 0, status = 0, show = 0, apply = 0;
  bool operator==(const Trips&) const = default;
};

// The sum of the "N fileserver round trips" notes `-v` prints.
std::uint64_t noted_trips(const std::string& text) {
  static const std::regex note("([0-9]+) fileserver round trips");
  std::uint64_t sum = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), note); it != std::sregex_iterator(); ++it) {
    sum += std::stoull((*it)[1]);
  }
  return sum;
}

class RoundTripsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_shelf = std::make_unique<TestShelf>(Transport::ssh);
    if (!m_shelf->ready()) GTEST_SKIP() << m_shelf->why_not();
  }
  Trips measure() {
    Trips t;
    t.plan = m_shelf->pic_json({"plan", "--json"}).value("fileserver_round_trips", 9999ULL);
    t.status = m_shelf->pic_json({"status", "--json", "--probe", "none"}).value("fileserver_round_trips", 9999ULL);
    t.show = m_shelf->pic_json({"fileserver", "show", "--json"}).value("fileserver_round_trips", 9999ULL);
    const auto apply = m_shelf->pic({"-v", "apply"});
    EXPECT_EQ(apply.status, 0) << TestShelf::describe({"-v", "apply"}, apply);
    EXPECT_THAT(apply.out, ::testing::Not(::testing::HasSubstr(": ok")));  // nothing to change
    t.apply = noted_trips(apply.out + apply.err);
    return t;
  }
  std::unique_ptr<TestShelf> m_shelf;
};

TEST_F(RoundTripsTest, PlanStatusShowAndANoChangeApplyCostTheSameForTwoAndFivePis) {
  for (int i = 1; i <= 2; ++i) ASSERT_EQ(m_shelf->add(i).status, 0) << pi_name(i);
  const Trips two = measure();
  for (int i = 3; i <= 5; ++i) ASSERT_EQ(m_shelf->add(i).status, 0) << pi_name(i);
  const Trips five = measure();
  EXPECT_EQ(two, five) << "plan " << two.plan << "/" << five.plan << ", status " << two.status << "/"
                       << five.status << ", show " << two.show << "/" << five.show << ", apply "
                       << two.apply << "/" << five.apply;
  EXPECT_LE(five.plan, 4U);
  EXPECT_LE(five.status, 4U);
  EXPECT_LE(five.show, 4U);
  EXPECT_LE(five.apply, 4U);
  EXPECT_GE(five.plan, 1U);  // the counter counts
}

// Version N of image "base" in the shelf's image store, as picluster leaves one: a root that
// records it, with a boot set, and image.json.
void make_version(const fs::path& image, int n) {
  const fs::path v = image / std::to_string(n);
  testing::write_file(v / "root/etc/picluster/image", "base@" + std::to_string(n) + "\n");
  testing::write_file(v / "root/etc/hostname", "raspberrypi\n");
  testing::write_file(v / "root/boot/firmware/config.txt", "kernel=vmlinuz-6.1.0-28-arm64\n");
  testing::write_file(v / "root/boot/firmware/vmlinuz-6.1.0-28-arm64", "kernel\n");
  testing::write_file(v / "image.json", R"({"name": "base", "version": )" + std::to_string(n) + R"(, "arch": "arm64"})" "\n");
}

// Issue 14: plan's list of Pis whose image has a newer version comes from the same batched read
// of the roots, plus one listing of the image's versions: Pis on an image add no round trip.
TEST_F(RoundTripsTest, PlanListsPisOnAnOlderImageVersionAtTheSameCostForTwoAndFivePis) {
  const fs::path image = m_shelf->prefix() / "srv/images/base";
  make_version(image, 1);
  json doc = json::parse(testing::read_file(m_shelf->inventory_path()));
  doc["shelves"][0]["image"] = "base";
  testing::write_file(m_shelf->inventory_path(), doc.dump(2));
  const auto plan = [&](std::size_t pis) {
    make_version(image, 2);
    const json j = m_shelf->pic_json({"plan", "--json"});
    EXPECT_EQ(j.value("newer_images", json::array()).size(), pis) << j.dump(2);
    if (pis > 0) {
      EXPECT_EQ(j["newer_images"][0], "pi01: base@1, latest base@2") << j.dump(2);
    }
    fs::rename(image / "2", image / ".not-yet-2");  // new Pis clone base@1 again
    fs::remove_all(image / ".not-yet-2");
    return j.value("fileserver_round_trips", 9999ULL);
  };
  for (int i = 1; i <= 2; ++i) ASSERT_EQ(m_shelf->add(i).status, 0) << pi_name(i);
  ASSERT_EQ(testing::read_file(m_shelf->root("pi01") / "etc/picluster/image"), "base@1\n");
  const auto two = plan(2);
  for (int i = 3; i <= 5; ++i) ASSERT_EQ(m_shelf->add(i).status, 0) << pi_name(i);
  const auto five = plan(5);
  EXPECT_EQ(two, five);
  EXPECT_LE(five, 5U);
}

}  // namespace
}  // namespace picluster::orchestrator::it
