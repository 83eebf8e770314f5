// The bounds every deadline test asserts with: the wheel resolution the server runs at (the config
// default), and the scheduling slack allowed on top of "at most one tick late" on a loaded 2-core
// machine; the connection settings the tests start from; and the close count they end with.
#ifndef SHOAL_TESTS_INTEGRATION_DEADLINES_DEADLINE_BOUNDS_H_
#define SHOAL_TESTS_INTEGRATION_DEADLINES_DEADLINE_BOUNDS_H_

#include <chrono>
#include <cstdint>

#include "core/close_reason.h"
#include "core/connection.h"
#include "gtest/gtest.h"
#include "tests/support/default_options.h"
#include "tests/support/test_server.h"

namespace shoal::testing {

inline constexpr std::chrono::milliseconds kSlack{400};
inline constexpr int64_t Nanos(std::chrono::milliseconds ms) { return ms.count() * 1'000'000; }

inline std::chrono::milliseconds Tick() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(DefaultTickNs()));
}

// The default settings with these idle, read and write timeouts.
inline core::ConnectionSettings WithTimeouts(std::chrono::milliseconds idle,
                                             std::chrono::milliseconds read,
                                             std::chrono::milliseconds write) {
  core::ConnectionSettings settings = DefaultConnectionSettings();
  settings.idle_timeout_ns = Nanos(idle);
  settings.read_timeout_ns = Nanos(read);
  settings.write_timeout_ns = Nanos(write);
  return settings;
}

// Once the workers' turns in flight are done: `n` connections closed, every one for `reason`.
inline void ExpectClosedOnlyFor(TestServer& server, core::CloseReason reason, uint64_t n) {
  ASSERT_TRUE(server.Barrier());
  EXPECT_EQ(server.closed(reason), n) << server.StatsSummary();
  EXPECT_EQ(server.closed_total(), n) << server.StatsSummary();
}

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_INTEGRATION_DEADLINES_DEADLINE_BOUNDS_H_
