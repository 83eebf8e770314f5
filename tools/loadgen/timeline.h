// Timeline: a run's figures second by second, what --timeline and --interval_log write.
//
// Second k holds what happened in [origin + k s, origin + (k+1) s), origin being the start of the
// load (warm-up included): measured responses that completed well (count and corrected latency)
// and errors of every kind; anything before the origin (the connect phase) counts in second 0.
// So the seconds sum exactly to the run's totals (Result::requests, Result::errors). Latencies are
// kept with 2 significant digits (within 1 %), enough per second and small (~36 KiB a second).
//
// Threading: not thread-safe; one per load thread (written on its loop thread), merged by Run
// after the threads end. Recording is O(1) amortised.
#ifndef SHOAL_TOOLS_LOADGEN_TIMELINE_H_
#define SHOAL_TOOLS_LOADGEN_TIMELINE_H_

#include <cstdint>
#include <limits>
#include <vector>

#include "tools/loadgen/error_counts.h"
#include "tools/loadgen/histogram.h"

namespace shoal::loadgen {

struct TimelineSecond {
  static constexpr int kDigits = 2;

  uint64_t requests = 0;
  ErrorCounts errors;
  Histogram latency{Histogram::kOneHourNs, kDigits};
  int connections = -1;  // open at the end of the second (-1: not sampled)
};

class Timeline {
 public:
  static constexpr int64_t kSecondNs = 1'000'000'000;

  // A disabled timeline records nothing (and costs nothing).
  explicit Timeline(bool enabled = false) : enabled_(enabled) {}

  bool enabled() const { return enabled_; }
  void set_origin(int64_t origin_ns) { origin_ns_ = origin_ns; }
  int64_t origin_ns() const { return origin_ns_; }

  void RecordResponse(int64_t at_ns, int64_t latency_ns);
  void CountError(int64_t at_ns, uint64_t ErrorCounts::*kind);
  // Open connections sampled at `at_ns`: the latest sample in a second is the second's figure.
  void SampleConnections(int64_t at_ns, int open);
  // Adds `other`'s seconds (recorded against the same origin) to these.
  void Merge(const Timeline& other);
  // Carries each second's connection figure forward to seconds that have none, starting from
  // `initial`.
  void FillConnections(int initial);

  const std::vector<TimelineSecond>& seconds() const { return seconds_; }

 private:
  TimelineSecond& At(int64_t at_ns);

  bool enabled_;
  int64_t origin_ns_ = std::numeric_limits<int64_t>::max();
  std::vector<TimelineSecond> seconds_;
};

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_TIMELINE_H_
