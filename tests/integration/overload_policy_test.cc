// The overload policy on a real server (core/overload.h, core/worker.h): one
// worker with a 1 MiB budget, clients whose echo replies back up because they
// never read (4 KiB receive buffers, a 4 KiB server send buffer, so nearly
// every byte stays queued in the server).
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/integration_bounds.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/echo_wire.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

constexpr uint64_t kBudget = 1 << 20;
constexpr size_t kFrameBytes = 16 << 10;

TestServerOptions TightBudgetOptions() {
  TestServerOptions options;
  options.workers = 1;
  options.settings.worker_budget = kBudget;
  options.settings.high_watermark = kBudget;
  options.settings.low_watermark = 256 << 10;
  options.socket.send_buffer = 4096;
  return options;
}

ClientOptions NonReaderOptions() {
  ClientOptions options;
  options.receive_buffer = 4096;
  return options;
}

std::string Frames(size_t total_bytes) {
  std::string frames;
  std::string frame = EncodeFrame(std::string(kFrameBytes, 'x'));
  while (frames.size() + frame.size() <= total_bytes) frames += frame;
  return frames;
}

int64_t Held(const TestServer &s) {
  return s.worker_stats(0).input_buffer_bytes.value() +
         s.worker_stats(0).output_queue_bytes.value();
}

uint64_t Actions(const TestServer &s, core::OverloadAction action) {
  return s.worker_stats(0).overload_actions[static_cast<size_t>(action)].value();
}

TEST(OverloadPolicyTest, StopsAcceptingAtSaturationAndShedsTheLargestStalledHolderForANewcomer) {
  TestServerOptions options = TightBudgetOptions();
  // Long enough that nothing has stalled when the worker saturates: it stops
  // accepting first.
  options.settings.shed_stall_ns = 1'000'000'000;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer &s = *server;

  ASSERT_OK_AND_ASSIGN(auto large, Connect(s.port(), seconds(5), NonReaderOptions()));
  {
    auto status = SendAll(large.get(), Frames(800 << 10), kTestDeadline);
    ASSERT_TRUE(status.ok()) << status;
  }
  ASSERT_TRUE(WaitFor([&] { return Held(s) >= (750 << 10); }, kTestDeadline)) << Held(s);
  // Together they exceed the budget (the small one stays under the low watermark, so the budget
  // rule does not pause it first); alone the small one stays well under it.
  ASSERT_OK_AND_ASSIGN(auto small, Connect(s.port(), seconds(5), NonReaderOptions()));
  {
    auto status = SendAll(small.get(), Frames(500 << 10), kTestDeadline);
    ASSERT_TRUE(status.ok()) << status;
  }

  // Saturated with no one waiting: the worker stops accepting and sheds nothing.
  ASSERT_TRUE(
      WaitFor([&] { return Actions(s, core::OverloadAction::kStopAccept) >= 1; }, kTestDeadline));
  ASSERT_TRUE(s.Barrier());
  EXPECT_EQ(s.closed_total(), 0u) << s.StatsSummary();

  // A new client waits in the accept queue: the largest stalled holder is shed (with a reset) and
  // the worker accepts and serves the client.
  ASSERT_OK_AND_ASSIGN(auto reader, Connect(s.port(), seconds(5)));
  {
    auto status = PingPong(reader.get(), std::string(1000, 'r'), seconds(10));
    ASSERT_TRUE(status.ok()) << status;
  }
  End end = WaitForEndWithoutReading(large.get(), seconds(5));
  EXPECT_EQ(end.kind, End::Kind::kReset) << end.ToString();
  ASSERT_TRUE(s.Barrier());
  EXPECT_EQ(s.closed(core::CloseReason::kMemoryPressure), 1u) << s.StatsSummary();
  EXPECT_EQ(Actions(s, core::OverloadAction::kShedConnection), 1u);
  EXPECT_EQ(Actions(s, core::OverloadAction::kStopAccept), 1u);
  // The small holder was not shed.
  EXPECT_EQ(s.active(), 2) << s.StatsSummary();
}

TEST(OverloadPolicyTest, ReducedTimeoutsShortenAnArmedIdleDeadline) {
  constexpr int64_t kIdleNs = 8'000'000'000;
  TestServerOptions options = TightBudgetOptions();
  options.settings.idle_timeout_ns = kIdleNs;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer &s = *server;

  ASSERT_OK_AND_ASSIGN(auto idle, Connect(s.port(), seconds(5)));
  ASSERT_TRUE(s.Barrier());
  // Five holders, fed 8 KiB frames in turn until the worker holds 95 % of its
  // budget: pressure without saturation (each stays under the low watermark, so
  // the budget rule never pauses it).
  std::vector<core::ScopedFd> holders;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(auto fd, Connect(s.port(), seconds(5), NonReaderOptions()));
    holders.push_back(std::move(fd));
  }
  const std::string frame = EncodeFrame(std::string(8 << 10, 'x'));
  const int64_t target = static_cast<int64_t>(kBudget * 95 / 100);
  for (size_t sent = 0; Held(s) < target; ++sent) {
    ASSERT_LT(sent, 5 * 30u) << Held(s);
    int64_t before = Held(s);
    {
      auto status = SendAll(holders[sent % holders.size()].get(), frame, kTestDeadline);
      ASSERT_TRUE(status.ok()) << status;
    }
    WaitFor([&] { return Held(s) > before; }, milliseconds(200));
  }
  auto start = Clock::now();
  End end = WaitForEndWithoutReading(idle.get(), kTestDeadline);
  EXPECT_TRUE(end.closed()) << end.ToString();
  // Scaled to at most half of the configured idle timeout.
  EXPECT_LT(MillisBetween(start, end.at), kIdleNs / 2'000'000);
  ASSERT_TRUE(s.Barrier());
  EXPECT_GE(Actions(s, core::OverloadAction::kReduceTimeouts), 1u);
  EXPECT_EQ(s.closed(core::CloseReason::kIdleTimeout), 1u) << s.StatsSummary();
  EXPECT_EQ(s.closed(core::CloseReason::kMemoryPressure), 0u) << s.StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
