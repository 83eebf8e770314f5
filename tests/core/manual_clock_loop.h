// An EventLoop for tests that drive it turn by turn (EventLoop::PollOnce) on the test thread, with
// a 1 ms tick and a monotonic clock that reads *now_ns: the test moves time, nothing sleeps.
#ifndef SHOAL_TESTS_CORE_MANUAL_CLOCK_LOOP_H_
#define SHOAL_TESTS_CORE_MANUAL_CLOCK_LOOP_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "core/event_loop.h"

namespace shoal::core {

inline constexpr int64_t kManualTickNs = 1'000'000;

inline absl::StatusOr<std::unique_ptr<EventLoop>> CreateManualClockLoop(const int64_t* now_ns) {
  EventLoop::Options options;
  options.tick_ns = kManualTickNs;
  options.clock = [now_ns] { return *now_ns; };
  return EventLoop::Create(options);
}

}  // namespace shoal::core

#endif  // SHOAL_TESTS_CORE_MANUAL_CLOCK_LOOP_H_
