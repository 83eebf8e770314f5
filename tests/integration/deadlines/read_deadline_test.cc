// The read deadline over real sockets, the slowloris defence: a client that starts a frame and
// dribbles it one byte per 100 ms is closed (reason read_timeout) `read` after its first byte,
// however steadily it keeps sending, while a well-behaved client on the same worker is served
// throughout without a stall.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/deadlines/deadline_bounds.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/echo_wire.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

using core::CloseReason;

constexpr milliseconds kRead{500};
constexpr milliseconds kDribbleEvery{100};
// The well-behaved client sends its next frame this long after the previous echo arrived.
constexpr milliseconds kPingEvery{5};
constexpr milliseconds kMaxStall{200};
// How long the well-behaved client keeps going after the slowloris was closed.
constexpr milliseconds kAfter{300};

TEST(ReadDeadline, SlowlorisIsClosedAtReadWhileAWellBehavedClientIsServed) {
  TestServerOptions options;
  options.workers = 1;  // both clients on the same worker
  options.settings = WithTimeouts(milliseconds(10000), kRead, milliseconds(10000));
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  auto good = Connect(s.port());
  ASSERT_TRUE(good.ok()) << good.status();
  auto slow = Connect(s.port());
  ASSERT_TRUE(slow.ok()) << slow.status();
  ASSERT_TRUE(PingPong(good->get(), "hello", milliseconds(5000)).ok());

  // The slowloris's bytes: a header announcing 1000 bytes, then the payload, one byte at a time.
  const std::string slow_bytes = EncodeFrameHeader(1000) + std::string(1000, 's');
  size_t slow_sent = 0;
  Clock::time_point first_byte_at{};
  Clock::time_point next_dribble = Clock::now();
  End slow_end;
  bool slow_done = false;

  // The well-behaved client: ping-pong of 64-byte frames, each checked byte for byte.
  uint64_t pings = 0;
  std::string in_flight;  // the frame awaiting its echo ("" = none)
  std::string echoed;
  Clock::time_point ping_sent_at{};
  Clock::time_point next_ping = Clock::now();
  double max_round_trip_ms = 0;

  const Clock::time_point give_up = Clock::now() + milliseconds(8000);
  char buffer[4096];
  while (Clock::now() < give_up) {
    Clock::time_point now = Clock::now();
    if (slow_done && now >= slow_end.at + kAfter && in_flight.empty()) break;

    // The slowloris sends its next byte when due.
    if (!slow_done && now >= next_dribble && slow_sent < slow_bytes.size()) {
      ssize_t n = send(slow->get(), slow_bytes.data() + slow_sent, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n == 1) {
        if (slow_sent == 0) first_byte_at = now;
        ++slow_sent;
      } else if (errno == EPIPE || errno == ECONNRESET) {
        slow_done = true;
        slow_end.kind = End::Kind::kReset;
        slow_end.at = now;
      }
      next_dribble = now + kDribbleEvery;
    }
    // The well-behaved client sends its next frame when due.
    if (in_flight.empty() && now >= next_ping) {
      std::string payload = "ping " + std::to_string(pings) + " ";
      payload.resize(64, static_cast<char>('a' + pings % 26));
      in_flight = EncodeFrame(payload);
      ping_sent_at = now;
      ASSERT_TRUE(SendAll(good->get(), in_flight, milliseconds(1000)).ok());
    }

    Clock::time_point wake = next_ping;
    if (!in_flight.empty()) wake = ping_sent_at + kMaxStall * 10;  // the echo wakes us first
    if (!slow_done) wake = std::min(wake, next_dribble);
    int timeout_ms = static_cast<int>(
        std::max<int64_t>(0, std::chrono::ceil<milliseconds>(wake - Clock::now()).count()));
    pollfd fds[2] = {{good->get(), POLLIN | POLLRDHUP, 0},
                     {slow_done ? -1 : slow->get(), POLLIN | POLLRDHUP, 0}};
    int ready = poll(fds, 2, timeout_ms);
    ASSERT_GE(ready, 0);
    now = Clock::now();

    if (fds[0].revents != 0) {
      ssize_t n = recv(good->get(), buffer, sizeof(buffer), MSG_DONTWAIT);
      ASSERT_GT(n, 0) << "the well-behaved client lost its connection after " << pings << " pings; "
                      << s.StatsSummary();
      echoed.append(buffer, static_cast<size_t>(n));
      ASSERT_FALSE(in_flight.empty()) << "unexpected bytes";
      if (echoed.size() >= in_flight.size()) {
        ASSERT_EQ(echoed, in_flight) << "wrong echo for ping " << pings;
        max_round_trip_ms = std::max(max_round_trip_ms, MillisBetween(ping_sent_at, now));
        echoed.clear();
        in_flight.clear();
        ++pings;
        next_ping = now + kPingEvery;
      }
    }
    if (!slow_done && fds[1].revents != 0) {
      // The echo of what was dribbled so far, then the end.
      ssize_t n = recv(slow->get(), buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        slow_done = true;
        slow_end.kind = n == 0 ? End::Kind::kEof : End::Kind::kReset;
        slow_end.at = now;
      } else if (n > 0) {
        slow_end.data_bytes += static_cast<size_t>(n);
      }
    }
  }

  if (!in_flight.empty()) {
    max_round_trip_ms = std::max(max_round_trip_ms, MillisBetween(ping_sent_at, Clock::now()));
  }
  ASSERT_TRUE(slow_done) << "the slowloris was never closed; it sent " << slow_sent << " bytes; "
                         << s.StatsSummary();
  double slow_lived_ms = MillisBetween(first_byte_at, slow_end.at);
  EXPECT_GE(slow_lived_ms, kRead.count()) << "closed before the read deadline";
  EXPECT_LE(slow_lived_ms, (kRead + Tick() + kSlack).count()) << "closed late";
  EXPECT_GE(slow_sent, 5u) << "the slowloris kept sending throughout";
  // The echo streams a started frame's bytes back as they arrive (header, then payload bytes).
  EXPECT_GE(slow_end.data_bytes, 4u);
  EXPECT_LE(slow_end.data_bytes, slow_sent);

  EXPECT_LE(max_round_trip_ms, kMaxStall.count()) << "the well-behaved client stalled";
  // ~900 ms of 5 ms-paced pings: well over 50 even on a loaded machine.
  EXPECT_GE(pings, 50u) << "the well-behaved client was starved";
  // It is still being served, and it is still open.
  ASSERT_TRUE(PingPong(good->get(), "still here", milliseconds(1000)).ok()) << s.StatsSummary();

  RecordProperty("slowloris_closed_after_ms", std::to_string(slow_lived_ms));
  RecordProperty("slowloris_bytes_sent", std::to_string(slow_sent));
  RecordProperty("good_client_pings", std::to_string(pings));
  RecordProperty("good_client_max_round_trip_ms", std::to_string(max_round_trip_ms));

  ExpectClosedOnlyFor(s, CloseReason::kReadTimeout, 1);
}

// After the peer's FIN the connection is flushing (docs/design.md: "the server finishes
// echoing complete frames, then closes"); a trailing partial frame that can never complete must not
// start a read deadline that cuts the flush short. A client sends 512 KiB of complete frames, 2
// bytes of a header, and FIN, then reads at 32 KiB per 100 ms (the server's send buffer is 16 KiB,
// so the echoes stay queued for ~1.6 s > read = 300 ms): it gets every complete frame's echo, then
// EOF.
TEST(ReadDeadline, HalfClosedClientWithATrailingPartialFrameGetsEveryCompleteEcho) {
  TestServerOptions options;
  options.workers = 1;
  options.settings = WithTimeouts(milliseconds(10000), milliseconds(300), milliseconds(10000));
  options.socket.send_buffer = 16 << 10;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  auto fd = Connect(s.port(), seconds(5), {.receive_buffer = 16 << 10});
  ASSERT_TRUE(fd.ok()) << fd.status();
  std::string frames;
  for (int i = 0; frames.size() < (512u << 10); ++i) {
    std::string payload = "frame " + std::to_string(i) + " ";
    payload.resize(1020, static_cast<char>('a' + i % 26));
    frames += EncodeFrame(payload);
  }
  ASSERT_TRUE(
      SendAll(fd->get(), frames + EncodeFrameHeader(100).substr(0, 2), milliseconds(5000)).ok());
  ASSERT_EQ(shutdown(fd->get(), SHUT_WR), 0);

  std::string received;
  const Clock::time_point give_up = Clock::now() + milliseconds(8000);
  while (received.size() < frames.size() && Clock::now() < give_up) {
    // The reader's pause: the connection must stay open through it.
    pollfd p{fd->get(), POLLRDHUP, 0};
    ASSERT_EQ(poll(&p, 1, 100), 0) << "closed after " << received.size() << " of " << frames.size()
                                   << " echoed bytes; " << s.StatsSummary();
    auto chunk = ReadExactly(fd->get(), std::min<size_t>(32 << 10, frames.size() - received.size()),
                             milliseconds(2000));
    ASSERT_TRUE(chunk.ok()) << chunk.status() << "; " << s.StatsSummary();
    received += *chunk;
  }
  EXPECT_TRUE(received == frames) << "got " << received.size() << " of " << frames.size();
  End end = ReadUntilEnd(fd->get(), milliseconds(5000));
  EXPECT_EQ(end.kind, End::Kind::kEof) << end.ToString();
  EXPECT_EQ(end.data_bytes, 0u) << "the partial frame is not echoed";
  ASSERT_TRUE(s.Barrier());
  EXPECT_EQ(s.closed(CloseReason::kReadTimeout), 0u) << s.StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
