// The overload policy's pure decisions (core/overload.h).
#include "core/overload.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace shoal::core {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST(MemoryPressureTest, IsTheLargerOfWorkerAndProcessShares) {
  MemoryLimits limits{16 * kMiB, 64 * kMiB};
  EXPECT_EQ(MemoryPressure(limits, {0, 0}), 0u);
  EXPECT_EQ(MemoryPressure(limits, {8 * kMiB, 8 * kMiB}), 500u);
  EXPECT_EQ(MemoryPressure(limits, {8 * kMiB, 48 * kMiB}), 750u);
  EXPECT_EQ(MemoryPressure(limits, {16 * kMiB, 16 * kMiB}), 1000u);
}

TEST(MemoryPressureTest, ZeroLimitsBoundNothingAndHugeHoldingsSaturate) {
  EXPECT_EQ(MemoryPressure({0, 0}, {UINT64_MAX, UINT64_MAX}), 0u);
  EXPECT_EQ(MemoryPressure({1, 0}, {UINT64_MAX, 0}), UINT32_MAX);
}

TEST(BytesToShedTest, BringsTheWorkerBackUnderTheResumeThreshold) {
  MemoryLimits limits{1000 * kMiB, 0};
  EXPECT_EQ(BytesToShed(limits, {999 * kMiB, 0}), 0u);
  EXPECT_EQ(BytesToShed(limits, {1000 * kMiB, 0}), 125 * kMiB);
  EXPECT_EQ(BytesToShed(limits, {1100 * kMiB, 0}), 225 * kMiB);
}

TEST(BytesToShedTest, TheProcessLimitAloneCanAskForShedding) {
  MemoryLimits limits{1000 * kMiB, 2000 * kMiB};
  EXPECT_EQ(BytesToShed(limits, {100 * kMiB, 2000 * kMiB}), 250 * kMiB);
}

TEST(TimeoutScaleTest, FullUpTo80PercentThenLinearToTheFloorInSteps) {
  EXPECT_EQ(TimeoutScale(0), kFullTimeoutScale);
  EXPECT_EQ(TimeoutScale(800), kFullTimeoutScale);
  EXPECT_EQ(TimeoutScale(900), 550u);
  EXPECT_EQ(TimeoutScale(1000), kTimeoutFloorScale);
  EXPECT_EQ(TimeoutScale(5000), kTimeoutFloorScale);
  uint32_t previous = kFullTimeoutScale;
  for (uint32_t pressure = 800; pressure <= 1000; ++pressure) {
    uint32_t scale = TimeoutScale(pressure);
    EXPECT_LE(scale, previous) << pressure;
    EXPECT_EQ(scale % kTimeoutScaleStep, 0u) << pressure;
    previous = scale;
  }
}

TEST(ScaleTimeoutTest, ScalesWithoutOverflowAndNeverToZero) {
  EXPECT_EQ(ScaleTimeout(60'000'000'000, 100), 6'000'000'000);
  EXPECT_EQ(ScaleTimeout(INT64_MAX, 500), INT64_MAX / 1000 * 500 + INT64_MAX % 1000 * 500 / 1000);
  EXPECT_EQ(ScaleTimeout(3, 100), 1);
  EXPECT_EQ(ScaleTimeout(0, 100), 0);
  EXPECT_EQ(ScaleTimeout(42, kFullTimeoutScale), 42);
}

TEST(DecideOverloadTest, AtSaturationStopsAcceptingAndShedsOnlyWhileServiceWaits) {
  OverloadDecision waiting = DecideOverload(1000, true, true);
  EXPECT_TRUE(waiting.shed);
  EXPECT_FALSE(waiting.accept);
  EXPECT_EQ(waiting.timeout_scale, kTimeoutFloorScale);
  OverloadDecision idle = DecideOverload(1200, true, false);
  EXPECT_FALSE(idle.shed);
  EXPECT_FALSE(idle.accept);
}

TEST(DecideOverloadTest, NeverShedsBelowSaturation) {
  EXPECT_FALSE(DecideOverload(999, true, true).shed);
  EXPECT_TRUE(DecideOverload(999, true, true).accept);
}

TEST(DecideOverloadTest, ResumesAcceptingOnlyAtTheResumeThreshold) {
  EXPECT_FALSE(DecideOverload(950, false, false).accept);
  EXPECT_FALSE(DecideOverload(kResumeAcceptPressure + 1, false, false).accept);
  EXPECT_TRUE(DecideOverload(kResumeAcceptPressure, false, false).accept);
  EXPECT_TRUE(DecideOverload(950, true, false).accept);
}

TEST(ProcessOverLimitTest, OnlyWithALimitAndAtIt) {
  EXPECT_FALSE(ProcessOverLimit({1, 0}, {5, UINT64_MAX}));
  EXPECT_FALSE(ProcessOverLimit({1, 100}, {5, 99}));
  EXPECT_TRUE(ProcessOverLimit({1, 100}, {5, 100}));
}

TEST(DecideOverloadTest, NoActionBelowPressure) {
  OverloadDecision decision = DecideOverload(500, true, true);
  EXPECT_FALSE(decision.shed);
  EXPECT_TRUE(decision.accept);
  EXPECT_EQ(decision.timeout_scale, kFullTimeoutScale);
}

}  // namespace
}  // namespace shoal::core
