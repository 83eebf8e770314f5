// The write deadline over real sockets: queued output must make progress within `write`. A client
// that never reads its echo is closed (reason write_timeout) once the output queue has been stuck
// for `write`; a client that reads slowly but steadily is not, however long its queue stays
// non-empty (the deadline runs from the last progress, re-checked lazily).
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/deadlines/deadline_bounds.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_wire.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

using core::CloseReason;

constexpr milliseconds kWrite{500};

TestServerOptions WriteOptions(milliseconds write) {
  TestServerOptions options;
  options.workers = 1;
  // Far beyond the test: only the write deadline may close anything.
  options.settings = WithTimeouts(milliseconds(20000), milliseconds(20000), write);
  return options;
}

// The client (4 KiB SO_RCVBUF, never reads) pipelines 64 KiB frames until the server has paused
// reading it at the high watermark and its own socket takes no more. The server's output queue is
// then non-empty and stuck. Its last write progress is after the client's first send and (the
// client's receive window being shut before the server paused) before the client stopped: so the
// close comes no earlier than `write` after the first send, and no later than write + tick +
// slack after the client stopped. The close discards unread input, so the client sees a reset
// (or a FIN); it watches without reading.
TEST(WriteDeadline, ClientThatNeverReadsIsClosedAtWrite) {
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(WriteOptions(kWrite)));
  TestServer& s = *server;
  const core::WorkerStats& worker = s.server().workers()[0]->stats();

  auto fd = Connect(s.port(), seconds(5), {.receive_buffer = 4096});
  ASSERT_TRUE(fd.ok()) << fd.status();

  const std::string frame = EncodeFrame(std::string(64 << 10, 'w'));
  size_t frame_offset = 0;
  uint64_t sent = 0;
  const Clock::time_point first_send = Clock::now();
  const Clock::time_point give_up = first_send + milliseconds(5000);
  for (;;) {
    ssize_t n = send(fd->get(), frame.data() + frame_offset, frame.size() - frame_offset,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<uint64_t>(n);
      frame_offset = (frame_offset + static_cast<size_t>(n)) % frame.size();
      continue;
    }
    ASSERT_TRUE(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        << "send failed after " << sent << " bytes: " << std::strerror(errno);
    // Our socket is full. Done once the server has stopped reading us (it paused at its high
    // watermark, so its output queue holds more than 1 MiB it cannot write).
    if (worker.backpressure_pauses.value() > 0) break;
    pollfd p{fd->get(), POLLOUT, 0};
    int left = static_cast<int>(std::chrono::ceil<milliseconds>(give_up - Clock::now()).count());
    ASSERT_GT(left, 0) << "the server never paused reading; sent " << sent << "; "
                       << s.StatsSummary();
    poll(&p, 1, std::min(left, 10));  // wake for writability, or re-check the pause soon
  }
  const Clock::time_point stopped = Clock::now();
  ASSERT_TRUE(s.Barrier());
  const int64_t queued = worker.output_queue_bytes.value();
  EXPECT_GT(queued, 1 << 20) << "the output queue should be stuck above the high watermark";

  End end = WaitForEndWithoutReading(fd->get(), kWrite + milliseconds(5000));
  ASSERT_TRUE(end.closed()) << end.ToString() << "; " << s.StatsSummary();
  double since_first_send = MillisBetween(first_send, end.at);
  double since_stopped = MillisBetween(stopped, end.at);
  EXPECT_GE(since_first_send, kWrite.count()) << "closed before the write deadline";
  EXPECT_LE(since_stopped, (kWrite + Tick() + kSlack).count()) << "closed late";
  RecordProperty("client_sent_bytes", std::to_string(sent));
  RecordProperty("server_queued_bytes", std::to_string(queued));
  RecordProperty("closed_after_client_stopped_ms", std::to_string(since_stopped));
  RecordProperty("client_saw", end.ToString());

  ExpectClosedOnlyFor(s, CloseReason::kWriteTimeout, 1);
}

// 1 MiB of 1 KiB frames is echoed to a client with a 16 KiB receive buffer that reads 16 KiB every
// 100 ms: the output queue stays non-empty for 3 write deadlines (500 ms), but it makes progress
// every 100 ms (so a reader delayed by a loaded machine still keeps within the deadline), so the
// connection must stay open. Then the client reads the rest at full speed and every byte must be
// the echo.
TEST(WriteDeadline, SlowReaderThatKeepsMakingProgressIsNotClosed) {
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(WriteOptions(kWrite)));
  TestServer& s = *server;

  auto fd = Connect(s.port(), seconds(5), {.receive_buffer = 16 << 10});
  ASSERT_TRUE(fd.ok()) << fd.status();
  std::string stream;
  for (int i = 0; stream.size() < (1u << 20) - 2048; ++i) {
    std::string payload = "frame " + std::to_string(i) + " ";
    payload.resize(1020, static_cast<char>('a' + i % 26));
    stream += EncodeFrame(payload);
  }
  ASSERT_TRUE(SendAll(fd->get(), stream, milliseconds(5000)).ok()) << s.StatsSummary();

  std::string received;
  const Clock::time_point start = Clock::now();
  constexpr milliseconds kSlowFor = 3 * kWrite;
  while (Clock::now() - start < kSlowFor) {
    // The reader's pause: the connection must stay open through it.
    pollfd p{fd->get(), POLLRDHUP, 0};
    ASSERT_EQ(poll(&p, 1, 100), 0) << "closed while the reader was making progress after "
                                   << received.size() << " bytes; " << s.StatsSummary();
    auto chunk = ReadExactly(fd->get(), 16 << 10, milliseconds(2000));
    ASSERT_TRUE(chunk.ok()) << chunk.status() << "; " << s.StatsSummary();
    received += *chunk;
  }
  ASSERT_LT(received.size(), stream.size()) << "the queue emptied: the test proved nothing";
  auto rest = ReadExactly(fd->get(), stream.size() - received.size(), milliseconds(5000));
  ASSERT_TRUE(rest.ok()) << rest.status() << "; " << s.StatsSummary();
  received += *rest;
  EXPECT_TRUE(received == stream) << "the echo differs from what was sent";
  RecordProperty("slowly_read_bytes", std::to_string(received.size() - rest->size()));

  ASSERT_TRUE(s.Barrier());
  EXPECT_EQ(s.closed_total(), 0u) << s.StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
