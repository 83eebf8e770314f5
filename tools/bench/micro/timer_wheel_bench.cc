// TimerWheel against std::multimap and std::priority_queue timer queues, on the same workload:
// 1M timers with uniformly random deadlines in [now, now + 60 s) at a 10 ms tick.
//  * ScheduleCancel: schedule all, then cancel all in a random order.
//  * ScheduleExpire: schedule all, then advance the clock one tick at a time until all have fired.
// The priority_queue cancels lazily (a per-timer generation); its stale entries are popped and
// discarded when they reach the top, which for ScheduleCancel happens in the timed region.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/timer_wheel.h"

namespace shoal::core {
namespace {

constexpr int64_t kTickNs = 10'000'000;
constexpr int64_t kHorizonNs = 60'000'000'000;
constexpr int64_t kStartNs = 1'000'000'000'000;
constexpr size_t kTimers = 1'000'000;

struct Workload {
  std::vector<int64_t> offsets_ns;
  std::vector<uint32_t> cancel_order;
};

const Workload& TheWorkload() {
  static const Workload workload = [] {
    Workload w;
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int64_t> offset(0, kHorizonNs - 1);
    w.offsets_ns.resize(kTimers);
    for (int64_t& o : w.offsets_ns) o = offset(rng);
    w.cancel_order.resize(kTimers);
    std::iota(w.cancel_order.begin(), w.cancel_order.end(), 0);
    std::shuffle(w.cancel_order.begin(), w.cancel_order.end(), rng);
    return w;
  }();
  return workload;
}

void ReportPerTimer(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kTimers));
  state.counters["per_timer"] = benchmark::Counter(static_cast<double>(kTimers),
                                                   benchmark::Counter::kIsIterationInvariantRate |
                                                       benchmark::Counter::kInvert);
}

void CheckFired(benchmark::State& state, uint64_t fired) {
  if (fired != state.iterations() * kTimers) state.SkipWithError("not every timer fired");
}

// --- TimerWheel ---------------------------------------------------------------------------------

class WheelTimer : public Timer {
 public:
  uint64_t* fired = nullptr;

 private:
  void OnExpire() override { ++*fired; }
};

void BM_ScheduleCancel_TimerWheel(benchmark::State& state) {
  const Workload& w = TheWorkload();
  auto timers = std::make_unique<WheelTimer[]>(kTimers);
  TimerWheel wheel(kTickNs, kStartNs);
  for (auto _ : state) {
    for (size_t i = 0; i < kTimers; ++i) wheel.Schedule(&timers[i], kStartNs + w.offsets_ns[i]);
    for (const uint32_t i : w.cancel_order) wheel.Cancel(&timers[i]);
  }
  ReportPerTimer(state);
}

void BM_ScheduleExpire_TimerWheel(benchmark::State& state) {
  const Workload& w = TheWorkload();
  uint64_t fired = 0;
  auto timers = std::make_unique<WheelTimer[]>(kTimers);
  for (size_t i = 0; i < kTimers; ++i) timers[i].fired = &fired;
  int64_t now = kStartNs;
  TimerWheel wheel(kTickNs, now);
  for (auto _ : state) {
    for (size_t i = 0; i < kTimers; ++i) wheel.Schedule(&timers[i], now + w.offsets_ns[i]);
    for (const int64_t end = now + kHorizonNs; now < end;) {
      now += kTickNs;
      wheel.Advance(now);
    }
  }
  CheckFired(state, fired);
  ReportPerTimer(state);
}

// --- std::multimap --------------------------------------------------------------------------------

struct MapTimer;
using TimerMap = std::multimap<int64_t, MapTimer*>;

struct MapTimer {
  TimerMap::iterator position;
  bool scheduled = false;
  uint64_t* fired = nullptr;
  void OnExpire() { ++*fired; }
};

void MapSchedule(TimerMap& map, MapTimer& t, int64_t deadline_ns) {
  if (t.scheduled) map.erase(t.position);
  t.position = map.emplace(deadline_ns, &t);
  t.scheduled = true;
}

void MapCancel(TimerMap& map, MapTimer& t) {
  if (!t.scheduled) return;
  map.erase(t.position);
  t.scheduled = false;
}

void MapAdvance(TimerMap& map, int64_t now_ns) {
  while (!map.empty() && map.begin()->first <= now_ns) {
    MapTimer* t = map.begin()->second;
    map.erase(map.begin());
    t->scheduled = false;
    t->OnExpire();
  }
}

void BM_ScheduleCancel_Multimap(benchmark::State& state) {
  const Workload& w = TheWorkload();
  std::vector<MapTimer> timers(kTimers);
  TimerMap map;
  for (auto _ : state) {
    for (size_t i = 0; i < kTimers; ++i) MapSchedule(map, timers[i], kStartNs + w.offsets_ns[i]);
    for (const uint32_t i : w.cancel_order) MapCancel(map, timers[i]);
  }
  ReportPerTimer(state);
}

void BM_ScheduleExpire_Multimap(benchmark::State& state) {
  const Workload& w = TheWorkload();
  uint64_t fired = 0;
  std::vector<MapTimer> timers(kTimers);
  for (MapTimer& t : timers) t.fired = &fired;
  TimerMap map;
  int64_t now = kStartNs;
  for (auto _ : state) {
    for (size_t i = 0; i < kTimers; ++i) MapSchedule(map, timers[i], now + w.offsets_ns[i]);
    for (const int64_t end = now + kHorizonNs; now < end;) {
      now += kTickNs;
      MapAdvance(map, now);
    }
  }
  CheckFired(state, fired);
  ReportPerTimer(state);
}

// --- std::priority_queue with lazy cancellation ---------------------------------------------------

struct HeapEntry {
  int64_t deadline_ns;
  uint64_t sequence;
  uint32_t index;
  uint32_t generation;
  bool operator>(const HeapEntry& other) const {
    return deadline_ns != other.deadline_ns ? deadline_ns > other.deadline_ns : sequence > other.sequence;
  }
};

struct HeapTimer {
  uint32_t generation = 0;
  bool scheduled = false;
  uint64_t* fired = nullptr;
  void OnExpire() { ++*fired; }
};

class HeapTimerQueue {
 public:
  explicit HeapTimerQueue(std::vector<HeapTimer>* timers) : timers_(timers) {}

  void Schedule(uint32_t index, int64_t deadline_ns) {
    HeapTimer& t = (*timers_)[index];
    ++t.generation;
    t.scheduled = true;
    heap_.push({deadline_ns, next_sequence_++, index, t.generation});
  }

  void Cancel(uint32_t index) {
    HeapTimer& t = (*timers_)[index];
    if (!t.scheduled) return;
    ++t.generation;
    t.scheduled = false;
  }

  void Advance(int64_t now_ns) {
    while (!heap_.empty() && heap_.top().deadline_ns <= now_ns) {
      const HeapEntry top = heap_.top();
      heap_.pop();
      HeapTimer& t = (*timers_)[top.index];
      if (t.generation != top.generation || !t.scheduled) continue;
      t.scheduled = false;
      t.OnExpire();
    }
  }

  void DiscardStale() {
    while (!heap_.empty() && (*timers_)[heap_.top().index].generation != heap_.top().generation) heap_.pop();
  }

 private:
  std::vector<HeapTimer>* timers_;
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, std::greater<>> heap_;
  uint64_t next_sequence_ = 0;
};

void BM_ScheduleCancel_PriorityQueue(benchmark::State& state) {
  const Workload& w = TheWorkload();
  std::vector<HeapTimer> timers(kTimers);
  HeapTimerQueue queue(&timers);
  for (auto _ : state) {
    for (uint32_t i = 0; i < kTimers; ++i) queue.Schedule(i, kStartNs + w.offsets_ns[i]);
    for (const uint32_t i : w.cancel_order) queue.Cancel(i);
    queue.DiscardStale();
  }
  ReportPerTimer(state);
}

void BM_ScheduleExpire_PriorityQueue(benchmark::State& state) {
  const Workload& w = TheWorkload();
  uint64_t fired = 0;
  std::vector<HeapTimer> timers(kTimers);
  for (HeapTimer& t : timers) t.fired = &fired;
  HeapTimerQueue queue(&timers);
  int64_t now = kStartNs;
  for (auto _ : state) {
    for (uint32_t i = 0; i < kTimers; ++i) queue.Schedule(i, now + w.offsets_ns[i]);
    for (const int64_t end = now + kHorizonNs; now < end;) {
      now += kTickNs;
      queue.Advance(now);
    }
  }
  CheckFired(state, fired);
  ReportPerTimer(state);
}

BENCHMARK(BM_ScheduleCancel_TimerWheel)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScheduleCancel_Multimap)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScheduleCancel_PriorityQueue)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScheduleExpire_TimerWheel)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScheduleExpire_Multimap)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScheduleExpire_PriorityQueue)->Unit(benchmark::kMillisecond);

const bool kContextAdded = [] {
  benchmark::AddCustomContext("sizeof(Timer)", std::to_string(sizeof(Timer)));
  benchmark::AddCustomContext("workload", "1M timers, deadlines uniform in [0, 60 s), 10 ms tick");
  return true;
}();

}  // namespace
}  // namespace shoal::core
