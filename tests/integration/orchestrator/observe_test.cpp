// `picluster watch --listen`, `picluster metrics` and `status --html` against the switch simulator
// and a shelf of four Pis: the metrics pass promtool, follow `power off` and a cycle, and a
// client that holds 200 silent connections does not slow the watch rounds down.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/orchestrator/observe_fixture.hpp"

namespace picluster::orchestrator::it {
namespace {

TEST_F(ObservedShelf, MetricsAndPageFollowPowerOffAndAHungPiCycled) {
  ASSERT_NO_FATAL_FAILURE(start_watch());
  // A real parser accepts the exposition.
  testing::RunOptions o;
  o.stdin_text = get("/metrics").body;
  const auto check = testing::run({"promtool", "check", "metrics"}, o);
  EXPECT_EQ(check.status, 0) << check.out << check.err << o.stdin_text;
  EXPECT_EQ(check.out + check.err, "") << o.stdin_text;
  EXPECT_TRUE(wait_for_sample("picluster_pi_up", "pi03", "1")) << get("/metrics").body;
  EXPECT_EQ(sample("picluster_pi_poe_enabled", "pi03"), "1");
  EXPECT_EQ(sample("picluster_pi_held", "pi03"), "0");
  const auto status = nlohmann::json::parse(get("/api/status").body);
  EXPECT_EQ(status["shelf"], "orchtest");
  EXPECT_EQ(status["pis"].size(), 4u);
  // The same document as `status --json` (reachability from watch's probes; status probes none).
  const auto cli = shelf->pic_json({"status", "--json"});
  ASSERT_EQ(cli["pis"].size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    for (const auto& [key, value] : cli["pis"][i].items()) {
      ASSERT_TRUE(status["pis"][i].contains(key)) << key;
      if (key != "reachable") {
        EXPECT_EQ(status["pis"][i][key], value) << key;
      }
    }
    EXPECT_EQ(status["pis"][i].size(), cli["pis"][i].size());
    EXPECT_EQ(status["pis"][i]["reachable"], true);
    EXPECT_EQ(cli["pis"][i]["reachable"], nullptr);
  }
  EXPECT_EQ(status["problems"], cli["problems"]);
  EXPECT_EQ(get("/healthz").status, 200);

  // power off pi03: after a round the metrics and the page say it is off and held.
  const auto off = shelf->pic({"power", "off", "pi03"});
  ASSERT_EQ(off.status, 0) << TestShelf::describe({"power", "off", "pi03"}, off);
  EXPECT_TRUE(wait_for_sample("picluster_pi_held", "pi03", "1")) << get("/metrics").body;
  EXPECT_EQ(sample("picluster_pi_poe_enabled", "pi03"), "0");
  EXPECT_EQ(sample("picluster_pi_poe_delivering", "pi03"), "0");
  EXPECT_EQ(sample("picluster_pi_up", "pi03"), "");  // held: not probed
  const auto ports = testing::port_elements(get("/").body);
  ASSERT_EQ(ports.size(), static_cast<std::size_t>(kPorts));
  EXPECT_EQ(ports.at(3),
            (std::vector<std::string>{"pi03", "off", "unprobed", "true", "false", "false"}));
  EXPECT_EQ(ports.at(1),
            (std::vector<std::string>{"pi01", "delivering", "up", "false", "false", "false"}));
  EXPECT_EQ(ports.at(kPorts)[5], "true");  // the trunk

  // Released, then hung: watch cycles it and the counter goes up by exactly one.
  ASSERT_EQ(shelf->pic({"power", "on", "pi03"}).status, 0);
  EXPECT_TRUE(wait_for_sample("picluster_pi_held", "pi03", "0"));
  const std::string before = sample("picluster_pi_cycles_total", "pi03");
  ASSERT_EQ(before, "0");
  testing::write_file(shelf->dir() / "pi03.down", "");
  EXPECT_TRUE(wait_for_sample("picluster_pi_cycles_total", "pi03", "1"))
      << get("/metrics").body << testing::read_file(log_path());
  ASSERT_TRUE(fs::remove(shelf->dir() / "pi03.down"));
  EXPECT_NE(testing::read_file(log_path()).find("pi03: cycled: port 3: on deliveringPower"),
            std::string::npos);
  EXPECT_NE(sample("picluster_pi_last_cycle_timestamp_seconds", "pi03"), "");
  EXPECT_EQ(sample("picluster_pi_cycles_total", "pi01"), "0");
  const std::string metrics = get("/metrics").body;
  EXPECT_NE(metrics.find("picluster_switch_request_seconds_count{shelf=\"orchtest\"} "),
            std::string::npos);
  EXPECT_EQ(metrics.find(TestShelf::kCommunity), std::string::npos);  // no secret anywhere
  EXPECT_EQ(testing::port_elements(get("/").body).at(3)[4], "true");  // cycled in the last hour
}

TEST_F(ObservedShelf, TwoHundredSilentConnectionsDoNotDelayTheRounds) {
  ASSERT_NO_FATAL_FAILURE(start_watch());
  // A client opens 200 connections and sends nothing (non-blocking connects: the ones the
  // server does not accept wait in the kernel's queues, as they would from a real client).
  std::vector<int> silent;
  for (int i = 0; i < 200; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(http_port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    silent.push_back(fd);
  }
  // Eight more rounds while they stay connected, timed by the probe's own log.
  const std::size_t first = probe_times("pi01").size();
  ASSERT_TRUE(testing::wait_until([&] { return probe_times("pi01").size() >= first + 8; },
                                  std::chrono::seconds(180)));
  const auto times = probe_times("pi01");
  for (const int fd : silent) ::close(fd);
  // Round starts are --interval (1 s) plus a round's work apart. A loop that waited for the
  // server would be held for its 2 s timeout per silent connection it waited on.
  for (std::size_t i = first; i + 1 < first + 8; ++i) {
    EXPECT_LT(times[i + 1] - times[i], 1.0 + 3.0) << "rounds " << i << " and " << i + 1;
  }
  EXPECT_TRUE(
      testing::wait_until([&] { return get("/metrics").status == 200; }, std::chrono::seconds(60)));
  EXPECT_TRUE(watch->running());
}

TEST_F(ObservedShelf, MetricsOnceAndStatusHtmlWithoutWatch) {
  ASSERT_EQ(shelf->pic({"power", "off", "pi02"}).status, 0);
  const auto r = shelf->pic({"metrics", "--probe", "exec:" + (shelf->dir() / "probe").string()});
  ASSERT_EQ(r.status, 0) << TestShelf::describe({"metrics"}, r);
  testing::RunOptions o;
  o.stdin_text = r.out;
  const auto check = testing::run({"promtool", "check", "metrics"}, o);
  EXPECT_EQ(check.status, 0) << check.out << check.err << r.out;
  EXPECT_NE(r.out.find("picluster_pi_held{shelf=\"orchtest\",pi=\"pi02\",port=\"2\"} 1\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("picluster_pi_up{shelf=\"orchtest\",pi=\"pi01\",port=\"1\"} 1\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("picluster_watch_round_seconds"), std::string::npos);  // no watch here

  const fs::path html = shelf->dir() / "shelf.html";
  const auto page = shelf->pic({"status", "--html", html.string()});
  EXPECT_EQ(page.status, 0) << TestShelf::describe({"status", "--html"}, page);
  const auto ports = testing::port_elements(testing::read_file(html));
  ASSERT_EQ(ports.size(), static_cast<std::size_t>(kPorts));
  EXPECT_EQ(ports.at(2),
            (std::vector<std::string>{"pi02", "off", "unprobed", "true", "false", "false"}));
  EXPECT_EQ(testing::read_file(html).find("<script"), std::string::npos);
}

}  // namespace
}  // namespace picluster::orchestrator::it
