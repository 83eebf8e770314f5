// A mixed attack, all at once, on an in-process server with 2 workers:
//   - 2000 slowloris connections, each holding a started frame and dribbling one more byte of it
//     about every 100 ms;
//   - 50 non-reading clients pipelining as fast as their sockets take it (the server's output to
//     them piles up to the watermarks and the worker budget);
//   - an RST storm: connections that send half a frame, then close with SO_LINGER 0;
// while 10 well-behaved ping-pong clients, 5 on each worker, send frames and check every echoed
// byte and time each round trip. Asserts: every well-behaved frame byte-exact, p99 round trip
// below kP99Bound, server output queues bounded by the worker budget, process RSS growth bounded.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
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

constexpr size_t kSlowloris = 2000;
constexpr size_t kNonReaders = 50;
constexpr size_t kGoodPerWorker = 5;
constexpr int kGoodFrames = 1000;  // per well-behaved client
constexpr auto kP99Bound = milliseconds(50);
constexpr auto kAttackWindow = std::chrono::seconds(3);
constexpr uint64_t kHighWatermark = 256 << 10;
constexpr uint64_t kLowWatermark = 64 << 10;
constexpr uint64_t kWorkerBudget = 4 << 20;
// RSS growth allowed: both workers' budgets, plus 8 KiB per connection for buffers and
// bookkeeping on both sides (server and in-process clients), plus 32 MiB of slack for the
// allocator and the test's own buffers.
constexpr uint64_t kRssBound = 2 * kWorkerBudget + 8192 * (kSlowloris + 2 * kNonReaders) + (32 << 20);

std::string Payload(size_t size, uint64_t seed) {
  std::string p(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = static_cast<char>(x);
  }
  return p;
}

TEST(MixedAttack, WellBehavedClientsStayExactAndFastUnderSlowlorisNonReadersAndRstStorm) {
  ASSERT_GE(RaiseFdLimitToHard(), 2 * (kSlowloris + kNonReaders + 100) + 200);
  TestServerOptions options;
  options.workers = 2;
  options.settings.high_watermark = kHighWatermark;
  options.settings.low_watermark = kLowWatermark;
  options.settings.worker_budget = kWorkerBudget;
  // Long enough that the slowloris connections are still there when the measurement ends (the
  // read timeout is what eventually removes them; that is the timeouts suite's subject).
  options.settings.read_timeout_ns = 60'000'000'000;
  ASSERT_OK_AND_ASSIGN(auto server_or, TestServer::Start(options));
  TestServer& server = *server_or;
  const uint64_t rss_before = ResidentBytes();

  // Well-behaved clients first, placed 5 per worker.
  auto good_or = ConnectBalanced(server, kGoodPerWorker, Deadline::In(std::chrono::seconds(20)));
  ASSERT_TRUE(good_or.ok()) << good_or.status();
  std::vector<core::ScopedFd> good;
  for (auto& per_worker : *good_or) {
    for (size_t i = 0; i < kGoodPerWorker; ++i) good.push_back(std::move(per_worker[i]));
  }
  ASSERT_EQ(good.size(), 2 * kGoodPerWorker);

  // Slowloris: each sends the first byte of a 1000-byte frame's header.
  auto slow_or = ConnectMany(server.port(), kSlowloris, Deadline::In(std::chrono::seconds(30)));
  ASSERT_TRUE(slow_or.ok()) << slow_or.status();
  std::vector<core::ScopedFd> slow = std::move(*slow_or);
  const std::string slow_frame = EncodeFrame(std::string(1000, 's'));
  for (auto& fd : slow) {
    ASSERT_TRUE(SendAll(fd.get(), slow_frame.substr(0, 1), Deadline::In(std::chrono::seconds(5)))
                    .ok());
  }

  // Non-reading pipeliners: 8 MiB of frames each, never read.
  auto nonreaders_or =
      ConnectMany(server.port(), kNonReaders, Deadline::In(std::chrono::seconds(20)));
  ASSERT_TRUE(nonreaders_or.ok()) << nonreaders_or.status();
  std::vector<core::ScopedFd> nonreaders = std::move(*nonreaders_or);
  ASSERT_TRUE(WaitFor(
      [&] { return server.active() == static_cast<int64_t>(good.size() + kSlowloris + kNonReaders); },
      std::chrono::seconds(30)))
      << server.StatsSummary();

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> rst_storm{0};
  std::atomic<uint64_t> dribbled{0};
  std::atomic<uint64_t> max_queued{0};
  std::atomic<uint64_t> rss_peak{0};

  // Thread 1: the non-readers, driven until stopped.
  std::thread pipeliners([&] {
    EchoDriver driver;
    for (size_t i = 0; i < nonreaders.size(); ++i) {
      size_t k = driver.Add(nonreaders[i].get(), FrameStream::Fixed(7000 + i, 16384, 8 << 20));
      driver.conn(k).read_enabled = false;
    }
    driver.Run(Deadline::In(std::chrono::seconds(120)), [&] { return stop.load(); });
  });

  // Thread 2: slowloris dribble (one byte per connection about every 100 ms, never completing
  // the frame) interleaved with the RST storm.
  std::thread attackers([&] {
    size_t offset = 1;
    const std::string half = EncodeFrame(Payload(2000, 1)).substr(0, 1000);
    while (!stop.load()) {
      auto round = Clock::now();
      if (offset + 1 < slow_frame.size()) {
        for (auto& fd : slow) {
          if (send(fd.get(), slow_frame.data() + offset, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) {
            dribbled.fetch_add(1);
          }
        }
        ++offset;
      }
      // The storm: until the next dribble round is due, connect, send half a frame, RST.
      while (!stop.load() && Clock::now() - round < milliseconds(100)) {
        auto fd = Connect(server.port(), Deadline::In(std::chrono::seconds(2)));
        if (!fd.ok()) continue;
        (void)SendAll(fd->get(), half, Deadline::In(std::chrono::seconds(2)));
        linger lg{1, 0};
        setsockopt(fd->get(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        fd->reset();
        rst_storm.fetch_add(1);
      }
      uint64_t queued = 0;
      for (int w = 0; w < server.worker_count(); ++w) {
        queued = std::max<uint64_t>(queued, server.worker_stats(w).output_queue_bytes.value());
      }
      if (queued > max_queued.load()) max_queued.store(queued);
      uint64_t rss = ResidentBytes();
      if (rss > rss_peak.load()) rss_peak.store(rss);
    }
  });

  // Let the attack build up: the non-readers' output piles up to the budget.
  bool built_up = WaitFor(
      [&] {
        uint64_t paused = 0;
        for (int w = 0; w < server.worker_count(); ++w) {
          paused += server.worker_stats(w).backpressure_pauses.value();
        }
        return paused > 0 && rst_storm.load() > 50;
      },
      std::chrono::seconds(20));

  // The well-behaved clients: ping-pong, frames of 16..4096 bytes, each round trip timed.
  // At least kGoodFrames each and at least kAttackWindow, so the dribble runs for many rounds.
  std::vector<int64_t> rtts_us;
  std::string failure;
  const auto good_start = Clock::now();
  int frames_done = 0;
  for (int f = 0; failure.empty() && (f < kGoodFrames || Clock::now() - good_start < kAttackWindow);
       ++f) {
    frames_done = f + 1;
    std::vector<std::string> frames(good.size());
    std::vector<Clock::time_point> sent(good.size());
    for (size_t c = 0; c < good.size(); ++c) {
      frames[c] = EncodeFrame(Payload(16 + (f * 131 + c * 977) % 4081, f * 100 + c));
      sent[c] = Clock::now();
      auto st = SendAll(good[c].get(), frames[c], Deadline::In(std::chrono::seconds(10)));
      if (!st.ok()) failure = "write: " + st.ToString();
    }
    for (size_t c = 0; c < good.size() && failure.empty(); ++c) {
      auto echo = ReadExactly(good[c].get(), frames[c].size(), Deadline::In(std::chrono::seconds(10)));
      if (!echo.ok()) {
        failure = "client " + std::to_string(c) + " frame " + std::to_string(f) + ": " +
                  echo.status().ToString();
      } else if (*echo != frames[c]) {
        failure = "client " + std::to_string(c) + " frame " + std::to_string(f) + ": mismatch";
      } else {
        rtts_us.push_back(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent[c]).count());
      }
    }
  }
  stop.store(true);
  pipeliners.join();
  attackers.join();

  ASSERT_TRUE(failure.empty()) << failure << "\n" << server.StatsSummary();
  ASSERT_EQ(rtts_us.size(), good.size() * frames_done);
  std::sort(rtts_us.begin(), rtts_us.end());
  const int64_t p50 = rtts_us[rtts_us.size() / 2];
  const int64_t p99 = rtts_us[rtts_us.size() * 99 / 100];
  const int64_t max = rtts_us.back();
  uint64_t pauses = 0;
  for (int w = 0; w < server.worker_count(); ++w) {
    pauses += server.worker_stats(w).backpressure_pauses.value();
  }
  const uint64_t rss_growth = rss_peak.load() > rss_before ? rss_peak.load() - rss_before : 0;
  std::printf(
      "FIGURES mixed_attack: frames=%zu rtt_us p50=%lld p99=%lld max=%lld (bound %lld ms); "
      "slowloris=%zu dribbled_bytes=%llu nonreaders=%zu rst_storm=%llu built_up=%d "
      "backpressure_pauses=%llu max_worker_output_queue=%llu (budget %llu); "
      "rss_before=%llu rss_peak=%llu growth=%llu (bound %llu)\n%s\n",
      rtts_us.size(), (long long)p50, (long long)p99, (long long)max,
      (long long)kP99Bound.count(), kSlowloris, (unsigned long long)dribbled.load(), kNonReaders,
      (unsigned long long)rst_storm.load(), built_up ? 1 : 0, (unsigned long long)pauses,
      (unsigned long long)max_queued.load(), (unsigned long long)kWorkerBudget,
      (unsigned long long)rss_before, (unsigned long long)rss_peak.load(),
      (unsigned long long)rss_growth, (unsigned long long)kRssBound,
      server.StatsSummary().c_str());

  EXPECT_TRUE(built_up) << "the attack never reached backpressure / the storm never ran";
  EXPECT_GT(rst_storm.load(), 0u);
  EXPECT_LT(p99, std::chrono::duration_cast<std::chrono::microseconds>(kP99Bound).count());
  // A worker's queued output stays within its budget plus one read's worth of echo
  // (read_budget_bytes) per connection that was mid-read when the budget was reached.
  EXPECT_LE(max_queued.load(), kWorkerBudget + kNonReaders * options.settings.read_budget_bytes);
  EXPECT_LE(rss_growth, kRssBound);
  // Nothing was lost: the slowloris connections are all still open (their frames never finish).
  EXPECT_GE(server.active(), static_cast<int64_t>(good.size() + kSlowloris));
}

}  // namespace
}  // namespace shoal::testing
