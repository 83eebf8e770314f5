// Graceful drain over real sockets, in the middle of a burst of pipelined traffic.
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_bounds.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/echo_stream.h"
#include "tests/support/http_client.h"
#include "tests/support/test_server.h"
#include "tests/support/worker_placement.h"

namespace shoal::testing {
namespace {

using core::CloseReason;

// Every connection of `driver` saw the server's EOF (no error, no failure) right after a whole
// echoed frame, never inside one.
void ExpectEveryEchoEndedCleanlyAtAFrameBoundary(const EchoDriver& driver) {
  for (size_t i = 0; i < driver.size(); ++i) {
    const EchoDriver::Conn& c = driver.conn(i);
    EXPECT_TRUE(c.failure.empty()) << "conn " << i << ": " << c.failure;
    EXPECT_EQ(c.error, 0) << "conn " << i << " ended with " << std::strerror(c.error)
                          << " instead of EOF";
    EXPECT_TRUE(c.eof) << "conn " << i << " saw no EOF";
    EXPECT_TRUE(c.stream.IsFrameBoundary(c.received))
        << "conn " << i << ": the echo stops inside a frame (truncated), at "
        << c.stream.Describe(c.received);
  }
}

struct DrainResult {
  std::atomic<bool> done{false};
  std::atomic<int64_t> at_ns{0};
};

// Several connections on each of 2 workers pipeline random frames (0..64 KiB) as fast as they can
// while reading the echoes. Mid-burst, Server::Drain(now + 5 s). Then:
//  * every connection ends with EOF (a FIN, never ECONNRESET),
//  * what was echoed before the EOF is byte-exact and ends on a frame boundary (no frame the
//    server answered is truncated),
//  * the drained callback runs before the deadline, every close is counted as shutdown, and
//  * the listeners are closed: a new connection is refused.
TEST(DrainIntegration, DrainMidBurstEndsOnFrameBoundariesWithFin) {
  constexpr size_t kPerWorker = 4;
  constexpr auto kDrainTimeout = std::chrono::seconds(5);
  TestServerOptions options;
  options.workers = 2;
  options.config.limits.max_frame_bytes = 64 << 10;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  auto placed = ConnectBalanced(s, kPerWorker, deadline);
  ASSERT_TRUE(placed.ok()) << placed.status();
  const int64_t connections = static_cast<int64_t>(kPerWorker) * s.worker_count();
  ASSERT_TRUE(WaitFor([&] { return s.active() == connections; }, std::chrono::seconds(5)))
      << s.StatsSummary();
  const uint64_t closed_before = s.closed_total();  // ConnectBalanced's surplus connections

  EchoDriver driver;
  for (size_t w = 0; w < placed->size(); ++w) {
    for (size_t k = 0; k < (*placed)[w].size(); ++k) {
      // ~130 MiB per connection: far more than the burst gets through before the drain.
      size_t i = driver.Add((*placed)[w][k].get(),
                            FrameStream::Random(w * 1000 + k, 4000, 0, 64 << 10));
      driver.conn(i).expect_eof = true;
      driver.conn(i).shutdown_on_eof = true;  // answer the server's FIN with ours
    }
  }

  // The burst: run until every connection has had at least 512 KiB echoed.
  ASSERT_EQ(driver.Run(deadline, [&] {
    for (size_t i = 0; i < driver.size(); ++i) {
      if (driver.conn(i).received < (512u << 10)) return false;
    }
    return true;
  }), EchoDriver::Result::kStopped) << driver.Summary() << "\n" << s.StatsSummary();

  DrainResult drained;
  const int64_t drain_deadline_ns =
      core::MonotonicNowNs() +
      std::chrono::duration_cast<std::chrono::nanoseconds>(kDrainTimeout).count();
  s.server().Drain(drain_deadline_ns, [&drained] {
    drained.at_ns.store(core::MonotonicNowNs());
    drained.done.store(true);
  });

  // Keep pipelining and reading until each connection sees the server's end of stream.
  EchoDriver::Result result = driver.Run(deadline);
  EXPECT_EQ(result, EchoDriver::Result::kAllFinished) << driver.Summary() << "\n"
                                                      << s.StatsSummary();
  ExpectEveryEchoEndedCleanlyAtAFrameBoundary(driver);

  ASSERT_TRUE(WaitFor([&] { return drained.done.load(); },
                      kDrainTimeout + std::chrono::seconds(5)))
      << "drained callback never ran: " << s.StatsSummary();
  EXPECT_LE(drained.at_ns.load(), drain_deadline_ns)
      << "drained " << (drained.at_ns.load() - drain_deadline_ns) / 1000000
      << " ms after the deadline (connections were force-closed)";
  RecordProperty("drain_ms_before_deadline",
                 std::to_string((drain_deadline_ns - drained.at_ns.load()) / 1000000));

  EXPECT_EQ(s.active(), 0) << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kShutdown), static_cast<uint64_t>(connections))
      << s.StatsSummary();
  EXPECT_EQ(s.closed_total(), closed_before + static_cast<uint64_t>(connections))
      << s.StatsSummary();

  // Every listener is closed: nothing accepts any more.
  auto late = Connect(s.port(), Deadline::In(std::chrono::seconds(5)));
  EXPECT_FALSE(late.ok()) << "a connection was accepted after the drain";
  if (!late.ok()) {
    EXPECT_NE(std::string(late.status().message()).find("refused"), std::string::npos)
        << late.status();
  }
}

// Each client keeps one and a half frames in flight: every send completes the frame the server
// is waiting for and starts the next one halfway, so every read the server makes ends inside a
// frame. docs/design.md / Worker::BeginDrain: "let the others finish their request in flight" and
// Connection::BeginDrain: "close at the first request boundary". The request in flight completes
// with the client's next send, so the drain must end there: each client gets the complete echo
// of the frame that was in flight, then EOF, long before the deadline (not a truncated frame at
// the deadline's force-close).
TEST(DrainIntegration, DrainEndsAtTheBoundaryOfTheFrameInFlight) {
  constexpr size_t kConnections = 4;
  constexpr auto kDrainTimeout = std::chrono::seconds(3);
  TestServerOptions options;
  options.workers = 1;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  auto fds = ConnectMany(s.port(), kConnections, deadline);
  ASSERT_TRUE(fds.ok()) << fds.status();
  EchoDriver driver;
  for (size_t k = 0; k < kConnections; ++k) {
    size_t i = driver.Add((*fds)[k].get(),
                          FrameStream(500 + k, std::vector<uint32_t>(1000000, 1000)));
    EchoDriver::Conn& c = driver.conn(i);
    c.ping_pong = true;
    c.half_frame_ahead = true;
    c.expect_eof = true;
    c.shutdown_on_eof = true;
  }
  ASSERT_EQ(driver.Run(deadline, [&] {
    for (size_t i = 0; i < driver.size(); ++i) {
      if (driver.conn(i).received < 200 * 1004) return false;
    }
    return true;
  }), EchoDriver::Result::kStopped) << driver.Summary() << "\n" << s.StatsSummary();

  DrainResult drained;
  const int64_t drain_started_ns = core::MonotonicNowNs();
  const int64_t drain_deadline_ns =
      drain_started_ns +
      std::chrono::duration_cast<std::chrono::nanoseconds>(kDrainTimeout).count();
  s.server().Drain(drain_deadline_ns, [&drained] {
    drained.at_ns.store(core::MonotonicNowNs());
    drained.done.store(true);
  });

  EchoDriver::Result result = driver.Run(deadline);
  EXPECT_EQ(result, EchoDriver::Result::kAllFinished) << driver.Summary();
  ExpectEveryEchoEndedCleanlyAtAFrameBoundary(driver);
  ASSERT_TRUE(WaitFor([&] { return drained.done.load(); },
                      kDrainTimeout + std::chrono::seconds(5)))
      << "drained callback never ran: " << s.StatsSummary();
  const int64_t took_ms = (drained.at_ns.load() - drain_started_ns) / 1000000;
  RecordProperty("drain_took_ms", std::to_string(took_ms));
  EXPECT_LT(drained.at_ns.load(), drain_deadline_ns)
      << "the drain took " << took_ms << " ms: it ran into its deadline (force-close)";
  EXPECT_EQ(s.closed(CloseReason::kShutdown), kConnections) << s.StatsSummary();
}

// A keep-alive HTTP client that just got a reply may already be sending its next request when the
// drain begins: that request is answered, last (Connection: close), instead of being lost to our
// FIN. A connection that never sent anything closes at once.
TEST(DrainIntegration, ARecentKeepAliveClientGetsItsNextRequestAnsweredLast) {
  constexpr std::string_view kGet = "GET /plaintext HTTP/1.1\r\nHost: shoal\r\n\r\n";
  TestServerOptions options;
  options.protocol = "http";
  options.workers = 1;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;
  const Deadline deadline = Deadline::In(kTestDeadline);

  RawClient active(s.port(), deadline);
  RawClient silent(s.port(), deadline);
  ASSERT_TRUE(active.connected() && silent.connected());
  ASSERT_TRUE(active.Send(kGet, deadline));
  auto first = active.ReadResponse(false, deadline);
  ASSERT_TRUE(first) << active.last_error();
  EXPECT_NE(first->Header("Connection"), "close");

  DrainResult drained;
  s.server().Drain(core::MonotonicNowNs() + 5'000'000'000,
                   [&drained] { drained.done.store(true); });
  // The one worker starts every connection's drain in one step: once the silent connection is
  // closed, the active one is draining too.
  ASSERT_TRUE(silent.WaitForClose(deadline)) << silent.last_error();
  ASSERT_TRUE(active.Send(kGet, deadline));
  auto last = active.ReadResponse(false, deadline);
  ASSERT_TRUE(last) << active.last_error();
  EXPECT_EQ(last->status, 200);
  EXPECT_EQ(last->Header("Connection"), "close");
  EXPECT_TRUE(active.WaitForClose(deadline)) << active.last_error();
  active.Close();
  silent.Close();
  ASSERT_TRUE(WaitFor([&] { return drained.done.load(); }, seconds(10))) << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kShutdown), 2u) << s.StatsSummary();
  EXPECT_EQ(s.requests(), 2u);
}

}  // namespace
}  // namespace shoal::testing
