// Backpressure at the sizes of the backpressure issue: a client pipelining 1 GiB without reading is
// paused (not closed) with bounded server memory, then receives every byte; and 200 non-reading
// clients cannot stop 50 reading clients on the same workers, with the worker budget held.
#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/echo_stream.h"
#include "tests/support/process_resources.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

constexpr auto kStallTimeout = std::chrono::seconds(5);

TEST(BackpressureScale, GibibyteNonReaderIsPausedWithBoundedMemoryThenDeliveredExactly) {
  TestServerOptions options;
  options.workers = 1;  // defaults: high watermark 1 MiB, low 256 KiB
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;
  const core::WorkerStats& worker = s.worker_stats(0);
  Deadline deadline = Deadline::In(std::chrono::seconds(100));

  ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(s.port(), deadline));
  EchoDriver driver;
  size_t i = driver.Add(fd.get(), FrameStream::Fixed(9, 64 << 10, uint64_t{1} << 30));
  EchoDriver::Conn& c = driver.conn(i);
  c.read_enabled = false;

  const uint64_t rss_before = ResidentBytes();
  auto paused_and_full = [&] {
    return worker.backpressure_pauses.value() > worker.backpressure_resumes.value() &&
           !driver.SocketWritable(i);
  };
  ASSERT_EQ(driver.Run(deadline, paused_and_full), EchoDriver::Result::kStopped)
      << driver.Summary() << "\n" << s.StatsSummary();
  // Let the server settle: no progress is possible while we do not read.
  bool stalled = false;
  ASSERT_EQ(driver.Run(deadline, StallDetector([&] { return c.sent; },
                                                std::chrono::milliseconds(300), &stalled)),
            EchoDriver::Result::kStopped);
  const uint64_t rss_paused = ResidentBytes();
  const int64_t queued = worker.output_queue_bytes.value();
  RecordProperty("sent_while_paused", std::to_string(c.sent));
  RecordProperty("rss_growth_bytes", std::to_string(rss_paused - std::min(rss_paused, rss_before)));
  EXPECT_LT(c.sent, uint64_t{64} << 20) << "the client could not have sent this much: TCP "
                                           "backpressure must stop it";
  EXPECT_LE(queued, static_cast<int64_t>(options.settings.high_watermark +
                                         options.settings.read_budget_bytes));
  // high watermark + one read budget + the chunk pool's spare chunks + allocator slack.
  EXPECT_LE(rss_paused, rss_before + options.settings.high_watermark + (8u << 20))
      << "server memory grew beyond the high watermark";
  EXPECT_EQ(s.closed_total(), 0u) << "paused, not closed";

  c.read_enabled = true;
  ASSERT_EQ(driver.Run(deadline, StallDetector([&] { return c.sent + c.received; },
                                                kStallTimeout, &stalled)),
            EchoDriver::Result::kAllFinished)
      << (stalled ? "STALLED " : "") << driver.Summary() << "\n" << s.StatsSummary();
  EXPECT_FALSE(c.failed()) << driver.Summary();
  EXPECT_EQ(c.received, c.stream.size());
  EXPECT_EQ(s.closed_total(), 0u);
}

TEST(BackpressureScale, TwoHundredNonReadersDoNotStopFiftyReaders) {
  constexpr size_t kNonReaders = 200;
  constexpr size_t kReaders = 50;
  constexpr uint64_t kBudget = 8 << 20;
  TestServerOptions options;
  options.workers = 2;
  options.settings.high_watermark = 64 << 10;
  options.settings.low_watermark = 16 << 10;
  options.settings.worker_budget = kBudget;  // below 100 x high watermark per worker
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;
  Deadline deadline = Deadline::In(std::chrono::seconds(60));

  ClientOptions small_window;
  small_window.receive_buffer = 32 << 10;
  EchoDriver driver;
  std::vector<core::ScopedFd> sockets;
  std::vector<size_t> readers;
  for (size_t k = 0; k < kNonReaders + kReaders; ++k) {
    ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(s.port(), deadline, small_window));
    size_t i;
    if (k < kNonReaders) {
      i = driver.Add(fd.get(), FrameStream::Fixed(k, 16 << 10, 2 << 20));
      driver.conn(i).read_enabled = false;
    } else {
      i = driver.Add(fd.get(), FrameStream(k, std::vector<uint32_t>(100, 1024)));
      driver.conn(i).ping_pong = true;
      readers.push_back(i);
    }
    sockets.push_back(std::move(fd));
  }

  int64_t max_queued = 0;
  auto readers_received = [&] { return driver.received_by(readers); };
  bool stalled = false;
  auto stall = StallDetector(readers_received, kStallTimeout, &stalled);
  driver.Run(deadline, [&] {
    for (int w = 0; w < s.worker_count(); ++w) {
      max_queued = std::max(max_queued, s.worker_stats(w).output_queue_bytes.value());
    }
    bool done = true;
    for (size_t i : readers) done = done && EchoDriver::Finished(driver.conn(i));
    return done || stall();
  });
  for (size_t i : readers) {
    const EchoDriver::Conn& c = driver.conn(i);
    ASSERT_FALSE(c.failed()) << driver.Summary();
    ASSERT_EQ(c.received, c.stream.size()) << (stalled ? "STALLED " : "") << driver.Summary()
                                           << "\n" << s.StatsSummary();
  }
  EXPECT_LE(max_queued, static_cast<int64_t>(kBudget + options.settings.read_budget_bytes))
      << "a worker queued more than its budget plus one read budget";
  uint64_t pauses = 0;
  for (int w = 0; w < s.worker_count(); ++w) pauses += s.worker_stats(w).backpressure_pauses.value();
  EXPECT_GE(pauses, kNonReaders) << s.StatsSummary();
  EXPECT_EQ(s.closed_total(), 0u) << s.StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
