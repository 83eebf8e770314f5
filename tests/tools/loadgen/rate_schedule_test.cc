// RateSchedule: parsing the --rate syntax, and when each slot is due for constants, ramps and
// steps (the integral of the rate reaches the slot number).
#include "tools/loadgen/rate_schedule.h"

#include <gtest/gtest.h>

namespace shoal::loadgen {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

RateSchedule Parsed(std::string_view text) {
  auto schedule = RateSchedule::Parse(text);
  EXPECT_TRUE(schedule.ok()) << text << ": " << schedule.status();
  return schedule.ok() ? *schedule : RateSchedule();
}

TEST(RateScheduleTest, ConstantRateIsEvenlyPaced) {
  RateSchedule schedule = Parsed("2000");
  EXPECT_TRUE(schedule.open_loop());
  EXPECT_TRUE(schedule.constant());
  EXPECT_EQ(schedule.SlotOffsetNs(0), 0);
  EXPECT_EQ(schedule.SlotOffsetNs(1), 500'000);
  EXPECT_EQ(schedule.SlotOffsetNs(2000), kSecond);
  EXPECT_EQ(schedule.SlotsBefore(kSecond), 2000u);
  EXPECT_EQ(schedule.ToString(), "2000");
  EXPECT_FALSE(Parsed("0").open_loop());
  EXPECT_EQ(Parsed("0").SlotOffsetNs(0), RateSchedule::kNever);
}

TEST(RateScheduleTest, LinearRampDuesSlotsByTheIntegral) {
  RateSchedule schedule = Parsed("1000:3000:2s");
  EXPECT_FALSE(schedule.constant());
  EXPECT_EQ(schedule.length_ns(), 2 * kSecond);
  EXPECT_EQ(schedule.final_rate(), 3000);
  EXPECT_EQ(schedule.peak_rate(), 3000);
  // Over the ramp: (1000 + 3000) / 2 * 2 s = 4000 slots; after the first second, 1000 + 1000/2.
  EXPECT_EQ(schedule.SlotsBefore(2 * kSecond), 4000u);
  EXPECT_EQ(schedule.SlotsBefore(kSecond), 1500u);
  EXPECT_NEAR(static_cast<double>(schedule.SlotOffsetNs(1500)), kSecond, 1000);
  EXPECT_NEAR(static_cast<double>(schedule.SlotOffsetNs(4000)), 2 * kSecond, 1000);
  // Then 3000/s holds.
  EXPECT_NEAR(static_cast<double>(schedule.SlotOffsetNs(7000)), 3 * kSecond, 1000);
  int64_t previous = -1;
  for (uint64_t slot = 0; slot < 8000; ++slot) {
    const int64_t due = schedule.SlotOffsetNs(slot);
    ASSERT_GT(due, previous) << slot;
    previous = due;
  }
  EXPECT_EQ(schedule.ToString(), "1000:3000:2s");
}

TEST(RateScheduleTest, RampDownToZeroEnds) {
  RateSchedule schedule = Parsed("2000:0:1s");
  EXPECT_EQ(schedule.SlotsBefore(kSecond), 1000u);
  EXPECT_LT(schedule.SlotOffsetNs(999), kSecond);
  EXPECT_EQ(schedule.SlotOffsetNs(1001), RateSchedule::kNever);
  RateSchedule from_zero = Parsed("0:2000:1s");
  EXPECT_EQ(from_zero.SlotsBefore(kSecond), 1000u);
  EXPECT_NEAR(static_cast<double>(from_zero.SlotOffsetNs(250)), kSecond / 2, 1000);
}

TEST(RateScheduleTest, Steps) {
  RateSchedule schedule = Parsed("1000:1s,2000:1s,0:1s,4000:1s");
  EXPECT_EQ(schedule.SlotsBefore(kSecond), 1000u);
  EXPECT_EQ(schedule.SlotsBefore(2 * kSecond), 3000u);
  EXPECT_EQ(schedule.SlotsBefore(3 * kSecond), 3000u);  // the pause
  EXPECT_EQ(schedule.SlotsBefore(4 * kSecond), 7000u);
  EXPECT_NEAR(static_cast<double>(schedule.SlotOffsetNs(2000)), 1.5 * kSecond, 1000);
  EXPECT_NEAR(static_cast<double>(schedule.SlotOffsetNs(3000)), 3 * kSecond, 1000);
  EXPECT_EQ(schedule.ToString(), "1000:1s,2000:1s,0:1s,4000:1s");
}

TEST(RateScheduleTest, LeadInShiftsThePhasesAtTheFirstRate) {
  RateSchedule schedule = Parsed("1000:3000:2s").WithLeadIn(kSecond);
  EXPECT_EQ(schedule.SlotsBefore(kSecond), 1000u);
  EXPECT_EQ(schedule.SlotsBefore(3 * kSecond), 5000u);
  EXPECT_EQ(Parsed("500").WithLeadIn(kSecond).SlotOffsetNs(500), kSecond);  // constant: same
}

TEST(RateScheduleTest, RejectsWhatIsNotASchedule) {
  for (const char* text : {"", "-1", "fast", "1000:", "1000:x", "1000:2000:0s", "1000:-5:1s",
                           "1:2:3:4s", "1000:1s,", "nan", "inf"}) {
    EXPECT_FALSE(RateSchedule::Parse(text).ok()) << text;
  }
}

}  // namespace
}  // namespace shoal::loadgen
