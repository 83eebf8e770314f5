// The units of config values: durations ("250ms", "1h30m") and byte sizes ("64KiB", "1MB"), parsed
// strictly and spelled back in their shortest exact form. Pure functions; any thread.
#ifndef SHOAL_SERVER_CONFIG_UNITS_H_
#define SHOAL_SERVER_CONFIG_UNITS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shoal::server {

// A duration: one or more <number><unit> parts with units in strictly decreasing order, e.g.
// "250ms", "10s", "1.5s", "5m", "1h30m". Units: ns, us (or µs), ms, s, m, h. A number is decimal
// digits with an optional fraction; the total is truncated to whole nanoseconds. Rejected: a bare
// number (even "0"), signs (negative durations), spaces, other units, anything over INT64_MAX ns
// (about 292 years).
absl::StatusOr<absl::Duration> ParseDuration(std::string_view text);
// The shortest exact spelling ParseDuration accepts: "10s", "250ms", "90m", "1500us", "0s".
// Infinite or negative durations (never valid in a Config) are spelled as absl does.
std::string FormatConfigDuration(absl::Duration duration);
// The largest duration ParseDuration accepts (INT64_MAX nanoseconds).
absl::Duration MaxConfigDuration();

// A byte count: decimal digits with an optional unit, no sign, fraction or space. Units: B,
// binary KiB MiB GiB TiB (powers of 1024), decimal KB (or kB) MB GB TB (powers of 1000, as SI
// defines them; so "64KB" is 64000). Values over UINT64_MAX are rejected.
absl::StatusOr<uint64_t> ParseSize(std::string_view text);
// The shortest exact spelling in binary units: "1MiB", "64KiB", "1000", "0".
std::string FormatConfigSize(uint64_t bytes);

// A whole percentage: decimal digits followed by '%' ("10%"), no sign, fraction or space.
absl::StatusOr<uint64_t> ParsePercent(std::string_view text);
// "10%".
std::string FormatConfigPercent(uint64_t percent);

}  // namespace shoal::server

#endif  // SHOAL_SERVER_CONFIG_UNITS_H_
