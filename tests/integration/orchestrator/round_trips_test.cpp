// Issue 16: over SSH, plan, status, fileserver show, a no-change apply and the add of one Pi each
// cost a constant number of round trips (from picluster's own counter), whatever the number of
// Pis: measured on a shelf of two Pis, then of five. The fileserver's ~/.bashrc prints and sleeps
// 2 s; every verb opens exactly one SSH channel (picluster's counter and sshd's LogLevel DEBUG
// log agree), so the rc file runs once per verb and its output reaches no result (the --json
// outputs parse).

#include <gmock/gmock.h>

#include <regex>

#include "tests/integration/orchestrator/shelf_fixture.hpp"

namespace picluster::orchestrator::it {
namespace {

struct Trips {
  std::uint64_t plan = 0, status = 0, show = 0, apply = 0, add = 0;
  bool operator==(const Trips&) const = default;
};

// The sum of the notes `-v` prints: "N fileserver round trips", "(N SSH channel opened)".
std::uint64_t noted(const std::string& text, const std::string& what = "fileserver round trips") {
  const std::regex note("([0-9]+) " + what);
  std::uint64_t sum = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), note); it != std::sregex_iterator(); ++it) {
    sum += std::stoull((*it)[1]);
  }
  return sum;
}

class RoundTripsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_shelf = std::make_unique<TestShelf>(Transport::ssh, 24,
                                          picluster::testing::LoopbackSshdOptions{picluster::testing::kNoisySlowBashrc, true});
    if (!m_shelf->ready()) GTEST_SKIP() << m_shelf->why_not();
    m_shelf->set_fileserver("ssh_persist_seconds", 0);  // every verb connects: one channel each
  }
  // One SSH channel for the verb, by picluster's counter (`counted`) and by sshd's log.
  void expect_one_channel(const std::string& verb, std::uint64_t counted) {
    EXPECT_EQ(counted, 1U) << verb;
    EXPECT_TRUE(picluster::testing::wait_until(
        [&] { return m_shelf->sshd_channels() - m_log_seen >= 1; }, std::chrono::seconds(10)));
    const int opened = m_shelf->sshd_channels() - m_log_seen;
    EXPECT_EQ(opened, 1) << verb << ": SSH channels in sshd's log";
    m_log_seen += opened;
  }
  std::uint64_t json_verb(const std::vector<std::string>& args) {
    const auto j = m_shelf->pic_json(args);
    expect_one_channel(args[0], j.value("fileserver_channels", 9999ULL));
    return j.value("fileserver_round_trips", 9999ULL);
  }
  std::uint64_t verbose_verb(const std::vector<std::string>& args) {
    const auto r = m_shelf->pic(args);
    EXPECT_EQ(r.status, 0) << TestShelf::describe(args, r);
    EXPECT_THAT(r.out + r.err, ::testing::Not(::testing::HasSubstr("NOISE")));
    expect_one_channel(args[1], noted(r.out + r.err, "SSH channels? opened"));
    if (args[1] == "apply") {
      EXPECT_THAT(r.out, ::testing::Not(::testing::HasSubstr(": ok")));  // nothing to change
    }
    return noted(r.out + r.err);
  }
  Trips measure(int next_pi) {
    Trips t;
    m_log_seen = m_shelf->sshd_channels();
    t.plan = json_verb({"plan", "--json"});
    t.status = json_verb({"status", "--json", "--probe", "none"});
    t.show = json_verb({"fileserver", "show", "--json"});
    t.apply = verbose_verb({"-v", "apply"});
    t.add = verbose_verb({"-v", "add", pi_name(next_pi), "--port", std::to_string(next_pi), "--mac", pi_mac(next_pi)});
    return t;
  }
  int m_log_seen = 0;
  std::unique_ptr<TestShelf> m_shelf;
};

TEST_F(RoundTripsTest, PlanStatusShowAndANoChangeApplyCostTheSameForTwoAndFivePis) {
  for (int i = 1; i <= 2; ++i) ASSERT_EQ(m_shelf->add(i).status, 0) << pi_name(i);
  const Trips two = measure(3);  // adds pi03
  for (int i = 4; i <= 5; ++i) ASSERT_EQ(m_shelf->add(i).status, 0) << pi_name(i);
  const Trips five = measure(6);  // adds pi06
  EXPECT_EQ(two, five) << "plan " << two.plan << "/" << five.plan << ", status " << two.status << "/"
                       << five.status << ", show " << two.show << "/" << five.show << ", apply "
                       << two.apply << "/" << five.apply << ", add " << two.add << "/" << five.add;
  // One pipelined request each (docs/fileserver.md, "Round trips over SSH"); add: the view with
  // the recovery scan, the network files, the clone-method probe (clone_method auto), three for
  // the rebuild (folders + clone + the read of the staging root; its writes, keys and du; record,
  // ready marker, swap, marker removal), the exports and the boot files.
  EXPECT_EQ(five.plan, 1U);
  EXPECT_EQ(five.status, 1U);
  EXPECT_EQ(five.show, 1U);
  EXPECT_EQ(five.apply, 1U);
  EXPECT_EQ(five.add, 8U);  // the whole clone path of one Pi (20 before the pipelines)
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
