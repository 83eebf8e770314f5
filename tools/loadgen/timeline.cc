#include "tools/loadgen/timeline.h"

namespace shoal::loadgen {

TimelineSecond& Timeline::At(int64_t at_ns) {
  const int64_t index = at_ns < origin_ns_ ? 0 : (at_ns - origin_ns_) / kSecondNs;
  if (static_cast<size_t>(index) >= seconds_.size()) seconds_.resize(static_cast<size_t>(index) + 1);
  return seconds_[static_cast<size_t>(index)];
}

void Timeline::RecordResponse(int64_t at_ns, int64_t latency_ns) {
  if (!enabled_) return;
  TimelineSecond& second = At(at_ns);
  ++second.requests;
  second.latency.Record(latency_ns);
}

void Timeline::CountError(int64_t at_ns, uint64_t ErrorCounts::*kind) {
  if (!enabled_) return;
  At(at_ns).errors.*kind += 1;
}

void Timeline::SampleConnections(int64_t at_ns, int open) {
  if (!enabled_) return;
  At(at_ns).connections = open;
}

void Timeline::Merge(const Timeline& other) {
  if (other.seconds_.size() > seconds_.size()) seconds_.resize(other.seconds_.size());
  for (size_t i = 0; i < other.seconds_.size(); ++i) {
    const TimelineSecond& from = other.seconds_[i];
    TimelineSecond& to = seconds_[i];
    to.requests += from.requests;
    to.errors.Add(from.errors);
    to.latency.Merge(from.latency);
    if (from.connections >= 0) to.connections = from.connections;
  }
}

void Timeline::FillConnections(int initial) {
  int last = initial;
  for (auto& second : seconds_) {
    if (second.connections < 0) second.connections = last;
    last = second.connections;
  }
}

}  // namespace shoal::loadgen
