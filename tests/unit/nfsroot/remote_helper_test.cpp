// The remote helper's protocol (nfsroot/remote_helper.hpp): requests as SshHost encodes them,
// answers split into frames after the start-up files' noise, and the helper script itself run
// through LocalHost (perl, no sshd), answering a run, a command that reads no input and a kill.

#include <gtest/gtest.h>

#include "common/text.hpp"
#include "nfsroot/local_host.hpp"
#include "nfsroot/remote_helper.hpp"

namespace picluster::nfsroot::remote {
namespace {

using namespace std::string_literals;

std::vector<Frame> frames_of(FrameReader& reader) {
  std::vector<Frame> out;
  while (auto f = reader.next()) {
    EXPECT_TRUE(f->has_value()) << f->error().message;
    if (!*f) break;
    out.push_back(**f);
  }
  return out;
}

TEST(RemoteHelperProtocol, EncodesArgvByLengthSoAnyByteSurvives) {
  EXPECT_EQ(encode_run({"printf", "a\nb c", ""}, 5), "r 3 5\n6\nprintf5\na\nb c0\n");
}

TEST(RemoteHelperProtocol, SkipsTheRcFilesOutputUpToTheNonceAndSplitsFrames) {
  FrameReader reader("NONCE42");
  reader.feed("Welcome to pyenv\nNONCE4");
  EXPECT_FALSE(reader.started());
  EXPECT_FALSE(reader.next().has_value());
  reader.feed("2\no 3\nab");
  ASSERT_TRUE(reader.started());
  EXPECT_TRUE(frames_of(reader).empty());  // the stdout frame is not complete yet
  reader.feed("\ne 2\n\0!x 7\n"s);
  const auto frames = frames_of(reader);
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_EQ(frames[0].kind, 'o');
  EXPECT_EQ(frames[0].data, "ab\n");
  EXPECT_EQ(frames[1].data, "\0!"s);
  EXPECT_EQ(frames[2].kind, 'x');
  EXPECT_EQ(frames[2].status, 7);
}

TEST(RemoteHelperProtocol, AMalformedFrameIsAnError) {
  FrameReader reader("N");
  reader.feed("N\nq 1\nz");
  auto f = reader.next();
  ASSERT_TRUE(f.has_value());
  ASSERT_FALSE(f->has_value());
  EXPECT_NE(f->error().message.find("malformed frame"), std::string::npos);
}

// The helper script under a local shell, fed three requests at once (it serves them in order).
TEST(RemoteHelperScript, RunsRequestsInOrderAndKillsOnRequest) {
  LocalHost local;
  std::string input = encode_run({"sh", "-c", "cat; echo to-err >&2; exit 5"}, 6) + "input!";
  input += encode_run({"true"}, 70000) + std::string(70000, 'x');  // never read by `true`
  input += encode_run({"sh", "-c", "sleep 30 & wait"}, 0) + "k\n";
  input += encode_run({"/nonexistent/program"}, 0);
  RunOptions options;
  options.input = input;
  options.timeout = std::chrono::seconds(20);
  auto r = local.run({"sh", "-c", helper_command_line("HELLO")}, options);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  FrameReader reader("HELLO");
  reader.feed(r->out);
  ASSERT_TRUE(reader.started());
  std::vector<std::pair<std::string, std::string>> answers(1);  // stdout, stderr per request
  std::vector<int> statuses;
  for (const auto& f : frames_of(reader)) {
    if (f.kind == 'o') answers.back().first += f.data;
    if (f.kind == 'e') answers.back().second += f.data;
    if (f.kind == 'x') {
      statuses.push_back(f.status);
      answers.emplace_back();
    }
  }
  ASSERT_EQ(statuses, (std::vector<int>{5, 0, 137, 127})) << printable(r->out) << printable(r->err);
  EXPECT_EQ(answers[0].first, "input!");
  EXPECT_EQ(answers[0].second, "to-err\n");
  EXPECT_NE(answers[3].second.find("/nonexistent/program"), std::string::npos);
}

}  // namespace
}  // namespace picluster::nfsroot::remote
