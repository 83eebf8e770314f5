// Marks: a signal (--mark_signal: SIGUSR1) records the time it arrived, so an event outside
// loadgen (an upgrade, a SIGHUP) can be located in the timeline. The handler only stores
// CLOCK_MONOTONIC in a fixed array (async-signal-safe); marks past kMaxMarks are dropped.
//
// Threading: Install once from the main thread; MarksSoFar from any thread.
#ifndef SHOAL_TOOLS_LOADGEN_MARKS_H_
#define SHOAL_TOOLS_LOADGEN_MARKS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace shoal::loadgen {

inline constexpr size_t kMaxMarks = 4096;

absl::Status InstallMarkSignal(int signal);
// The marks recorded so far (CLOCK_MONOTONIC ns), in arrival order.
std::vector<int64_t> MarksSoFar();

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_MARKS_H_
