#include "tools/loadgen/flag_values.h"

#include <charconv>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace shoal::loadgen {

absl::StatusOr<size_t> ParseByteSize(std::string_view text) {
  struct Suffix {
    std::string_view name;
    size_t factor;
  };
  static constexpr Suffix kSuffixes[] = {{"KiB", 1024}, {"MiB", 1024 * 1024}, {"KB", 1000},
                                         {"MB", 1000 * 1000}, {"B", 1}};
  std::string_view digits = text;
  size_t factor = 1;
  for (const auto& suffix : kSuffixes) {
    if (digits.size() > suffix.name.size() && digits.ends_with(suffix.name)) {
      digits.remove_suffix(suffix.name.size());
      factor = suffix.factor;
      break;
    }
  }
  const auto error = [&text](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' is not a size (",
                                                   std::string(why), ")"));
  };
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return error("digits with an optional B, KB, MB, KiB or MiB");
  }
  size_t value = 0;
  auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (status != std::errc() || end != digits.data() + digits.size() ||
      value > std::numeric_limits<size_t>::max() / factor) {
    return error("too large");
  }
  return value * factor;
}

absl::StatusOr<int64_t> ParseDurationNs(std::string_view text) {
  absl::Duration duration;
  if (!absl::ParseDuration(std::string(text), &duration) || duration < absl::ZeroDuration() ||
      duration == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(text), "' is not a duration (e.g. 10s, 500ms)"));
  }
  return absl::ToInt64Nanoseconds(duration);
}

}  // namespace shoal::loadgen
