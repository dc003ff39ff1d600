// CountingSession: every request is timed into the histogram, failed ones counted as errors
// (transport errors and SETs the agent refused), and answers pass through unchanged.
#include "switchctl/snmp_metrics.hpp"

#include <gtest/gtest.h>

#include "tests/unit/switchctl/fake_snmp.hpp"

namespace picluster::switchctl {
namespace {

TEST(CountingSession, CountsRequestsErrorsAndRefusedSets) {
  auto fake = std::make_unique<testing::FakeSnmp>();
  testing::FakeSnmp* raw = fake.get();
  const Oid oid{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 5, 1, 1, 5};
  raw->put(oid, Value::integer(7));
  auto metrics = std::make_shared<SnmpMetrics>();
  CountingSession session(std::move(fake), metrics);

  auto got = session.get({oid});
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[0].value, Value::integer(7));
  ASSERT_TRUE(session.set({{oid, Value::integer(8)}}));
  raw->validate = [](const std::vector<VarBind>&, const auto&, const auto&) {
    return PduStatus{ErrorStatus::inconsistent_value, 1};
  };
  auto refused = session.set({{oid, Value::integer(9)}});
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->ok());
  raw->validate = nullptr;
  raw->fail_next_set_transport = 1;
  EXPECT_FALSE(session.set({{oid, Value::integer(10)}}));

  const SnmpCounts c = metrics->counts();
  EXPECT_EQ(c.requests, 4);
  EXPECT_EQ(c.errors, 2);          // the refused SET and the timeout
  EXPECT_EQ(c.buckets.back(), 4);  // a fake answers well within 2.5 s
  for (std::size_t i = 1; i < c.buckets.size(); ++i) EXPECT_LE(c.buckets[i - 1], c.buckets[i]);
  EXPECT_GE(c.seconds_sum, 0.0);
  EXPECT_EQ(session.endpoint(), "127.0.0.1:16161");
}

}  // namespace
}  // namespace picluster::switchctl
