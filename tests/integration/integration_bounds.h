// What the in-process integration tests share: the bound every wait stays within (generous for a
// loaded 2-core machine, so reaching it means the server is stuck, not slow) and the small-window
// server the backpressure tests start.
#ifndef SHOAL_TESTS_INTEGRATION_INTEGRATION_BOUNDS_H_
#define SHOAL_TESTS_INTEGRATION_INTEGRATION_BOUNDS_H_

#include <chrono>

#include "tests/support/test_server.h"

namespace shoal::testing {

inline constexpr std::chrono::seconds kTestDeadline{40};

// One worker whose output queue stops reading at 64 KiB and resumes at 16 KiB, so the echo of a
// client that does not read backs up into the server quickly.
inline TestServerOptions SmallWatermarkOptions() {
  TestServerOptions options;
  options.workers = 1;
  options.settings.high_watermark = 64 << 10;
  options.settings.low_watermark = 16 << 10;
  return options;
}

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_INTEGRATION_INTEGRATION_BOUNDS_H_
