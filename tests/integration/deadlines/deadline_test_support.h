// Support for the deadline integration tests (issue 4): an in-process echo server on 127.0.0.1:0,
// blocking-mode client sockets driven with MSG_DONTWAIT + poll() so that no call waits past its
// timeout, ways to see the server's end of a connection from the client, and a child-process
// runner for the real shoal binary.
//
// Synchronisation rule: nothing here sleeps to make something happen. Waiting for time to pass is
// the subject of these tests, so every wait is a poll() on a client socket (or a pipe) with a
// timeout, and every duration is measured with std::chrono::steady_clock (the clock the server's
// CLOCK_MONOTONIC deadlines run on). Server-side facts (close counts, settings applied) are read
// after EchoServer::Barrier, which runs a task on each worker's loop and waits for it.
//
// Threading: everything runs on the test thread; EchoServer's accessors read relaxed-atomic worker
// stats (core/stats.h).
#ifndef SHOAL_TESTS_INTEGRATION_DEADLINES_DEADLINE_TEST_SUPPORT_H_
#define SHOAL_TESTS_INTEGRATION_DEADLINES_DEADLINE_TEST_SUPPORT_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/close_reason.h"
#include "core/connection.h"
#include "core/server.h"
#include "core/socket.h"

namespace shoal::deadlines_test {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Milliseconds from `from` to `to` (fractional).
double MillisBetween(Clock::time_point from, Clock::time_point to);

// The wheel resolution every test runs with (the config default), and the scheduling slack allowed
// on top of "at most one tick late" on a loaded 2-core machine.
inline constexpr milliseconds kTick{10};
inline constexpr milliseconds kSlack{400};
inline constexpr int64_t Nanos(milliseconds ms) { return ms.count() * 1'000'000; }

// ---------------------------------------------------------------------------------------------
// The in-process server.

struct EchoServerOptions {
  int workers = 1;
  int64_t tick_ns = Nanos(kTick);
  core::ConnectionSettings settings;
  core::AcceptedSocketOptions socket;
};

// A started core::Server with one echo listener ("echo", max frame 1 MiB) on 127.0.0.1:0. Stops
// and joins its workers on destruction.
class EchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<EchoServer>> Start(const EchoServerOptions& options);
  ~EchoServer();

  uint16_t port() const { return port_; }
  core::Server& server() { return *server_; }

  // Sums over every worker's echo listener.
  uint64_t closed(core::CloseReason reason) const;
  uint64_t closed_total() const;
  int64_t active() const;
  // For failure messages: the counts after a Barrier (so a close the client just saw is counted).
  std::string StatsSummary();

  // Runs a no-op task on every worker's loop and waits (up to `timeout`) until all have run. When
  // it returns true, every loop turn that was running when it was called has finished: closes seen
  // by a client before the call are counted, and settings posted before the call are in effect.
  bool Barrier(milliseconds timeout = milliseconds(5000));

 private:
  EchoServer() = default;
  std::unique_ptr<core::Server> server_;
  uint16_t port_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Client sockets.

// A connected TCP socket to 127.0.0.1:port with TCP_NODELAY; SO_RCVBUF is set before connect when
// receive_buffer > 0 (which also turns off receive-buffer autotuning).
absl::StatusOr<core::ScopedFd> Connect(uint16_t port, int receive_buffer = 0);

std::string EncodeFrameHeader(uint32_t length);
std::string EncodeFrame(std::string_view payload);

// Sends all of `bytes` within `timeout`.
absl::Status SendAll(int fd, std::string_view bytes, milliseconds timeout);
// Reads exactly n bytes within `timeout`.
absl::StatusOr<std::string> ReadExactly(int fd, size_t n, milliseconds timeout);

// How a connection ended, as the client saw it.
struct End {
  enum class Kind { kEof, kReset, kTimeout, kError };
  Kind kind = Kind::kTimeout;
  Clock::time_point at;   // when the client saw it
  size_t data_bytes = 0;  // bytes read (and discarded) before the end
  int error = 0;          // errno for kError / kReset
  bool closed() const { return kind == Kind::kEof || kind == Kind::kReset; }
  std::string ToString() const;
};

// Reads (and discards) until EOF, reset or `timeout`.
End WaitForEnd(int fd, milliseconds timeout);
// Waits without reading (poll for POLLRDHUP/POLLHUP/POLLERR only) until the peer's FIN or reset
// arrives, or `timeout`: for a client whose receive buffer is full of data it must not read.
End WaitForEndWithoutReading(int fd, milliseconds timeout);

// One echo round trip of `payload`: sends the frame and reads the identical frame back.
absl::Status PingPong(int fd, std::string_view payload, milliseconds timeout);

}  // namespace shoal::deadlines_test

#endif  // SHOAL_TESTS_INTEGRATION_DEADLINES_DEADLINE_TEST_SUPPORT_H_
