// RootManager against the recording fake: clone per method, the rebuild state machine with an
// interruption at every effectful call, rollback, remove order and symlink-escape refusal.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nfsroot/root_manager.hpp"
#include "tests/unit/nfsroot/fake_host.hpp"
#include "tests/unit/nfsroot/test_shelf.hpp"

namespace picluster::nfsroot {
namespace {

using testing::FakeHost;
using ::testing::HasSubstr;

const std::string kGolden = "/srv/golden/raspios";
const std::string kLive = "/srv/nfsroot/pi01";

void make_golden(FakeHost& h, const std::string& version) {
  h.file(kGolden + "/etc/hostname", "raspberrypi\n");
  h.file(kGolden + "/etc/version", version);
  h.file(kGolden + "/etc/machine-id", "0123456789abcdef\n", 0444);
  h.file(kGolden + "/etc/ssh/ssh_host_ed25519_key", "GOLDEN-KEY", 0600);
  h.file(kGolden + "/etc/ssh/sshd_config", "PermitRootLogin no\n");
  h.file(kGolden + "/usr/bin/true", "ELF");
  h.dir("/srv/nfsroot");
}

std::vector<RenderedFile> pi_files(const std::string& tag = "pi01") {
  return {{"etc/hostname", tag + "\n", 0644}, {"etc/network/interfaces", "auto lo\n", 0644}};
}

TEST(RootManager, ProvisionClonesInstallsFilesAndResetsIdentity) {
  FakeHost h;
  make_golden(h, "v1");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  auto r = roots.provision(shelf.pis[0], pi_files());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->method, CloneMethod::rsync);
  const auto live = h.tree(kLive);
  EXPECT_EQ(live.at("etc/hostname"), "pi01\n");
  EXPECT_EQ(live.at("etc/network/interfaces"), "auto lo\n");
  EXPECT_EQ(live.at("etc/version"), "v1");
  EXPECT_EQ(live.at("etc/machine-id"), "");
  EXPECT_EQ(live.at("etc/ssh/sshd_config"), "PermitRootLogin no\n");
  EXPECT_THAT(live.at("etc/ssh/ssh_host_ed25519_key"), HasSubstr("new-ed25519"));
  EXPECT_EQ(h.fs.at(kLive + "/etc/ssh/ssh_host_ed25519_key").mode, 0600U);
  EXPECT_EQ(h.names_under("/srv/nfsroot/.staging"), std::vector<std::string>{});
  // The golden image itself is untouched.
  EXPECT_EQ(h.tree(kGolden).at("etc/ssh/ssh_host_ed25519_key"), "GOLDEN-KEY");
}

TEST(RootManager, TheCopyAndTheRemovalOfALeftoverStagingCopyHoldThePisLock) {
  FakeHost h;
  make_golden(h, "v1");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  h.file("/srv/nfsroot/.staging/pi01/etc/version", "half");  // left by a killed run
  auto r = roots.provision(shelf.pis[0], pi_files());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  // The wait before looking at the leftover, its removal and the new copy ran under flock on the
  // same lock file.
  EXPECT_EQ(h.locks, (std::vector<std::string>(3, "/srv/nfsroot/.locks/pi01")));
  EXPECT_EQ(h.tree(kLive).at("etc/version"), "v1");
}

TEST(RootManager, ALeftoverCopyStillHoldingTheLockIsWaitedForThenReported) {
  FakeHost h;
  make_golden(h, "v1");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  h.file("/srv/nfsroot/.staging/pi01/etc/version", "half");
  h.held.insert("/srv/nfsroot/.locks/pi01");  // an orphaned cp/rsync of a killed run still runs
  auto r = roots.provision(shelf.pis[0], pi_files());
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("pi01: recover-staging: remove /srv/nfsroot/.staging/pi01"));
  EXPECT_THAT(r.error().message, HasSubstr("still holds /srv/nfsroot/.locks/pi01"));
  EXPECT_THAT(r.error().message, HasSubstr("fuser -v"));
  // Nothing was removed under the running copy's feet, and no new copy started.
  EXPECT_EQ(h.tree("/srv/nfsroot/.staging/pi01").at("etc/version"), "half");
  EXPECT_FALSE(h.exists(kLive));
}

TEST(RootManager, TwoPisNeverShareHostKeys) {
  FakeHost h;
  make_golden(h, "v1");
  auto shelf = testing::test_shelf();
  auto pi2 = shelf.pis[0];
  pi2.name = "pi02";
  shelf.pis.push_back(pi2);
  RootManager roots(h, shelf);
  ASSERT_TRUE(roots.provision(shelf.pis[0], pi_files()).has_value());
  ASSERT_TRUE(roots.provision(shelf.pis[1], pi_files("pi02")).has_value());
  EXPECT_NE(h.tree(kLive).at("etc/ssh/ssh_host_ed25519_key"),
            h.tree("/srv/nfsroot/pi02").at("etc/ssh/ssh_host_ed25519_key"));
}

TEST(RootManager, ProvisionLeavesAnExistingRootAlone) {
  FakeHost h;
  make_golden(h, "v1");
  h.file(kLive + "/etc/version", "mine");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  auto r = roots.provision(shelf.pis[0], pi_files());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->reason, "already provisioned");
  EXPECT_EQ(h.tree(kLive).at("etc/version"), "mine");
}

struct MethodCase {
  std::string fs;
  bool subvolume;
  std::string xfs_info;
  CloneMethod expected;
  std::vector<std::string> argv_head;
};

class CloneMethods : public ::testing::TestWithParam<MethodCase> {};

TEST_P(CloneMethods, AutoPicksTheFastestAndClonesWithIt) {
  const auto& c = GetParam();
  FakeHost h;
  make_golden(h, "v1");
  h.fs_type["/srv"] = c.fs;
  if (c.subvolume) h.subvolumes.insert(kGolden);
  h.xfs_info_output = c.xfs_info;
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  auto r = roots.rebuild(shelf.pis[0], pi_files());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->method, c.expected) << r->reason;
  bool found = false;
  for (const auto& argv : h.commands) {
    if (argv.size() >= c.argv_head.size() && std::equal(c.argv_head.begin(), c.argv_head.end(), argv.begin())) found = true;
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(h.tree(kLive).at("etc/hostname"), "pi01\n");
}

INSTANTIATE_TEST_SUITE_P(
    All, CloneMethods,
    ::testing::Values(
        MethodCase{"btrfs", true, "", CloneMethod::btrfs_snapshot, {"btrfs", "subvolume", "snapshot", kGolden}},
        MethodCase{"btrfs", false, "", CloneMethod::reflink, {"cp", "-a", "--reflink=always", "--", kGolden}},
        MethodCase{"xfs", false, "meta-data=/dev/loop0 crc=1 finobt=1, reflink=1\n", CloneMethod::reflink,
                   {"cp", "-a", "--reflink=always"}},
        MethodCase{"xfs", false, "meta-data=/dev/loop0 reflink=0\n", CloneMethod::rsync, {"rsync", "-aHAXx", "--numeric-ids"}},
        MethodCase{"ext2/ext3", false, "", CloneMethod::rsync, {"rsync", "-aHAXx", "--numeric-ids"}}),
    [](const ::testing::TestParamInfo<MethodCase>& param_info) {
      std::string name = param_info.param.fs == "ext2/ext3" ? "ext4" : param_info.param.fs;
      if (param_info.param.subvolume) name += "_subvolume";
      if (param_info.param.xfs_info.find("reflink=1") != std::string::npos) name += "_reflink";
      if (param_info.param.xfs_info.find("reflink=0") != std::string::npos) name += "_no_reflink";
      return name;
    });

TEST(RootManager, AutoCopiesWithRsyncWhenGoldenAndRootsAreOnDifferentFilesystemsOfOneType) {
  for (const std::string type : {"btrfs", "xfs"}) {
    FakeHost h;
    make_golden(h, "v1");
    h.fs_type["/srv"] = type;
    h.subvolumes.insert(kGolden);
    h.xfs_info_output = "meta-data=/dev/vdc reflink=1\n";
    h.fs_source["/srv/golden"] = "/dev/vdc";
    h.fs_source["/srv/nfsroot"] = "/dev/vdb";
    const auto shelf = testing::test_shelf();
    RootManager roots(h, shelf);
    auto r = roots.rebuild(shelf.pis[0], pi_files());
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->method, CloneMethod::rsync) << type;
    EXPECT_EQ(r->reason, "golden image (/dev/vdc) and nfs_root (/dev/vdb) are on different " + type + " filesystems");
    EXPECT_EQ(h.tree(kLive).at("etc/version"), "v1");
  }
}

TEST(RootManager, ExplicitMethodIsUsedAsIsAndItsFailureIsReported) {
  FakeHost h;
  make_golden(h, "v1");
  auto shelf = testing::test_shelf();
  shelf.fileserver.clone_method = CloneMethod::btrfs_snapshot;  // golden is not a subvolume
  RootManager roots(h, shelf);
  auto r = roots.rebuild(shelf.pis[0], pi_files());
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("pi01: rebuild: clone: 'btrfs' 'subvolume' 'snapshot'"));
  EXPECT_THAT(r.error().message, HasSubstr("Not a Btrfs subvolume"));
  EXPECT_FALSE(h.exists(kLive));
}

TEST(RootManager, RebuildKeepsThePreviousRootAndRollbackSwapsBack) {
  FakeHost h;
  make_golden(h, "v1");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  ASSERT_TRUE(roots.provision(shelf.pis[0], pi_files()).has_value());
  h.file(kGolden + "/etc/version", "v2");
  ASSERT_TRUE(roots.rebuild(shelf.pis[0], pi_files()).has_value());
  EXPECT_EQ(h.tree(kLive).at("etc/version"), "v2");
  EXPECT_EQ(h.tree("/srv/nfsroot/.previous/pi01").at("etc/version"), "v1");

  ASSERT_TRUE(roots.rollback("pi01").has_value());
  EXPECT_EQ(h.tree(kLive).at("etc/version"), "v1");
  EXPECT_EQ(h.tree("/srv/nfsroot/.previous/pi01").at("etc/version"), "v2");
  ASSERT_TRUE(roots.rollback("pi01").has_value());
  EXPECT_EQ(h.tree(kLive).at("etc/version"), "v2");
}

TEST(RootManager, RollbackWithoutAPreviousRootSaysSo) {
  FakeHost h;
  make_golden(h, "v1");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  ASSERT_TRUE(roots.provision(shelf.pis[0], pi_files()).has_value());
  auto r = roots.rollback("pi01");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_EQ(r.error().message, "pi01: rollback: pi01: no previous root to roll back to "
                               "(/srv/nfsroot/.previous/pi01 does not exist)");
}

// The heart of atomic rebuild: crash after every possible number of effectful calls; the live
// root must then be wholly v1 or wholly v2, and a clean run afterwards must finish with v2 live,
// v1 as previous and no leftovers.
TEST(RootManager, RebuildInterruptedAtEveryPointLeavesOldOrNewAndNextRunFinishes) {
  const auto shelf = testing::test_shelf();
  FakeHost reference;
  make_golden(reference, "v1");
  {
    RootManager roots(reference, shelf);
    ASSERT_TRUE(roots.provision(shelf.pis[0], pi_files()).has_value());
    reference.file(kGolden + "/etc/version", "v2");
    // Build a v0 previous as well so the retire steps are exercised.
    ASSERT_TRUE(roots.rebuild(shelf.pis[0], pi_files()).has_value());
    ASSERT_TRUE(roots.rollback("pi01").has_value());  // live v1, previous v2
  }
  const auto old_tree = reference.tree(kLive);
  ASSERT_EQ(old_tree.at("etc/version"), "v1");
  reference.file(kGolden + "/etc/version", "v3");

  int completed_at = -1;
  for (int budget = 0; budget < 200 && completed_at < 0; ++budget) {
    FakeHost h = reference;
    RootManager roots(h, shelf);
    h.crash_after(budget);
    auto r = roots.rebuild(shelf.pis[0], pi_files());
    if (r.has_value()) {
      completed_at = budget;
    } else {
      EXPECT_THAT(r.error().message, HasSubstr("connection lost")) << budget;
    }
    h.no_crash();
    const auto live = h.tree(kLive);
    const auto is_new = [](const std::map<std::string, std::string>& t) {
      return t.contains("etc/version") && t.at("etc/version") == "v3" && t.at("etc/machine-id").empty() &&
             t.at("etc/hostname") == "pi01\n" && t.at("etc/ssh/ssh_host_ed25519_key").starts_with("new-");
    };
    if (live.empty()) {
      // Between swap-out and swap-in: the complete new root waits at its known path.
      EXPECT_TRUE(h.exists("/srv/nfsroot/.staging/pi01.ready")) << "budget " << budget;
      EXPECT_TRUE(is_new(h.tree("/srv/nfsroot/.staging/pi01"))) << "budget " << budget;
    } else {
      EXPECT_TRUE(live == old_tree || is_new(live)) << "budget " << budget << ": a mix";
    }
    // The next run finishes cleanly.
    auto again = roots.rebuild(shelf.pis[0], pi_files());
    ASSERT_TRUE(again.has_value()) << "budget " << budget << ": " << again.error().message;
    EXPECT_EQ(h.tree(kLive).at("etc/version"), "v3") << budget;
    EXPECT_EQ(h.names_under("/srv/nfsroot/.staging"), std::vector<std::string>{}) << budget;
    EXPECT_FALSE(h.exists("/srv/nfsroot/.trash/pi01")) << budget;
    EXPECT_TRUE(h.exists("/srv/nfsroot/.previous/pi01")) << budget;
  }
  EXPECT_GT(completed_at, 10);  // there were many interruption points
}

// The rebuild's chained path (no before_step: three Host::pipeline chains) under a transient
// failure of each effectful call in turn (the call fails once, everything after it would work):
// nothing is carried out after the failed call, the error names the step the failed call belongs
// to, a ready marker exists only beside a complete new staging root, the live root is old or new,
// and the next run finishes.
TEST(RootManager, RebuildWithAFailureAtEveryPointStopsThereNamesTheStepAndNextRunFinishes) {
  const auto shelf = testing::test_shelf();
  FakeHost reference;
  make_golden(reference, "v1");
  {
    RootManager roots(reference, shelf);
    ASSERT_TRUE(roots.provision(shelf.pis[0], pi_files()).has_value());
    reference.file(kGolden + "/etc/version", "v2");
    ASSERT_TRUE(roots.rebuild(shelf.pis[0], pi_files()).has_value());  // live v2, previous v1
  }
  const auto old_tree = reference.tree(kLive);
  reference.file(kGolden + "/etc/version", "v3");
  const auto is_new = [](const std::map<std::string, std::string>& t) {
    return t.contains("etc/version") && t.at("etc/version") == "v3" && t.at("etc/machine-id").empty() &&
           t.at("etc/hostname") == "pi01\n" && t.contains("etc/ssh/ssh_host_ed25519_key") &&
           t.at("etc/ssh/ssh_host_ed25519_key").starts_with("new-") && t.contains(".picluster-root");
  };
  // The step an effectful call of the rebuild belongs to (plan_rebuild's step names).
  const auto step_of = [](const std::string& call) -> std::string {
    const std::string staging = "/srv/nfsroot/.staging/pi01";
    if (call == "mkdir /srv/nfsroot/.staging" || call.starts_with("mkdir /srv/nfsroot/.locks") ||
        call.starts_with("'flock' ")) {
      return "clone";
    }
    if (call.starts_with("write " + staging + ".ready")) return "ready";
    if (call.starts_with("write " + staging + "/") || call.starts_with("mkdir " + staging + "/") ||
        call.starts_with("'find' ") || call.starts_with("'ssh-keygen' ") || call.starts_with("'du' ") ||
        call.starts_with("'touch' ")) {
      return "install";
    }
    if (call == "mkdir /srv/nfsroot/.trash" || call.starts_with("rename /srv/nfsroot/.previous/pi01 ")) return "retire";
    if (call == "mkdir /srv/nfsroot/.previous" || call.starts_with("rename /srv/nfsroot/pi01 ")) return "swap-out";
    if (call.starts_with("rename " + staging + " ")) return "swap-in";
    if (call.starts_with("remove ") || call.starts_with("'rm' ")) return "cleanup";
    return "unknown step of " + call;
  };
  int completed_at = -1;
  for (int at = 0; at < 200 && completed_at < 0; ++at) {
    FakeHost h = reference;
    RootManager roots(h, shelf);
    // The clone-method probe (read-only, tolerant of failures) is done by planning, first.
    ASSERT_TRUE(roots.plan_rebuild(shelf.pis[0], pi_files()).has_value());
    const std::size_t before = h.log.size();
    h.fail_once_at(h.effectful_calls() + at);
    auto r = roots.rebuild(shelf.pis[0], pi_files());
    if (r.has_value()) {
      completed_at = at;
      break;
    }
    const std::size_t failed_index = before + static_cast<std::size_t>(at);
    ASSERT_EQ(h.log.size(), failed_index + 1)
        << "failure at " << at << " (" << (h.log.size() > failed_index ? h.log[failed_index] : "?")
        << "): the rebuild went on after it: " << h.log.back();
    const std::string failed = h.log.back();
    EXPECT_THAT(r.error().message, HasSubstr("pi01: rebuild: " + step_of(failed) + ": ")) << failed;
    EXPECT_THAT(r.error().message, HasSubstr("injected failure")) << failed;
    const bool ready = h.exists("/srv/nfsroot/.staging/pi01.ready");
    // A ready marker is beside a complete new staging root, or (after swap-in) the new root is live.
    if (ready && !h.exists("/srv/nfsroot/.staging/pi01")) {
      EXPECT_TRUE(is_new(h.tree(kLive))) << "a ready marker without its root: " << failed;
    } else if (ready) {
      EXPECT_TRUE(is_new(h.tree("/srv/nfsroot/.staging/pi01")))
          << "a ready marker beside an incomplete root: " << failed << "\n"
          << ::testing::PrintToString(h.tree("/srv/nfsroot/.staging/pi01"));
    }
    const auto live = h.tree(kLive);
    if (live.empty()) {
      EXPECT_TRUE(ready) << failed;
    } else {
      EXPECT_TRUE(live == old_tree || is_new(live)) << "a mix after " << failed;
    }
    auto again = roots.rebuild(shelf.pis[0], pi_files());
    ASSERT_TRUE(again.has_value()) << failed << ": " << again.error().message;
    EXPECT_TRUE(is_new(h.tree(kLive))) << failed;
    EXPECT_EQ(h.names_under("/srv/nfsroot/.staging"), std::vector<std::string>{}) << failed;
    EXPECT_FALSE(h.exists("/srv/nfsroot/.trash/pi01")) << failed;
    EXPECT_TRUE(h.exists("/srv/nfsroot/.previous/pi01")) << failed;
  }
  EXPECT_GT(completed_at, 10);
}

// An error of a whole Host::pipeline call (a lost connection, a command that cannot start or
// times out) is named by the step of the request it met, not by the first step of the chain.
TEST(Execute, AnErrorOfThePipelineCallNamesTheStepOfTheRequestItMet) {
  FakeHost h;
  h.dir("/srv");
  Action write;
  write.kind = ActionKind::write_file;
  write.step = "first";
  write.path = "/srv/a";
  Action rename;
  rename.kind = ActionKind::rename;
  rename.step = "second";
  rename.path = "/srv/a";
  rename.to = "/srv/b";
  Action run;
  run.step = "third";
  run.argv = {"true"};
  h.crash_after(2);  // the write and the rename are done; the command meets a lost connection
  auto r = execute(h, {write, rename, run}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, ::testing::StartsWith("third: connection lost"));
  EXPECT_EQ(h.log, (std::vector<std::string>{"write /srv/a", "rename /srv/a /srv/b"}));
}

TEST(RootManager, RollbackInterruptedAtEveryPointIsRecovered) {
  const auto shelf = testing::test_shelf();
  FakeHost reference;
  make_golden(reference, "v1");
  {
    RootManager roots(reference, shelf);
    ASSERT_TRUE(roots.provision(shelf.pis[0], pi_files()).has_value());
    reference.file(kGolden + "/etc/version", "v2");
    ASSERT_TRUE(roots.rebuild(shelf.pis[0], pi_files()).has_value());
  }
  for (int budget = 0; budget < 10; ++budget) {
    FakeHost h = reference;
    RootManager roots(h, shelf);
    h.crash_after(budget);
    const bool done = roots.rollback("pi01").has_value();
    h.no_crash();
    ASSERT_TRUE(roots.recover().has_value()) << budget;
    const auto live = h.tree(kLive).at("etc/version");
    const auto prev = h.tree("/srv/nfsroot/.previous/pi01").at("etc/version");
    EXPECT_TRUE((live == "v1" && prev == "v2") || (live == "v2" && prev == "v1")) << budget;
    if (done) {
      EXPECT_EQ(live, "v1");
    }
    EXPECT_FALSE(h.exists("/srv/nfsroot/.rollback/pi01")) << budget;
  }
}

TEST(RootManager, RemoveUnexportsFirstThenDeletes) {
  FakeHost h;
  make_golden(h, "v1");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  ASSERT_TRUE(roots.provision(shelf.pis[0], pi_files()).has_value());
  ASSERT_TRUE(roots.rebuild(shelf.pis[0], pi_files()).has_value());
  h.log.clear();
  ASSERT_TRUE(roots.remove(shelf.pis[0], false).has_value());
  ASSERT_FALSE(h.log.empty());
  EXPECT_EQ(h.log.front(), "'exportfs' '-u' '172.30.0.2:/srv/nfsroot/pi01'");
  EXPECT_FALSE(h.exists(kLive));
  EXPECT_FALSE(h.exists("/srv/nfsroot/.previous/pi01"));
}

// Issue 13: an interrupted remove and its rerun never interleave. Every deletion (and the archive
// rename) holds the Pi's lock, as the clone does; the lock file itself goes last.
TEST(RootManager, RemoveDeletesEveryTreeUnderThePisLock) {
  FakeHost h;
  make_golden(h, "v1");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  ASSERT_TRUE(roots.provision(shelf.pis[0], pi_files()).has_value());
  ASSERT_TRUE(roots.rebuild(shelf.pis[0], pi_files()).has_value());  // a previous root too
  auto plan = roots.plan_remove(shelf.pis[0], false);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  int locked_removals = 0;
  for (const auto& a : *plan) {
    if (a.kind == ActionKind::remove_tree) {
      EXPECT_EQ(a.lock, "/srv/nfsroot/.locks/pi01") << a.path;
      ++locked_removals;
    }
  }
  EXPECT_EQ(locked_removals, 2);  // previous and live
  ASSERT_FALSE(plan->empty());
  EXPECT_EQ(plan->back().kind, ActionKind::remove_file);
  EXPECT_EQ(plan->back().path, "/srv/nfsroot/.locks/pi01");
  // A removal orphaned by a killed run still holds the lock: the rerun waits, deletes nothing.
  h.held.insert("/srv/nfsroot/.locks/pi01");
  auto r = roots.remove(shelf.pis[0], false);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("still holds /srv/nfsroot/.locks/pi01"));
  EXPECT_TRUE(h.exists(kLive));
  h.held.clear();
  ASSERT_TRUE(roots.remove(shelf.pis[0], false).has_value());
  EXPECT_FALSE(h.exists(kLive));
  EXPECT_FALSE(h.exists("/srv/nfsroot/.locks/pi01"));
}

TEST(RootManager, RemoveWithKeepArchivesTheLiveRoot) {
  FakeHost h;
  make_golden(h, "v1");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  ASSERT_TRUE(roots.provision(shelf.pis[0], pi_files()).has_value());
  ASSERT_TRUE(roots.remove(shelf.pis[0], true).has_value());
  EXPECT_FALSE(h.exists(kLive));
  const auto archived = h.names_under("/srv/nfsroot/.archive");
  ASSERT_EQ(archived.size(), 1U);
  EXPECT_TRUE(archived[0].starts_with("pi01-20")) << archived[0];
  EXPECT_EQ(h.tree("/srv/nfsroot/.archive/" + archived[0]).at("etc/hostname"), "pi01\n");
}

TEST(RootManager, SymlinkInGoldenImageIsReplacedNotFollowed) {
  FakeHost h;
  make_golden(h, "v1");
  h.symlink(kGolden + "/etc/hostname", "/tmp/x");
  h.symlink(kGolden + "/etc/machine-id", "/etc/machine-id");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  ASSERT_TRUE(roots.provision(shelf.pis[0], pi_files()).has_value());
  EXPECT_EQ(h.fs.at(kLive + "/etc/hostname").type, FileType::regular);
  EXPECT_EQ(h.fs.at(kLive + "/etc/machine-id").type, FileType::regular);
  EXPECT_FALSE(h.exists("/tmp/x"));
  EXPECT_FALSE(h.exists("/etc/machine-id"));
}

TEST(RootManager, SymlinkedFolderInGoldenImageIsRefused) {
  FakeHost h;
  make_golden(h, "v1");
  h.symlink(kGolden + "/etc/network", "/etc/network");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  auto r = roots.provision(shelf.pis[0], pi_files());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::refused);
  EXPECT_THAT(r.error().message,
              HasSubstr("pi01: rebuild: install: install etc/network/interfaces: etc/network is a "
                        "symlink in the golden image; refusing to follow it out of the root"));
  EXPECT_FALSE(h.exists(kLive));
  EXPECT_FALSE(h.exists("/etc/network/interfaces"));
}

TEST(RootManager, RefusesFilePathsThatLeaveTheRootAndBadNames) {
  FakeHost h;
  make_golden(h, "v1");
  auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  auto r = roots.rebuild(shelf.pis[0], {{"etc/../../x", "", 0644}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::refused);
  EXPECT_TRUE(h.log.empty());
  auto bad = shelf.pis[0];
  bad.name = "../pi01";
  auto r2 = roots.rebuild(bad, pi_files());
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().code, ErrorCode::invalid_argument);
  auto r3 = roots.rebuild(shelf.pis[0], pi_files(), "/srv/golden/../../etc");
  ASSERT_FALSE(r3.has_value());
  EXPECT_EQ(r3.error().code, ErrorCode::invalid_argument);
}

TEST(RootManager, RootPrefixPutsEveryPathUnderThePrefixAndSkipsLiveCommands) {
  FakeHost h;
  h.file("/tmp/shelf/srv/golden/raspios/etc/hostname", "raspberrypi\n");
  h.dir("/tmp/shelf/srv/nfsroot");
  const auto shelf = testing::test_shelf("/tmp/shelf/");
  RootManager roots(h, shelf);
  ASSERT_TRUE(roots.provision(shelf.pis[0], pi_files()).has_value());
  EXPECT_EQ(h.tree("/tmp/shelf/srv/nfsroot/pi01").at("etc/hostname"), "pi01\n");
  std::vector<std::string> events;
  ExecOptions options;
  options.on_event = [&](std::string_view e) { events.emplace_back(e); };
  ASSERT_TRUE(roots.remove(shelf.pis[0], false, options).has_value());
  EXPECT_EQ(events, std::vector<std::string>{
                        "skipped (root_prefix set): 'exportfs' '-u' '172.30.0.2:/tmp/shelf/srv/nfsroot/pi01'"});
  for (const auto& argv : h.commands) EXPECT_NE(argv[0], "exportfs");
}

TEST(RootManager, DryRunPlanIsExactAndChangesNothing) {
  FakeHost h;
  make_golden(h, "v1");
  h.file(kLive + "/etc/version", "old");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  const auto before = h.fs;
  auto plan = roots.plan_rebuild(shelf.pis[0], pi_files());
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_EQ(h.fs, before);
  EXPECT_EQ(describe(plan->plan, false),
            "mkdir -p '/srv/nfsroot/.staging'\n"
            "mkdir -p '/srv/nfsroot/.locks'\n"
            "run 'flock' '--exclusive' '--no-fork' '--wait' '60' '--conflict-exit-code' '75' '/srv/nfsroot/.locks/pi01' "
            "'rsync' '-aHAXx' '--numeric-ids' '--info=progress2' '--no-inc-recursive' "
            "'/srv/golden/raspios/' '/srv/nfsroot/.staging/pi01/'\n"
            "install into '/srv/nfsroot/.staging/pi01': etc/hostname etc/network/interfaces\n"
            "reset identity of '/srv/nfsroot/.staging/pi01': empty etc/machine-id, delete golden "
            "etc/ssh/ssh_host_*, new ed25519 and ecdsa host keys\n"
            "record size and origin of '/srv/nfsroot/.staging/pi01' in .picluster-root\n"
            "run 'touch' '-c' '--' '/srv/nfsroot/.staging/pi01'\n"
            "write '/srv/nfsroot/.staging/pi01.ready' (0644, 6 bytes)\n"
            "mkdir -p '/srv/nfsroot/.previous'\n"
            "rename '/srv/nfsroot/pi01' '/srv/nfsroot/.previous/pi01'\n"
            "rename '/srv/nfsroot/.staging/pi01' '/srv/nfsroot/pi01'\n"
            "remove '/srv/nfsroot/.staging/pi01.ready'\n");
}

TEST(RootManager, RsyncProgressReachesTheCallback) {
  FakeHost h;
  make_golden(h, "v1");
  const auto shelf = testing::test_shelf();
  RootManager roots(h, shelf);
  std::vector<Progress> seen;
  ExecOptions options;
  options.on_progress = [&](const Progress& p) { seen.push_back(p); };
  ASSERT_TRUE(roots.rebuild(shelf.pis[0], pi_files(), {}, options).has_value());
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].bytes, 1024U);
  EXPECT_EQ(seen[0].percent, 50);
}

}  // namespace
}  // namespace picluster::nfsroot
