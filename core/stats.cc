#include "core/stats.h"

#include <algorithm>
#include <cmath>

namespace shoal::core {

Histogram::Histogram(std::vector<double> upper_bounds_seconds)
    : upper_bounds_(std::move(upper_bounds_seconds)),
      buckets_(new Counter[upper_bounds_.size() + 1]) {
  upper_bounds_ns_.reserve(upper_bounds_.size());
  for (double bound : upper_bounds_) {
    upper_bounds_ns_.push_back(static_cast<int64_t>(std::llround(bound * 1e9)));
  }
}

void Histogram::ObserveNanos(int64_t nanos, uint64_t count) {
  if (!kStatsEnabled) return;
  size_t index = static_cast<size_t>(
      std::lower_bound(upper_bounds_ns_.begin(), upper_bounds_ns_.end(), nanos) -
      upper_bounds_ns_.begin());
  buckets_[index].Add(count);
  count_.Add(count);
  sum_ns_.Add(static_cast<uint64_t>(std::max<int64_t>(nanos, 0)) * count);
}

std::vector<double> LatencyBucketsSeconds() {
  return {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
          0.005,   0.01,     0.025,   0.05,   0.1,     0.25,   0.5,   1,
          2.5,     5,        10};
}

TlsStats::TlsStats() : handshake_duration(LatencyBucketsSeconds()) {}

ListenerStats::ListenerStats(std::string listener_name)
    : listener(std::move(listener_name)), request_duration(LatencyBucketsSeconds()) {}

void ListenerStats::CountAcceptError(int err) {
  for (size_t i = 0; i < kCountedAcceptErrnos.size(); ++i) {
    if (kCountedAcceptErrnos[i] == err) {
      accept_errors[i].Add();
      return;
    }
  }
  accept_errors.back().Add();
}

WorkerStats::WorkerStats(int worker_index, const std::vector<std::string>& listener_names)
    : worker(worker_index), loop_turn(LatencyBucketsSeconds()) {
  for (const auto& name : listener_names) {
    listeners.push_back(std::make_unique<ListenerStats>(name));
  }
}

}  // namespace shoal::core
