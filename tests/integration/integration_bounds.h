// The bound every in-process integration test's waits stay within: generous for a loaded 2-core
// machine, so reaching it means the server is stuck, not slow. Constants only.
#ifndef SHOAL_TESTS_INTEGRATION_INTEGRATION_BOUNDS_H_
#define SHOAL_TESTS_INTEGRATION_INTEGRATION_BOUNDS_H_

#include <chrono>

namespace shoal::testing {

inline constexpr std::chrono::seconds kTestDeadline{40};

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_INTEGRATION_INTEGRATION_BOUNDS_H_
