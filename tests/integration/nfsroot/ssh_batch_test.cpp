// SshHost over a real sshd (tests/support's LoopbackSshd) whose root login shell has a noisy ~/.bashrc
// that sleeps 2 s (in a mount namespace of sshd's own; this machine's /root is untouched): the rc
// file's output never reaches a command, every operation of a connection goes through ONE channel
// (the persistent remote helper; picluster's counter and sshd's own LogLevel DEBUG log agree),
// a batch of any size is one round trip, hostile paths round-trip exactly, and an sshd killed in
// the middle of a batched write leaves every file old or new, never partial.

#include <gmock/gmock.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/text.hpp"
#include "nfsroot/local_host.hpp"
#include "nfsroot/ssh_host.hpp"
#include "tests/integration/nfsroot/helpers.hpp"
#include "tests/integration/nfsroot/loopback_target.hpp"
#include "tests/support/daemon.hpp"

namespace picluster::nfsroot {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

class SshBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = it::make_temp_dir("sshbatch");
    ASSERT_FALSE(m_dir.empty());
    m_sshd = std::make_unique<picluster::testing::LoopbackSshd>(
        fs::path(m_dir) / "sshd", picluster::testing::LoopbackSshdOptions{picluster::testing::kNoisySlowBashrc, true});
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
  // SIGKILL to the per-connection sshd processes (children of the listener this test started).
  void kill_sessions() {
    const std::string parent = std::to_string(m_sshd->pid());
    for (const auto& entry : fs::directory_iterator("/proc")) {
      const std::string pid = entry.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      const auto fields = split(it::slurp(entry.path().string() + "/stat"), ' ');
      if (fields.size() > 3 && fields[3] == parent) ::kill(std::stoi(pid), SIGKILL);
    }
  }

  std::string m_dir;
  std::unique_ptr<picluster::testing::LoopbackSshd> m_sshd;
  std::unique_ptr<SshHost> m_host;
};

TEST_F(SshBatchTest, TheLoginShellsRcOutputNeverReachesACommand) {
  // The rc file really runs (and prints) for every command sshd starts.
  const std::string probe = m_dir + "/probe";
  auto r = m_host->run({"sh", "-c", "printf 'out'; printf 'err' >&2; env > \"$1\"", "sh", probe}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->out, "out");
  EXPECT_EQ(r->err, "err");
  EXPECT_EQ(r->exit_status, 0);
  // env -i: nothing of the login shell's environment reaches the command.
  const std::string env = it::slurp(probe);
  EXPECT_THAT(env, ::testing::HasSubstr("PATH=/usr/local/sbin:"));
  EXPECT_THAT(env, ::testing::Not(::testing::HasSubstr("SSH_CLIENT")));
  it::spit(m_dir + "/f", "contents\n");
  auto snap = m_host->read_paths({{m_dir + "/f", true}});
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  EXPECT_EQ(snap->at(m_dir + "/f").contents, "contents\n");
}

TEST_F(SshBatchTest, ABatchOfAnySizeIsOneRoundTrip) {
  const int log_before = m_sshd->channels_opened();
  const auto before = m_host->round_trips();
  std::vector<FileWrite> writes{{m_dir + "/many", {}, 0755, std::nullopt, true}};
  std::vector<PathRead> reads;
  for (int i = 0; i < 300; ++i) {
    const std::string p = m_dir + "/many/f" + std::to_string(i);
    writes.push_back({p, "file " + std::to_string(i) + "\n", 0640, Owner{0, 0}, false});
    reads.push_back({p, true});
    reads.push_back({p + ".missing", false});
  }
  ASSERT_TRUE(m_host->write_files(writes).has_value());
  EXPECT_EQ(m_host->round_trips(), before + 1);
  auto snap = m_host->read_paths(reads);
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  EXPECT_EQ(m_host->round_trips(), before + 2);
  ASSERT_EQ(snap->size(), 300U);
  EXPECT_EQ(snap->at(m_dir + "/many/f299").contents, "file 299\n");
  EXPECT_EQ(snap->at(m_dir + "/many/f299").stat.mode, 0640U);
  auto listed = m_host->list_dirs({m_dir + "/many", m_dir + "/absent"});
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  EXPECT_EQ(listed->at(m_dir + "/many").size(), 300U);
  EXPECT_FALSE(listed->contains(m_dir + "/absent"));
  EXPECT_EQ(m_host->round_trips(), before + 3);
  // All through the one channel the connection's first operation opened; sshd's own count agrees
  // (its log is written as the channel opens; wait for the line).
  EXPECT_EQ(m_host->channels(), 1U);
  EXPECT_TRUE(picluster::testing::wait_until(
      [&] { return m_sshd->channels_opened() - log_before == 1; }, std::chrono::seconds(10)))
      << m_sshd->channels_opened() - log_before << " channels in sshd's log";
}

// Every kind of operation a verb does (run, the batches, stat, read, write, rename, list,
// remove, mkdir, a timed-out command killed) goes through the one channel: the rc file (which
// prints and sleeps 2 s) runs once, and nothing it prints reaches a result.
TEST_F(SshBatchTest, EveryOperationOfAConnectionSharesOneChannel) {
  ASSERT_EQ(m_sshd->channels_opened(), 0);
  const std::string dir = m_dir + "/ops";
  ASSERT_TRUE(m_host->make_dirs(dir + "/sub").has_value());
  ASSERT_TRUE(m_host->write_file(dir + "/sub/a", "alpha\n", 0600, Owner{0, 0}).has_value());
  EXPECT_EQ(*m_host->read_file(dir + "/sub/a"), "alpha\n");
  EXPECT_EQ(m_host->stat(dir + "/sub/a")->mode, 0600U);
  ASSERT_TRUE(m_host->rename(dir + "/sub/a", dir + "/sub/b").has_value());
  EXPECT_EQ(*m_host->list(dir + "/sub"), std::vector<std::string>{"b"});
  ASSERT_TRUE(m_host->write_files({{dir + "/sub/c", "gamma", 0644, std::nullopt, false}}).has_value());
  auto snap = m_host->read_paths({{dir + "/sub/b", true}, {dir + "/sub/c", true}});
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  EXPECT_EQ(snap->at(dir + "/sub/c").contents, "gamma");
  ASSERT_TRUE(m_host->remove(dir + "/sub/b").has_value());
  RunOptions quick;
  quick.timeout = std::chrono::milliseconds(300);
  auto slow = m_host->run({"sleep", "30"}, quick);
  ASSERT_FALSE(slow.has_value());
  EXPECT_EQ(slow.error().code, ErrorCode::timeout);
  EXPECT_THAT(slow.error().message, ::testing::HasSubstr("killed it"));
  RunOptions in;
  in.input = "stdin\n";
  auto r = m_host->run({"sh", "-c", "cat; echo err >&2; exit 3"}, in);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->out, "stdin\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_status, 3);
  EXPECT_EQ(m_host->channels(), 1U);
  EXPECT_EQ(m_host->round_trips(), 11U);
  EXPECT_EQ(m_sshd->channels_opened(), 1);
}

TEST_F(SshBatchTest, HostilePathsRoundTripExactly) {
  const std::string dir = m_dir + "/hostile";
  const std::vector<std::string> names = {"two words", "new\nline", "$(touch picluster-pwned)",
                                          "it's; `id`", "-rf", "back\\slash", "star*?[x]",
                                          "tab\there", "grüße ☃", std::string(150, 'L')};
  std::vector<FileWrite> writes{{dir + "/sub dir", {}, 0755, std::nullopt, true}};
  std::vector<PathRead> reads;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string p = dir + "/sub dir/" + names[i];
    writes.push_back({p, "bytes\0\n\xff "s + names[i], static_cast<unsigned>(0600 + i), Owner{0, 0}, false});
    reads.push_back({p, true});
  }
  auto written = m_host->write_files(writes);
  ASSERT_TRUE(written.has_value()) << written.error().message;
  auto snap = m_host->read_paths(reads);
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string p = dir + "/sub dir/" + names[i];
    ASSERT_TRUE(snap->contains(p)) << printable(p);
    EXPECT_EQ(snap->at(p).contents, "bytes\0\n\xff "s + names[i]) << printable(p);
    EXPECT_EQ(snap->at(p).stat.mode, 0600 + i) << printable(p);
    EXPECT_EQ(it::slurp(p), "bytes\0\n\xff "s + names[i]) << printable(p);
  }
  auto listed = m_host->list_dirs({dir + "/sub dir"});
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  auto expected = names;
  std::ranges::sort(expected);
  EXPECT_EQ(listed->at(dir + "/sub dir"), expected);
  // The single-path operations and run() through the helper: argv is exec'd, never parsed.
  for (const auto& name : names) {
    const std::string p = dir + "/sub dir/" + name;
    ASSERT_TRUE(m_host->write_file(p, "again " + name, 0640, Owner{0, 0}).has_value()) << printable(p);
    EXPECT_EQ(*m_host->read_file(p), "again " + name) << printable(p);
    EXPECT_EQ(m_host->stat(p)->mode, 0640U) << printable(p);
    ASSERT_TRUE(m_host->rename(p, p + " moved").has_value()) << printable(p);
    auto echoed = m_host->run({"cat", "--", p + " moved"}, {});
    ASSERT_TRUE(echoed.has_value()) << echoed.error().message;
    EXPECT_EQ(echoed->out, "again " + name) << printable(p);
  }
  auto args = m_host->run({"printf", "%s\\0", names[0], names[1], names[2], names[3], names[4]}, {});
  ASSERT_TRUE(args.has_value()) << args.error().message;
  EXPECT_EQ(args->out, names[0] + '\0' + names[1] + '\0' + names[2] + '\0' + names[3] + '\0' + names[4] + '\0');
  EXPECT_EQ(m_host->channels(), 1U);
  EXPECT_FALSE(fs::exists(fs::path(m_dir) / "sshd" / "home" / "picluster-pwned"));
}

// The helper's own file operations report failures with the operation and the path, a missing
// path as not_found (as LocalHost does), and the channel goes on serving.
TEST_F(SshBatchTest, FileOperationErrorsNameThePath) {
  const std::string missing = m_dir + "/no such";
  auto r = m_host->read_file(missing);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_THAT(r.error().message, ::testing::EndsWith("read " + missing + ": No such file or directory"));
  r = m_host->read_file(m_dir);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_THAT(r.error().message, ::testing::EndsWith("read " + m_dir + ": Is a directory"));
  auto w = m_host->write_files({{missing + "/f", "x", 0644, std::nullopt, false}});
  ASSERT_FALSE(w.has_value());
  EXPECT_THAT(w.error().message, ::testing::HasSubstr("create " + missing + "/.f.picluster-"));
  EXPECT_THAT(w.error().message, ::testing::EndsWith(": No such file or directory"));
  it::spit(m_dir + "/plain", "x");
  auto l = m_host->list(m_dir + "/plain");
  ASSERT_FALSE(l.has_value());
  EXPECT_THAT(l.error().message, ::testing::EndsWith("list " + m_dir + "/plain: Not a directory"));
  EXPECT_EQ(m_host->stat(missing)->type, FileType::none);
  EXPECT_TRUE(m_host->remove(missing).has_value());
  EXPECT_EQ(m_host->channels(), 1U);
}

TEST_F(SshBatchTest, SshdKilledMidWriteLeavesEachFileOldOrNew) {
  const std::string dir = m_dir + "/victim";
  fs::create_directories(dir);
  std::vector<FileWrite> writes;
  for (int i = 0; i < 40; ++i) {
    const std::string p = dir + "/f" + std::to_string(i);
    it::spit(p, "old " + std::to_string(i) + "\n");
    writes.push_back({p, std::string(512 * 1024, static_cast<char>('a' + i % 26)), 0644, Owner{0, 0}, false});
  }
  std::atomic<bool> done{false};
  Result<void> result;
  std::thread writer([&] {
    result = m_host->write_files(writes);
    done = true;
  });
  // Kill once the far side is part-way: some temporaries exist, not all the input has arrived.
  const bool started = picluster::testing::wait_until(
      [&] {
        for (const auto& e : fs::directory_iterator(dir)) {
          if (e.path().filename().string().find(".picluster-") != std::string::npos) return true;
        }
        return done.load();
      },
      std::chrono::seconds(30), std::chrono::milliseconds(1));
  kill_sessions();
  writer.join();
  ASSERT_TRUE(started);
  EXPECT_FALSE(result.has_value()) << "the write finished before the kill; nothing was tested";
  int old_count = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string text = it::slurp(dir + "/f" + std::to_string(i));
    const bool is_old = text == "old " + std::to_string(i) + "\n";
    const bool is_new = text == writes[static_cast<std::size_t>(i)].contents;
    EXPECT_TRUE(is_old || is_new) << "f" << i << " is partial (" << text.size() << " bytes)";
    old_count += is_old ? 1 : 0;
  }
  EXPECT_EQ(old_count, 40) << "renames happen only once every file is complete";
  // The far side discards its temporaries when its input ends.
  EXPECT_TRUE(picluster::testing::wait_until(
      [&] {
        for (const auto& e : fs::directory_iterator(dir)) {
          if (e.path().filename().string().find(".picluster-") != std::string::npos) return false;
        }
        return true;
      },
      std::chrono::seconds(10)));
}

}  // namespace
}  // namespace picluster::nfsroot
