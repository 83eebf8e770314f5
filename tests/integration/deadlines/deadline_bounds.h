// The bounds every deadline test asserts with: the wheel resolution the server runs at (the config
// default), and the scheduling slack allowed on top of "at most one tick late" on a loaded 2-core
// machine. Constants only.
#ifndef SHOAL_TESTS_INTEGRATION_DEADLINES_DEADLINE_BOUNDS_H_
#define SHOAL_TESTS_INTEGRATION_DEADLINES_DEADLINE_BOUNDS_H_

#include <chrono>
#include <cstdint>

namespace shoal::testing {

inline constexpr std::chrono::milliseconds kTick{10};
inline constexpr std::chrono::milliseconds kSlack{400};
inline constexpr int64_t Nanos(std::chrono::milliseconds ms) { return ms.count() * 1'000'000; }

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_INTEGRATION_DEADLINES_DEADLINE_BOUNDS_H_
