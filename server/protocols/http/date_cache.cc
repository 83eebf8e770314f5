#include "server/protocols/http/date_cache.h"

#include <chrono>

namespace shoal::http {
namespace {

constexpr char kWeekdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char* PutDigits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

char* PutText(char* out, const char* text, size_t size) {
  for (size_t i = 0; i < size; ++i) *out++ = text[i];
  return out;
}

}  // namespace

void FormatImfFixdate(int64_t unix_seconds, char (&out)[kImfFixdateSize]) {
  using std::chrono::days;
  using std::chrono::sys_days;
  const int64_t day_count = unix_seconds / 86400;
  const auto second_of_day = static_cast<unsigned>(unix_seconds % 86400);
  const sys_days day{days{day_count}};
  const std::chrono::year_month_day date{day};
  const std::chrono::weekday weekday{day};

  char* p = PutText(out, kWeekdays[weekday.c_encoding()], 3);
  p = PutText(p, ", ", 2);
  p = PutDigits(p, static_cast<unsigned>(date.day()), 2);
  *p++ = ' ';
  p = PutText(p, kMonths[static_cast<unsigned>(date.month()) - 1], 3);
  *p++ = ' ';
  p = PutDigits(p, static_cast<unsigned>(static_cast<int>(date.year())), 4);
  *p++ = ' ';
  p = PutDigits(p, second_of_day / 3600, 2);
  *p++ = ':';
  p = PutDigits(p, second_of_day / 60 % 60, 2);
  *p++ = ':';
  p = PutDigits(p, second_of_day % 60, 2);
  PutText(p, " GMT", 4);
}

}  // namespace shoal::http
