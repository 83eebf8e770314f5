// ReconnectingEchoLoad: well-behaved echo clients for tests that replace the server under them.
// Each of `connections` clients (one thread each) connects, makes `requests_per_connection`
// round trips paced open-loop (one every `interval`; late ones go at once and their latency
// counts from when they were due), verifies every echoed byte, closes and reconnects.
//
// A server that closes a connection between requests (FIN before any byte of the answer: a
// graceful drain at a request boundary) is not an error: the client reconnects and sends the same
// request again, counted in `retried_after_close`. Everything else that goes wrong is counted by
// kind: connect errors, resets (ECONNRESET/EPIPE), timeouts, mismatches (wrong or truncated
// answers). Threading: Start/Stop/counts from the test thread.
#ifndef SHOAL_TESTS_SUPPORT_RECONNECTING_ECHO_LOAD_H_
#define SHOAL_TESTS_SUPPORT_RECONNECTING_ECHO_LOAD_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace shoal::testing {

struct ReconnectingLoadOptions {
  uint16_t port = 0;  // on 127.0.0.1
  int connections = 16;
  int requests_per_connection = 20;
  std::chrono::microseconds interval{5000};
  size_t payload_bytes = 64;
  std::chrono::milliseconds timeout{5000};
};

struct ReconnectingLoadCounts {
  uint64_t requests = 0;  // answered and verified
  uint64_t connects = 0;
  uint64_t connect_errors = 0;
  uint64_t resets = 0;
  uint64_t timeouts = 0;
  uint64_t mismatches = 0;
  uint64_t retried_after_close = 0;
  double max_latency_ms = 0;
  double p99_latency_ms = 0;
  std::string first_error;

  uint64_t errors() const { return connect_errors + resets + timeouts + mismatches; }
  std::string Summary() const;
};

class ReconnectingEchoLoad {
 public:
  explicit ReconnectingEchoLoad(const ReconnectingLoadOptions& options);
  ~ReconnectingEchoLoad();
  ReconnectingEchoLoad(const ReconnectingEchoLoad&) = delete;
  ReconnectingEchoLoad& operator=(const ReconnectingEchoLoad&) = delete;

  void Start();
  // Lets each client finish its request in flight, joins the threads, returns the totals.
  ReconnectingLoadCounts Stop();
  // Verified requests so far (any thread).
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 private:
  struct Client;
  void RunClient(int index);
  void Merge(const Client& client);

  ReconnectingLoadOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> requests_{0};
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  ReconnectingLoadCounts totals_;
  std::vector<double> latencies_ms_;
};

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_RECONNECTING_ECHO_LOAD_H_
