// The chained path of Host::pipeline (issue 16's rebuild in three chains), over LocalHost and over
// a real sshd (tests/support's LoopbackSshd): a chain stops at its first failure (a command's
// non-zero exit, a failed file request), the requests after it are not carried out, the next
// unchained request starts a new chain; a rebuild whose chain fails in the middle (the golden
// image's host keys cannot be deleted) stops there, names the step, writes no ready marker and
// touches neither the live nor the previous root, and the next rebuild finishes; an sshd session
// SIGKILLed while a chained command runs carries out nothing after it. The kill tests
// (kill_test.cpp) use a before_step hook, which sends every action on its own: these do not.

#include <gmock/gmock.h>
#include <signal.h>

#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "common/text.hpp"
#include "nfsroot/local_host.hpp"
#include "nfsroot/root_manager.hpp"
#include "nfsroot/ssh_host.hpp"
#include "tests/integration/nfsroot/helpers.hpp"
#include "tests/integration/nfsroot/loopback_target.hpp"
#include "tests/support/daemon.hpp"

namespace picluster::nfsroot {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Kind = PipelineRequest::Kind;

PipelineRequest run_req(std::vector<std::string> argv, bool chained) {
  PipelineRequest r;
  r.kind = Kind::run;
  r.argv = std::move(argv);
  r.chained = chained;
  return r;
}

PipelineRequest write_req(const std::string& path, const std::string& contents, bool chained) {
  PipelineRequest r;
  r.kind = Kind::write_files;
  r.writes = {FileWrite{path, contents, 0644, std::nullopt, false}};
  r.chained = chained;
  return r;
}

PipelineRequest rename_req(const std::string& from, const std::string& to, bool chained) {
  PipelineRequest r;
  r.kind = Kind::rename;
  r.path = from;
  r.to = to;
  r.chained = chained;
  return r;
}

// Pids of every process below `root` (by ppid), `root` excluded.
std::set<int> descendants(int root) {
  std::map<int, int> parent;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = it::slurp(entry.path().string() + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    const auto fields = split(stat.substr(close + 2), ' ');
    if (fields.size() > 1) parent[std::stoi(pid)] = std::stoi(fields[1]);
  }
  std::set<int> out{root};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, ppid] : parent) {
      if (out.contains(ppid) && out.insert(pid).second) grew = true;
    }
  }
  out.erase(root);
  return out;
}

bool alive(int pid) {
  const std::string stat = it::slurp("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
}

class ChainTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || !it::have("rsync")) GTEST_SKIP() << "needs root and rsync";
    m_dir = it::make_temp_dir("chain");
    ASSERT_FALSE(m_dir.empty());
    if (GetParam() == "local") {
      m_host = std::make_unique<LocalHost>();
      return;
    }
    m_sshd = std::make_unique<picluster::testing::LoopbackSshd>(fs::path(m_dir) / "sshd");
    if (!m_sshd->ready()) GTEST_SKIP() << m_sshd->why_not();
    auto h = SshHost::connect(it::loopback_target(*m_sshd));
    ASSERT_TRUE(h.has_value()) << h.error().message;
    m_host = std::move(*h);
  }
  void TearDown() override {
    m_host.reset();
    m_sshd.reset();
    if (!m_dir.empty()) fs::remove_all(m_dir);
  }

  std::string m_dir;
  std::unique_ptr<picluster::testing::LoopbackSshd> m_sshd;
  std::unique_ptr<Host> m_host;
};

TEST_P(ChainTest, AChainStopsAtItsFirstFailureAndTheNextUnchainedRequestStartsAfresh) {
  const std::string log = m_dir + "/log";
  const auto append = [&log](const std::string& word) {
    return std::vector<std::string>{"sh", "-c", "echo \"$1\" >> \"$2\"", "sh", word, log};
  };
  std::vector<PipelineRequest> requests{
      run_req(append("a"), false),
      run_req({"sh", "-c", "exit 3"}, true),           // fails: the rest of this chain is skipped
      write_req(m_dir + "/marker", "m\n", true),
      run_req(append("c"), true),
      run_req(append("d"), false),                     // a new chain
      rename_req(m_dir + "/missing", m_dir + "/x", true),  // a failed file request
      run_req(append("e"), true),
      run_req(append("f"), false),
      [&] { auto r = run_req({"sh", "-c", "exit 4"}, true); r.tolerate = true; return r; }(),
      run_req(append("g"), true),                      // runs: the failure before it is tolerated
  };
  auto answers = m_host->pipeline(requests);
  ASSERT_TRUE(answers.has_value()) << answers.error().message;
  ASSERT_EQ(answers->size(), requests.size());
  const auto& a = *answers;
  EXPECT_FALSE(a[0].skipped);
  EXPECT_EQ(a[0].result.exit_status, 0);
  EXPECT_FALSE(a[1].skipped);
  EXPECT_EQ(a[1].result.exit_status, 3);
  EXPECT_TRUE(a[2].skipped);
  EXPECT_TRUE(a[3].skipped);
  EXPECT_FALSE(a[4].skipped);
  EXPECT_FALSE(a[5].skipped);
  ASSERT_TRUE(a[5].error.has_value());
  EXPECT_TRUE(a[6].skipped);
  EXPECT_FALSE(a[8].skipped);
  EXPECT_EQ(a[8].result.exit_status, 4);
  EXPECT_FALSE(a[9].skipped);
  EXPECT_FALSE(fs::exists(m_dir + "/marker"));
  EXPECT_EQ(it::slurp(log), "a\nd\nf\ng\n");
  // The connection is still in step after the skipped answers.
  auto after = m_host->run({"echo", "still"}, {});
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(after->out, "still\n");
}

// A rebuild over an existing live and previous root whose second chain fails at its first command
// (find cannot delete a non-empty folder named like a host key): ssh-keygen, du, the record, the
// stamp, the ready marker and the renames after it are not carried out, the error names the step,
// the live and previous roots are the old ones; once the golden image is fixed the next rebuild
// recovers the unfinished staging root and finishes to the new root.
TEST_P(ChainTest, ARebuildWhoseChainFailsMidwayStopsThereAndTheNextRebuildFinishes) {
  const std::string srv = m_dir + "/srv";
  it::make_golden(srv + "/golden-v1", 10, "v1");
  it::make_golden(srv + "/golden", 200, "v2");
  it::spit(srv + "/golden/etc/ssh/ssh_host_trap/inside", "not deletable by find -delete\n");
  fs::create_directories(srv + "/nfsroot");
  inventory::Shelf shelf;
  shelf.fileserver.nfs_root = srv + "/nfsroot";
  shelf.fileserver.golden_image = srv + "/golden-v1";
  shelf.fileserver.clone_method = inventory::CloneMethod::rsync;
  inventory::Pi pi;
  pi.name = "pi03";
  const std::vector<RenderedFile> files{{"etc/hostname", "pi03\n", 0644}};
  {
    RootManager roots(*m_host, shelf);
    for (int i = 0; i < 2; ++i) {  // a live and a previous root, both v1
      auto r = roots.rebuild(pi, files);
      ASSERT_TRUE(r.has_value()) << r.error().message;
    }
  }
  const std::string live = srv + "/nfsroot/pi03";
  const std::string previous = srv + "/nfsroot/.previous/pi03";
  const std::string staging = srv + "/nfsroot/.staging/pi03";
  const std::string old_key = it::slurp(live + "/etc/ssh/ssh_host_ed25519_key");
  const std::string old_record = it::slurp(live + "/.picluster-root");
  ASSERT_FALSE(old_key.empty());

  shelf.fileserver.golden_image = srv + "/golden";
  {
    RootManager roots(*m_host, shelf);
    auto r = roots.rebuild(pi, files);  // no before_step: the chained path
    ASSERT_FALSE(r.has_value());
    EXPECT_THAT(r.error().message, HasSubstr("install"));
    EXPECT_THAT(r.error().message, HasSubstr("delete the golden image's SSH host keys"));
    EXPECT_THAT(r.error().message, HasSubstr("ssh_host_trap"));
  }
  // The chain stopped at find: the staging root got its files but no new keys (ssh-keygen did not
  // run), no record (du did not run), no ready marker; nothing was renamed.
  EXPECT_EQ(it::slurp(staging + "/etc/version"), "v2");
  EXPECT_EQ(it::slurp(staging + "/etc/hostname"), "pi03\n");
  EXPECT_FALSE(fs::exists(staging + "/etc/ssh/ssh_host_ed25519_key"));
  EXPECT_FALSE(fs::exists(staging + "/etc/ssh/ssh_host_ecdsa_key"));
  EXPECT_FALSE(fs::exists(staging + "/.picluster-root"));
  EXPECT_FALSE(fs::exists(srv + "/nfsroot/.staging/pi03.ready"));
  EXPECT_EQ(it::slurp(live + "/etc/version"), "v1");
  EXPECT_EQ(it::slurp(live + "/etc/ssh/ssh_host_ed25519_key"), old_key);
  EXPECT_EQ(it::slurp(live + "/.picluster-root"), old_record);
  EXPECT_EQ(it::slurp(previous + "/etc/version"), "v1");
  EXPECT_FALSE(fs::exists(srv + "/nfsroot/.trash/pi03"));

  fs::remove_all(srv + "/golden/etc/ssh/ssh_host_trap");
  {
    RootManager roots(*m_host, shelf);
    auto r = roots.rebuild(pi, files);
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  EXPECT_EQ(it::slurp(live + "/etc/version"), "v2");
  EXPECT_TRUE(fs::exists(live + "/usr/share/d1/f199"));
  EXPECT_EQ(it::slurp(live + "/etc/hostname"), "pi03\n");
  EXPECT_EQ(fs::file_size(live + "/etc/machine-id"), 0U);
  const std::string new_key = it::slurp(live + "/etc/ssh/ssh_host_ed25519_key");
  EXPECT_FALSE(new_key.empty());
  EXPECT_NE(new_key, old_key);
  EXPECT_NE(new_key, "GOLDEN-KEY\n");
  EXPECT_THAT(it::slurp(live + "/.picluster-root"), HasSubstr("golden=" + srv + "/golden"));
  EXPECT_EQ(it::slurp(previous + "/etc/version"), "v1");
  EXPECT_TRUE(fs::is_empty(srv + "/nfsroot/.staging"));
  EXPECT_FALSE(fs::exists(srv + "/nfsroot/.trash/pi03"));
}

INSTANTIATE_TEST_SUITE_P(Transports, ChainTest, ::testing::Values("local", "ssh"),
                         [](const auto& param_info) { return param_info.param; });

using ChainSshTest = ChainTest;

// The sshd session is SIGKILLed while the first command of a chain runs; that command then ends
// normally (exit 0). The helper must not carry out the requests queued after it: the chain's
// write and rename never happen.
TEST_P(ChainSshTest, ASessionKilledMidChainCarriesOutNothingAfterTheRunningCommand) {
  const std::string started = m_dir + "/started";
  const std::string go = m_dir + "/go";
  it::spit(m_dir + "/from", "from\n");
  std::vector<PipelineRequest> requests{
      run_req({"sh", "-c", "touch \"$1\"; while [ ! -e \"$2\" ]; do sleep 0.05; done", "sh", started, go}, false),
      write_req(m_dir + "/marker", "m\n", true),
      rename_req(m_dir + "/from", m_dir + "/to", true),
  };
  auto pipelined = std::async(std::launch::async, [&] { return m_host->pipeline(requests); });
  for (int i = 0; i < 600 && !fs::exists(started); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(started));
  const std::set<int> below = descendants(m_sshd->pid());  // the sessions, the helper, the command
  for (int pid : below) {
    if (it::slurp("/proc/" + std::to_string(pid) + "/comm").starts_with("sshd")) ::kill(pid, SIGKILL);
  }
  auto answers = pipelined.get();
  EXPECT_FALSE(answers.has_value());
  it::spit(go, "");  // the running command now ends with exit 0
  for (int i = 0; i < 600; ++i) {
    bool any = false;
    for (int pid : below) any = any || alive(pid);
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int pid : below) EXPECT_FALSE(alive(pid)) << "process " << pid << " outlived its session";
  EXPECT_FALSE(fs::exists(m_dir + "/marker"));
  EXPECT_TRUE(fs::exists(m_dir + "/from"));
  EXPECT_FALSE(fs::exists(m_dir + "/to"));
}

// A chained command that outlives its deadline fails the call, is killed on the fileserver (by
// the remote `timeout`: the helper's `k` request waits behind the chain's queued requests), and
// what is queued after it in the chain is not carried out.
TEST_P(ChainSshTest, ATimedOutCommandStopsItsChainAndIsKilled) {
  const std::string pid_file = m_dir + "/pid";
  auto slow = run_req({"sh", "-c", "echo $$ > \"$1\"; exec sleep 60", "sh", pid_file}, false);
  slow.options.timeout = std::chrono::seconds(1);
  slow.what = "slow step";
  std::vector<PipelineRequest> requests{slow, write_req(m_dir + "/marker", "m\n", true)};
  auto answers = m_host->pipeline(requests);
  ASSERT_FALSE(answers.has_value());
  EXPECT_EQ(answers.error().code, ErrorCode::timeout);
  EXPECT_THAT(answers.error().message, ::testing::StartsWith("slow step: "));
  const std::string pid = it::slurp(pid_file);
  ASSERT_FALSE(pid.empty());
  EXPECT_FALSE(alive(std::stoi(pid))) << "the timed-out command still runs";
  // The helper went on after the kill: let it reach the queued write if it were to do it.
  auto after = m_host->run({"true"}, {});
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_FALSE(fs::exists(m_dir + "/marker"));
}

INSTANTIATE_TEST_SUITE_P(Ssh, ChainSshTest, ::testing::Values("ssh"), [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace picluster::nfsroot
