// Process logging on spdlog: text ("2026-11-23 03:45:51.123 [info] message") or one JSON object per
// line with the message escaped. Lines go through a bounded queue to one writer thread, so a
// logging call never waits for stderr (a lagging pipe, journald, a container runtime): when the
// queue is full the oldest queued line is dropped and counted (LogLinesDropped). Call
// ConfigureLogging from the main thread before workers start; logging is thread-safe afterwards.
#ifndef SHOAL_SERVER_LOGGING_H_
#define SHOAL_SERVER_LOGGING_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/config/types.h"

namespace shoal::server {

// Lines the writer queue holds before it drops the oldest.
inline constexpr size_t kLogQueueLines = 8192;

absl::Status ConfigureLogging(std::string_view level, LogFormat format);
// Changes only the level (SIGHUP); `level` must be valid (trace debug info warn error).
absl::Status SetLogLevel(std::string_view level);
// Lines dropped because the writer queue was full, since the process started. Any thread.
uint64_t LogLinesDropped();
// Writes out the queued lines, waiting at most `at_most` (a stuck stderr cannot hold the caller
// longer). For the main thread before an immediate exit; never on a worker.
void FlushLogsFor(absl::Duration at_most);

}  // namespace shoal::server

#endif  // SHOAL_SERVER_LOGGING_H_
