// The live shelf page in headless Chromium (Debian's `chromium`): the DOM after the page's own
// script ran has one port element per switch port with the right Pi names and states, a
// screenshot is taken, and Chromium's network log shows no request to anywhere but the server.
// The screenshot is kept as $PICLUSTER_SCREENSHOT_DIR/shelf.png when that variable is set.
#include <nlohmann/json.hpp>

#include "tests/integration/orchestrator/observe_fixture.hpp"

namespace picluster::orchestrator::it {
namespace {

// Chromium with its profile in `dir`. Chromium makes requests of its own (time, component
// updates, an account check) whatever the flags say; the proxy sends every one of them to a closed
// port on loopback (loopback itself is never proxied), so nothing leaves this machine.
std::vector<std::string> chromium(const fs::path& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> argv{"chromium",
                                "--headless",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--user-data-dir=" + (dir / "profile").string(),
                                "--no-first-run",
                                "--disable-background-networking",
                                "--disable-component-update",
                                "--disable-sync",
                                "--disable-default-apps",
                                "--disable-extensions",
                                "--no-default-browser-check",
                                "--proxy-server=http://127.0.0.1:9",
                                "--virtual-time-budget=6000"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// The URLs of the requests made in the page's context (network isolation key = the page's site),
// from Chromium's net log; Chromium's own requests have another key and are left out.
std::vector<std::string> page_requests(const nlohmann::json& log, const std::string& site) {
  const int start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"];
  std::vector<std::string> out;
  for (const auto& e : log["events"]) {
    if (e["type"] != start_job || !e.contains("params")) continue;
    const auto& p = e["params"];
    if (p.value("network_isolation_key", "").starts_with(site + " "))
      out.push_back(p.value("url", ""));
  }
  return out;
}

TEST_F(ObservedShelf, ChromiumShowsTheShelfAndFetchesNothingOutsideTheServer) {
  if (!testing::have_program("chromium")) GTEST_SKIP() << "chromium not installed";
  ASSERT_EQ(shelf->pic({"power", "off", "pi03"}).status, 0);
  testing::write_file(shelf->dir() / "pi02.down", "");
  ASSERT_NO_FATAL_FAILURE(start_watch(1000));
  ASSERT_TRUE(wait_for_sample("picluster_pi_up", "pi02", "0"));
  ASSERT_TRUE(wait_for_sample("picluster_pi_held", "pi03", "1"));
  const std::string url = "http://127.0.0.1:" + std::to_string(http_port) + "/";
  const fs::path dir = shelf->dir() / "chromium";
  fs::create_directories(dir);
  testing::RunOptions o;
  o.timeout_seconds = 180;
  o.env = {{"HOME", dir.string()}};

  // The DOM once the page has run its refresh script (virtual time lets its timer fire).
  const fs::path net_log = dir / "net-log.json";
  const auto dom =
      testing::run(chromium(dir, {"--log-net-log=" + net_log.string(), "--dump-dom", url}), o);
  ASSERT_EQ(dom.status, 0) << dom.err;
  const auto ports = testing::port_elements(dom.out);
  ASSERT_EQ(ports.size(), static_cast<std::size_t>(kPorts)) << dom.out;
  EXPECT_EQ(ports.at(1),
            (std::vector<std::string>{"pi01", "delivering", "up", "false", "false", "false"}));
  EXPECT_EQ(ports.at(2),
            (std::vector<std::string>{"pi02", "delivering", "down", "false", "false", "false"}));
  EXPECT_EQ(ports.at(3),
            (std::vector<std::string>{"pi03", "off", "unprobed", "true", "false", "false"}));
  EXPECT_EQ(ports.at(4),
            (std::vector<std::string>{"pi04", "delivering", "up", "false", "false", "false"}));
  for (int p = 5; p < kPorts; ++p) EXPECT_EQ(ports.at(p)[0], "") << p;
  EXPECT_EQ(ports.at(kPorts)[5], "true");
  EXPECT_NE(dom.out.find("<table id=\"pis\">"), std::string::npos);
  EXPECT_NE(dom.out.find("<table id=\"journal\">"), std::string::npos);

  // The network log: the page and its refresh fetches, all to the server.
  const auto log = nlohmann::json::parse(testing::read_file(net_log), nullptr, false);
  ASSERT_FALSE(log.is_discarded()) << testing::read_file(net_log).substr(0, 2000);
  int page_loads = 0;
  const auto requests = page_requests(log, "http://127.0.0.1");
  for (const auto& u : requests) {
    EXPECT_TRUE(u.starts_with(url)) << "request outside the server: " << u;
    if (u == url) ++page_loads;
  }
  EXPECT_GE(page_loads, 2) << "the page was not re-fetched by its refresh script";

  // A screenshot of the page.
  const fs::path png = dir / "shelf.png";
  const auto shot = testing::run(
      chromium(dir, {"--window-size=1100,900", "--screenshot=" + png.string(), url}), o);
  ASSERT_EQ(shot.status, 0) << shot.err;
  ASSERT_TRUE(fs::exists(png)) << shot.err;
  EXPECT_GT(fs::file_size(png), 10000u);
  EXPECT_EQ(testing::read_file(png).substr(1, 3), "PNG");
  if (const char* keep = std::getenv("PICLUSTER_SCREENSHOT_DIR");
      keep != nullptr && *keep != '\0') {
    fs::copy_file(png, fs::path(keep) / "shelf.png", fs::copy_options::overwrite_existing);
  }
}

}  // namespace
}  // namespace picluster::orchestrator::it
