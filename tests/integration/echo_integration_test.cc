// Echo over real sockets against an in-process server: many concurrent pipelining connections, a
// 16 MiB frame, an oversize frame, and half-close.
#include <sys/socket.h>

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/integration_bounds.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/echo_stream.h"
#include "tests/support/echo_wire.h"
#include "tests/support/process_resources.h"
#include "tests/support/test_server.h"
#include "tests/support/worker_placement.h"

namespace shoal::testing {
namespace {

using core::CloseReason;

// A server of `workers` workers whose echo frames may be up to `max_frame_bytes` long.
TestServerOptions WithFrameLimit(int workers, uint64_t max_frame_bytes) {
  TestServerOptions options;
  options.workers = workers;
  options.config.limits.max_frame_bytes = max_frame_bytes;
  return options;
}

// 1000 connections, all open at once, each pipelining 2..6 frames of 0..64 KiB random bytes; every
// byte must come back exactly and in order, and the server's counters must agree.
TEST(EchoIntegration, ThousandConcurrentPipelinedConnections) {
  constexpr size_t kConnections = 1000;
  rlim_t limit = RaiseFdLimitToHard();
  ASSERT_GE(limit, 2 * kConnections + 100) << "RLIMIT_NOFILE hard limit too low";

  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(WithFrameLimit(4, 64 * 1024)));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  auto fds = ConnectMany(s.port(), kConnections, deadline);
  ASSERT_TRUE(fds.ok()) << fds.status();
  // Concurrency: the server holds all of them at once before any byte is sent.
  ASSERT_TRUE(WaitFor([&] { return s.active() == static_cast<int64_t>(kConnections); },
                      std::chrono::seconds(10)))
      << s.StatsSummary();

  std::mt19937_64 rng(20240601);
  std::uniform_int_distribution<int> frame_count(2, 6);
  EchoDriver driver;
  uint64_t total_bytes = 0;
  uint64_t total_frames = 0;
  for (size_t i = 0; i < kConnections; ++i) {
    FrameStream stream = FrameStream::Random(rng(), static_cast<size_t>(frame_count(rng)), 0,
                                             64 * 1024);
    total_bytes += stream.size();
    total_frames += stream.frame_count();
    driver.Add((*fds)[i].get(), std::move(stream));
  }
  EchoDriver::Result result = driver.Run(deadline);
  ASSERT_EQ(result, EchoDriver::Result::kAllFinished) << driver.Summary() << "\n"
                                                      << s.StatsSummary();
  for (size_t i = 0; i < driver.size(); ++i) {
    const EchoDriver::Conn& c = driver.conn(i);
    ASSERT_FALSE(c.failed()) << "conn " << i << ": " << driver.Summary();
    ASSERT_EQ(c.received, c.stream.size()) << "conn " << i;
    ASSERT_FALSE(c.eof) << "conn " << i << " closed by the server";
  }
  EXPECT_EQ(driver.total_received(), total_bytes);

  // The server saw the same traffic, with no connection closed.
  EXPECT_TRUE(WaitFor([&] { return s.requests() == total_frames && s.bytes_sent() == total_bytes; },
                      std::chrono::seconds(10)))
      << "frames " << total_frames << " bytes " << total_bytes << ": " << s.StatsSummary();
  EXPECT_EQ(s.bytes_received(), total_bytes);
  EXPECT_EQ(s.accepted(), kConnections);
  EXPECT_EQ(s.closed_total(), 0u) << s.StatsSummary();
  EXPECT_EQ(s.active(), static_cast<int64_t>(kConnections));

  // Every worker took part (the kernel's reuseport hash spreads 1000 connections over 4).
  for (int w = 0; w < s.worker_count(); ++w) {
    EXPECT_GT(s.listener_stats(w).accepted.value(), 0u) << s.StatsSummary();
  }

  fds->clear();  // the clients close: the server counts peer_closed for each
  EXPECT_TRUE(WaitFor([&] { return s.active() == 0; }, std::chrono::seconds(10)))
      << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kPeerClosed), kConnections) << s.StatsSummary();
}

// One 16 MiB frame at max_frame_bytes = 16 MiB, then a small one: both echoed exactly. The client
// writes and reads at once (the server streams the payload through, it never buffers it whole).
TEST(EchoIntegration, SixteenMiBFrameAtTheLimit) {
  constexpr uint32_t kBig = 16u << 20;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(WithFrameLimit(1, kBig)));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(s.port(), deadline));
  EchoDriver driver;
  driver.Add(fd.get(), FrameStream(16, {kBig, 1000}));
  ASSERT_EQ(driver.Run(deadline), EchoDriver::Result::kAllFinished)
      << driver.Summary() << "\n" << s.StatsSummary();
  ASSERT_FALSE(driver.conn(0).failed()) << driver.Summary();
  EXPECT_EQ(driver.conn(0).received, uint64_t{kBig} + 1000 + 8);
  EXPECT_TRUE(WaitFor([&] { return s.requests() == 2; }, std::chrono::seconds(5)))
      << s.StatsSummary();
  EXPECT_EQ(s.closed_total(), 0u) << s.StatsSummary();
  // The payload was streamed: the worker never queued the whole frame.
  EXPECT_LT(s.worker_stats(0).output_queue_bytes.value(), int64_t{kBig});
}

// A length above max_frame_bytes closes that connection only (frame_too_large, counted once on its
// worker); its neighbours on the same worker and on the other worker keep working.
TEST(EchoIntegration, OversizeFrameClosesOnlyThatConnection) {
  constexpr uint64_t kMax = 1 << 20;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(WithFrameLimit(2, kMax)));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  auto placed = ConnectBalanced(s, 3, deadline);
  ASSERT_TRUE(placed.ok()) << placed.status();
  const int bad_worker = 0;
  core::ScopedFd& bad = (*placed)[bad_worker][0];
  int bad_fd = bad.get();
  std::vector<int> neighbours;
  for (int w = 0; w < 2; ++w) {
    for (size_t i = 0; i < (*placed)[static_cast<size_t>(w)].size(); ++i) {
      if (w == bad_worker && i == 0) continue;
      neighbours.push_back((*placed)[static_cast<size_t>(w)][i].get());
    }
  }
  ASSERT_EQ(neighbours.size(), 5u);

  auto exchange = [&](uint64_t seed) {
    EchoDriver driver;
    for (size_t i = 0; i < neighbours.size(); ++i) {
      driver.Add(neighbours[i], FrameStream::Random(seed + i, 4, 0, 200 * 1024));
    }
    EchoDriver::Result result = driver.Run(deadline);
    EXPECT_EQ(result, EchoDriver::Result::kAllFinished) << driver.Summary();
    for (size_t i = 0; i < driver.size(); ++i) {
      EXPECT_FALSE(driver.conn(i).failed()) << driver.Summary();
      EXPECT_FALSE(driver.conn(i).eof) << "neighbour " << i << " was closed";
    }
  };
  exchange(100);

  // The bad connection works until it sends the oversize length.
  std::string frame = EncodeFrame("hello");
  ASSERT_TRUE(SendAll(bad_fd, frame, deadline).ok());
  auto echoed = ReadExactly(bad_fd, frame.size(), deadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, frame);
  uint64_t closed_before = s.closed_total();

  std::string oversize = EncodeFrameHeader(static_cast<uint32_t>(kMax + 1)) + std::string(100, 'x');
  ASSERT_TRUE(SendAll(bad_fd, oversize, deadline).ok());
  EndKind end = WaitForEnd(bad_fd, deadline);
  EXPECT_TRUE(end == EndKind::kEof || end == EndKind::kReset) << EndKindName(end);
  // Having seen the end, the client closes too (the server may linger for our FIN before it
  // releases the connection and counts the close).
  bad.reset();

  ASSERT_TRUE(WaitFor([&] { return s.closed(CloseReason::kFrameTooLarge) == 1; },
                      std::chrono::seconds(5)))
      << s.StatsSummary();
  const auto frame_too_large = static_cast<size_t>(CloseReason::kFrameTooLarge);
  EXPECT_EQ(s.listener_stats(bad_worker).closed[frame_too_large].value(), 1u);
  EXPECT_EQ(s.listener_stats(1 - bad_worker).closed[frame_too_large].value(), 0u);
  EXPECT_EQ(s.closed_total(), closed_before + 1) << s.StatsSummary();

  exchange(200);
  EXPECT_EQ(s.active(), static_cast<int64_t>(neighbours.size())) << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kFrameTooLarge), 1u);
  EXPECT_EQ(s.closed(CloseReason::kReset), 0u) << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kProtocolError), 0u) << s.StatsSummary();
}

// Several small frames, then shutdown(SHUT_WR): every echo arrives, then EOF (not a reset), and the
// server counts the close as peer_closed.
TEST(EchoIntegration, HalfCloseSmallFramesEchoedThenEof) {
  TestServerOptions options;
  options.workers = 1;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(s.port(), deadline));
  FrameStream stream(4, {0, 1, 7, 300, 4096, 0, 12});
  std::string bytes(stream.size(), '\0');
  stream.Fill(0, bytes.data(), bytes.size());
  ASSERT_TRUE(SendAll(fd.get(), bytes, deadline).ok());
  ASSERT_EQ(shutdown(fd.get(), SHUT_WR), 0);

  auto echoed = ReadExactly(fd.get(), bytes.size(), deadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_TRUE(*echoed == bytes) << "echo differs";
  std::string extra;
  EndKind end = WaitForEnd(fd.get(), deadline, &extra);
  EXPECT_EQ(end, EndKind::kEof) << EndKindName(end) << " (" << extra.size() << " extra bytes)";

  ASSERT_TRUE(WaitFor([&] { return s.closed_total() == 1; }, std::chrono::seconds(5)))
      << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kPeerClosed), 1u) << s.StatsSummary();
  EXPECT_EQ(s.requests(), stream.frame_count());
  EXPECT_EQ(s.active(), 0);
}

// Half-close while the server still has megabytes queued for the client (large frames, the server
// paused at its high watermark): it finishes echoing every complete frame, then EOF, peer_closed.
TEST(EchoIntegration, HalfCloseWithOutputQueuedEchoesEverythingThenEof) {
  TestServerOptions options = WithFrameLimit(1, 4 << 20);
  options.settings.high_watermark = 256 << 10;
  options.settings.low_watermark = 64 << 10;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  ClientOptions client;
  client.receive_buffer = 64 << 10;  // keep the echo in the server's queue, not in our socket
  ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(s.port(), deadline, client));

  EchoDriver driver;
  size_t i = driver.Add(fd.get(), FrameStream(5, {3, 4 << 20, 0, 3 << 20, 100, 1 << 20, 5}));
  driver.conn(i).shutdown_after_write = true;
  driver.conn(i).expect_eof = true;
  driver.conn(i).read_enabled = false;
  // First write everything we can without reading, so the FIN meets a full output queue.
  const core::WorkerStats& worker = s.worker_stats(0);
  ASSERT_EQ(driver.Run(deadline, [&] {
    return worker.backpressure_pauses.value() > worker.backpressure_resumes.value() &&
           (driver.conn(i).write_shut || !driver.SocketWritable(i));
  }), EchoDriver::Result::kStopped) << driver.Summary() << "\n" << s.StatsSummary();
  driver.conn(i).read_enabled = true;
  ASSERT_EQ(driver.Run(deadline), EchoDriver::Result::kAllFinished) << driver.Summary() << "\n"
                                                                   << s.StatsSummary();
  const EchoDriver::Conn& c = driver.conn(i);
  EXPECT_FALSE(c.failed()) << driver.Summary();
  EXPECT_TRUE(c.write_shut);
  EXPECT_TRUE(c.eof);
  EXPECT_EQ(c.received, c.stream.size()) << driver.Summary();

  ASSERT_TRUE(WaitFor([&] { return s.closed_total() == 1; }, std::chrono::seconds(5)))
      << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kPeerClosed), 1u) << s.StatsSummary();
  EXPECT_EQ(s.requests(), c.stream.frame_count());
}

}  // namespace
}  // namespace shoal::testing
