// Histogram: a log-linear latency histogram in the layout of HdrHistogram (Gil Tene): values are
// integers (loadgen records nanoseconds), kept with a fixed number of significant decimal digits
// from 1 up to a highest trackable value. With 3 digits every bucket is at most 1/1024 of the
// values it holds wide, so any reported value is within 0.1 % of a value that was recorded; values
// below 2048 are exact. Counts live in one flat array: (buckets + 1) * 1024 counters for 3 digits
// (about 270 KiB for 1 ns .. 1 h).
//
// Percentiles use the nearest-rank definition: the value at percentile p is the recorded value of
// rank ceil(p/100 * count) in sorted order, reported as the highest value of its bucket (never
// above the exact maximum), so it is >= the true value and less than 0.1 % above it.
// Mean, standard deviation, minimum and maximum are exact (kept beside the buckets).
//
// Threading: not thread-safe. loadgen keeps one per thread and merges them after the threads end.
// Copyable and movable (a copy copies the counts).
#ifndef SHOAL_TOOLS_LOADGEN_HISTOGRAM_H_
#define SHOAL_TOOLS_LOADGEN_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace shoal::loadgen {

class Histogram {
 public:
  // One hour in nanoseconds: the default highest trackable value.
  static constexpr int64_t kOneHourNs = 3'600'000'000'000;

  // Tracks 1 .. highest_trackable (>= 2) with `significant_digits` in 1..5.
  explicit Histogram(int64_t highest_trackable = kOneHourNs, int significant_digits = 3);

  // Records `value` `count` times. Values below 0 count as 0; values above the highest trackable
  // value count as that value (and in saturated()). O(1).
  void Record(int64_t value, uint64_t count = 1);
  // Adds every count of `other`, which must have the same layout (same constructor arguments).
  // Returns false (and changes nothing) when the layouts differ. O(buckets).
  bool Merge(const Histogram& other);
  void Reset();

  uint64_t count() const { return total_count_; }
  uint64_t saturated() const { return saturated_; }
  // 0 when empty.
  int64_t min() const { return total_count_ == 0 ? 0 : min_; }
  int64_t max() const { return total_count_ == 0 ? 0 : max_; }
  double mean() const;
  // Population standard deviation.
  double stdev() const;
  // p in [0, 100]; 0 when empty. p <= 0 gives min(), p >= 100 gives max(). O(buckets).
  int64_t ValueAtPercentile(double p) const;

  // The range of values counted together with `value`.
  int64_t LowestEquivalent(int64_t value) const;
  int64_t HighestEquivalent(int64_t value) const;

  // One point of the HdrHistogram percentile distribution (see ForEachPercentileStep).
  struct PercentileStep {
    int64_t value;           // highest equivalent value of the bucket reached
    double percentile;       // the percentile level iterated to, 0..100
    uint64_t total_count;    // values counted up to and including that bucket
  };
  // Iterates percentile levels as HdrHistogram's PercentileIterator does with
  // `ticks_per_half_distance` (5 in its text output): levels get denser towards 100 %, and the last
  // step is exactly 100 %.
  void ForEachPercentileStep(int ticks_per_half_distance,
                             const std::function<void(const PercentileStep&)>& fn) const;

  int bucket_count() const { return bucket_count_; }
  int sub_bucket_count() const { return sub_bucket_count_; }
  int64_t highest_trackable() const { return highest_trackable_; }
  int significant_digits() const { return significant_digits_; }

 private:
  int BucketIndex(int64_t value) const;
  int SubBucketIndex(int64_t value, int bucket_index) const;
  size_t CountsIndex(int64_t value) const;
  int64_t ValueFromIndex(size_t index) const;

  int64_t highest_trackable_;
  int significant_digits_;
  int sub_bucket_count_magnitude_;
  int sub_bucket_half_count_magnitude_;
  int sub_bucket_count_;
  int sub_bucket_half_count_;
  int64_t sub_bucket_mask_;
  int bucket_count_;
  std::vector<uint64_t> counts_;
  uint64_t total_count_ = 0;
  uint64_t saturated_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  // Running mean and sum of squared deviations (Welford; Chan et al. to merge).
  double mean_ = 0;
  double m2_ = 0;
};

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_HISTOGRAM_H_
