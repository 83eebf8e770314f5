// loadgen as a library: Run(options) drives the targets and returns every figure in a Result;
// tools/loadgen/main.cc is a thin flag wrapper around it, and tests call it in-process.
//
// Model. `threads` threads each run one core::EventLoop; connection i (of `connections`) belongs to
// thread i % threads and targets target i % targets. A run is: connect every connection (at most
// kConnectBurst connects in flight per thread), then warm up for `warmup_ns` (requests sent then
// are not measured), then measure for `duration_ns`, or until exactly `requests` measured requests
// were sent and answered. Then, with `hold_ns`, keep the connections open and idle that long.
//
// Closed loop (rate 0): each connection keeps `pipeline` requests in flight, sending the next
// one as each response arrives. Open loop (a rate > 0, or a schedule of them: rate_schedule.h):
// request k of connection i is slot i + k * connections of the schedule; at a constant rate it is
// due at
//   start + (i + k * connections) / rate
// so the whole run sends `rate` requests/s evenly paced, each connection at rate/connections. A
// request is sent when due (a timerfd per thread, not the 1 ms epoll timeout), or as soon as the
// connection has fewer than `pipeline` requests in flight. Latency is measured from the due
// ("intended") time, so a stalled server is charged for every request it delayed (coordinated
// omission corrected, as wrk2 does); the uncorrected figure, from the actual send, is kept too.
// In closed loop both figures are the same.
//
// A request is measured when its intended send time falls in the measurement window; throughput
// is measured responses / window. Closed loop sends nothing once the window is over; open loop
// still sends every request scheduled inside it (late, if the thread was late: that lateness is
// part of the corrected latency). Requests in flight at the end are awaited (up to timeout_ns). Errors are counted over the whole run, by kind; after an error
// the connection is closed (its requests in flight are lost) and reconnected at once (after a
// connect error: after 100 ms). With `requests`, a connection that fails to connect gives up.
//
// Threading: Run blocks the calling thread until the run ends; `on_progress` is called on it.
#ifndef SHOAL_TOOLS_LOADGEN_LOADGEN_H_
#define SHOAL_TOOLS_LOADGEN_LOADGEN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/socket.h"
#include "tools/loadgen/codec.h"
#include "tools/loadgen/error_counts.h"
#include "tools/loadgen/histogram.h"
#include "tools/loadgen/rate_schedule.h"
#include "tools/loadgen/timeline.h"
#include "tools/loadgen/tls_client_context.h"

namespace shoal::loadgen {

struct Progress {
  double elapsed_s = 0;        // since the warm-up started
  bool warming_up = false;
  uint64_t completed = 0;      // responses, measured or not, since the start
  uint64_t errors = 0;
  uint64_t bytes_received = 0;
  int connections_open = 0;
};

struct Options {
  std::vector<std::string> targets;  // "HOST:PORT", "[v6]:PORT"; HOST may be a name
  std::string protocol{server::kEchoName};  // one of ProtocolNames()
  HttpRequest http = HttpRequest::kPlaintext;
  int connections = 10;
  int threads = 1;
  int64_t duration_ns = 10'000'000'000;
  int64_t requests = -1;             // >= 0: exactly this many measured requests (duration unused)
  int64_t warmup_ns = 0;
  int64_t hold_ns = 0;               // idle time with every connection open, after the load
  size_t size = 64;
  int pipeline = 1;
  RateSchedule rate;                 // requests/s in total over time; 0 = closed loop
  bool verify = false;
  int64_t timeout_ns = 10'000'000'000;         // a response must arrive within this
  int64_t connect_timeout_ns = 5'000'000'000;
  bool nodelay = true;
  int64_t reconnect_every = 0;       // > 0: requests per connection, then close and reconnect
  double connect_rate = 0;           // > 0: connect attempts/s in total; 0 = unlimited
  bool timeline = false;             // keep Result::timeline (second by second)
  TlsOptions tls;                    // --tls and its options
  // When set: the server's cumulative CPU seconds, read when the measurement starts and when
  // every measured response is in (on Run's thread): Result::server_cpu_seconds.
  std::function<absl::StatusOr<double>()> server_cpu;
  // Called about every `progress_interval_ns` on Run's thread while the load runs.
  std::function<void(const Progress&)> on_progress;
  int64_t progress_interval_ns = 1'000'000'000;
  // Called once, on Run's thread, when the hold starts (every connection that could be opened is).
  std::function<void(int connections_open)> on_hold;
};


// The handshakes of a --tls run.
struct TlsFigures {
  uint64_t handshakes = 0;           // completed, the whole run (first connects included)
  uint64_t handshakes_measured = 0;  // completed inside the measurement window
  uint64_t resumed = 0;              // of `handshakes`, sessions resumed (--tls_resume)
  Histogram latency;                 // TCP connected -> handshake done, ns
  std::string negotiated;            // version and cipher of the first handshake
  std::string first_error;           // why the first failed handshake failed
};

struct Result {
  Options options;                       // what ran (callbacks cleared)
  std::vector<std::string> resolved_targets;  // numeric "ip:port" of each target
  bool open_loop = false;
  double duration_s = 0;                 // the measurement window
  uint64_t requests = 0;                 // measured responses (verified ones too)
  uint64_t requests_sent = 0;            // measured requests sent
  uint64_t bytes_sent = 0;               // of measured requests
  uint64_t bytes_received = 0;           // of measured responses
  uint64_t verified = 0;                 // responses checked byte for byte (with verify)
  uint64_t lost = 0;                     // measured requests in flight when their connection failed
  uint64_t failed = 0;                   // measured responses that were errors (status, mismatch)
  uint64_t unsent = 0;                   // measured requests due that were never sent
  uint64_t connects = 0;                 // successful connects (reconnects included)
  uint64_t reconnects = 0;               // connections closed by reconnect_every, then reopened
  int connections_open_at_start = 0;     // established before the load started
  int64_t start_ns = 0;                  // the load began (CLOCK_MONOTONIC; the timeline's origin)
  Timeline timeline;                     // with options.timeline: the run second by second
  ErrorCounts errors;
  Histogram latency;                     // corrected: from the intended send time, ns
  Histogram latency_uncorrected;         // from the actual send time, ns
  TlsFigures tls;                        // with options.tls.enabled
  // The server's CPU time (user + system) over the measurement window, when it was measured
  // (--server_pid, --server_metrics).
  std::optional<double> server_cpu_seconds;
  std::string server_cpu_error;          // why it is missing, when it was asked for

  // Every measured request is accounted for: scheduled = sent + unsent, and
  // sent = requests (answered well) + failed (answered badly) + lost (never answered).
  uint64_t scheduled() const { return requests_sent + unsent; }
  uint64_t completed() const { return requests + failed; }

  // The server's CPU microseconds per request answered well in the window.
  std::optional<double> server_cpu_us_per_request() const {
    if (!server_cpu_seconds || requests == 0) return std::nullopt;
    return *server_cpu_seconds * 1e6 / static_cast<double>(requests);
  }

  double requests_per_second() const { return duration_s > 0 ? requests / duration_s : 0; }
  double bytes_received_per_second() const {
    return duration_s > 0 ? bytes_received / duration_s : 0;
  }
  double bytes_sent_per_second() const { return duration_s > 0 ? bytes_sent / duration_s : 0; }
  double handshakes_per_second() const {
    return duration_s > 0 ? tls.handshakes_measured / duration_s : 0;
  }
  // Verification failed: with verify, any error at all; without, none of these count.
  bool verification_failed() const { return options.verify && errors.total() > 0; }
};

// Connects in flight per thread while the connections are being opened.
inline constexpr int kConnectBurst = 256;

// Checks `options` (ranges, at least one target) and resolves every target.
absl::StatusOr<std::vector<core::SocketAddress>> ResolveTargets(const Options& options);
absl::Status ValidateOptions(const Options& options);

// Runs the load. Errors only when nothing can run: invalid options (a bad --tls_ca too), an
// unresolvable target, no connection could be established, or a thread/loop could not be
// created. A TLS handshake that fails is not "no connection": the run goes on, counting them
// (errors.tls_handshake), so a wrong CA or server name shows in the report.
absl::StatusOr<Result> Run(const Options& options);

// Exit status for the command line: 0; 1 when verification failed (see Result) or, without
// verify, when no request completed.
int ExitCode(const Result& result);

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_LOADGEN_H_
