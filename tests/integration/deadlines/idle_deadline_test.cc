// The idle deadline over real sockets: a connection with no byte in either direction for `idle` is
// closed (reason idle_timeout) at most one tick (plus scheduling slack) after its last activity,
// and activity moves the deadline without the connection ever being closed early (lazy re-arm:
// activity only records the time; the one timer re-checks when it fires).
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
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

constexpr milliseconds kIdle{300};

TestServerOptions IdleOptions() {
  TestServerOptions options;
  options.settings = WithTimeouts(kIdle, milliseconds(10000), milliseconds(10000));
  return options;
}

// A connection that never sends anything: its only activity is the accept, which happens after
// the client starts connecting, so the close comes at least `idle` after `t0`.
TEST(IdleDeadline, SilentConnectionClosesAfterIdle) {
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(IdleOptions()));
  TestServer& s = *server;

  Clock::time_point t0 = Clock::now();
  auto fd = Connect(s.port());
  ASSERT_TRUE(fd.ok()) << fd.status();
  End end = ReadUntilEnd(fd->get(), kIdle + milliseconds(5000));
  ASSERT_EQ(end.kind, End::Kind::kEof) << end.ToString() << "; " << s.StatsSummary();
  EXPECT_EQ(end.data_bytes, 0u);
  double elapsed = MillisBetween(t0, end.at);
  EXPECT_GE(elapsed, kIdle.count()) << "closed before the idle deadline";
  EXPECT_LE(elapsed, (kIdle + Tick() + kSlack).count()) << "closed late";
  RecordProperty("close_after_ms", std::to_string(elapsed));

  ExpectClosedOnlyFor(s, CloseReason::kIdleTimeout, 1);
}

// Pings every 150 ms for 3 idle periods of 600 ms: the connection must never close in a gap (the
// timer set at accept fires at 600 ms, finds recent activity, and re-arms; and so on). The gap is
// a quarter of idle so that a test thread delayed by a loaded machine still pings in time. After
// the last ping the connection closes one idle period after that ping's activity: no earlier than
// `idle` after the ping was sent (the server's activity time is after that), no later than idle +
// tick + slack after its echo arrived (the server's activity time is before that).
TEST(IdleDeadline, ActivityPostponesTheIdleDeadline) {
  constexpr milliseconds kActiveIdle{600};
  constexpr milliseconds kGap{150};
  constexpr int kPings = 13;  // 12 gaps = 3 idle periods
  TestServerOptions options = IdleOptions();
  options.settings.idle_timeout_ns = Nanos(kActiveIdle);
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  auto fd = Connect(s.port());
  ASSERT_TRUE(fd.ok()) << fd.status();
  Clock::time_point last_sent;
  Clock::time_point last_echoed;
  for (int i = 0; i < kPings; ++i) {
    if (i > 0) {
      // The gap itself: the connection must stay open (no FIN, no reset) through it.
      pollfd p{fd->get(), POLLRDHUP, 0};
      ASSERT_EQ(poll(&p, 1, static_cast<int>(kGap.count())), 0)
          << "closed during the gap before ping " << i << ", "
          << MillisBetween(last_sent, Clock::now()) << " ms after the previous ping was sent; "
          << s.StatsSummary();
    }
    last_sent = Clock::now();
    ASSERT_TRUE(PingPong(fd->get(), "ping " + std::to_string(i), milliseconds(5000)).ok());
    last_echoed = Clock::now();
  }
  End end = ReadUntilEnd(fd->get(), kActiveIdle + milliseconds(5000));
  ASSERT_EQ(end.kind, End::Kind::kEof) << end.ToString() << "; " << s.StatsSummary();
  double since_sent = MillisBetween(last_sent, end.at);
  double since_echoed = MillisBetween(last_echoed, end.at);
  EXPECT_GE(since_sent, kActiveIdle.count()) << "closed before idle after the last activity";
  EXPECT_LE(since_echoed, (kActiveIdle + Tick() + kSlack).count()) << "closed late";
  RecordProperty("close_after_last_echo_ms", std::to_string(since_echoed));

  ExpectClosedOnlyFor(s, CloseReason::kIdleTimeout, 1);
}

// Fills a non-reading client's connection until the worker has paused reading it and the client's
// socket takes no more. Returns the bytes sent.
uint64_t FillNonReader(TestServer& s, int fd) {
  const core::WorkerStats& worker = s.server().workers()[0]->stats();
  const uint64_t pauses_before = worker.backpressure_pauses.value();
  const std::string frame = EncodeFrame(std::string(1020, 'h'));
  size_t offset = 0;
  uint64_t sent = 0;
  const Clock::time_point give_up = Clock::now() + milliseconds(5000);
  for (;;) {
    ssize_t n = send(fd, frame.data() + offset, frame.size() - offset, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      offset = (offset + static_cast<size_t>(n)) % frame.size();
      sent += static_cast<uint64_t>(n);
      continue;
    }
    EXPECT_TRUE(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) << std::strerror(errno);
    if (worker.backpressure_pauses.value() > pauses_before) return sent;
    if (Clock::now() >= give_up) {
      ADD_FAILURE() << "the worker never paused the non-reader; " << s.StatsSummary();
      return sent;
    }
    pollfd p{fd, POLLOUT, 0};
    poll(&p, 1, 10);  // wake for writability, or re-check the pause soon
  }
}

// The idle deadline does not run while the worker budget keeps a connection from being read or
// accepted: the connection waits (the overload policy sheds stalled holders to serve it) and is
// answered in full, never closed as idle.
TEST(IdleDeadline, IdleDoesNotRunWhileTheBudgetHoldsUpTheConnection) {
  constexpr milliseconds kShortIdle{1000};
  TestServerOptions options = IdleOptions();
  options.settings.idle_timeout_ns = Nanos(kShortIdle);
  options.settings.worker_budget = 256 << 10;
  options.settings.read_budget_bytes = 64 << 10;
  // A fixed (not autotuned) send buffer: the non-readers' output never drains into the kernel.
  options.socket.send_buffer = 16 << 10;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;
  const core::WorkerStats& worker = s.server().workers()[0]->stats();
  auto held = [&] { return worker.output_queue_bytes.value() + worker.input_buffer_bytes.value(); };

  // Non-readers until the worker holds its whole budget (it then stops reading and accepting).
  std::vector<core::ScopedFd> hogs;
  while (held() < (256u << 10)) {
    ASSERT_LT(hogs.size(), 100u) << "the worker never held its budget; " << s.StatsSummary();
    auto hog = Connect(s.port(), seconds(5), {.receive_buffer = 4096});
    ASSERT_TRUE(hog.ok()) << hog.status();
    FillNonReader(s, hog->get());
    hogs.push_back(std::move(*hog));
    ASSERT_TRUE(s.Barrier());
  }

  // The victim connects once the budget is full (so filling it, however slow on a loaded machine,
  // does not count against the victim's idle time), then sends a frame every 100 ms for 3 idle
  // periods.
  auto victim = Connect(s.port());
  ASSERT_TRUE(victim.ok()) << victim.status();
  std::string sent;
  for (int i = 0; i < 30; ++i) {
    std::string ping = EncodeFrame("ping " + std::to_string(i));
    ASSERT_TRUE(SendAll(victim->get(), ping, milliseconds(1000)).ok());
    sent += ping;
    pollfd p{victim->get(), POLLRDHUP, 0};
    ASSERT_EQ(poll(&p, 1, 100), 0) << "closed while sending " << i + 1 << " frames; "
                                   << s.StatsSummary();
  }
  hogs.clear();
  auto echoed = ReadExactly(victim->get(), sent.size(), milliseconds(5000));
  ASSERT_TRUE(echoed.ok()) << echoed.status() << "; " << s.StatsSummary();
  EXPECT_EQ(*echoed, sent);
  ASSERT_TRUE(s.Barrier());
  EXPECT_EQ(s.closed(CloseReason::kIdleTimeout), 0u) << s.StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
