#include "tools/loadgen/histogram.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace shoal::loadgen {

namespace {

int CountLeadingZeros(uint64_t value) { return __builtin_clzll(value); }

}  // namespace

Histogram::Histogram(int64_t highest_trackable, int significant_digits)
    : highest_trackable_(std::max<int64_t>(highest_trackable, 2)),
      significant_digits_(std::clamp(significant_digits, 1, 5)) {
  // Enough sub-buckets to tell apart values that differ in the last significant digit:
  // 2 * 10^digits, rounded up to a power of two (2048 for 3 digits).
  int64_t largest_single_unit = 2;
  for (int i = 0; i < significant_digits_; ++i) largest_single_unit *= 10;
  sub_bucket_count_magnitude_ =
      static_cast<int>(std::ceil(std::log2(static_cast<double>(largest_single_unit))));
  sub_bucket_half_count_magnitude_ = sub_bucket_count_magnitude_ - 1;
  sub_bucket_count_ = 1 << sub_bucket_count_magnitude_;
  sub_bucket_half_count_ = sub_bucket_count_ / 2;
  sub_bucket_mask_ = sub_bucket_count_ - 1;

  int64_t smallest_untrackable = sub_bucket_count_;
  int buckets = 1;
  while (smallest_untrackable <= highest_trackable_) {
    if (smallest_untrackable > std::numeric_limits<int64_t>::max() / 2) {
      ++buckets;
      break;
    }
    smallest_untrackable <<= 1;
    ++buckets;
  }
  bucket_count_ = buckets;
  counts_.assign(static_cast<size_t>(bucket_count_ + 1) * static_cast<size_t>(sub_bucket_half_count_),
                 0);
}

int Histogram::BucketIndex(int64_t value) const {
  // The power of two just above value (at least sub_bucket_count), relative to the first bucket.
  int pow2_ceiling = 64 - CountLeadingZeros(static_cast<uint64_t>(value | sub_bucket_mask_));
  return pow2_ceiling - (sub_bucket_half_count_magnitude_ + 1);
}

int Histogram::SubBucketIndex(int64_t value, int bucket_index) const {
  return static_cast<int>(value >> bucket_index);
}

size_t Histogram::CountsIndex(int64_t value) const {
  int bucket = BucketIndex(value);
  int sub_bucket = SubBucketIndex(value, bucket);
  // Bucket 0 uses all its sub-buckets; every later bucket only its upper half (the lower half is
  // covered by the previous bucket at double the resolution).
  return (static_cast<size_t>(bucket + 1) << sub_bucket_half_count_magnitude_) +
         static_cast<size_t>(sub_bucket - sub_bucket_half_count_);
}

int64_t Histogram::ValueFromIndex(size_t index) const {
  int bucket = static_cast<int>(index >> sub_bucket_half_count_magnitude_) - 1;
  int64_t sub_bucket =
      static_cast<int64_t>(index & static_cast<size_t>(sub_bucket_half_count_ - 1)) +
      sub_bucket_half_count_;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_half_count_;
    bucket = 0;
  }
  return sub_bucket << bucket;
}

int64_t Histogram::LowestEquivalent(int64_t value) const {
  value = std::max<int64_t>(value, 0);
  int bucket = BucketIndex(value);
  return static_cast<int64_t>(SubBucketIndex(value, bucket)) << bucket;
}

int64_t Histogram::HighestEquivalent(int64_t value) const {
  value = std::max<int64_t>(value, 0);
  int bucket = BucketIndex(value);
  int sub_bucket = SubBucketIndex(value, bucket);
  // A value in the top half of the last sub-bucket range belongs to the next, wider bucket.
  int range_bucket = sub_bucket >= sub_bucket_count_ ? bucket + 1 : bucket;
  int64_t lowest = static_cast<int64_t>(sub_bucket) << bucket;
  return lowest + (int64_t{1} << range_bucket) - 1;
}

void Histogram::Record(int64_t value, uint64_t count) {
  if (count == 0) return;
  if (value < 0) value = 0;
  if (value > highest_trackable_) {
    value = highest_trackable_;
    saturated_ += count;
  }
  counts_[CountsIndex(value)] += count;
  if (total_count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  const double n = static_cast<double>(total_count_);
  const double c = static_cast<double>(count);
  const double delta = static_cast<double>(value) - mean_;
  total_count_ += count;
  mean_ += delta * c / (n + c);
  m2_ += delta * delta * n * c / (n + c);
}

bool Histogram::Merge(const Histogram& other) {
  if (other.highest_trackable_ != highest_trackable_ ||
      other.significant_digits_ != significant_digits_) {
    return false;
  }
  if (other.total_count_ == 0) return true;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  if (total_count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  const double n = static_cast<double>(total_count_);
  const double m = static_cast<double>(other.total_count_);
  const double delta = other.mean_ - mean_;
  mean_ += delta * m / (n + m);
  m2_ += other.m2_ + delta * delta * n * m / (n + m);
  total_count_ += other.total_count_;
  saturated_ += other.saturated_;
  return true;
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_count_ = saturated_ = 0;
  min_ = max_ = 0;
  mean_ = m2_ = 0;
}

double Histogram::mean() const { return total_count_ == 0 ? 0.0 : mean_; }

double Histogram::stdev() const {
  return total_count_ == 0 ? 0.0 : std::sqrt(m2_ / static_cast<double>(total_count_));
}

int64_t Histogram::ValueAtPercentile(double p) const {
  if (total_count_ == 0) return 0;
  if (!(p > 0)) return min_;
  if (p >= 100) return max_;
  // Nearest rank; the small tolerance keeps e.g. 99.9 % of 1000 at rank 999, not 1000.
  double exact_rank = p / 100.0 * static_cast<double>(total_count_);
  uint64_t rank = static_cast<uint64_t>(std::ceil(exact_rank - 1e-9 * exact_rank));
  rank = std::clamp<uint64_t>(rank, 1, total_count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(HighestEquivalent(ValueFromIndex(i)), max_);
  }
  return max_;
}

void Histogram::ForEachPercentileStep(int ticks_per_half_distance,
                                      const std::function<void(const PercentileStep&)>& fn) const {
  if (total_count_ == 0) return;
  const double total = static_cast<double>(total_count_);
  double level = 0.0;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    seen += counts_[i];
    const int64_t value = HighestEquivalent(ValueFromIndex(i));
    if (seen >= total_count_) {
      // HdrHistogram reports the last bucket once at the level reached, then at exactly 100 %.
      if (100.0 >= level) fn({value, level, seen});
      fn({value, 100.0, seen});
      return;
    }
    while (100.0 * static_cast<double>(seen) / total >= level) {
      fn({value, level, seen});
      // Halve the distance to 100 % every `ticks_per_half_distance` steps.
      double half_distances = std::floor(std::log2(100.0 / (100.0 - level))) + 1;
      double ticks = ticks_per_half_distance * std::pow(2.0, half_distances);
      level += 100.0 / ticks;
    }
  }
}

}  // namespace shoal::loadgen
