// Per-worker statistics. Each value has exactly one writer, the worker thread that owns it, which
// updates it with relaxed atomic load+store (no read-modify-write, no lock, no shared cache line
// with another worker). Any thread may read a value at any time (the metrics collector does so at
// scrape time); a read sees some recent value, and counters never go backwards.
#ifndef SHOAL_CORE_STATS_H_
#define SHOAL_CORE_STATS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/close_reason.h"

namespace shoal::core {

// Building with -DSHOAL_STATS_DISABLED turns every update below into nothing: only for measuring
// what statistics cost (tools/bench/metrics_ab.sh); the metrics then read zeros.
#ifdef SHOAL_STATS_DISABLED
inline constexpr bool kStatsEnabled = false;
#else
inline constexpr bool kStatsEnabled = true;
#endif

// A monotonically increasing count, written by one thread.
class Counter {
 public:
  void Add(uint64_t n = 1) {
    if (!kStatsEnabled) return;
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down, written by one thread.
class Gauge {
 public:
  void Set(int64_t v) {
    if (kStatsEnabled) value_.store(v, std::memory_order_relaxed);
  }
  void Add(int64_t n) {
    if (!kStatsEnabled) return;
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A histogram over fixed upper bounds (in seconds, ascending), written by one thread. Observe is
// O(log buckets) with no allocation. Bucket i counts observations <= bounds[i] and > bounds[i-1];
// the last, implicit bucket counts the rest (+Inf).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds_seconds);
  void ObserveNanos(int64_t nanos, uint64_t count = 1);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Non-cumulative count of bucket i (i == upper_bounds().size() is +Inf).
  uint64_t bucket_count(size_t i) const { return buckets_[i].value(); }
  uint64_t count() const { return count_.value(); }
  double sum_seconds() const { return static_cast<double>(sum_ns_.value()) * 1e-9; }

 private:
  std::vector<double> upper_bounds_;
  std::vector<int64_t> upper_bounds_ns_;
  std::unique_ptr<Counter[]> buckets_;
  Counter count_;
  Counter sum_ns_;
};

// Default buckets: 10us .. 10s, roughly x2.5 per step.
std::vector<double> LatencyBucketsSeconds();

// Accept errors are counted by errno; these are the values we distinguish, the rest are "other".
inline constexpr std::array<int, 6> kCountedAcceptErrnos = {24 /*EMFILE*/, 23 /*ENFILE*/,
                                                           105 /*ENOBUFS*/, 12 /*ENOMEM*/,
                                                           1 /*EPERM*/, 103 /*ECONNABORTED*/};

// The TLS versions counted by name; anything else (none negotiated yet) is not counted.
inline constexpr std::array<std::string_view, 2> kTlsVersionNames = {"TLSv1.2", "TLSv1.3"};

// Handshakes of a TLS listener (all zero on a plaintext one): by result, their duration from
// accept to handshake done (completed ones only), and the version each negotiated.
struct TlsStats {
  TlsStats();
  // Whether the listener has TLS: set by the worker before its thread starts, then read only.
  bool enabled = false;
  Counter handshakes_ok;
  Counter handshakes_failed;
  Histogram handshake_duration;
  std::array<Counter, kTlsVersionNames.size()> negotiated;

  void CountNegotiated(std::string_view version) {
    for (size_t i = 0; i < kTlsVersionNames.size(); ++i) {
      if (kTlsVersionNames[i] == version) negotiated[i].Add();
    }
  }
};

struct alignas(64) ListenerStats {
  explicit ListenerStats(std::string listener_name);

  std::string listener;
  Counter accepted;
  Gauge active;
  std::array<Counter, kCloseReasonCount> closed;
  Counter bytes_received;
  Counter bytes_sent;
  Counter requests;
  std::array<Counter, kCountedAcceptErrnos.size() + 1> accept_errors;  // last = other
  Histogram request_duration;
  TlsStats tls;

  void CountClose(CloseReason reason) { closed[static_cast<size_t>(reason)].Add(); }
  void CountAcceptError(int err);
};

// What the overload policy did; the `action` label values of shoal_overload_actions_total.
enum class OverloadAction {
  kStopAccept,      // stopped accepting while the worker's memory was saturated
  kReduceTimeouts,  // scaled idle/read timeouts down under memory pressure
  kShedConnection,  // closed a connection holding memory without progress (memory_pressure)
  kSourceLimit,     // refused a connection over limits.max_connections_per_source
  kSourceRate,      // refused a connection over limits.connection_rate_per_source
};
inline constexpr size_t kOverloadActionCount = 5;

constexpr std::string_view OverloadActionName(OverloadAction action) {
  switch (action) {
    case OverloadAction::kStopAccept: return "stop_accept";
    case OverloadAction::kReduceTimeouts: return "reduce_timeouts";
    case OverloadAction::kShedConnection: return "shed_connection";
    case OverloadAction::kSourceLimit: return "source_limit";
    case OverloadAction::kSourceRate: return "source_rate";
  }
  return "unknown";
}

struct alignas(64) WorkerStats {
  WorkerStats(int worker_index, const std::vector<std::string>& listener_names);

  int worker;
  std::vector<std::unique_ptr<ListenerStats>> listeners;
  Gauge output_queue_bytes;
  // Bytes received from peers and not yet consumed (connection input buffers, parser state).
  Gauge input_buffer_bytes;
  std::array<Counter, kOverloadActionCount> overload_actions;
  Counter backpressure_pauses;
  Counter backpressure_resumes;
  Gauge timers_active;
  Histogram loop_turn;

  void CountOverloadAction(OverloadAction action) {
    overload_actions[static_cast<size_t>(action)].Add();
  }
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_STATS_H_
