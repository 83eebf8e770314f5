// The read deadline over real sockets ("read: a started frame/request must complete within this",
// docs/design.md): it must time one frame, not a healthy connection's whole life, and it must
// not blame the client for bytes the server itself stopped reading (backpressure).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/integration_bounds.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/echo_stream.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

using core::CloseReason;
constexpr int64_t kReadTimeoutNs = 300'000'000;

// A client pipelining with 1.5 frames in flight: every frame completes within microseconds of
// starting, but every read the server makes ends inside the next frame. Over 5 read timeouts the
// connection must stay open and every echo must be exact.
TEST(TimeoutsIntegration, ReadTimeoutTimesEachFrameNotAPipeliningConnection) {
  TestServerOptions options;
  options.workers = 1;
  options.settings.read_timeout_ns = kReadTimeoutNs;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(s.port(), deadline));
  EchoDriver driver;
  size_t i = driver.Add(fd.get(), FrameStream(77, std::vector<uint32_t>(10000000, 1000)));
  EchoDriver::Conn& c = driver.conn(i);
  c.ping_pong = true;
  c.half_frame_ahead = true;

  // Runs for 5 read timeouts (the stream is far longer), then checks the connection is healthy.
  EchoDriver::Result result = driver.Run(Deadline::In(std::chrono::milliseconds(1500)));
  EXPECT_EQ(result, EchoDriver::Result::kDeadline) << driver.Summary();
  EXPECT_FALSE(c.failed()) << driver.Summary() << "\n" << s.StatsSummary();
  EXPECT_FALSE(c.eof) << "the server closed a healthy pipelining connection: "
                      << s.StatsSummary();
  EXPECT_GT(c.received, 1000u * 1004) << driver.Summary();
  EXPECT_EQ(s.closed(CloseReason::kReadTimeout), 0u) << s.StatsSummary();
  EXPECT_EQ(s.closed_total(), 0u) << s.StatsSummary();
}

// The client pipelines 8 MiB without reading, so the server pauses the connection at its high
// watermark with a started frame unread in its socket; the client then stays away for 3 read
// timeouts (well within the 30 s write timeout, which is the deadline for a peer that does not
// read). The frame is incomplete only because the server stopped reading: no read_timeout. When
// the client reads, everything arrives.
TEST(TimeoutsIntegration, ReadTimeoutDoesNotRunWhileTheServerPausedReading) {
  TestServerOptions options = SmallWatermarkOptions();
  options.settings.read_timeout_ns = kReadTimeoutNs;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;
  const core::WorkerStats& worker = s.worker_stats(0);

  Deadline deadline = Deadline::In(kTestDeadline);
  ClientOptions client;
  client.receive_buffer = 64 << 10;
  ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(s.port(), deadline, client));
  EchoDriver driver;
  size_t i = driver.Add(fd.get(), FrameStream::Fixed(3, 1000, 8 << 20));
  EchoDriver::Conn& c = driver.conn(i);
  c.read_enabled = false;
  ASSERT_EQ(driver.Run(deadline, [&] {
    return worker.backpressure_pauses.value() > worker.backpressure_resumes.value() &&
           (c.sent == c.stream.size() || !driver.SocketWritable(i));
  }), EchoDriver::Result::kStopped) << driver.Summary() << "\n" << s.StatsSummary();

  // The client does not read for 3 read timeouts (the scenario itself, not a synchronisation).
  driver.Run(Deadline::In(std::chrono::nanoseconds(3 * kReadTimeoutNs)));
  c.read_enabled = true;
  EchoDriver::Result result = driver.Run(deadline);
  EXPECT_EQ(result, EchoDriver::Result::kAllFinished) << driver.Summary();
  EXPECT_FALSE(c.failed()) << driver.Summary() << "\n" << s.StatsSummary();
  EXPECT_EQ(c.received, c.stream.size()) << driver.Summary();
  EXPECT_EQ(s.closed(CloseReason::kReadTimeout), 0u) << s.StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
