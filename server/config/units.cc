#include "server/config/units.h"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace shoal::server {
namespace {

std::string Str(std::string_view s) { return std::string(s); }

using u128 = unsigned __int128;

constexpr std::string_view kDurationExpected = "(expected a number with a unit: 250ms, 10s, 5m)";
constexpr std::string_view kSizeExpected =
    "(expected bytes or an integer with a unit: 4096, 64KiB, 1MiB, 1GiB)";

constexpr int64_t kNanosPerHour = int64_t{3600} * 1000 * 1000 * 1000;
constexpr int64_t kNanosPerMinute = int64_t{60} * 1000 * 1000 * 1000;

struct DurationUnit {
  std::string_view name;
  int64_t nanos;
  int rank;  // units of a compound duration must have strictly increasing rank
};
constexpr std::array<DurationUnit, 8> kDurationUnits = {{
    {"h", kNanosPerHour, 0},
    {"m", kNanosPerMinute, 1},
    {"s", 1000 * 1000 * 1000, 2},
    {"ms", 1000 * 1000, 3},
    {"us", 1000, 4},
    {"\xC2\xB5s", 1000, 4},  // µs, MICRO SIGN
    {"\xCE\xBCs", 1000, 4},  // μs, GREEK SMALL LETTER MU
    {"ns", 1, 5},
}};

struct SizeUnit {
  std::string_view name;
  uint64_t bytes;
};
constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = kKiB * 1024;
constexpr uint64_t kGiB = kMiB * 1024;
constexpr uint64_t kTiB = kGiB * 1024;
constexpr std::array<SizeUnit, 11> kSizeUnits = {{
    {"", 1},
    {"B", 1},
    {"KiB", kKiB},
    {"MiB", kMiB},
    {"GiB", kGiB},
    {"TiB", kTiB},
    {"KB", 1000},
    {"kB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"TB", uint64_t{1000} * 1000 * 1000 * 1000},
}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

absl::Duration MaxConfigDuration() {
  return absl::Nanoseconds(std::numeric_limits<int64_t>::max());
}

absl::StatusOr<absl::Duration> ParseDuration(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid duration '", Str(text), "' ", Str(kDurationExpected)));
  };
  if (text.empty()) return invalid();
  if (text.front() == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid duration '", Str(text), "' (must not be negative)"));
  }
  const u128 max_nanos = static_cast<u128>(std::numeric_limits<int64_t>::max());
  u128 total = 0;
  bool overflow = false;
  int last_rank = -1;
  size_t i = 0;
  while (i < text.size()) {
    // <digits>[.<digits>]
    u128 whole = 0;
    size_t start = i;
    while (i < text.size() && IsDigit(text[i])) {
      if (whole <= max_nanos) whole = whole * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
    }
    if (i == start) return invalid();
    u128 fraction = 0;
    u128 scale = 1;
    if (i < text.size() && text[i] == '.') {
      size_t fraction_start = ++i;
      while (i < text.size() && IsDigit(text[i])) {
        // Digits beyond 10^-19 of a unit cannot reach a nanosecond; they are ignored.
        if (scale < u128{10000000000000000000u}) {
          fraction = fraction * 10 + static_cast<unsigned>(text[i] - '0');
          scale *= 10;
        }
        ++i;
      }
      if (i == fraction_start) return invalid();
    }
    // <unit>: everything up to the next number.
    size_t unit_start = i;
    while (i < text.size() && !IsDigit(text[i]) && text[i] != '.') ++i;
    std::string_view unit_name = text.substr(unit_start, i - unit_start);
    auto unit = std::find_if(kDurationUnits.begin(), kDurationUnits.end(),
                             [&](const DurationUnit& u) { return u.name == unit_name; });
    if (unit == kDurationUnits.end()) return invalid();
    if (unit->rank <= last_rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid duration '", Str(text),
                       "' (units must go from larger to smaller, as in 1h30m)"));
    }
    last_rank = unit->rank;
    if (whole > max_nanos) overflow = true;
    if (!overflow) {
      u128 nanos = static_cast<u128>(unit->nanos);
      total += whole * nanos + fraction * nanos / scale;
      if (total > max_nanos) overflow = true;
    }
  }
  if (overflow) {
    return absl::OutOfRangeError(
        absl::StrCat("duration '", Str(text), "' is out of range (at most 2562047h, ~292 years)"));
  }
  return absl::Nanoseconds(static_cast<int64_t>(total));
}

std::string FormatConfigDuration(absl::Duration duration) {
  if (duration == absl::ZeroDuration()) return "0s";
  if (duration < absl::ZeroDuration() || duration == absl::InfiniteDuration() ||
      duration > MaxConfigDuration()) {
    return absl::FormatDuration(duration);
  }
  int64_t nanos = absl::ToInt64Nanoseconds(duration);
  static constexpr std::array<std::pair<std::string_view, int64_t>, 6> kUnits = {{
      {"h", kNanosPerHour},
      {"m", kNanosPerMinute},
      {"s", 1000 * 1000 * 1000},
      {"ms", 1000 * 1000},
      {"us", 1000},
      {"ns", 1},
  }};
  for (const auto& [name, unit] : kUnits) {
    if (nanos % unit == 0) return absl::StrCat(nanos / unit, Str(name));
  }
  return absl::StrCat(nanos, "ns");  // unreachable: every count is a multiple of 1ns
}

absl::StatusOr<uint64_t> ParseSize(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid size '", Str(text), "' ", Str(kSizeExpected)));
  };
  if (!text.empty() && text.front() == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid size '", Str(text), "' (must not be negative)"));
  }
  size_t i = 0;
  u128 value = 0;
  const u128 max = std::numeric_limits<uint64_t>::max();
  while (i < text.size() && IsDigit(text[i])) {
    if (value <= max) value = value * 10 + static_cast<unsigned>(text[i] - '0');
    ++i;
  }
  if (i == 0) return invalid();
  std::string_view unit_name = text.substr(i);
  auto unit = std::find_if(kSizeUnits.begin(), kSizeUnits.end(),
                           [&](const SizeUnit& u) { return u.name == unit_name; });
  if (unit == kSizeUnits.end()) return invalid();
  if (value > max || value * unit->bytes > max) {
    return absl::OutOfRangeError(
        absl::StrCat("size '", Str(text), "' is out of range (at most 18446744073709551615)"));
  }
  return static_cast<uint64_t>(value * unit->bytes);
}

absl::StatusOr<uint64_t> ParsePercent(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid percentage '", Str(text), "' (expected digits and '%', e.g. 10%)"));
  };
  if (text.size() < 2 || text.back() != '%' || text.size() > 8) return invalid();
  uint64_t value = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (!IsDigit(c)) return invalid();
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

std::string FormatConfigPercent(uint64_t percent) { return absl::StrCat(percent, "%"); }

std::string FormatConfigSize(uint64_t bytes) {
  if (bytes == 0) return "0";
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 4> kUnits = {{
      {"TiB", kTiB},
      {"GiB", kGiB},
      {"MiB", kMiB},
      {"KiB", kKiB},
  }};
  for (const auto& [name, unit] : kUnits) {
    if (bytes % unit == 0) return absl::StrCat(bytes / unit, Str(name));
  }
  return absl::StrCat(bytes);
}

}  // namespace shoal::server
