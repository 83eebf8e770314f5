// Backpressure over real sockets: a connection paused at its high watermark resumes and delivers
// everything (no edge-triggered stall), and the worker-wide output budget holds while clients that
// do read keep being served.
#include <algorithm>
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
#include "tests/support/worker_placement.h"

namespace shoal::testing {
namespace {
// A connection that moves no byte for this long is stalled (normal progress is continuous).
constexpr auto kStallTimeout = std::chrono::seconds(5);

class WatermarkStallTest : public ::testing::TestWithParam<uint32_t> {};

// The client pipelines 8 MiB of frames without reading until the server has paused the connection
// at its high watermark (64 KiB) and the client's socket is full; then it reads. Every byte must
// arrive exactly and in order with no stall: on resume the server must read what arrived while it
// was paused, although no new edge will come for it.
TEST_P(WatermarkStallTest, PausedConnectionResumesAndDeliversEverything) {
  const uint32_t frame_bytes = GetParam();
  TestServerOptions options = SmallWatermarkOptions();
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;
  const core::WorkerStats& worker = s.worker_stats(0);

  Deadline deadline = Deadline::In(kTestDeadline);
  ClientOptions client;
  client.receive_buffer = 64 << 10;  // small, so the echo backs up into the server quickly
  ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(s.port(), deadline, client));

  EchoDriver driver;
  size_t i = driver.Add(fd.get(), FrameStream::Fixed(frame_bytes, frame_bytes, 8 << 20));
  EchoDriver::Conn& c = driver.conn(i);
  c.read_enabled = false;
  // Until the connection is paused now (more pauses than resumes) and our socket takes no more.
  auto paused_and_full = [&] {
    return worker.backpressure_pauses.value() > worker.backpressure_resumes.value() &&
           (c.sent == c.stream.size() || !driver.SocketWritable(i));
  };
  ASSERT_EQ(driver.Run(deadline, paused_and_full), EchoDriver::Result::kStopped)
      << "never paused: " << driver.Summary() << "\n" << s.StatsSummary();
  EXPECT_GT(worker.backpressure_pauses.value(), 0u);
  RecordProperty("sent_before_reading", std::to_string(c.sent));

  c.read_enabled = true;
  bool stalled = false;
  EchoDriver::Result result =
      driver.Run(deadline, StallDetector([&] { return c.received + c.sent; }, kStallTimeout, &stalled));
  ASSERT_EQ(result, EchoDriver::Result::kAllFinished)
      << (stalled ? "STALLED: " : "") << driver.Summary() << "\n" << s.StatsSummary();
  EXPECT_FALSE(c.failed()) << driver.Summary();
  EXPECT_EQ(c.received, c.stream.size());
  EXPECT_GT(worker.backpressure_resumes.value(), 0u) << s.StatsSummary();
  EXPECT_TRUE(WaitFor([&] { return s.requests() == c.stream.frame_count(); },
                      std::chrono::seconds(5)))
      << s.StatsSummary();
  EXPECT_EQ(s.closed_total(), 0u) << s.StatsSummary();
}

INSTANTIATE_TEST_SUITE_P(FrameSizes, WatermarkStallTest,
                         ::testing::Values(64u, 256u << 10),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return std::to_string(info.param) + "B";
                         });

// Worker byte budget 4 MiB, high watermark 1 MiB. On each of 2 workers, 10 clients pipeline without
// ever reading until their worker's queued output reaches the budget; then 3 clients per worker
// ping-pong 1 KiB frames. docs/design.md: "A worker-wide budget caps all queued output; at the
// cap the worker stops reading from the connections with the most queued bytes first." So:
//  * the queued output of a worker never exceeds the budget by more than one read budget
//    (sampled continuously), and
//  * the ping-pong clients, which hold almost nothing queued, complete every frame.
TEST(BackpressureIntegration, WorkerBudgetCapsOutputAndLightClientsProceed) {
  constexpr uint64_t kBudget = 4 << 20;
  constexpr size_t kNonReadersPerWorker = 10;
  constexpr size_t kPingPongPerWorker = 3;
  constexpr size_t kPingPongFrames = 200;
  TestServerOptions options;
  options.workers = 2;
  options.settings.worker_budget = kBudget;
  options.settings.high_watermark = 1 << 20;
  options.settings.low_watermark = 256 << 10;
  const uint64_t read_budget = options.settings.read_budget_bytes;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  ClientOptions client;
  client.receive_buffer = 64 << 10;
  auto placed = ConnectBalanced(s, kNonReadersPerWorker + kPingPongPerWorker, deadline, client);
  ASSERT_TRUE(placed.ok()) << placed.status();
  const int64_t placed_count =
      static_cast<int64_t>(s.worker_count()) * (kNonReadersPerWorker + kPingPongPerWorker);
  // Surplus connections closed by ConnectBalanced are counted before the baseline is taken.
  ASSERT_TRUE(WaitFor([&] { return s.active() == placed_count; }, std::chrono::seconds(5)))
      << s.StatsSummary();
  const uint64_t closed_before = s.closed_total();

  EchoDriver driver;
  std::vector<size_t> heavy, light;
  for (size_t w = 0; w < placed->size(); ++w) {
    for (size_t k = 0; k < (*placed)[w].size(); ++k) {
      int fd = (*placed)[w][k].get();
      if (k < kNonReadersPerWorker) {
        size_t i = driver.Add(fd, FrameStream::Random(w * 100 + k, 2048, 1024, 4096));  // ~5 MiB
        driver.conn(i).read_enabled = false;
        heavy.push_back(i);
      } else {
        size_t i = driver.Add(fd, FrameStream(w * 100 + k,
                                              std::vector<uint32_t>(kPingPongFrames, 1024)));
        driver.conn(i).ping_pong = true;
        driver.conn(i).write_enabled = false;  // phase 2
        light.push_back(i);
      }
    }
  }

  std::vector<int64_t> max_queued(static_cast<size_t>(s.worker_count()), 0);
  auto sample = [&] {
    for (int w = 0; w < s.worker_count(); ++w) {
      max_queued[static_cast<size_t>(w)] = std::max(
          max_queued[static_cast<size_t>(w)], s.worker_stats(w).output_queue_bytes.value());
    }
  };

  // Phase 1: the non-readers fill each worker's budget: the server stopped reading every one of
  // them (their sockets take no more, or they sent everything) and each worker's queued output is
  // at least within one high watermark of the budget.
  const uint64_t high_watermark = options.settings.high_watermark;
  auto budget_full = [&] {
    sample();
    for (int w = 0; w < s.worker_count(); ++w) {
      if (s.worker_stats(w).output_queue_bytes.value() <
          static_cast<int64_t>(kBudget - high_watermark)) {
        return false;
      }
    }
    for (size_t i : heavy) {
      const EchoDriver::Conn& c = driver.conn(i);
      if (c.sent < c.stream.size() && driver.SocketWritable(i)) return false;
    }
    return true;
  };
  ASSERT_EQ(driver.Run(Deadline::In(std::chrono::seconds(15)), budget_full),
            EchoDriver::Result::kStopped)
      << "the non-reading clients never filled the budget: " << s.StatsSummary();

  // Phase 2: the light clients ping-pong while the heavy ones stay blocked.
  for (size_t i : light) driver.conn(i).write_enabled = true;
  auto light_received = [&] { return driver.received_by(light); };
  bool stalled = false;
  auto stall = StallDetector(light_received, kStallTimeout, &stalled);
  EchoDriver::Result result = driver.Run(deadline, [&] {
    sample();
    bool done = true;
    for (size_t i : light) done = done && EchoDriver::Finished(driver.conn(i));
    return done || stall();
  });
  sample();

  for (int w = 0; w < s.worker_count(); ++w) {
    EXPECT_LE(max_queued[static_cast<size_t>(w)], static_cast<int64_t>(kBudget + read_budget))
        << "worker " << w << " queued more than budget + one read budget";
  }
  RecordProperty("max_queued_w0", std::to_string(max_queued[0]));
  RecordProperty("max_queued_w1", std::to_string(max_queued[1]));
  EXPECT_EQ(result, EchoDriver::Result::kStopped);
  std::string light_state;
  size_t light_done = 0;
  for (size_t i : light) {
    const EchoDriver::Conn& c = driver.conn(i);
    light_state += " " + std::to_string(c.received / 1028) + "/" + std::to_string(kPingPongFrames);
    if (EchoDriver::Finished(c) && !c.failed() && c.received == c.stream.size()) ++light_done;
  }
  EXPECT_EQ(light_done, light.size())
      << (stalled ? "light clients STALLED (no echo for 5 s)" : "light clients incomplete")
      << "; frames echoed per light client:" << light_state << "\n"
      << s.StatsSummary();
  for (size_t i : heavy) {
    EXPECT_FALSE(driver.conn(i).failed()) << "non-reading client " << i << ": "
                                          << driver.Summary();
  }
  for (size_t i : light) {
    EXPECT_FALSE(driver.conn(i).failed()) << "light client " << i << ": " << driver.Summary();
  }
  EXPECT_EQ(s.closed_total(), closed_before) << s.StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
