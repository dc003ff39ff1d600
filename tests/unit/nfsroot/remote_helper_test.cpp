// The remote helper's protocol (nfsroot/remote_helper.hpp): requests as SshHost encodes them,
// answers split into frames after the start-up files' noise, and the helper script itself run
// through LocalHost (perl, no sshd), answering a run, a command that reads no input and a kill,
// and its file operations (nfsroot/remote_batch.hpp): the same facts LocalHost finds, hostile
// paths exactly, errors that name the path, and input cut short renaming nothing.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/text.hpp"
#include "nfsroot/local_host.hpp"
#include "nfsroot/remote_batch.hpp"
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
  EXPECT_EQ(encode_op({"stat", "/a b"}, 0), "f 2 0\n4\nstat4\n/a b");
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


namespace fs = std::filesystem;

struct Answer {
  std::string out;
  std::string err;
  int status = -1;  // -1: no exit frame (the helper ended first)
};

// Starts the helper under LocalHost (prefix: e.g. setpriv to run it as another user), feeds it
// `input` (requests) and splits its answer per request.
std::vector<Answer> serve(const std::string& input, std::vector<std::string> prefix = {}) {
  LocalHost local;
  RunOptions options;
  options.input = input;
  options.timeout = std::chrono::seconds(20);
  prefix.insert(prefix.end(), {"sh", "-c", helper_command_line("HELLO")});
  auto r = local.run(prefix, options);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  if (!r) return {};
  FrameReader reader("HELLO");
  reader.feed(r->out);
  EXPECT_TRUE(reader.started()) << printable(r->err);
  std::vector<Answer> answers(1);
  for (const auto& f : frames_of(reader)) {
    if (f.kind == 'o') answers.back().out += f.data;
    if (f.kind == 'e') answers.back().err += f.data;
    if (f.kind == 'x') {
      answers.back().status = f.status;
      answers.emplace_back();
    }
  }
  if (answers.back().status < 0 && answers.back().out.empty() && answers.back().err.empty()) answers.pop_back();
  return answers;
}

std::string op(const Request& r) { return encode_op(r.args, r.input.size()) + r.input; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class RemoteHelperFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/picluster-helperfiles-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    m_dir = tmpl;
  }
  void TearDown() override { fs::remove_all(m_dir); }
  std::string m_dir;
};

// Hostile names: spaces, newlines, shell metacharacters, a leading dash, bytes beyond ASCII.
const std::vector<std::string> kHostile = {"plain", "two words", "new\nline", "-rf", "it's $(x); `id`",
                                           "back\\slash|bar", "star*?[x]", "tab\there", "grüße ☃",
                                           std::string(140, 'n')};

// Written by the helper, read back by it and by LocalHost's own syscalls: the same facts, path
// for path, and the bytes on disk are exactly what was sent.
TEST_F(RemoteHelperFiles, AgreeWithLocalHostAndRoundTripHostilePathsExactly) {
  using namespace std::string_literals;
  const std::string d = m_dir + "/sub dir";
  std::vector<FileWrite> writes{{d, {}, 0755, std::nullopt, true}};
  for (std::size_t i = 0; i < kHostile.size(); ++i) {
    writes.push_back({d + "/" + kHostile[i], "x\0y\n"s + kHostile[i], static_cast<unsigned>(0640 + i), Owner{0, 0}, false});
  }
  std::vector<PathRead> reads{{d}, {d + "/link", true}, {m_dir + "/missing", true}, {d + "/plain", false},
                              {d + "/plain/under-a-file", false}};
  for (const auto& n : kHostile) reads.push_back({d + "/" + n, true});
  auto answers = serve(op(write_files_request(writes)));
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0].status, 0) << answers[0].err;
  fs::create_symlink("/etc/hostname", d + "/link");
  answers = serve(op(read_paths_request(reads)) + op(list_dirs_request({d, m_dir + "/missing", d + "/plain"})));
  ASSERT_EQ(answers.size(), 2U);
  ASSERT_EQ(answers[0].status, 0) << answers[0].err;
  auto helper = parse_read_paths(answers[0].out);
  ASSERT_TRUE(helper.has_value()) << helper.error().message;
  LocalHost local;
  auto native = local.read_paths(reads);
  ASSERT_TRUE(native.has_value()) << native.error().message;
  ASSERT_EQ(helper->size(), native->size());
  for (const auto& [path, facts] : *native) {
    ASSERT_TRUE(helper->contains(path)) << printable(path);
    const auto& other = helper->at(path);
    EXPECT_EQ(other.stat.type, facts.stat.type) << printable(path);
    EXPECT_EQ(other.stat.mode, facts.stat.mode) << printable(path);
    EXPECT_EQ(other.stat.size, facts.stat.size) << printable(path);
    EXPECT_EQ(other.stat.mtime, facts.stat.mtime) << printable(path);
    EXPECT_EQ(other.contents, facts.contents) << printable(path);
  }
  EXPECT_EQ(helper->at(d + "/link").stat.type, FileType::symlink);  // never followed
  EXPECT_FALSE(helper->at(d + "/link").contents.has_value());
  for (std::size_t i = 0; i < kHostile.size(); ++i) {
    EXPECT_EQ(slurp(d + "/" + kHostile[i]), "x\0y\n"s + kHostile[i]) << printable(kHostile[i]);
    EXPECT_EQ(helper->at(d + "/" + kHostile[i]).stat.mode, 0640 + i) << printable(kHostile[i]);
  }
  ASSERT_EQ(answers[1].status, 0) << answers[1].err;
  auto dirs = parse_list_dirs(answers[1].out);
  ASSERT_TRUE(dirs.has_value()) << dirs.error().message;
  EXPECT_EQ(dirs->size(), 1U);  // the missing folder and the file have no entry
  EXPECT_EQ(dirs->at(d), *local.list(d));
  EXPECT_THAT(dirs->at(d), ::testing::Contains("new\nline"));
}

// The single-path operations, pipelined: all requests sent at once, served in order.
TEST_F(RemoteHelperFiles, SinglePathOperationsInOneStream) {
  const std::string a = m_dir + "/" + kHostile[4];
  const std::string b = m_dir + "/deep/er/" + kHostile[2];
  std::string in = op({{"mkdir", m_dir + "/deep/er"}, {}});
  in += op(write_files_request({{a, "alpha", 0600, Owner{0, 0}, false}}));
  in += op({{"stat", a}, {}}) + op({{"read", a}, {}}) + op({{"rename", a, b}, {}});
  in += op({{"list", m_dir + "/deep/er"}, {}}) + op({{"remove", b}, {}}) + op({{"remove", b}, {}});
  in += op({{"stat", b}, {}}) + op({{"remove", m_dir + "/deep/er"}, {}});
  const auto answers = serve(in);
  ASSERT_EQ(answers.size(), 10U);
  for (const auto& x : answers) EXPECT_EQ(x.status, 0) << x.err;
  auto st = parse_stat(answers[2].out);
  ASSERT_TRUE(st.has_value()) << st.error().message;
  EXPECT_EQ(st->type, FileType::regular);
  EXPECT_EQ(st->mode, 0600U);
  EXPECT_EQ(st->size, 5U);
  EXPECT_EQ(answers[3].out, "alpha");
  EXPECT_EQ(parse_names(answers[5].out), std::vector<std::string>{kHostile[2]});
  EXPECT_EQ(parse_stat(answers[8].out)->type, FileType::none);  // removed (twice: no error)
  EXPECT_FALSE(fs::exists(m_dir + "/deep/er"));
  EXPECT_TRUE(fs::exists(m_dir + "/deep"));
}

// Failed operations answer with the operation and the path, status 44 for a missing one (not an
// error for stat and remove), and the helper serves the next request.
TEST_F(RemoteHelperFiles, ErrorsNameThePath) {
  const std::string file = m_dir + "/a file";
  std::ofstream(file) << "x";
  std::string in = op({{"read", m_dir + "/nope"}, {}}) + op({{"read", m_dir}, {}});
  in += op({{"rename", m_dir + "/nope", m_dir + "/b"}, {}}) + op({{"rename", file, "/dev/shm/picluster-exdev"}, {}});
  in += op({{"mkdir", file + "/sub"}, {}}) + op({{"list", file}, {}});
  in += op(write_files_request({{m_dir + "/no/such/folder/f", "x", 0644, std::nullopt, false}}));
  in += op({{"stat", file}, {}});
  const auto answers = serve(in);
  ASSERT_EQ(answers.size(), 8U);
  EXPECT_EQ(answers[0].status, kMissingStatus);
  EXPECT_EQ(answers[0].err, "read " + m_dir + "/nope: No such file or directory\n");
  EXPECT_EQ(answers[1].status, 1);
  EXPECT_EQ(answers[1].err, "read " + m_dir + ": Is a directory\n");
  EXPECT_EQ(answers[2].status, kMissingStatus);
  EXPECT_EQ(answers[2].err, "rename " + m_dir + "/nope: No such file or directory\n");
  EXPECT_EQ(answers[3].status, 1);
  EXPECT_THAT(answers[3].err, ::testing::HasSubstr("different filesystems or mounts; refusing to copy"));
  EXPECT_FALSE(fs::exists("/dev/shm/picluster-exdev"));
  EXPECT_EQ(answers[4].err, "create folder " + file + "/sub: " + file + " is not a folder\n");
  EXPECT_EQ(answers[5].err, "list " + file + ": Not a directory\n");
  EXPECT_THAT(answers[6].err, ::testing::StartsWith("create " + m_dir + "/no/such/folder/.f.picluster-"));
  EXPECT_THAT(answers[6].err, ::testing::EndsWith(": No such file or directory\n"));
  EXPECT_EQ(answers[7].status, 0);
  EXPECT_EQ(parse_stat(answers[7].out)->size, 1U);
}

// Permission denied as a user that may not read or enter: the error names the operation and path.
TEST_F(RemoteHelperFiles, PermissionDeniedNamesThePath) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the helper as nobody";
  ::chmod(m_dir.c_str(), 0755);
  const std::string secret = m_dir + "/secret";
  std::ofstream(secret) << "root only";
  ::chmod(secret.c_str(), 0600);
  fs::create_directory(m_dir + "/closed");
  std::ofstream(m_dir + "/closed/f") << "x";
  ::chmod((m_dir + "/closed").c_str(), 0700);
  std::string in = op({{"read", secret}, {}}) + op(read_paths_request({{secret, true}}));
  in += op({{"stat", m_dir + "/closed/f"}, {}}) + op(list_dirs_request({m_dir + "/closed"}));
  in += op(write_files_request({{secret, "mine", 0644, std::nullopt, false}}));
  const auto answers =
      serve(in, {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"});
  ASSERT_EQ(answers.size(), 5U);
  EXPECT_EQ(answers[0].err, "read " + secret + ": Permission denied\n");
  EXPECT_EQ(answers[1].err, "read " + secret + ": Permission denied\n");
  EXPECT_EQ(answers[2].err, "stat " + m_dir + "/closed/f: Permission denied\n");
  EXPECT_EQ(answers[3].err, "list " + m_dir + "/closed: Permission denied\n");
  EXPECT_THAT(answers[4].err, ::testing::StartsWith("create " + m_dir + "/.secret.picluster-"));
  EXPECT_THAT(answers[4].err, ::testing::EndsWith(": Permission denied\n"));
  for (const auto& x : answers) EXPECT_EQ(x.status, 1) << x.err;
  EXPECT_EQ(slurp(secret), "root only");
}

// A batched write whose input ends in the middle (the connection lost): every target keeps its old
// contents, the temporaries already staged are removed, and there is no answer.
TEST_F(RemoteHelperFiles, InputCutShortRenamesNothingAndLeavesNoTemporary) {
  std::vector<FileWrite> writes;
  for (int i = 0; i < 5; ++i) {
    const std::string p = m_dir + "/f" + std::to_string(i);
    std::ofstream(p) << "old";
    writes.push_back({p, std::string(100000, 'n'), 0644, std::nullopt, false});
  }
  const std::string whole = op(write_files_request(writes));
  for (const std::size_t cut : {whole.size() - 20, whole.size() / 2, std::size_t{40}}) {
    const auto answers = serve(whole.substr(0, cut));
    EXPECT_TRUE(answers.empty() || answers[0].status < 0) << "cut at " << cut;
    for (const auto& w : writes) EXPECT_EQ(slurp(w.path), "old") << w.path << ", cut at " << cut;
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(m_dir)) names.push_back(e.path().filename().string());
    EXPECT_EQ(names.size(), 5U) << "cut at " << cut << ": " << shell_join(names);
  }
  const auto answers = serve(whole);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0].status, 0) << answers[0].err;
  for (const auto& w : writes) EXPECT_EQ(slurp(w.path), w.contents);
}

// Chained requests (Host::pipeline): after a failure in the chain, the helper carries out none
// of the chained requests that follow (a rename, a write, a command: the fileserver stays as it
// was), answers each "skipped" and drops its input; an unchained request starts a new chain; a
// tolerated failure does not break it.
TEST_F(RemoteHelperFiles, AChainStopsAtItsFirstFailureAndAnUnchainedRequestStartsANewOne) {
  const std::string a = m_dir + "/a";
  const std::string marker = m_dir + "/ready";
  std::ofstream(a) << "x";
  std::string in = encode_op({"rename", m_dir + "/missing", m_dir + "/b"}, 0);              // fails: 44
  const auto write = write_files_request({{marker, "ready", 0644, std::nullopt, false}});
  in += encode_op(write.args, write.input.size(), "c") + write.input;                         // skipped
  in += encode_op({"rename", a, m_dir + "/moved"}, 0, "c");                                   // skipped
  in += encode_run({"touch", m_dir + "/ran"}, 3, "c") + "abc";                                // skipped
  in += encode_op({"stat", a}, 0);                                                             // a new chain
  in += encode_run({"false"}, 0, "ct");                                                        // tolerated
  in += encode_op({"rename", a, m_dir + "/moved"}, 0, "c");                                   // runs
  in += encode_run({"sh", "-c", "exit 3"}, 0, "c");                                           // fails
  in += encode_run({"touch", m_dir + "/ran"}, 0, "c");                                        // skipped
  const auto answers = serve(in);
  ASSERT_EQ(answers.size(), 9U);
  const std::vector<int> want{kMissingStatus, kSkippedStatus, kSkippedStatus, kSkippedStatus, 0, 1, 0, 3, kSkippedStatus};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(answers[i].status, want[i]) << i << ": " << answers[i].err;
  EXPECT_FALSE(fs::exists(marker));
  EXPECT_FALSE(fs::exists(m_dir + "/ran"));
  EXPECT_TRUE(fs::exists(m_dir + "/moved"));
  EXPECT_EQ(std::distance(fs::directory_iterator(m_dir), fs::directory_iterator()), 1);  // no temporary left
}

// read_children: a folder's entries and, inside each entry that is a folder, the asked paths with
// contents: the same snapshot as the default Host::read_children over LocalHost's syscalls.
TEST_F(RemoteHelperFiles, ReadChildrenAgreesWithTheSingleCalls) {
  const std::string d = m_dir + "/roots";
  fs::create_directories(d + "/pi01");
  fs::create_directories(d + "/" + kHostile[4]);
  fs::create_directories(d + "/.staging/pi02");
  std::ofstream(d + "/pi01/.rec") << "built=1\n";
  std::ofstream(d + "/loose file") << "x";
  fs::create_symlink("/etc", d + "/link");
  auto answers = serve(op(read_children_request(d, {".rec", "missing"})) +
                       op(read_children_request(m_dir + "/nowhere", {".rec"})));
  ASSERT_EQ(answers.size(), 2U);
  ASSERT_EQ(answers[0].status, 0) << answers[0].err;
  EXPECT_EQ(answers[1].status, 0) << answers[1].err;
  EXPECT_TRUE(answers[1].out.empty());
  auto helper = parse_read_paths(answers[0].out);
  ASSERT_TRUE(helper.has_value()) << helper.error().message;
  LocalHost local;
  auto native = local.read_children(d, {".rec", "missing"});
  ASSERT_TRUE(native.has_value()) << native.error().message;
  std::vector<std::string> keys, native_keys;
  for (const auto& [path, facts] : *helper) keys.push_back(path);
  for (const auto& [path, facts] : *native) native_keys.push_back(path);
  EXPECT_EQ(keys, native_keys);
  EXPECT_EQ(keys.size(), 6U);  // pi01, its record, the hostile folder, .staging, the file, the link
  EXPECT_EQ(helper->at(d + "/pi01/.rec").contents, std::optional<std::string>("built=1\n"));
  EXPECT_EQ(helper->at(d + "/link").stat.type, FileType::symlink);  // never followed into /etc
  EXPECT_FALSE(helper->contains(d + "/link/.rec"));
}

}  // namespace
}  // namespace picluster::nfsroot::remote
