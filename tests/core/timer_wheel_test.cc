#include "core/timer_wheel.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace shoal::core {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1000 * kMs;
constexpr int64_t kHour = 3600 * kSec;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kTick = 10 * kMs;

// The clock of a test and the ids of the timers fired so far, in firing order.
struct Recorder {
  int64_t now = 0;
  std::vector<int> fired;
};

class TestTimer : public Timer {
 public:
  TestTimer() = default;
  TestTimer(int id, Recorder* recorder) : id(id), recorder(recorder) {}

  int id = 0;
  Recorder* recorder = nullptr;
  int fire_count = 0;
  int64_t fired_at = -1;
  std::function<void()> on_expire;

 private:
  void OnExpire() override {
    EXPECT_FALSE(scheduled());
    ++fire_count;
    if (recorder != nullptr) {
      recorder->fired.push_back(id);
      fired_at = recorder->now;
    }
    if (on_expire) on_expire();
  }
};

// Uniform enough in [0, bound) for spreading deadlines.
int64_t RandomBelow(std::mt19937_64& rng, int64_t bound) {
  return static_cast<int64_t>(rng() % static_cast<uint64_t>(bound));
}

// Timers 0..count-1, each recording into `recorder`.
std::vector<std::unique_ptr<TestTimer>> MakeTimers(int count, Recorder* recorder) {
  std::vector<std::unique_ptr<TestTimer>> timers;
  for (int i = 0; i < count; ++i) timers.push_back(std::make_unique<TestTimer>(i, recorder));
  return timers;
}

int64_t TickEnd(int64_t deadline, int64_t tick) {
  if (deadline <= 0) return 0;
  return ((deadline - 1) / tick + 1) * tick;
}

TEST(TimerWheelTest, TimerIsAtMost32Bytes) { EXPECT_LE(sizeof(Timer), 32u); }

TEST(TimerWheelTest, EmptyWheel) {
  TimerWheel wheel(kTick, 5 * kSec);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(wheel.tick_ns(), kTick);
  EXPECT_EQ(wheel.NextWorkDelayNs(5 * kSec), -1);
  EXPECT_EQ(wheel.Advance(6 * kSec), 0u);
  EXPECT_EQ(wheel.Advance(6 * kHour), 0u);
  EXPECT_EQ(wheel.NextWorkDelayNs(6 * kHour), -1);
}

TEST(TimerWheelTest, FiresWhenNowReachesDeadlineAndNotBefore) {
  Recorder rec;
  TestTimer a(1, &rec), b(2, &rec);
  const int64_t start = 1'234'567;
  TimerWheel wheel(kTick, start);
  const int64_t deadline_a = start + 25 * kMs;
  const int64_t deadline_b = 40 * kMs;  // exactly on a tick boundary
  wheel.Schedule(&a, deadline_a);
  wheel.Schedule(&b, deadline_b);
  EXPECT_TRUE(a.scheduled());
  EXPECT_EQ(a.deadline_ns(), deadline_a);
  EXPECT_EQ(wheel.size(), 2u);

  EXPECT_EQ(wheel.Advance(deadline_a - 1), 0u);
  EXPECT_TRUE(a.scheduled());
  EXPECT_EQ(wheel.Advance(deadline_a), 1u);
  EXPECT_FALSE(a.scheduled());
  EXPECT_EQ(a.fire_count, 1);
  EXPECT_EQ(wheel.Advance(deadline_b - 1), 0u);
  EXPECT_EQ(wheel.Advance(deadline_b), 1u);
  EXPECT_EQ(b.fire_count, 1);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(wheel.Advance(deadline_b + kHour), 0u);
  EXPECT_EQ(a.fire_count, 1);
}

TEST(TimerWheelTest, PastDeadlinesFireOnNextAdvance) {
  Recorder rec;
  TestTimer a(1, &rec), b(2, &rec), c(3, &rec);
  const int64_t now = 100 * kSec;
  TimerWheel wheel(kTick, now);
  wheel.Schedule(&a, now - 5 * kSec);
  wheel.Schedule(&b, std::numeric_limits<int64_t>::min());
  wheel.Schedule(&c, now);
  EXPECT_EQ(wheel.NextWorkDelayNs(now), 0);
  EXPECT_EQ(wheel.Advance(now), 3u);
  EXPECT_EQ(rec.fired, (std::vector<int>{2, 1, 3}));
  EXPECT_EQ(wheel.NextWorkDelayNs(now), -1);
}

TEST(TimerWheelTest, OrdersByDeadlineThenByScheduleOrder) {
  Recorder rec;
  std::vector<std::unique_ptr<TestTimer>> timers = MakeTimers(12, &rec);
  TimerWheel wheel(kTick, 0);
  const std::vector<int64_t> deadlines = {5 * kMs, 5 * kMs,  3 * kMs,  640 * kMs, 3 * kMs, 41 * kSec,
                                          7 * kHour, 3 * kMs, 5 * kMs, 641 * kMs, 41 * kSec, 3 * kMs};
  for (int i = 0; i < 12; ++i) wheel.Schedule(timers[i].get(), deadlines[i]);
  EXPECT_EQ(wheel.Advance(8 * kHour), 12u);
  EXPECT_EQ(rec.fired, (std::vector<int>{2, 4, 7, 11, 0, 1, 8, 3, 9, 5, 10, 6}));
}

TEST(TimerWheelTest, EqualDeadlinesKeepScheduleOrderAcrossCascades) {
  Recorder rec;
  TestTimer early(1, &rec), late(2, &rec), before(3, &rec), far(4, &rec), rescheduled(5, &rec);
  TimerWheel wheel(kTick, 0);
  const int64_t deadline = 50 * kSec + 3;  // 5001 ticks: level 2 when scheduled at 0
  wheel.Schedule(&far, deadline);
  wheel.Schedule(&rescheduled, deadline);
  wheel.Schedule(&early, deadline);
  EXPECT_EQ(wheel.Advance(49 * kSec + 995 * kMs), 0u);
  wheel.Schedule(&late, deadline);  // lands in level 0 directly, next to the cascaded ones
  wheel.Schedule(&before, deadline - 1);
  wheel.Schedule(&rescheduled, deadline);  // rescheduling moves it behind the others
  EXPECT_EQ(wheel.Advance(deadline - 2), 0u);
  EXPECT_EQ(wheel.Advance(deadline), 5u);
  EXPECT_EQ(rec.fired, (std::vector<int>{3, 4, 1, 2, 5}));
}

TEST(TimerWheelTest, ManyTiesFireInScheduleOrderWithinOneAdvance) {
  Recorder rec;
  constexpr int kCount = 2000;
  std::vector<std::unique_ptr<TestTimer>> timers = MakeTimers(kCount, &rec);
  TimerWheel wheel(kTick, 0);
  std::mt19937_64 rng(7);
  const std::vector<int64_t> choices = {1,         kTick - 1, kTick,       kTick + 1,  63 * kTick,
                                        64 * kTick, 65 * kTick, 4097 * kTick, 300 * kSec, 50 * kHour};
  std::vector<std::pair<int64_t, int>> expected;  // (deadline, id) in schedule order
  std::vector<int64_t> deadline_of(kCount);
  for (int round = 0; round < 3 * kCount; ++round) {
    const int id = static_cast<int>(rng() % kCount);
    deadline_of[id] = choices[rng() % choices.size()] + static_cast<int64_t>(rng() % 3);
    wheel.Schedule(timers[id].get(), deadline_of[id]);
    std::erase_if(expected, [id](const auto& e) { return e.second == id; });
    expected.emplace_back(deadline_of[id], id);
  }
  std::stable_sort(expected.begin(), expected.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  EXPECT_EQ(wheel.Advance(51 * kHour), expected.size());
  std::vector<int> expected_ids;
  for (const auto& e : expected) expected_ids.push_back(e.second);
  EXPECT_EQ(rec.fired, expected_ids);
}

TEST(TimerWheelTest, CancelPreventsFiring) {
  Recorder rec;
  TestTimer a(1, &rec), b(2, &rec), c(3, &rec), far(4, &rec), idle(5, &rec);
  TimerWheel wheel(kTick, 0);
  wheel.Schedule(&a, 15 * kMs);
  wheel.Schedule(&b, 15 * kMs);
  wheel.Schedule(&c, 16 * kMs);
  wheel.Schedule(&far, 100 * kHour);
  EXPECT_EQ(wheel.size(), 4u);
  wheel.Cancel(&b);
  wheel.Cancel(&b);
  wheel.Cancel(&idle);
  EXPECT_FALSE(b.scheduled());
  EXPECT_EQ(wheel.size(), 3u);
  EXPECT_EQ(wheel.Advance(20 * kMs), 2u);
  EXPECT_EQ(rec.fired, (std::vector<int>{1, 3}));
  wheel.Cancel(&far);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(wheel.NextWorkDelayNs(20 * kMs), -1);
  EXPECT_EQ(wheel.Advance(200 * kHour), 0u);
  EXPECT_EQ(far.fire_count, 0);
  EXPECT_EQ(b.fire_count, 0);
}

// Cancelled and rescheduled timers leave no trace: a wheel after heavy churn wakes up and fires
// exactly like a fresh wheel holding only the surviving timers.
TEST(TimerWheelTest, CancelledTimersLeaveNoTrace) {
  for (const int64_t tick : {int64_t{1}, kTick}) {
    Recorder churned_rec, fresh_rec;
    constexpr int kCount = 4000;
    std::vector<std::unique_ptr<TestTimer>> churned, fresh;
    for (int i = 0; i < kCount; ++i) {
      churned.push_back(std::make_unique<TestTimer>(i, &churned_rec));
      fresh.push_back(std::make_unique<TestTimer>(i, &fresh_rec));
    }
    std::mt19937_64 rng(static_cast<uint64_t>(tick) + 5);
    auto random_deadline = [&](int64_t now) {
      return now + static_cast<int64_t>(rng() % (uint64_t{1} << (6 * (1 + rng() % 4)))) * tick;
    };
    TimerWheel churned_wheel(tick, 0);
    for (auto& t : churned) churned_wheel.Schedule(t.get(), random_deadline(0));
    const int64_t now = 70 * tick + tick / 2;
    churned_wheel.Advance(now);
    churned_rec.fired.clear();
    for (auto& t : churned) {
      if (rng() % 4 != 0) churned_wheel.Schedule(t.get(), random_deadline(now));
      if (rng() % 50 != 0) churned_wheel.Cancel(t.get());
    }
    TimerWheel fresh_wheel(tick, now);
    for (int i = 0; i < kCount; ++i) {
      if (churned[i]->scheduled()) fresh_wheel.Schedule(fresh[i].get(), churned[i]->deadline_ns());
    }
    ASSERT_GT(fresh_wheel.size(), 20u);
    ASSERT_EQ(churned_wheel.size(), fresh_wheel.size());
    int64_t t = now;
    int wakeups = 0;
    for (int64_t delay = fresh_wheel.NextWorkDelayNs(t); delay >= 0; delay = fresh_wheel.NextWorkDelayNs(t)) {
      ASSERT_LT(++wakeups, 10 * kCount);
      ASSERT_EQ(churned_wheel.NextWorkDelayNs(t), delay) << "at " << t;
      t += delay;
      churned_rec.now = fresh_rec.now = t;
      ASSERT_EQ(churned_wheel.Advance(t), fresh_wheel.Advance(t));
      ASSERT_EQ(churned_rec.fired, fresh_rec.fired);
    }
    EXPECT_EQ(churned_wheel.NextWorkDelayNs(t), -1);
  }
}

TEST(TimerWheelTest, RescheduleMovesTheDeadline) {
  Recorder rec;
  TestTimer a(1, &rec), b(2, &rec);
  TimerWheel wheel(kTick, 0);
  wheel.Schedule(&a, 100 * kMs);
  wheel.Schedule(&a, 20 * kMs);
  wheel.Schedule(&b, 20 * kMs);
  wheel.Schedule(&b, 300 * kMs);
  EXPECT_EQ(wheel.size(), 2u);
  EXPECT_EQ(a.deadline_ns(), 20 * kMs);
  EXPECT_EQ(wheel.Advance(19 * kMs), 0u);
  EXPECT_EQ(wheel.Advance(20 * kMs), 1u);
  EXPECT_EQ(wheel.Advance(299 * kMs), 0u);
  EXPECT_EQ(wheel.Advance(300 * kMs), 1u);
  EXPECT_EQ(a.fire_count, 1);
  EXPECT_EQ(b.fire_count, 1);
  EXPECT_EQ(rec.fired, (std::vector<int>{1, 2}));
  // Rescheduling a far timer into the past.
  wheel.Schedule(&a, 10 * kHour);
  EXPECT_EQ(wheel.Advance(kSec), 0u);
  wheel.Schedule(&a, 0);
  EXPECT_EQ(wheel.Advance(kSec), 1u);
  EXPECT_EQ(wheel.Advance(11 * kHour), 0u);
}

// Deadlines on both sides of every level boundary (64^k ticks), from start times at several phases of
// the wheel: each fires exactly when now reaches it, never before.
TEST(TimerWheelTest, LevelBoundariesAndWrapAround) {
  const std::vector<int64_t> starts = {0, 1, 62, 63, 64, 4095, 262143, (int64_t{1} << 24) - 2, 12'345'678,
                                       (int64_t{5} << 24) + 77};
  std::vector<int64_t> offsets;
  for (int level = 1; level < TimerWheel::kLevels; ++level) {
    const int64_t boundary = int64_t{1} << (6 * level);
    for (int64_t delta = -2; delta <= 2; ++delta) offsets.push_back(boundary + delta);
    offsets.push_back(boundary + (boundary >> 6) * 5);
  }
  for (const int64_t tick : {int64_t{1}, int64_t{3}, kTick}) {
    for (const int64_t start_ticks : starts) {
      for (const int64_t offset_ticks : offsets) {
        if (offset_ticks > (int64_t{1} << 62) / tick - start_ticks) continue;
        for (const int64_t sub_tick : {int64_t{0}, tick / 2}) {
          TestTimer t;
          const int64_t start = start_ticks * tick + sub_tick;
          SCOPED_TRACE(::testing::Message()
                       << "tick " << tick << " start " << start << " offset " << offset_ticks);
          TimerWheel wheel(tick, start);
          const int64_t deadline = start + offset_ticks * tick - sub_tick;
          wheel.Schedule(&t, deadline);
          const int64_t wake = start + wheel.NextWorkDelayNs(start);
          ASSERT_GT(wake, start);
          ASSERT_LE(wake, TickEnd(deadline, tick));
          ASSERT_EQ(wheel.Advance(deadline - tick - 1), 0u);
          for (int64_t now = deadline - tick; now < deadline; now += std::max<int64_t>(1, tick / 3)) {
            ASSERT_EQ(wheel.Advance(now), 0u);
          }
          ASSERT_EQ(wheel.Advance(deadline - 1), 0u);
          ASSERT_EQ(wheel.Advance(deadline), 1u);
        }
      }
    }
  }
}

// Timers on consecutive ticks around a boundary, advanced one tick at a time across it.
TEST(TimerWheelTest, ConsecutiveTicksAcrossBoundaries) {
  for (const int64_t boundary : {int64_t{64}, int64_t{1} << 12, int64_t{1} << 18, int64_t{1} << 24}) {
    Recorder rec;
    std::vector<std::unique_ptr<TestTimer>> timers = MakeTimers(300, &rec);
    const int64_t tick = 5;
    TimerWheel wheel(tick, 0);
    const int64_t first = (boundary - 150) * tick;
    for (int i = 0; i < 300; ++i) wheel.Schedule(timers[i].get(), first + i * tick - (i % 5));
    wheel.Advance(first - tick);
    for (int64_t now = first - tick; now <= first + 300 * tick; ++now) {
      rec.now = now;
      wheel.Advance(now);
    }
    for (const auto& t : timers) {
      ASSERT_EQ(t->fire_count, 1);
      EXPECT_EQ(t->fired_at, first + t->id * tick - (t->id % 5)) << "boundary " << boundary;
    }
  }
}

TEST(TimerWheelTest, FarDeadlinesWithHourlyAdvance) {
  Recorder rec;
  const int64_t start = 3 * kSec;
  const int64_t day = 24 * kHour;
  const std::vector<int64_t> deadlines = {start + 47 * kHour,      start + 100 * kHour,
                                          start + 30 * day,        start + 30 * day + 1,
                                          start + 3 * 365 * day,   start + 3 * 365 * day + 7 * kMs};
  std::vector<std::unique_ptr<TestTimer>> timers;
  for (size_t i = 0; i < deadlines.size(); ++i) {
    timers.push_back(std::make_unique<TestTimer>(static_cast<int>(i), &rec));
  }
  TestTimer forever(99, &rec);
  TimerWheel wheel(kTick, start);
  for (size_t i = 0; i < deadlines.size(); ++i) wheel.Schedule(timers[i].get(), deadlines[i]);
  wheel.Schedule(&forever, kMax);
  // Jump an hour at a time, then to just before and exactly onto each deadline.
  int64_t now = start;
  for (const int64_t deadline : deadlines) {
    while (now + kHour < deadline) {
      now += kHour;
      rec.now = now;
      wheel.Advance(now);
    }
    now = deadline - 1;
    rec.now = now;
    wheel.Advance(now);
    now = deadline;
    rec.now = now;
    wheel.Advance(now);
  }
  for (size_t i = 0; i < deadlines.size(); ++i) {
    EXPECT_EQ(timers[i]->fire_count, 1) << i;
    EXPECT_EQ(timers[i]->fired_at, deadlines[i]) << i;
  }
  EXPECT_EQ(rec.fired, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(forever.scheduled());
  EXPECT_EQ(wheel.Advance(kMax - 1), 0u);
  EXPECT_EQ(wheel.Advance(kMax), 1u);
}

// With 1 ns ticks, deadlines up to INT64_MAX reach the top level; random huge jumps land before,
// exactly on, and after them.
TEST(TimerWheelTest, ExtremeDeadlinesReachTheTopLevel) {
  Recorder rec;
  const std::vector<int64_t> deadlines = {int64_t{1} << 40, (int64_t{1} << 54) + 3, (int64_t{1} << 60) - 1,
                                          int64_t{1} << 60, (int64_t{1} << 62) + 12345, kMax - 1, kMax};
  std::vector<std::unique_ptr<TestTimer>> timers;
  for (size_t i = 0; i < deadlines.size(); ++i) {
    timers.push_back(std::make_unique<TestTimer>(static_cast<int>(i), &rec));
  }
  TimerWheel wheel(1, 17);
  for (size_t i = 0; i < deadlines.size(); ++i) wheel.Schedule(timers[i].get(), deadlines[i]);
  int64_t now = 17;
  for (size_t i = 0; i < deadlines.size(); ++i) {
    for (const int64_t target : {now + (deadlines[i] - now) / 2, deadlines[i] - 64, deadlines[i] - 1}) {
      if (target <= now) continue;
      now = target;
      rec.now = now;
      EXPECT_EQ(wheel.Advance(now), 0u) << i;
    }
    now = deadlines[i];
    rec.now = now;
    EXPECT_EQ(wheel.Advance(now), 1u) << i;
    EXPECT_EQ(timers[i]->fired_at, deadlines[i]);
  }
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheelTest, LongJumpsAreCheapOnASparseWheel) {
  Recorder rec;
  std::vector<std::unique_ptr<TestTimer>> timers = MakeTimers(100, &rec);
  TimerWheel wheel(1, 0);  // 1 ns ticks: a per-tick loop would never finish
  std::mt19937_64 rng(11);
  std::vector<int64_t> deadlines;
  for (auto& t : timers) {
    deadlines.push_back(static_cast<int64_t>(rng() % (int64_t{1} << 50)));
    wheel.Schedule(t.get(), deadlines.back());
  }
  const auto began = std::chrono::steady_clock::now();
  int64_t now = 0;
  for (int step = 0; step < 2000; ++step) {
    now += static_cast<int64_t>(rng() % (int64_t{1} << 40));
    rec.now = now;
    wheel.Advance(now);
  }
  now = int64_t{1} << 61;
  rec.now = now;
  wheel.Advance(now);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(2));
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(timers[i]->fire_count, 1);
    EXPECT_GE(timers[i]->fired_at, deadlines[i]);
  }
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheelTest, CallbacksMayScheduleAndCancelDuringAdvance) {
  Recorder rec;
  TestTimer a(1, &rec), b(2, &rec), c(3, &rec), d(4, &rec), e(5, &rec), f(6, &rec), g(7, &rec);
  TimerWheel wheel(kTick, 0);
  a.on_expire = [&] {
    wheel.Cancel(&b);                  // due later in this Advance: must not fire
    wheel.Schedule(&c, 500 * kMs);     // due in this Advance, pushed out
    wheel.Schedule(&d, 5 * kMs);       // already due: waits for the next Advance
    wheel.Schedule(&e, 50 * kMs);      // due within this Advance's range: waits too
    wheel.Cancel(&a);                  // itself, already unscheduled: no-op
    wheel.Cancel(&f);                  // same deadline, after `a` in order
  };
  wheel.Schedule(&a, 10 * kMs);
  wheel.Schedule(&f, 10 * kMs);
  wheel.Schedule(&b, 20 * kMs);
  wheel.Schedule(&c, 30 * kMs);
  wheel.Schedule(&g, 90 * kMs);
  EXPECT_EQ(wheel.Advance(100 * kMs), 2u);
  EXPECT_EQ(rec.fired, (std::vector<int>{1, 7}));
  EXPECT_EQ(wheel.size(), 3u);
  EXPECT_EQ(wheel.NextWorkDelayNs(100 * kMs), 0);
  EXPECT_EQ(wheel.Advance(100 * kMs), 2u);
  EXPECT_EQ(rec.fired, (std::vector<int>{1, 7, 4, 5}));
  EXPECT_EQ(wheel.Advance(499 * kMs), 0u);
  EXPECT_EQ(wheel.Advance(500 * kMs), 1u);
  EXPECT_EQ(b.fire_count + f.fire_count, 0);
}

TEST(TimerWheelTest, SelfReschedulingTimerFiresOncePerAdvance) {
  Recorder rec;
  TestTimer periodic(1, &rec), immediate(2, &rec);
  TimerWheel wheel(kTick, 0);
  periodic.on_expire = [&] { wheel.Schedule(&periodic, periodic.deadline_ns() + 3 * kMs); };
  immediate.on_expire = [&] { wheel.Schedule(&immediate, 0); };
  wheel.Schedule(&periodic, 3 * kMs);
  wheel.Schedule(&immediate, 0);
  EXPECT_EQ(wheel.Advance(30 * kMs), 2u);
  EXPECT_EQ(wheel.Advance(30 * kMs), 2u);
  EXPECT_EQ(periodic.fire_count, 2);
  EXPECT_EQ(immediate.fire_count, 2);
  wheel.Cancel(&periodic);
  wheel.Cancel(&immediate);
}

TEST(TimerWheelTest, CallbackMayDestroyItsOwnTimer) {
  Recorder rec;
  auto owned = std::make_unique<TestTimer>(1, &rec);
  TestTimer after(2, &rec);
  TimerWheel wheel(kTick, 0);
  owned->on_expire = [&] { owned.reset(); };
  wheel.Schedule(owned.get(), 10 * kMs);
  wheel.Schedule(&after, 10 * kMs);
  EXPECT_EQ(wheel.Advance(10 * kMs), 2u);
  EXPECT_EQ(owned, nullptr);
  EXPECT_EQ(rec.fired, (std::vector<int>{1, 2}));
}

TEST(TimerWheelTest, NextWorkDelayIsTheEndOfTheEarliestTick) {
  TestTimer a, b;
  TimerWheel wheel(kTick, 0);
  wheel.Schedule(&a, 25 * kMs);
  EXPECT_EQ(wheel.NextWorkDelayNs(0), 30 * kMs);
  EXPECT_EQ(wheel.NextWorkDelayNs(7 * kMs), 23 * kMs);
  wheel.Schedule(&b, 5 * kMs);
  EXPECT_EQ(wheel.NextWorkDelayNs(0), 10 * kMs);
  EXPECT_EQ(wheel.Advance(12 * kMs), 1u);
  EXPECT_EQ(wheel.NextWorkDelayNs(12 * kMs), 18 * kMs);
  EXPECT_EQ(wheel.NextWorkDelayNs(26 * kMs), 0);  // due, though Advance has not reached it yet
  wheel.Schedule(&b, 12 * kMs);
  EXPECT_EQ(wheel.NextWorkDelayNs(12 * kMs), 0);
  wheel.Schedule(&b, 21 * kMs);
  EXPECT_EQ(wheel.Advance(21 * kMs), 1u);
  EXPECT_EQ(wheel.NextWorkDelayNs(21 * kMs), 9 * kMs);
  EXPECT_EQ(wheel.Advance(25 * kMs), 1u);
  EXPECT_EQ(wheel.NextWorkDelayNs(25 * kMs), -1);
}

// The epoll pattern: sleep exactly NextWorkDelayNs, then Advance. Every timer fires within
// [deadline, end of its tick], the loop never spins, and cascades cost few extra wakeups.
TEST(TimerWheelTest, LoopDrivenByNextWorkDelayFiresOnTimeWithoutSpinning) {
  for (const int64_t tick : {int64_t{1}, int64_t{7}, kTick}) {
    Recorder rec;
    constexpr int kCount = 3000;
    std::vector<std::unique_ptr<TestTimer>> timers = MakeTimers(kCount, &rec);
    const int64_t start = 123 * tick + tick / 3;
    TimerWheel wheel(tick, start);
    std::mt19937_64 rng(static_cast<uint64_t>(tick));
    for (auto& t : timers) {
      const int64_t span_ticks = int64_t{1} << (rng() % 2 == 0 ? 13 : 27);
      wheel.Schedule(t.get(), start + RandomBelow(rng, span_ticks * tick));
    }
    std::vector<int64_t> deadlines;
    for (auto& t : timers) deadlines.push_back(t->deadline_ns());
    int64_t now = start;
    int wakeups = 0;
    for (int64_t delay = wheel.NextWorkDelayNs(now); delay >= 0; delay = wheel.NextWorkDelayNs(now)) {
      ASSERT_GT(delay, 0);
      now += delay;
      rec.now = now;
      wheel.Advance(now);
      ++wakeups;
      ASSERT_LT(wakeups, 10 * kCount);
    }
    for (int i = 0; i < kCount; ++i) {
      ASSERT_EQ(timers[i]->fire_count, 1);
      ASSERT_GE(timers[i]->fired_at, deadlines[i]);
      ASSERT_LE(timers[i]->fired_at, TickEnd(deadlines[i], tick));
      ASSERT_LT(timers[i]->fired_at - deadlines[i], tick);
    }
    // One wakeup per fired tick plus at most one per level a timer cascades through.
    EXPECT_LE(wakeups, kCount * TimerWheel::kLevels + 8 * 64);
  }
}

// Advance runs at least once per tick around every deadline (random phase, random steps <= tick):
// every timer fires no earlier than its deadline and at most one tick after it. The clock skips the
// stretches between deadlines, which span levels 0 to 4.
TEST(TimerWheelTest, FiringWindowForRandomDeadlines) {
  for (const int64_t tick : {int64_t{1}, int64_t{7}, kTick}) {
    Recorder rec;
    constexpr int kCount = 20000;
    std::vector<std::unique_ptr<TestTimer>> timers = MakeTimers(kCount, &rec);
    const int64_t start = 9 * tick + tick / 2;
    TimerWheel wheel(tick, start);
    std::mt19937_64 rng(static_cast<uint64_t>(tick) + 100);
    std::vector<int64_t> deadlines;
    for (auto& t : timers) {
      const int64_t span_ticks = int64_t{1} << (6 * (1 + rng() % 5));
      deadlines.push_back(start + 1 + RandomBelow(rng, span_ticks * tick));
      wheel.Schedule(t.get(), deadlines.back());
    }
    std::vector<int64_t> sorted = deadlines;
    std::sort(sorted.begin(), sorted.end());
    int64_t now = start;
    for (const int64_t deadline : sorted) {
      if (now >= deadline) continue;
      const int64_t lead_in = deadline - 2 * tick - RandomBelow(rng, tick);
      if (lead_in > now) now = lead_in;
      while (now < deadline) {
        now += 1 + RandomBelow(rng, tick);
        rec.now = now;
        wheel.Advance(now);
      }
    }
    for (int i = 0; i < kCount; ++i) {
      ASSERT_EQ(timers[i]->fire_count, 1);
      ASSERT_GE(timers[i]->fired_at, deadlines[i]);
      ASSERT_LE(timers[i]->fired_at - deadlines[i], tick);
    }
  }
}

TEST(TimerWheelTest, DestructorLeavesTimersUnscheduled) {
  TestTimer near, mid, far, past;
  {
    TimerWheel wheel(kTick, 0);
    wheel.Schedule(&near, 5 * kMs);
    wheel.Schedule(&mid, 5 * kSec);
    wheel.Schedule(&far, 500 * kHour);
    wheel.Schedule(&past, -1);
    EXPECT_EQ(wheel.size(), 4u);
  }
  EXPECT_FALSE(near.scheduled());
  EXPECT_FALSE(mid.scheduled());
  EXPECT_FALSE(far.scheduled());
  EXPECT_FALSE(past.scheduled());
  TimerWheel other(kTick, 0);
  other.Schedule(&far, 20 * kMs);
  EXPECT_EQ(other.Advance(20 * kMs), 1u);
  EXPECT_EQ(far.fire_count, 1);
}

// A randomized model test against a reference std::multimap keyed by deadline (equal keys keep
// insertion order, i.e. schedule order). The contract checked at every Advance(now):
//  * the timers that fire are exactly those scheduled before the call began, not cancelled or
//    rescheduled before their turn, with deadline <= now;
//  * they fire in (deadline, schedule order) order;
//  * hence each fires in the first Advance whose now reaches its deadline, and when that Advance
//    came at most one tick after the previous one, at most one tick late.
// Callbacks reschedule themselves and schedule and cancel other timers.
class ModelTest {
 public:
  ModelTest(uint64_t seed, int64_t tick, int pool_size)
      : rng_(seed), tick_(tick), now_(static_cast<int64_t>(seed % 1000) * tick + tick / 2),
        positions_(pool_size), wheel_(tick, now_) {
    for (int i = 0; i < pool_size; ++i) timers_.push_back(std::make_unique<ModelTimer>(this, i));
  }

  ~ModelTest() {
    for (auto& t : timers_) wheel_.Cancel(t.get());
  }

  void Run(int operations) {
    for (int op = 0; op < operations && !::testing::Test::HasFatalFailure(); ++op) {
      const uint64_t kind = rng_() % 100;
      if (kind < 35) {
        ScheduleRandom();
      } else if (kind < 50) {
        Cancel(RandomId());
      } else if (kind < 85) {
        Advance(now_ + RandomStep());
      } else if (kind < 90 && !reference_.empty()) {
        Advance(reference_.begin()->first - static_cast<int64_t>(rng_() % 2));
      } else {
        CheckNextWorkDelay(/*right_after_advance=*/false);
        CheckState();
      }
    }
    Advance(now_ + (int64_t{1} << 34) * tick_);
    CheckState();
  }

  int advances() const { return advances_; }
  int fired() const { return fired_; }
  int fired_within_a_tick_checks() const { return window_checks_; }
  int ties_fired() const { return ties_fired_; }

 private:
  struct Entry {
    int id;
    uint64_t seq;
  };
  using Reference = std::multimap<int64_t, Entry>;

  class ModelTimer : public Timer {
   public:
    ModelTimer(ModelTest* model, int id) : model_(model), id_(id) {}

   private:
    void OnExpire() override { model_->OnFired(id_); }
    ModelTest* model_;
    int id_;
  };

  int RandomId() { return static_cast<int>(rng_() % timers_.size()); }

  int64_t Uniform(int64_t ticks) {
    return static_cast<int64_t>(rng_() % static_cast<uint64_t>(ticks * tick_ + 1));
  }

  int64_t RandomDeadline() {
    const uint64_t kind = rng_() % 100;
    int64_t deadline;
    if (kind < 10 && !recent_deadlines_.empty()) {
      deadline = recent_deadlines_[rng_() % recent_deadlines_.size()];
    } else if (kind < 22) {
      deadline = now_ - Uniform(5);
    } else if (kind < 45) {
      deadline = now_ + Uniform(3);
    } else if (kind < 65) {
      deadline = now_ + Uniform(64);
    } else if (kind < 80) {
      deadline = now_ + Uniform(4096);
    } else if (kind < 90) {
      deadline = now_ + Uniform(int64_t{1} << 20);
    } else if (kind < 97) {
      deadline = now_ + Uniform(int64_t{1} << 26);
    } else {
      deadline = now_ + Uniform(int64_t{1} << 32);
    }
    if (rng_() % 8 == 0) deadline -= deadline % tick_;
    if (recent_deadlines_.size() < 64) {
      recent_deadlines_.push_back(deadline);
    } else {
      recent_deadlines_[rng_() % 64] = deadline;
    }
    return deadline;
  }

  int64_t RandomStep() {
    const uint64_t kind = rng_() % 1000;
    if (kind < 500) return Uniform(1);
    if (kind < 750) return Uniform(3);
    if (kind < 900) return Uniform(100);
    if (kind < 970) return Uniform(int64_t{1} << 16);
    if (kind < 995) return Uniform(int64_t{1} << 22);
    return Uniform(int64_t{1} << 28);
  }

  void ScheduleRandom() { Schedule(RandomId(), RandomDeadline()); }

  void Schedule(int id, int64_t deadline) {
    wheel_.Schedule(timers_[id].get(), deadline);
    if (positions_[id]) reference_.erase(*positions_[id]);
    positions_[id] = reference_.emplace(deadline, Entry{id, next_seq_++});
    ASSERT_TRUE(timers_[id]->scheduled());
    ASSERT_EQ(timers_[id]->deadline_ns(), deadline);
  }

  void Cancel(int id) {
    wheel_.Cancel(timers_[id].get());
    if (positions_[id]) reference_.erase(*positions_[id]);
    positions_[id].reset();
    ASSERT_FALSE(timers_[id]->scheduled());
  }

  // The entry that must fire next in the current Advance, or end().
  Reference::iterator NextDue() {
    for (auto it = reference_.begin(); it != reference_.end() && it->first <= now_; ++it) {
      if (it->second.seq < advance_start_seq_) return it;
    }
    return reference_.end();
  }

  void Advance(int64_t now) {
    if (now < now_) return;
    step_ = now - now_;
    now_ = now;
    advance_start_seq_ = next_seq_;
    fired_in_advance_ = 0;
    in_advance_ = true;
    const size_t fired = wheel_.Advance(now_);
    in_advance_ = false;
    ++advances_;
    ASSERT_EQ(fired, fired_in_advance_);
    ASSERT_TRUE(NextDue() == reference_.end()) << "timer " << NextDue()->second.id << " due at "
                                               << NextDue()->first << " did not fire at " << now_;
    previous_advance_now_ = now_;
    previous_advance_start_seq_ = advance_start_seq_;
    CheckNextWorkDelay(/*right_after_advance=*/true);
    ASSERT_EQ(wheel_.size(), reference_.size());
  }

  void OnFired(int id) {
    ASSERT_TRUE(in_advance_);
    const auto expected = NextDue();
    ASSERT_TRUE(expected != reference_.end()) << "timer " << id << " fired early at " << now_;
    ASSERT_EQ(expected->second.id, id) << "at " << now_ << " expected deadline " << expected->first
                                       << " got deadline " << timers_[id]->deadline_ns();
    const int64_t deadline = expected->first;
    const uint64_t seq = expected->second.seq;
    ASSERT_LE(deadline, now_);
    if (seq < previous_advance_start_seq_) {
      ASSERT_GT(deadline, previous_advance_now_) << "should have fired in the previous Advance";
      if (step_ <= tick_) {
        ASSERT_LE(now_ - deadline, tick_);
        ++window_checks_;
      }
    }
    if (last_fired_deadline_ == deadline && last_fired_advance_ == advances_) ++ties_fired_;
    last_fired_deadline_ = deadline;
    last_fired_advance_ = advances_;
    reference_.erase(expected);
    positions_[id].reset();
    ASSERT_FALSE(timers_[id]->scheduled());
    ++fired_in_advance_;
    ++fired_;

    const uint64_t action = rng_() % 100;
    if (action < 20) {
      Schedule(id, RandomDeadline());
    } else if (action < 30) {
      ScheduleRandom();
    } else if (action < 40) {
      Cancel(RandomId());
    } else if (action < 45 && !reference_.empty()) {
      Cancel(reference_.begin()->second.id);  // often due later in this same Advance
    }
  }

  void CheckNextWorkDelay(bool right_after_advance) {
    const int64_t delay = wheel_.NextWorkDelayNs(now_);
    if (reference_.empty()) {
      ASSERT_EQ(delay, -1);
      return;
    }
    ASSERT_GE(delay, 0);
    const int64_t earliest = reference_.begin()->first;
    if (earliest <= now_) {
      ASSERT_EQ(delay, 0) << "a timer is due";
      return;
    }
    ASSERT_LE(now_ + delay, TickEnd(earliest, tick_)) << "would sleep past the earliest deadline's tick";
    if (right_after_advance) {
      ASSERT_GT(delay, 0) << "nothing is due: the loop would spin";
    }
  }

  void CheckState() {
    ASSERT_EQ(wheel_.size(), reference_.size());
    for (size_t id = 0; id < timers_.size(); ++id) {
      ASSERT_EQ(timers_[id]->scheduled(), positions_[id].has_value());
      if (positions_[id]) {
        ASSERT_EQ(timers_[id]->deadline_ns(), (*positions_[id])->first);
      }
    }
  }

  std::mt19937_64 rng_;
  const int64_t tick_;
  int64_t now_;
  std::vector<std::unique_ptr<ModelTimer>> timers_;
  std::vector<std::optional<Reference::iterator>> positions_;
  Reference reference_;
  std::vector<int64_t> recent_deadlines_;
  uint64_t next_seq_ = 0;
  bool in_advance_ = false;
  uint64_t advance_start_seq_ = 0;
  uint64_t previous_advance_start_seq_ = 0;
  int64_t previous_advance_now_ = std::numeric_limits<int64_t>::min();
  int64_t step_ = kMax;
  size_t fired_in_advance_ = 0;
  int advances_ = 0;
  int fired_ = 0;
  int window_checks_ = 0;
  int ties_fired_ = 0;
  int64_t last_fired_deadline_ = 0;
  int last_fired_advance_ = -1;
  TimerWheel wheel_;
};

TEST(TimerWheelModelTest, MatchesReferenceMultimap) {
  struct Config {
    uint64_t seed;
    int64_t tick;
    int pool;
  };
  const Config configs[] = {{1, 1, 2000}, {2, 7, 500}, {3, kTick, 3000}, {4, 1000, 50}};
  for (const Config& config : configs) {
    SCOPED_TRACE(::testing::Message() << "seed " << config.seed << " tick " << config.tick);
    ModelTest model(config.seed, config.tick, config.pool);
    model.Run(250'000);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    std::printf("tick %lld: %d advances, %d fired, %d within-a-tick checks, %d ties\n",
                static_cast<long long>(config.tick), model.advances(), model.fired(),
                model.fired_within_a_tick_checks(), model.ties_fired());
    EXPECT_GT(model.advances(), 50'000);
    EXPECT_GT(model.fired(), 20'000);
    EXPECT_GT(model.fired_within_a_tick_checks(), 2'000);
    EXPECT_GT(model.ties_fired(), 100);
  }
}

}  // namespace
}  // namespace shoal::core
