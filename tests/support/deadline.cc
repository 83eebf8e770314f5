#include "tests/support/deadline.h"

#include <poll.h>

#include <algorithm>
#include <memory>

namespace shoal::testing {

int Deadline::remaining_ms() const {
  auto left = std::chrono::ceil<milliseconds>(at_ - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

bool WaitFor(const std::function<bool()>& condition, Deadline deadline) {
  for (;;) {
    if (condition()) return true;
    if (deadline.expired()) return condition();
    // Poll interval of the condition check (not a synchronisation sleep).
    poll(nullptr, 0, 1);
  }
}

std::function<bool()> StallDetector(std::function<uint64_t()> progress, Clock::duration timeout,
                                    bool* stalled) {
  auto last_value = std::make_shared<uint64_t>(progress());
  auto last_change = std::make_shared<Clock::time_point>(Clock::now());
  *stalled = false;
  return [=] {
    uint64_t value = progress();
    if (value != *last_value) {
      *last_value = value;
      *last_change = Clock::now();
      return false;
    }
    if (Clock::now() - *last_change >= timeout) {
      *stalled = true;
      return true;
    }
    return false;
  };
}

double MillisBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace shoal::testing
