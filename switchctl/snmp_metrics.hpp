#pragma once
// Counting what SNMP costs, for `picluster watch --listen` and `picluster metrics`: a decorator
// around any SnmpSession that times every request and counts the failed ones, into an
// SnmpMetrics shared by every session of a shelf (the watch's cycler and its status reader run
// on different threads, so SnmpMetrics is thread-safe; the sessions themselves are not).
//
// A request is one call of get, get_next, get_bulk or set (one PDU out, one answer back; the
// transport's retransmissions are inside it). Failed = the call returned an Error (timeout,
// authentication, unreachable, an agent error-status on a read) or a SET the agent refused.

#include <array>
#include <memory>
#include <mutex>

#include "switchctl/snmp.hpp"

namespace picluster::switchctl {

// Upper bounds (seconds) of the request-time histogram's buckets; +Inf is implied.
inline constexpr std::array<double, 9> kSnmpBuckets{0.005, 0.01, 0.025, 0.05, 0.1,
                                                    0.25,  0.5,  1.0,   2.5};

struct SnmpCounts {
  long requests = 0;
  long errors = 0;
  double seconds_sum = 0.0;
  std::array<long, kSnmpBuckets.size()> buckets{};  // cumulative: requests taking <= bound
};

class SnmpMetrics {
 public:
  void record(std::chrono::steady_clock::duration took, bool failed);
  [[nodiscard]] SnmpCounts counts() const;

 private:
  mutable std::mutex m_mutex;
  SnmpCounts m_counts;
};

class CountingSession final : public SnmpSession {
 public:
  CountingSession(std::unique_ptr<SnmpSession> inner, std::shared_ptr<SnmpMetrics> metrics)
      : m_inner(std::move(inner)), m_metrics(std::move(metrics)) {}
  [[nodiscard]] std::string endpoint() const override { return m_inner->endpoint(); }
  Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) override;
  Result<std::vector<VarBind>> get_next(const std::vector<Oid>& oids) override;
  Result<std::vector<VarBind>> get_bulk(const std::vector<Oid>& oids, int non_repeaters,
                                        int max_repetitions) override;
  Result<PduStatus> set(const std::vector<VarBind>& varbinds) override;
  [[nodiscard]] SessionStats stats() const override { return m_inner->stats(); }
  // The inner session's VLAN context, counted in the same metrics.
  std::unique_ptr<SnmpSession> vlan_context(int vlan) override {
    auto inner = m_inner->vlan_context(vlan);
    if (!inner) return nullptr;
    return std::make_unique<CountingSession>(std::move(inner), m_metrics);
  }

 private:
  template <typename F>
  auto timed(F&& call);
  std::unique_ptr<SnmpSession> m_inner;
  std::shared_ptr<SnmpMetrics> m_metrics;
};

}  // namespace picluster::switchctl
