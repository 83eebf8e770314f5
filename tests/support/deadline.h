// Bounded waiting for tests: a Deadline to give up at, WaitFor (poll a condition until it holds or
// the deadline passes) and StallDetector (a stop predicate that fires when progress stops).
//
// Rule: nothing in a test sleeps to let something happen; it waits for a condition with a
// deadline. All times are std::chrono::steady_clock, the clock the server's deadlines run on.
// Threading: plain values and free functions; safe from any thread.
#ifndef SHOAL_TESTS_SUPPORT_DEADLINE_H_
#define SHOAL_TESTS_SUPPORT_DEADLINE_H_

#include <chrono>
#include <cstdint>
#include <functional>

namespace shoal::testing {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A point in time to give up at. A timeout converts to the deadline that far from now, so every
// helper that takes a Deadline also takes `milliseconds(500)`.
class Deadline {
 public:
  static Deadline In(Clock::duration timeout) { return Deadline(Clock::now() + timeout); }
  explicit Deadline(Clock::time_point at) : at_(at) {}
  template <typename Rep, typename Period>
  Deadline(std::chrono::duration<Rep, Period> timeout)  // NOLINT: implicit by design
      : at_(Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout)) {}

  bool expired() const { return Clock::now() >= at_; }
  // Milliseconds left, rounded up, at least 0 (a poll() timeout).
  int remaining_ms() const;
  Clock::time_point at() const { return at_; }

 private:
  Clock::time_point at_;
};

// Polls `condition` (about every millisecond) until it holds or `deadline` passes; returns
// whether it held. A bounded wait on a condition, not a sleep.
bool WaitFor(const std::function<bool()>& condition, Deadline deadline);

// A stop predicate that fires when `progress()` has not changed for `timeout`; `*stalled` tells
// whether it fired.
std::function<bool()> StallDetector(std::function<uint64_t()> progress, Clock::duration timeout,
                                    bool* stalled);

// Milliseconds from `from` to `to` (fractional).
double MillisBetween(Clock::time_point from, Clock::time_point to);

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_DEADLINE_H_
