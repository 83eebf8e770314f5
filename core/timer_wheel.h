#ifndef SHOAL_CORE_TIMER_WHEEL_H_
#define SHOAL_CORE_TIMER_WHEEL_H_

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace shoal::core {

// The deadline `timeout_ns` (>= 0) after `start_ns`, saturating: a sum past the int64 range is
// INT64_MAX, which every deadline user reads as "never". O(1), any thread.
constexpr int64_t DeadlineAfter(int64_t start_ns, int64_t timeout_ns) {
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  return start_ns > kNever - timeout_ns ? kNever : start_ns + timeout_ns;
}

class TimerWheel;

namespace timer_wheel_internal {

// A node of a circular doubly linked list; every wheel slot is a sentinel node.
struct Link {
  Link* wheel_prev = nullptr;
  Link* wheel_next = nullptr;
};

}  // namespace timer_wheel_internal

// An intrusive timer: derive from it in the object that owns the deadline. The wheel never
// allocates per timer. Not copyable or movable.
//
// A Timer belongs to at most one TimerWheel at a time. Destroying a scheduled Timer is a bug
// (asserted in debug builds): cancel it first, or let it fire.
class Timer : private timer_wheel_internal::Link {
 public:
  Timer() = default;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool scheduled() const { return wheel_next != nullptr; }
  // Meaningful while scheduled.
  int64_t deadline_ns() const { return deadline_ns_; }

 protected:
  virtual ~Timer() { assert(!scheduled() && "destroying a scheduled Timer; cancel it first"); }

 private:
  friend class TimerWheel;

  // Runs inside TimerWheel::Advance; the timer is already unscheduled. It may reschedule this
  // timer, schedule or cancel any other timer, or destroy the object that owns this timer.
  virtual void OnExpire() = 0;

  int64_t deadline_ns_ = 0;
};

static_assert(sizeof(Timer) <= 32, "Timer must stay within 32 bytes including the vptr");

// A hierarchical timing wheel of 64-slot levels, with a bitmap of occupied slots per level. Level 0
// holds the current run of 64 ticks, one slot per tick; a slot of level L spans 64^L ticks and is
// cascaded into the lower levels when time reaches it. The 11 levels span 2^66 ticks, more than any
// int64 deadline needs, so no deadline is ever beyond the top level and none is re-hashed: a
// deadline k ticks away is cascaded at most log64(k) times (twice for 60 s at 10 ms ticks).
//
// Threads: a TimerWheel and every Timer scheduled on it belong to one event-loop thread.
//
// Time is in nanoseconds on a monotonic clock: `now_ns` >= 0 and never decreasing between calls.
// Tick k covers deadlines in ((k - 1) * tick_ns, k * tick_ns]. Deadlines may lie in the past.
//
// Firing guarantees:
//  * Advance(now) fires exactly the timers that were scheduled when Advance was called, are still
//    scheduled when their turn comes, and have deadline <= now. A timer never fires before its
//    deadline; it fires in the first Advance whose `now` reaches it, so when Advance runs at least
//    once per tick, it fires at most one tick late.
//  * Within one Advance, timers fire in ascending deadline order; equal deadlines fire in the order
//    of their latest Schedule call.
//  * A timer scheduled or rescheduled during Advance (from OnExpire) never fires in that same call,
//    even if already due; the next Advance fires it. A timer cancelled or rescheduled by a callback
//    before its turn does not fire.
//
// Complexity: Schedule and Cancel are O(1); NextWorkDelayNs is O(levels) bitmap tests. Advance
// costs O(levels) per non-empty slot it reaches (empty slots and ticks are skipped, so a jump of
// hours on a sparse wheel costs a few steps), O(1) per fired timer and per cascade step, and
// O(k log k) to sort a tick whose k deadlines were scheduled out of order (O(k) when in order, as
// with a fixed timeout).
class TimerWheel {
 public:
  static constexpr int kSlotBits = 6;
  static constexpr int kSlotsPerLevel = 1 << kSlotBits;
  static constexpr int kLevels = (64 + kSlotBits - 1) / kSlotBits;

  // tick_ns > 0 is the resolution (e.g. 10 ms); now_ns is the current monotonic time.
  TimerWheel(int64_t tick_ns, int64_t now_ns);
  // Leaves the remaining timers unscheduled (their OnExpire is not called).
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Schedules `t`, or reschedules it if already scheduled. A past deadline fires on the next Advance.
  void Schedule(Timer* t, int64_t deadline_ns);
  // No-op if `t` is not scheduled.
  void Cancel(Timer* t);
  // Fires every due timer (see the guarantees above); returns the number fired. Not reentrant.
  size_t Advance(int64_t now_ns);
  // The epoll timeout: -1 if no timer is scheduled; 0 if some timer is due (deadline <= now_ns);
  // otherwise the delay until the end of the earliest tick holding a deadline, or until an earlier
  // tick where Advance must cascade a higher-level slot (at most one such wakeup per level a timer
  // passes through). Right after Advance(now_ns) it is > 0 unless a timer is due (or one that was
  // due has since been cancelled), so a loop sleeping this long neither spins nor fires late.
  // Round up when converting to epoll's milliseconds.
  int64_t NextWorkDelayNs(int64_t now_ns) const;

  size_t size() const { return size_; }
  int64_t tick_ns() const { return tick_ns_; }

 private:
  using Link = timer_wheel_internal::Link;

  struct Event {
    uint64_t tick;
    bool cascade;  // false: a level-0 slot to fire
  };

  static Timer* AsTimer(Link* link) { return static_cast<Timer*>(link); }
  static int64_t DeadlineOf(const Link* link) { return static_cast<const Timer*>(link)->deadline_ns_; }
  static void SortByDeadline(Link* head);

  uint64_t TickOf(int64_t deadline_ns) const;
  int64_t TickEndNs(uint64_t tick) const;
  Link* Slot(int level, uint64_t digit) { return &slots_[level * kSlotsPerLevel + digit]; }
  void AppendToSlot(int level, uint64_t digit, Link* node);
  void Unlink(Link* node);
  void Place(Timer* t);
  size_t FireCurrentTick(int64_t limit_ns);
  Event NextEvent() const;
  void MoveTo(uint64_t tick);
  void Cascade(int level, uint64_t digit);

  const int64_t tick_ns_;
  // The earliest tick that has not fully elapsed; its timers (and past-deadline ones) sit in its
  // level-0 slot.
  uint64_t current_tick_;
  size_t size_ = 0;
  bool advancing_ = false;
  std::array<uint64_t, kLevels> occupied_{};
  // A lower bound of the deadlines in each level-0 slot.
  std::array<int64_t, kSlotsPerLevel> level0_min_deadline_;
  std::array<Link, kLevels * kSlotsPerLevel> slots_;
  Link firing_;
  Link deferred_;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_TIMER_WHEEL_H_
