// The drain deadline over real sockets (Server::Drain, what SIGTERM calls): a connection with
// nothing in flight is closed at once (it sees our FIN right away), and a connection in the middle
// of a frame that never completes is force-closed at the drain deadline. Both count as shutdown;
// the drained callback runs by the deadline.
#include <poll.h>

#include <atomic>
#include <future>
#include <memory>

#include "core/event_loop.h"
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

constexpr milliseconds kDrain{1000};

TEST(DrainDeadline, IdleClosesAtOnceAndMidFrameClosesAtTheDrainDeadline) {
  TestServerOptions options;
  options.workers = 1;
  // Far beyond the test: only the drain may close anything.
  options.settings = WithTimeouts(milliseconds(20000), milliseconds(20000), milliseconds(20000));
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  auto idle = Connect(s.port());
  ASSERT_TRUE(idle.ok()) << idle.status();
  ASSERT_TRUE(PingPong(idle->get(), "done", milliseconds(5000)).ok());
  auto mid_frame = Connect(s.port());
  ASSERT_TRUE(mid_frame.ok()) << mid_frame.status();
  // Half a header: a frame has started and will never complete.
  ASSERT_TRUE(
      SendAll(mid_frame->get(), EncodeFrameHeader(100).substr(0, 2), milliseconds(5000)).ok());
  ASSERT_TRUE(s.Barrier());  // the worker has read the half header (or BeginDrain will)

  auto drained_at = std::make_shared<std::promise<Clock::time_point>>();
  std::future<Clock::time_point> drained = drained_at->get_future();
  const Clock::time_point drain_start = Clock::now();
  const int64_t deadline_ns = core::MonotonicNowNs() + Nanos(kDrain);
  s.server().Drain(deadline_ns, [drained_at] { drained_at->set_value(Clock::now()); });

  End idle_end = ReadUntilEnd(idle->get(), milliseconds(5000));
  ASSERT_EQ(idle_end.kind, End::Kind::kEof) << idle_end.ToString() << "; " << s.StatsSummary();
  double idle_closed_ms = MillisBetween(drain_start, idle_end.at);
  EXPECT_LE(idle_closed_ms, (Tick() + kSlack).count()) << "an idle connection must close at once";
  idle->reset();  // our FIN ends the server's linger

  End mid_end = ReadUntilEnd(mid_frame->get(), kDrain + milliseconds(5000));
  ASSERT_EQ(mid_end.kind, End::Kind::kEof) << mid_end.ToString() << "; " << s.StatsSummary();
  EXPECT_EQ(mid_end.data_bytes, 0u) << "half a header is never echoed";
  double mid_closed_ms = MillisBetween(drain_start, mid_end.at);
  EXPECT_GE(mid_closed_ms, kDrain.count()) << "closed before the drain deadline";
  EXPECT_LE(mid_closed_ms, (kDrain + Tick() + kSlack).count()) << "closed late";

  ASSERT_EQ(drained.wait_for(milliseconds(5000)), std::future_status::ready)
      << "drained callback never ran; " << s.StatsSummary();
  EXPECT_LE(MillisBetween(drain_start, drained.get()), (kDrain + Tick() + kSlack).count());
  RecordProperty("idle_closed_after_ms", std::to_string(idle_closed_ms));
  RecordProperty("mid_frame_closed_after_ms", std::to_string(mid_closed_ms));

  EXPECT_EQ(s.closed(CloseReason::kShutdown), 2u) << s.StatsSummary();
  EXPECT_EQ(s.closed_total(), 2u) << s.StatsSummary();
  EXPECT_EQ(s.active(), 0) << s.StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
