// SIGKILL in the middle of `picluster apply`, then `apply` again finishes the job.

#include <gmock/gmock.h>

#include "tests/integration/orchestrator/shelf_checks.hpp"

namespace picluster::orchestrator::it {
namespace {

using ::testing::IsEmpty;

constexpr int kPis = 6;

int roots_present(const TestShelf& shelf) {
  int n = 0;
  for (int i = 1; i <= kPis; ++i) n += fs::exists(shelf.root(pi_name(i)) / "etc/hostname") ? 1 : 0;
  return n;
}

TEST(KillResumeTest, ApplyKilledAfterTheFirstRootIsFinishedByTheNextApply) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  // A golden image big enough (3000 files) that cloning six roots takes a while.
  for (int i = 0; i < 3000; ++i) {
    testing::write_file(shelf.prefix() / "srv/golden/raspios/usr/lib" / ("d" + std::to_string(i / 100)) /
                            ("f" + std::to_string(i)),
                        std::string(2048, 'g'));
  }
  // Six Pis in the inventory only (`add --offline`), so apply has six roots to make.
  for (int i = 1; i <= kPis; ++i) ASSERT_EQ(shelf.add(i, {"--offline"}).status, 0);
  ASSERT_EQ(roots_present(shelf), 0);

  auto run = testing::Daemon::start(shelf.pic_argv({"apply"}), shelf.dir() / "apply-1.log");
  ASSERT_TRUE(run);
  const bool first_root = testing::wait_until([&] { return roots_present(shelf) >= 1 || !run->running(); },
                                              std::chrono::seconds(120), std::chrono::milliseconds(5));
  ASSERT_TRUE(first_root);
  ASSERT_TRUE(run->running()) << "apply finished before it could be killed: " << testing::read_file(shelf.dir() / "apply-1.log");
  run->stop(SIGKILL);
  const int at_kill = roots_present(shelf);
  ASSERT_LT(at_kill, kPis) << "the kill landed after the last root";
  const auto journal_at_kill = journal(shelf);
  ASSERT_FALSE(journal_at_kill.empty());

  const auto resumed = shelf.pic({"apply"});
  ASSERT_EQ(resumed.status, 0) << TestShelf::describe({"apply"}, resumed);
  EXPECT_EQ(roots_present(shelf), kPis);
  for (int i = 1; i <= kPis; ++i) {
    EXPECT_EQ(testing::read_file(shelf.root(pi_name(i)) / "etc/hostname"), pi_name(i) + "\n");
  }
  EXPECT_THAT(staging_leftovers(shelf), IsEmpty());
  EXPECT_EQ(shelf.pic_json({"plan", "--json"})["changes"], false);

  // The journal keeps the killed run's lines and adds the second run's roots.
  const auto all = journal(shelf);
  ASSERT_GT(all.size(), journal_at_kill.size());
  for (std::size_t k = 0; k < journal_at_kill.size(); ++k) EXPECT_EQ(all[k], journal_at_kill[k]);
  std::set<std::string> resumed_roots;
  for (std::size_t k = journal_at_kill.size(); k < all.size(); ++k) {
    if (all[k]["verb"] == "apply" && all[k]["step"] == "root" && all[k]["result"] == "ok") {
      resumed_roots.insert(all[k]["pi"].get<std::string>());
    }
  }
  EXPECT_EQ(resumed_roots.size(), static_cast<std::size_t>(kPis - at_kill)) << "roots made after the kill";
}

}  // namespace
}  // namespace picluster::orchestrator::it
