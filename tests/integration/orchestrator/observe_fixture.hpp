#pragma once
// ObservedShelf: a TestShelf (switch simulator + this machine as fileserver) with four Pis added
// on ports 1-4 and `picluster watch --listen 127.0.0.1:0` running in the background, probing the
// Pis with an exec probe that reads marker files (NAME.down: the probe fails) and logs each call
// with its time (probe.log: "NAME SECONDS.NANOS"), so tests see the rounds.
#include <fcntl.h>
#include <sys/stat.h>

#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/orchestrator/shelf_fixture.hpp"
#include "tests/support/http.hpp"
#include "tests/support/shelf_page.hpp"

namespace picluster::orchestrator::it {

class ObservedShelf : public ::testing::Test {
 protected:
  static constexpr int kPorts = 8;
  std::unique_ptr<TestShelf> shelf;
  std::unique_ptr<testing::Daemon> watch;
  int http_port = 0;

  void SetUp() override {
    if (!fs::exists(testing::picluster_exe()) || !fs::exists(testing::switchsim_exe()))
      GTEST_SKIP() << "build picluster and picluster-switchsim";
    shelf = std::make_unique<TestShelf>(Transport::local, kPorts);
    ASSERT_TRUE(shelf->ready()) << shelf->why_not();
    for (int i = 1; i <= 4; ++i) {
      const auto r = shelf->add(i);
      ASSERT_EQ(r.status, 0) << TestShelf::describe({"add", pi_name(i)}, r);
    }
    const fs::path probe = shelf->dir() / "probe";
    testing::write_file(probe,
                        "#!/bin/sh\n"
                        "d='" +
                            shelf->dir().string() +
                            "'\n"
                            "echo \"$1 $(date +%s.%N)\" >> \"$d/probe.log\"\n"
                            "[ -e \"$d/$1.down\" ] && exit 1\n"
                            "exit 0\n");
    ::chmod(probe.c_str(), 0755);
  }

  // Starts watch with --listen on a free port; waits for its "serving" line and the first page.
  // A Pi is cycled after `failures` failed probes in a row.
  void start_watch(int failures = 2) {
    const std::vector<std::string> args{"watch",
                                        "--listen",
                                        "127.0.0.1:0",
                                        "--probe",
                                        "exec:" + (shelf->dir() / "probe").string(),
                                        "--interval",
                                        "1",
                                        "--failures",
                                        std::to_string(failures),
                                        "--backoff",
                                        "0"};
    watch = testing::Daemon::start(shelf->pic_argv(args), log_path());
    ASSERT_TRUE(watch);
    const std::regex serving("watch: serving http://127\\.0\\.0\\.1:(\\d+)/");
    std::smatch m;
    ASSERT_TRUE(testing::wait_until(
        [&] {
          const std::string log = testing::read_file(log_path());
          if (!std::regex_search(log, m, serving)) return false;
          http_port = std::stoi(m[1]);
          return true;
        },
        std::chrono::seconds(30)))
        << testing::read_file(log_path());
    ASSERT_TRUE(testing::wait_until([&] { return get("/metrics").status == 200; },
                                    std::chrono::seconds(60)))
        << testing::read_file(log_path());
  }

  [[nodiscard]] fs::path log_path() const { return shelf->dir() / "watch.log"; }
  [[nodiscard]] testing::HttpReply get(const std::string& path) const {
    return testing::http_request("127.0.0.1", http_port, path);
  }

  // The value of one sample of /metrics ("" when absent).
  [[nodiscard]] std::string sample(const std::string& family, const std::string& pi) const {
    const std::string body = get("/metrics").body;
    const int port = std::stoi(pi.substr(2));
    const std::string prefix =
        family + "{shelf=\"orchtest\",pi=\"" + pi + "\",port=\"" + std::to_string(port) + "\"} ";
    const auto at = body.find(prefix);
    if (at == std::string::npos) return "";
    return body.substr(at + prefix.size(), body.find('\n', at) - at - prefix.size());
  }

  // Waits (bounded) until the sample reads `value`; true when it did.
  bool wait_for_sample(const std::string& family, const std::string& pi,
                       const std::string& value) const {
    return testing::wait_until([&] { return sample(family, pi) == value; },
                               std::chrono::seconds(90), std::chrono::milliseconds(200));
  }

  // Times (seconds since the epoch) at which `pi` was probed, from probe.log.
  [[nodiscard]] std::vector<double> probe_times(const std::string& pi) const {
    std::vector<double> out;
    std::istringstream in(testing::read_file(shelf->dir() / "probe.log"));
    for (std::string name, when; in >> name >> when;) {
      if (name == pi) out.push_back(std::stod(when));
    }
    return out;
  }
};

}  // namespace picluster::orchestrator::it
