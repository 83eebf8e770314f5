// Test support for the integration tests: an in-process core::Server running the echo protocol on
// 127.0.0.1 with an ephemeral port, client sockets with poll-based deadlines, a deterministic
// stream of echo frames that can be regenerated at any offset (so a test can verify gigabytes
// without keeping them), and an epoll-driven client that pipelines many such streams at once.
//
// Synchronisation rule: nothing here sleeps to let something happen. Waiting is always for a
// condition, polled, with a bounded deadline (WaitFor, Deadline).
//
// Threading: a TestServer's accessors may be called from the test thread while the workers run
// (stats are relaxed atomics, see core/stats.h). Everything else is single-threaded.
#ifndef SHOAL_TESTS_INTEGRATION_TEST_SUPPORT_H_
#define SHOAL_TESTS_INTEGRATION_TEST_SUPPORT_H_

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/close_reason.h"
#include "core/connection.h"
#include "core/server.h"
#include "core/socket.h"
#include "core/stats.h"
#include "core/worker.h"

namespace shoal::integration {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A point in time to give up at.
class Deadline {
 public:
  static Deadline In(Clock::duration d) { return Deadline(Clock::now() + d); }
  explicit Deadline(Clock::time_point at) : at_(at) {}
  bool expired() const { return Clock::now() >= at_; }
  // Milliseconds left, rounded up, at least 0 (a poll() timeout).
  int remaining_ms() const;
  Clock::time_point at() const { return at_; }

 private:
  Clock::time_point at_;
};

// Polls `condition` (about every millisecond) until it holds or `timeout` passes. Returns whether
// it held. This is a bounded wait on a condition, not a sleep.
bool WaitFor(const std::function<bool()>& condition, Clock::duration timeout);

// A stop predicate (for EchoDriver::Run) that fires when `progress()` has not changed for
// `timeout`; `*stalled` tells whether it fired.
std::function<bool()> StallDetector(std::function<uint64_t()> progress, Clock::duration timeout,
                                    bool* stalled);

// Resident set size of this process, from /proc/self/statm.
uint64_t ResidentBytes();

// ---------------------------------------------------------------------------------------------
// The server.

struct TestServerOptions {
  int workers = 2;
  core::ConnectionSettings settings;
  core::AcceptedSocketOptions socket;
  uint64_t max_frame_bytes = 1 << 20;
  int64_t max_connections = 100000;
  int backlog = 4096;
};

// A started core::Server with one echo listener ("echo") on 127.0.0.1:0 (SO_REUSEPORT, one
// socket per worker). Stops (and joins the workers) on destruction.
class TestServer {
 public:
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(const TestServerOptions& options);
  ~TestServer();

  uint16_t port() const { return address_.port(); }
  const core::SocketAddress& address() const { return address_; }
  core::Server& server() { return *server_; }
  int worker_count() const { return static_cast<int>(server_->workers().size()); }
  const core::WorkerStats& worker_stats(int worker) const;
  // The echo listener's stats on `worker`.
  const core::ListenerStats& listener_stats(int worker) const;

  // Sums over every worker's echo listener.
  uint64_t accepted() const;
  int64_t active() const;
  uint64_t closed(core::CloseReason reason) const;
  uint64_t closed_total() const;
  uint64_t requests() const;
  uint64_t bytes_received() const;
  uint64_t bytes_sent() const;
  // Accept errors counted for `err` (one of core::kCountedAcceptErrnos; anything else reads the
  // "other" slot).
  uint64_t accept_errors(int err) const;
  std::vector<uint64_t> accepted_per_worker() const;

  // A one-line summary of the stats, for failure messages.
  std::string StatsSummary() const;

 private:
  TestServer() = default;
  std::unique_ptr<core::Server> server_;
  core::SocketAddress address_;
};

// Index of `err` in ListenerStats::accept_errors.
size_t AcceptErrorIndex(int err);

// ---------------------------------------------------------------------------------------------
// Client sockets. All are blocking-mode sockets; every helper uses MSG_DONTWAIT plus poll() so no
// call blocks past its deadline.

struct ClientOptions {
  int receive_buffer = 0;  // SO_RCVBUF before connect (0 = kernel default, autotuned)
  int send_buffer = 0;     // SO_SNDBUF before connect
};

// A TCP socket (not yet connected), with the options applied.
absl::StatusOr<core::ScopedFd> NewClientSocket(const ClientOptions& options = {});
// Connects an existing socket to 127.0.0.1:port; returns once the handshake completed.
absl::Status ConnectSocket(int fd, uint16_t port, Deadline deadline);
absl::StatusOr<core::ScopedFd> Connect(uint16_t port, Deadline deadline,
                                       const ClientOptions& options = {});
// `count` connections, all handshakes in flight at once.
absl::StatusOr<std::vector<core::ScopedFd>> ConnectMany(uint16_t port, size_t count,
                                                        Deadline deadline,
                                                        const ClientOptions& options = {});

absl::Status WriteAll(int fd, std::string_view bytes, Deadline deadline);
absl::StatusOr<std::string> ReadExactly(int fd, size_t n, Deadline deadline);

// How a connection ended, as seen by a client waiting for the end.
enum class EndKind { kEof, kReset, kData, kTimeout, kError };
std::string EndKindName(EndKind kind);
// Waits for the peer's end of stream: kEof (FIN), kReset (ECONNRESET), kData (bytes arrived
// instead; stored in `*data` when given), kTimeout, kError (another errno).
EndKind WaitForEnd(int fd, Deadline deadline, std::string* data = nullptr);

std::string EncodeFrameHeader(uint32_t length);
std::string EncodeFrame(std::string_view payload);

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
rlim_t RaiseFdLimitToHard();

// ---------------------------------------------------------------------------------------------
// A deterministic stream of echo frames: frame k has payload_sizes[k] bytes of pseudo-random data
// derived from (seed, k, byte index), so every frame's bytes differ and any byte range of the
// stream (headers included) can be regenerated at any time.

class FrameStream {
 public:
  FrameStream() = default;
  FrameStream(uint64_t seed, std::vector<uint32_t> payload_sizes);
  // `frames` frames with payload sizes uniform in [min_size, max_size].
  static FrameStream Random(uint64_t seed, size_t frames, uint32_t min_size, uint32_t max_size);
  // Frames of `payload_size` bytes until the stream holds at least `total_bytes`.
  static FrameStream Fixed(uint64_t seed, uint32_t payload_size, uint64_t total_bytes);

  uint64_t size() const { return total_; }
  size_t frame_count() const { return sizes_.size(); }
  uint32_t payload_size(size_t frame) const { return sizes_[frame]; }
  // Offset where `frame` starts (its header); frame_count() gives size().
  uint64_t frame_start(size_t frame) const;
  // The frame containing byte `offset` (offset < size()).
  size_t FrameAt(uint64_t offset) const;
  bool IsFrameBoundary(uint64_t offset) const;
  // End offset of the frame containing `offset`.
  uint64_t FrameEnd(uint64_t offset) const;

  // Writes stream bytes [offset, offset + n) to out; offset + n <= size().
  void Fill(uint64_t offset, char* out, size_t n) const;
  // How many leading bytes of data[0, n) equal the stream at `offset` (n when all do).
  size_t MatchPrefix(uint64_t offset, const char* data, size_t n) const;
  // "frame 12 (payload 4000 bytes) payload byte 17" for messages.
  std::string Describe(uint64_t offset) const;

 private:
  void FillPayload(size_t frame, uint64_t index, char* out, size_t n) const;

  uint64_t seed_ = 0;
  std::vector<uint32_t> sizes_;
  std::vector<uint64_t> starts_;  // starts_[k] = offset of frame k; starts_.back() == total_
  uint64_t total_ = 0;
};

// ---------------------------------------------------------------------------------------------
// An epoll-driven (level-triggered) client for many connections at once: writes each
// connection's FrameStream as fast as the socket takes it and verifies every echoed byte against
// the same stream as it arrives. Sockets are borrowed: the test keeps ownership.

class EchoDriver {
 public:
  struct Conn {
    int fd = -1;
    FrameStream stream;
    // Behaviour (may be changed between Run calls).
    bool read_enabled = true;
    bool write_enabled = true;
    // Send the next frame only when everything sent so far has been echoed.
    bool ping_pong = false;
    // With ping_pong: each send ends halfway through the frame after the current one, so the
    // server always holds a started frame at the end of what it has read (a pipelining client
    // with 1.5 frames in flight).
    bool half_frame_ahead = false;
    // shutdown(SHUT_WR) once the whole stream is written.
    bool shutdown_after_write = false;
    // Finished only when EOF follows the whole echoed stream.
    bool expect_eof = false;
    // shutdown(SHUT_WR) when EOF is read (and stop writing).
    bool shutdown_on_eof = false;

    // Progress and outcome.
    uint64_t sent = 0;
    uint64_t received = 0;
    bool write_shut = false;
    bool write_blocked = false;  // the last send could not take everything offered
    bool eof = false;
    int error = 0;        // errno of a failed send/recv (ECONNRESET, EPIPE, ...)
    std::string failure;  // the first verification failure
    uint32_t interest = 0;
    bool registered = false;

    bool failed() const { return error != 0 || !failure.empty(); }
  };

  enum class Result { kAllFinished, kStopped, kDeadline };

  EchoDriver();
  ~EchoDriver();
  EchoDriver(const EchoDriver&) = delete;
  EchoDriver& operator=(const EchoDriver&) = delete;

  // Adds a connection; returns its index.
  size_t Add(int fd, FrameStream stream);
  Conn& conn(size_t i) { return conns_[i]; }
  const Conn& conn(size_t i) const { return conns_[i]; }
  size_t size() const { return conns_.size(); }

  // A connection is finished when it failed, saw EOF, or (without expect_eof) received its whole
  // stream back.
  static bool Finished(const Conn& c);
  bool AllFinished() const;

  // Drives every connection until all are finished, `stop` returns true (checked at least every
  // 5 ms), or the deadline passes.
  Result Run(Deadline deadline, const std::function<bool()>& stop = nullptr);

  // Whether connection i's socket would take more bytes now (poll POLLOUT, no wait).
  bool SocketWritable(size_t i) const;

  uint64_t total_received() const;
  uint64_t total_sent() const;
  // Counts and the first few problems, for failure messages.
  std::string Summary() const;

 private:
  void UpdateInterest(size_t i);
  void DoWrite(Conn& c);
  void DoRead(Conn& c);

  core::ScopedFd epoll_fd_;
  std::vector<Conn> conns_;
  std::unique_ptr<char[]> scratch_;
};

// ---------------------------------------------------------------------------------------------
// Connections placed on known workers.

// Connects one client and waits until some worker has counted it as accepted; returns the socket
// and that worker's index. Valid only while no other connection is being accepted.
absl::StatusOr<std::pair<core::ScopedFd, int>> ConnectAttributed(TestServer& server,
                                                                 Deadline deadline,
                                                                 const ClientOptions& options = {});

// Connects (one at a time, attributing each) until every worker holds at least `per_worker`
// connections; surplus connections on workers already full are closed. Result indexed by worker.
absl::StatusOr<std::vector<std::vector<core::ScopedFd>>> ConnectBalanced(
    TestServer& server, size_t per_worker, Deadline deadline, const ClientOptions& options = {});

}  // namespace shoal::integration

#endif  // SHOAL_TESTS_INTEGRATION_TEST_SUPPORT_H_
