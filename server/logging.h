// Process logging on spdlog: text ("2026-11-23 03:45:51.123 [info] message") or one JSON object per
// line with the message escaped. Call from the main thread before workers start; spdlog's default
// logger is thread-safe afterwards.
#ifndef SHOAL_SERVER_LOGGING_H_
#define SHOAL_SERVER_LOGGING_H_

#include <string_view>

#include "absl/status/status.h"
#include "server/config/types.h"

namespace shoal::server {

absl::Status ConfigureLogging(std::string_view level, LogFormat format);
// Changes only the level (SIGHUP); `level` must be valid (trace debug info warn error).
absl::Status SetLogLevel(std::string_view level);

}  // namespace shoal::server

#endif  // SHOAL_SERVER_LOGGING_H_
