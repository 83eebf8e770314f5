// The HTTP Date field value (RFC 9110 5.6.7 IMF-fixdate), formatted at most once per second.
//
// Thread safety: none; each worker owns one DateCache and passes it its loop's cached clock.

#ifndef SHOAL_SERVER_PROTOCOLS_HTTP_DATE_CACHE_H_
#define SHOAL_SERVER_PROTOCOLS_HTTP_DATE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace shoal::http {

// "Sun, 06 Nov 1994 08:49:37 GMT".
inline constexpr size_t kImfFixdateSize = 29;

// Writes the IMF-fixdate of `unix_seconds` (in [0, 253402300799], years 1970 to 9999).
void FormatImfFixdate(int64_t unix_seconds, char (&out)[kImfFixdateSize]);

class DateCache {
 public:
  // The date for `unix_seconds`, reformatted only when it differs from the previous call's.
  // The view is valid until the next call that changes the second.
  std::string_view Get(int64_t unix_seconds) {
    if (unix_seconds != seconds_) {
      FormatImfFixdate(unix_seconds, text_);
      seconds_ = unix_seconds;
    }
    return {text_, kImfFixdateSize};
  }

 private:
  int64_t seconds_ = std::numeric_limits<int64_t>::min();
  char text_[kImfFixdateSize] = {};
};

}  // namespace shoal::http

#endif  // SHOAL_SERVER_PROTOCOLS_HTTP_DATE_CACHE_H_
