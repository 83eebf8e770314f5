// LogRateLimit: at most `lines_per_second` log lines per second from one call site on one thread,
// so the rate of lines a peer can cause (bad frames, rejected connections) is bounded whatever it
// sends. The first line admitted after a suppressed stretch reports how many were suppressed.
//
//   thread_local LogRateLimit limit(10);
//   if (auto suppressed = limit.Admit(now_seconds)) {
//     spdlog::warn("echo: closing {}: ...{}", peer, SuppressedNote(*suppressed));
//   }
//
// Threading: one instance per thread (thread_local at the call site); no synchronisation. O(1).
#ifndef SHOAL_SERVER_LOG_RATE_LIMIT_H_
#define SHOAL_SERVER_LOG_RATE_LIMIT_H_

#include <cstdint>
#include <optional>
#include <string>

namespace shoal::server {

// The rate the protocols' per-connection warn lines (a rejected frame, a protocol error) are held
// to, per call site and worker thread.
inline constexpr uint32_t kPeerWarnLinesPerSecond = 10;

class LogRateLimit {
 public:
  explicit constexpr LogRateLimit(uint32_t lines_per_second) : per_second_(lines_per_second) {}

  // nullopt: drop this line. Otherwise the number of lines suppressed since the last admitted one.
  std::optional<uint64_t> Admit(int64_t now_seconds) {
    if (now_seconds != second_) {
      second_ = now_seconds;
      admitted_this_second_ = 0;
    }
    if (admitted_this_second_ >= per_second_) {
      ++suppressed_;
      return std::nullopt;
    }
    ++admitted_this_second_;
    uint64_t suppressed = suppressed_;
    suppressed_ = 0;
    return suppressed;
  }

 private:
  uint32_t per_second_;
  uint32_t admitted_this_second_ = 0;
  int64_t second_ = INT64_MIN;
  uint64_t suppressed_ = 0;
};

// "" for 0, else " (N similar lines suppressed)": appended to the admitted line.
inline std::string SuppressedNote(uint64_t suppressed) {
  if (suppressed == 0) return {};
  return " (" + std::to_string(suppressed) + " similar lines suppressed)";
}

}  // namespace shoal::server

#endif  // SHOAL_SERVER_LOG_RATE_LIMIT_H_
