// The observation side of watch: the journal's cycle history, the Prometheus text (checked with
// promtool, a real parser), the shelf page, --listen addresses and the server's endpoints.
#include "orchestrator/observe.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "orchestrator/observe_server.hpp"
#include "tests/support/http.hpp"
#include "tests/support/process.hpp"
#include "tests/support/shelf_page.hpp"

namespace picluster::orchestrator {
namespace {

using std::chrono::system_clock;
namespace fs = std::filesystem;

JournalEntry entry(std::string time, std::string verb, std::string pi, std::string step,
                   std::string result, std::string detail = "") {
  JournalEntry e;
  e.time = std::move(time);
  e.user = "root";
  e.verb = std::move(verb);
  e.shelf = "shelf1";
  e.pi = std::move(pi);
  e.step = std::move(step);
  e.result = std::move(result);
  e.detail = std::move(detail);
  return e;
}

const system_clock::time_point kNow = *parse_utc("2026-12-04T12:00:00Z");

std::vector<JournalEntry> journal() {
  return {
      entry("2026-12-04T09:00:00Z", "watch", "pi03", "power-cycle", "ok",
            "port 3: on deliveringPower"),
      entry("2026-12-04T11:30:00Z", "watch", "pi03", "power-cycle", "ok",
            "port 3: on deliveringPower"),
      entry("2026-12-04T11:40:00Z", "watch", "pi02", "power-cycle", "failed",
            "refusing to cut power"),
      entry("2026-12-04T11:45:00Z", "watch", "pi01", "power-cycle", "planned", "dry run"),
      entry("2026-12-04T11:50:00Z", "power", "pi01", "power", "ok", "PoE cycle, port 1"),
      entry("2026-12-04T11:51:00Z", "power", "pi01", "power", "ok", "PoE off, port 1"),
      entry("2026-12-04T11:55:00Z", "watch", "", "guard", "skipped", "3 of 4 probed Pis failing"),
  };
}

TEST(CycleHistory, CountsCarriedOutCyclesOfWatchAndPowerCycleAndTheTriedOnesOfTheLastHour) {
  const auto h = cycle_history(journal(), "shelf1", kNow);
  EXPECT_EQ(h.pis.at("pi03").total, 2);
  EXPECT_EQ(*h.pis.at("pi03").last, system_clock::to_time_t(*parse_utc("2026-12-04T11:30:00Z")));
  EXPECT_EQ(h.pis.count("pi02"), 0u);    // failed at the switch: not a cycle
  EXPECT_EQ(h.pis.at("pi01").total, 1);  // `power cycle`; the dry run and `power off` are not
  EXPECT_EQ(h.last_hour, 2);             // 11:30 ok and 11:40 failed; not 09:00, not the dry run
  EXPECT_TRUE(h.guard_active);
  auto lifted = journal();
  lifted.push_back(
      entry("2026-12-04T11:58:00Z", "watch", "", "guard", "ok", "1 of 4 probed Pis failing"));
  EXPECT_FALSE(cycle_history(lifted, "shelf1", kNow).guard_active);
  EXPECT_TRUE(cycle_history(journal(), "other", kNow).pis.empty());
}

ShelfSnapshot snapshot() {
  ShelfStatus st;
  st.shelf = "shelf1";
  for (int i = 1; i <= 4; ++i) {
    PiStatus p;
    p.name = "pi0" + std::to_string(i);
    p.port = i;
    p.poe_on = true;
    p.poe_delivering = true;
    p.poe = "on deliveringPower";
    p.power_mw = 4200 + i;
    p.root_mtime = 1764800000 + i;
    st.pis.push_back(p);
  }
  st.pis[2].poe_on = false;
  st.pis[2].poe_delivering = false;
  st.pis[2].poe = "off disabled";
  st.pis[2].power_mw.reset();
  st.pis[2].hold = PowerHold{"2026-12-04T11:00:00Z", "alice", "bad <SD> card"};
  inventory::Shelf shelf;
  shelf.name = "shelf1";
  shelf.switch_.port_count = 8;
  shelf.fileserver.trunk_port = 8;
  std::vector<ProbeResult> probes{
      {"pi01", true, "", 0.012}, {"pi02", false, "exit 1", 0.5}, {"pi04", true, "", 0.02}};
  auto s = make_snapshot(shelf, st, probes, journal(), kNow);
  s.snmp = switchctl::SnmpCounts{10, 1, 0.25, {2, 5, 8, 9, 9, 10, 10, 10, 10}};
  s.round = WatchRoundInfo{7, system_clock::to_time_t(kNow), 1.5, 7};
  s.outage = false;
  return s;
}

TEST(Metrics, EveryFamilyHasHelpAndTypeAndPromtoolAcceptsTheText) {
  const std::string text = render_metrics(snapshot());
  for (const char* family :
       {"picluster_pi_up", "picluster_pi_probe_seconds", "picluster_pi_poe_enabled",
        "picluster_pi_poe_delivering", "picluster_pi_power_watts", "picluster_pi_held",
        "picluster_pi_cycles_total", "picluster_pi_last_cycle_timestamp_seconds",
        "picluster_pi_root_built_timestamp_seconds", "picluster_shelf_outage_guard_active",
        "picluster_shelf_cycles_in_last_hour", "picluster_switch_snmp_errors_total",
        "picluster_switch_request_seconds", "picluster_watch_round_seconds"}) {
    EXPECT_NE(text.find(std::string("# HELP ") + family + " "), std::string::npos) << family;
    EXPECT_NE(text.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
  EXPECT_NE(text.find("picluster_pi_up{shelf=\"shelf1\",pi=\"pi01\",port=\"1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("picluster_pi_up{shelf=\"shelf1\",pi=\"pi02\",port=\"2\"} 0\n"),
            std::string::npos);
  EXPECT_EQ(text.find("picluster_pi_up{shelf=\"shelf1\",pi=\"pi03\""),
            std::string::npos);  // held: not probed
  EXPECT_NE(text.find("picluster_pi_poe_enabled{shelf=\"shelf1\",pi=\"pi03\",port=\"3\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("picluster_pi_held{shelf=\"shelf1\",pi=\"pi03\",port=\"3\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("picluster_pi_cycles_total{shelf=\"shelf1\",pi=\"pi03\",port=\"3\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("picluster_pi_cycles_total{shelf=\"shelf1\",pi=\"pi04\",port=\"4\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("picluster_pi_power_watts{shelf=\"shelf1\",pi=\"pi01\",port=\"1\"} 4.201\n"),
            std::string::npos);
  EXPECT_NE(text.find("picluster_switch_request_seconds_bucket{shelf=\"shelf1\",le=\"+Inf\"} 10\n"),
            std::string::npos);
  EXPECT_NE(text.find("picluster_shelf_cycles_in_last_hour{shelf=\"shelf1\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("picluster_shelf_outage_guard_active{shelf=\"shelf1\"} 0\n"),
            std::string::npos);  // live state

  if (!testing::have_program("promtool"))
    GTEST_SKIP() << "promtool (Debian package prometheus) not installed";
  testing::RunOptions o;
  o.stdin_text = text;
  const auto r = testing::run({"promtool", "check", "metrics"}, o);
  EXPECT_EQ(r.status, 0) << r.out << r.err << text;
  EXPECT_EQ(r.out + r.err, "") << text;  // no lint warnings either
}

TEST(Metrics, LabelValuesAreEscaped) { EXPECT_EQ(label_escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

TEST(Page, OnePortElementPerSwitchPortWithPiStatesAndTheTrunkMarked) {
  const std::string page = render_page(snapshot());
  auto ports = testing::port_elements(page);
  ASSERT_EQ(ports.size(), 8u) << page;
  EXPECT_EQ(ports[1], (std::vector<std::string>{"pi01", "delivering", "up", "false", "true",
                                                "false"}));  // power cycle 11:50
  EXPECT_EQ(ports[2],
            (std::vector<std::string>{"pi02", "delivering", "down", "false", "false", "false"}));
  EXPECT_EQ(ports[3], (std::vector<std::string>{"pi03", "off", "unprobed", "true", "true",
                                                "false"}));  // cycled 11:30
  EXPECT_EQ(ports[5],
            (std::vector<std::string>{"", "none", "unprobed", "false", "false", "false"}));
  EXPECT_EQ(ports[8], (std::vector<std::string>{"", "none", "unprobed", "false", "false", "true"}));
  // What came from outside (a hold's reason) is escaped; the page loads nothing from anywhere.
  EXPECT_NE(page.find("bad &lt;SD&gt; card"), std::string::npos);
  EXPECT_EQ(page.find("<SD>"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_EQ(std::regex_search(page, std::regex("href=\"(?!data:)")), false);
  EXPECT_EQ(page.find("<script"), std::string::npos);  // refresh_seconds 0: a static page
  auto live = snapshot();
  live.refresh_seconds = 5;
  EXPECT_NE(render_page(live).find("fetch(location.pathname"), std::string::npos);
}

TEST(ListenAddress, LoopbackIsAllowedAnythingElseOnlyWhenSaid) {
  auto v4 = parse_listen_address("127.0.0.1:9464", false);
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9464);
  auto v6 = parse_listen_address("[::1]:9464", false);
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->str(), "[::1]:9464");
  auto any = parse_listen_address("0.0.0.0:9464", false);
  ASSERT_FALSE(any);
  EXPECT_EQ(any.error().code, ErrorCode::refused);
  EXPECT_NE(any.error().message.find("--listen-public"), std::string::npos);
  EXPECT_FALSE(parse_listen_address("[::]:9464", false));
  EXPECT_TRUE(parse_listen_address("[::]:9464", true));
  EXPECT_TRUE(parse_listen_address("192.0.2.1:9464", true));
  EXPECT_EQ(
      parse_listen_address("9464", false).error().message,
      "--listen \"9464\": no port (expected ADDRESS:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)");
  EXPECT_FALSE(parse_listen_address("127.0.0.1:99999", false));
  EXPECT_FALSE(parse_listen_address("::1:9464", false));
  EXPECT_FALSE(parse_listen_address("pi.example:9464", true));
}

TEST(ObserveServer, AnswersFromThePublishedPagesAndChangesNothing) {
  for (const std::string host : {"127.0.0.1", "::1"}) {
    auto server = ObserveServer::start({host, 0, true});
    ASSERT_TRUE(server) << server.error().message;
    const int port = (*server)->port();
    EXPECT_EQ(testing::http_request(host, port, "/metrics").status, 503);
    (*server)->publish(
        std::make_shared<const ObservedPages>(ObservedPages{"m 1\n", "<html></html>", "{}\n"}));
    const auto metrics = testing::http_request(host, port, "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_EQ(metrics.body, "m 1\n");
    EXPECT_EQ(metrics.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const auto page = testing::http_request(host, port, "/");
    EXPECT_EQ(page.body, "<html></html>");
    EXPECT_EQ(page.headers.at("content-security-policy"), kPagePolicy);
    EXPECT_EQ(testing::http_request(host, port, "/api/status").body, "{}\n");
    EXPECT_EQ(testing::http_request(host, port, "/healthz").status, 200);
    EXPECT_EQ(testing::http_request(host, port, "/metrics", "POST").status, 405);
    EXPECT_EQ(testing::http_request(host, port, "/", "DELETE").status, 405);
    EXPECT_EQ(testing::http_request(host, port, "/nothing").status, 404);
  }
}

TEST(ObserveServer, HealthzGoesStaleWithoutRounds) {
  ServerLimits limits;
  limits.stale_after = std::chrono::seconds(0);
  auto server = ObserveServer::start({"127.0.0.1", 0, true}, limits);
  ASSERT_TRUE(server) << server.error().message;
  const auto r = testing::http_request("127.0.0.1", (*server)->port(), "/healthz");
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(r.body.starts_with("stale: no watch round for ")) << r.body;
}

// Clients that connect and send nothing hold the server's threads for at most its timeout each;
// the server then answers again (the watch loop never waits for it: see the integration test).
TEST(ObserveServer, SilentClientsAreDroppedAfterTheTimeout) {
  ServerLimits limits;
  limits.threads = 2;
  limits.queued = 2;
  limits.timeout = std::chrono::seconds(1);
  auto server = ObserveServer::start({"127.0.0.1", 0, true}, limits);
  ASSERT_TRUE(server) << server.error().message;
  (*server)->publish(std::make_shared<const ObservedPages>(ObservedPages{"m 1\n", "", ""}));
  std::vector<int> silent;
  for (int i = 0; i < 8; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>((*server)->port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    silent.push_back(fd);
  }
  const auto r = testing::http_request("127.0.0.1", (*server)->port(), "/metrics", "GET", 60);
  EXPECT_EQ(r.status, 200);
  for (const int fd : silent) ::close(fd);
}

// The dashboard and the alert rules in docs/ only use metrics picluster emits, and parse.
TEST(Docs, DashboardAndAlertRulesUseTheMetricsThereAre) {
  const std::string metrics = render_metrics(snapshot());
  const auto known = [&](const std::string& name) {
    return metrics.find("\n" + name + "{") != std::string::npos ||
           metrics.find("# TYPE " + name + " ") != std::string::npos;
  };
  const auto dashboard = nlohmann::json::parse(
      testing::read_file(testing::source_dir() / "docs/grafana-picluster.json"));
  const std::regex metric("picluster_[a-z_]+");
  int exprs = 0;
  for (const auto& panel : dashboard["panels"]) {
    for (const auto& target : panel["targets"]) {
      const std::string expr = target["expr"];
      ++exprs;
      for (auto it = std::sregex_iterator(expr.begin(), expr.end(), metric);
           it != std::sregex_iterator(); ++it) {
        EXPECT_TRUE(known(it->str())) << it->str() << " in " << expr;
      }
    }
  }
  EXPECT_GE(exprs, 8);
  const fs::path rules = testing::source_dir() / "docs/picluster-alerts.yml";
  const std::string text = testing::read_file(rules);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), metric);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(known(it->str())) << it->str();
  }
  if (!testing::have_program("promtool")) GTEST_SKIP() << "promtool not installed";
  const auto r = testing::run({"promtool", "check", "rules", rules.string()});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
}

}  // namespace
}  // namespace picluster::orchestrator
