// Echo clients: one round trip (PingPong), and EchoDriver, an epoll-driven (level-triggered)
// client for many connections at once that writes each connection's FrameStream as fast as the
// socket takes it and verifies every echoed byte against the same stream as it arrives.
// Sockets are borrowed: the test keeps ownership. Threading: one EchoDriver per thread.
#ifndef SHOAL_TESTS_SUPPORT_ECHO_CLIENT_H_
#define SHOAL_TESTS_SUPPORT_ECHO_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_stream.h"

namespace shoal::testing {

// One echo round trip of `payload`: sends the frame and reads the identical frame back.
absl::Status PingPong(int fd, std::string_view payload, Deadline deadline);

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
  // Bytes received by the connections at these indexes.
  uint64_t received_by(const std::vector<size_t>& indexes) const;
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

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_ECHO_CLIENT_H_
