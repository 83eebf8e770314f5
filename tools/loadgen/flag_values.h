// The value syntaxes of loadgen's command line, parsed into numbers with a clear error for
// anything else (never an exception, never a wrapped product). Pure functions.
#ifndef SHOAL_TOOLS_LOADGEN_FLAG_VALUES_H_
#define SHOAL_TOOLS_LOADGEN_FLAG_VALUES_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace shoal::loadgen {

// "64", "1KiB", "2MiB", "1KB", "1MB", "10B": a byte count that fits size_t.
absl::StatusOr<size_t> ParseByteSize(std::string_view text);
// absl's duration syntax ("10s", "500ms", "1m30s"), >= 0, in nanoseconds.
absl::StatusOr<int64_t> ParseDurationNs(std::string_view text);

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_FLAG_VALUES_H_
