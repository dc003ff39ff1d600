#include "switchctl/snmp_metrics.hpp"

namespace picluster::switchctl {

void SnmpMetrics::record(std::chrono::steady_clock::duration took, bool failed) {
  const double seconds = std::chrono::duration<double>(took).count();
  const std::lock_guard lock(m_mutex);
  ++m_counts.requests;
  if (failed) ++m_counts.errors;
  m_counts.seconds_sum += seconds;
  for (std::size_t i = 0; i < kSnmpBuckets.size(); ++i) {
    if (seconds <= kSnmpBuckets[i]) ++m_counts.buckets[i];
  }
}

SnmpCounts SnmpMetrics::counts() const {
  const std::lock_guard lock(m_mutex);
  return m_counts;
}

template <typename F>
auto CountingSession::timed(F&& call) {
  const auto start = std::chrono::steady_clock::now();
  auto result = call();
  bool failed = !result.has_value();
  if constexpr (std::is_same_v<decltype(result), Result<PduStatus>>) {
    failed = failed || !result->ok();
  }
  if (m_metrics) m_metrics->record(std::chrono::steady_clock::now() - start, failed);
  return result;
}

Result<std::vector<VarBind>> CountingSession::get(const std::vector<Oid>& oids) {
  return timed([&] { return m_inner->get(oids); });
}

Result<std::vector<VarBind>> CountingSession::get_next(const std::vector<Oid>& oids) {
  return timed([&] { return m_inner->get_next(oids); });
}

Result<std::vector<VarBind>> CountingSession::get_bulk(const std::vector<Oid>& oids,
                                                       int non_repeaters, int max_repetitions) {
  return timed([&] { return m_inner->get_bulk(oids, non_repeaters, max_repetitions); });
}

Result<PduStatus> CountingSession::set(const std::vector<VarBind>& varbinds) {
  return timed([&] { return m_inner->set(varbinds); });
}

}  // namespace picluster::switchctl
