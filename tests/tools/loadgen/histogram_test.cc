// Histogram: percentiles within the stated precision (3 significant digits: the reported value is
// >= the true nearest-rank value and less than 1/1024 above it) against a sorted reference, for
// several distributions; exact count/min/max/mean/stdev; merge equals recording everything in one;
// the .hgrm output in HdrHistogram's format.
#include "tools/loadgen/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tools/loadgen/report.h"

namespace shoal::loadgen {
namespace {

constexpr double kPercentiles[] = {0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 99.999};

int64_t NearestRank(const std::vector<int64_t>& sorted, double p) {
  double exact = p / 100.0 * static_cast<double>(sorted.size());
  size_t rank = static_cast<size_t>(std::ceil(exact - 1e-9 * exact));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void ExpectWithinPrecision(const std::vector<int64_t>& values, const std::string& name) {
  Histogram h;
  for (int64_t v : values) h.Record(v);
  std::vector<int64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  ASSERT_EQ(h.count(), sorted.size()) << name;
  EXPECT_EQ(h.min(), sorted.front()) << name;
  EXPECT_EQ(h.max(), sorted.back()) << name;
  for (double p : kPercentiles) {
    const int64_t reference = NearestRank(sorted, p);
    const int64_t reported = h.ValueAtPercentile(p);
    EXPECT_GE(reported, reference) << name << " p" << p;
    // 3 significant digits: at most 1/1024 of the value above it (values < 2048 are exact).
    EXPECT_LE(static_cast<double>(reported - reference), static_cast<double>(reference) / 1024.0)
        << name << " p" << p << " reference " << reference << " reported " << reported;
  }
  EXPECT_EQ(h.ValueAtPercentile(100), sorted.back()) << name;
  EXPECT_EQ(h.ValueAtPercentile(0), sorted.front()) << name;
  double sum = 0;
  for (int64_t v : values) sum += static_cast<double>(v);
  const double mean = sum / static_cast<double>(values.size());
  double squares = 0;
  for (int64_t v : values) squares += (static_cast<double>(v) - mean) * (static_cast<double>(v) - mean);
  const double stdev = std::sqrt(squares / static_cast<double>(values.size()));
  EXPECT_NEAR(h.mean(), mean, 1e-9 * mean + 1e-9) << name;
  EXPECT_NEAR(h.stdev(), stdev, 1e-6 * stdev + 1e-6) << name;
}

TEST(HistogramTest, UniformMicrosecondsWithinPrecision) {
  std::mt19937_64 random(1);
  std::uniform_int_distribution<int64_t> uniform(1'000, 5'000'000);  // 1 us .. 5 ms
  std::vector<int64_t> values(200'000);
  for (auto& v : values) v = uniform(random);
  ExpectWithinPrecision(values, "uniform");
}

TEST(HistogramTest, ExponentialWithinPrecision) {
  std::mt19937_64 random(2);
  std::exponential_distribution<double> exponential(1.0 / 80'000.0);  // mean 80 us
  std::vector<int64_t> values(200'000);
  for (auto& v : values) v = 1'000 + static_cast<int64_t>(exponential(random));
  ExpectWithinPrecision(values, "exponential");
}

TEST(HistogramTest, LogUniformAcrossTheWholeRangeWithinPrecision) {
  // 1 us .. 1 h: every bucket of the range is exercised.
  std::mt19937_64 random(3);
  std::uniform_real_distribution<double> exponent(std::log(1e3), std::log(3.6e12));
  std::vector<int64_t> values(100'000);
  for (auto& v : values) v = static_cast<int64_t>(std::exp(exponent(random)));
  ExpectWithinPrecision(values, "log-uniform");
}

TEST(HistogramTest, BimodalWithRareOutliersWithinPrecision) {
  // A fast mode, a slow mode, and 0.05 % of multi-second stalls: the tail must be exact enough.
  std::mt19937_64 random(4);
  std::normal_distribution<double> fast(50'000, 5'000), slow(2'000'000, 200'000);
  std::uniform_int_distribution<int> pick(0, 9999);
  std::vector<int64_t> values(100'000);
  for (auto& v : values) {
    int r = pick(random);
    double x = r < 5 ? 3e9 + r * 1e8 : (r < 1000 ? slow(random) : fast(random));
    v = std::max<int64_t>(1'000, static_cast<int64_t>(x));
  }
  ExpectWithinPrecision(values, "bimodal");
}

TEST(HistogramTest, SmallValuesAreExact) {
  std::vector<int64_t> values;
  for (int64_t v = 0; v < 2048; ++v) values.push_back(v);
  Histogram h;
  for (int64_t v : values) h.Record(v);
  for (double p : kPercentiles) EXPECT_EQ(h.ValueAtPercentile(p), NearestRank(values, p)) << p;
}

TEST(HistogramTest, ConstantAndSingleValue) {
  Histogram h;
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_EQ(h.count(), 0u);
  h.Record(123'456, 1000);
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.min(), 123'456);
  EXPECT_EQ(h.max(), 123'456);
  EXPECT_EQ(h.ValueAtPercentile(99.99), 123'456);  // capped at the exact max
  EXPECT_DOUBLE_EQ(h.mean(), 123'456.0);
  EXPECT_DOUBLE_EQ(h.stdev(), 0.0);
}

TEST(HistogramTest, ValuesBeyondTheRangeSaturate) {
  Histogram h;
  h.Record(-5);
  h.Record(Histogram::kOneHourNs * 2);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.saturated(), 1u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), Histogram::kOneHourNs);
}

TEST(HistogramTest, EquivalentRangesAreThreeSignificantDigits) {
  Histogram h;
  for (int64_t v : {int64_t{1}, int64_t{2047}, int64_t{2048}, int64_t{1'000'000},
                    int64_t{123'456'789}, Histogram::kOneHourNs}) {
    const int64_t low = h.LowestEquivalent(v), high = h.HighestEquivalent(v);
    EXPECT_LE(low, v);
    EXPECT_GE(high, v);
    EXPECT_LE(static_cast<double>(high - low + 1), std::max(1.0, static_cast<double>(v) / 1024.0))
        << v;
  }
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 random(5);
  std::lognormal_distribution<double> lognormal(11.0, 1.5);
  Histogram all, parts[4];
  for (int i = 0; i < 100'000; ++i) {
    int64_t v = 1'000 + static_cast<int64_t>(lognormal(random));
    all.Record(v);
    parts[i % 4].Record(v);
  }
  Histogram merged;
  for (const auto& part : parts) ASSERT_TRUE(merged.Merge(part));
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_NEAR(merged.mean(), all.mean(), 1e-9 * all.mean());
  EXPECT_NEAR(merged.stdev(), all.stdev(), 1e-9 * all.stdev());
  for (double p : kPercentiles) EXPECT_EQ(merged.ValueAtPercentile(p), all.ValueAtPercentile(p)) << p;
  EXPECT_EQ(FormatHgrm(merged), FormatHgrm(all));

  Histogram empty;
  ASSERT_TRUE(merged.Merge(empty));
  EXPECT_EQ(merged.count(), all.count());
  Histogram into_empty;
  ASSERT_TRUE(into_empty.Merge(all));
  EXPECT_EQ(into_empty.ValueAtPercentile(99.9), all.ValueAtPercentile(99.9));
  EXPECT_EQ(into_empty.min(), all.min());
}

TEST(HistogramTest, MergeRefusesADifferentLayout) {
  Histogram a, b(1'000'000, 2);
  b.Record(5);
  EXPECT_FALSE(a.Merge(b));
  EXPECT_EQ(a.count(), 0u);
}

TEST(HistogramTest, HgrmHasHdrHistogramsFormat) {
  Histogram h;
  for (int64_t v = 1; v <= 10'000; ++v) h.Record(v * 1'000);  // 1 us .. 10 ms
  const std::string text = FormatHgrm(h);
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "       Value     Percentile TotalCount 1/(1-Percentile)");
  std::getline(lines, line);
  EXPECT_EQ(line, "");
  double previous_value = -1, previous_percentile = -1;
  uint64_t previous_count = 0;
  int rows = 0;
  std::string last_row;
  while (std::getline(lines, line) && line[0] != '#') {
    std::istringstream row(line);
    double value, percentile;
    uint64_t count;
    ASSERT_TRUE(row >> value >> percentile >> count) << line;
    EXPECT_GE(value, previous_value);
    EXPECT_GE(percentile, previous_percentile);
    EXPECT_GE(count, previous_count);
    previous_value = value;
    previous_percentile = percentile;
    previous_count = count;
    last_row = line;
    ++rows;
  }
  EXPECT_GT(rows, 50);
  EXPECT_DOUBLE_EQ(previous_percentile, 1.0);
  EXPECT_EQ(previous_count, 10'000u);
  EXPECT_NEAR(previous_value, 10.0, 0.01);  // milliseconds
  EXPECT_EQ(line.rfind("#[Mean    = ", 0), 0u) << line;
  std::getline(lines, line);
  EXPECT_EQ(line, "#[Max     =       10.000, Total count    =        10000]");
  std::getline(lines, line);
  EXPECT_EQ(line.rfind("#[Buckets = ", 0), 0u);
}

}  // namespace
}  // namespace shoal::loadgen
