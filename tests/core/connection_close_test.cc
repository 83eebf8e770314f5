// Connection against hostile or unusual peers and settings, on the fake-clock fixture: lingering
// reads under the per-turn read budget and a discard bound, timeouts near the int64 range, settings
// applied to existing connections, and a graceful close that lingers only while input is likely.
#include <sys/socket.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/core/connection_fixture.h"

namespace shoal::core {
namespace {

constexpr int64_t kNeverNs = std::numeric_limits<int64_t>::max();
constexpr int64_t kDay = 86400 * kSecond;

class ConnectionCloseTest : public ConnectionTest {
 protected:
  ConnectionSettings& mutable_settings() { return owner_->connection_settings; }

  // Fills the peer's send buffer; returns the bytes sent.
  size_t PeerFlood() {
    static const std::string chunk(4096, 'z');
    size_t sent = 0;
    for (;;) {
      ssize_t n = send(peer_.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
      if (n <= 0) return sent;
      sent += static_cast<size_t>(n);
    }
  }

  // Puts the connection in kLingering after a protocol error, with recent input.
  void LingerAfterProtocolError() {
    PeerWrite("close\n");
    Turn();
    PeerRead();
    ASSERT_TRUE(peer_eof_);
    ASSERT_TRUE(closes().empty()) << "the recent input should make the close linger";
  }

  uint64_t received() { return listener_stats().bytes_received.value(); }
};

TEST_F(ConnectionCloseTest, LingeringReadsStayWithinTheReadBudgetOfEachTurn) {
  mutable_settings().read_budget_bytes = 16 << 10;
  LingerAfterProtocolError();
  ASSERT_GT(PeerFlood(), 8 * settings().read_budget_bytes);
  size_t turns_with_reads = 0;
  for (int i = 0; i < 100; ++i) {
    uint64_t before = received();
    loop_->PollOnce();
    uint64_t read = received() - before;
    // As for normal reads: one budget on the edge, then one from the ready list after every
    // other connection's events of the turn.
    ASSERT_LE(read, 2 * settings().read_budget_bytes) << "turn " << i;
    if (read == 0) break;
    ++turns_with_reads;
  }
  EXPECT_GE(turns_with_reads, 4u) << "the discard was spread over turns";
  EXPECT_TRUE(closes().empty());
}

TEST_F(ConnectionCloseTest, LingeringEndsAfterTheDiscardBoundBeforeTheDeadline) {
  mutable_settings().read_budget_bytes = 16 << 10;
  mutable_settings().linger_discard_bytes = 64 << 10;
  LingerAfterProtocolError();
  const uint64_t before = received();
  for (int i = 0; i < 1000 && closes().empty(); ++i) {
    PeerFlood();
    loop_->PollOnce();
  }
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kProtocolError});
  EXPECT_LE(received() - before, settings().linger_discard_bytes);
}

TEST_F(ConnectionCloseTest, ATimeoutNearTheInt64RangeMeansNeverAndNothingSpins) {
  mutable_settings().idle_timeout_ns = kNeverNs;
  mutable_settings().read_timeout_ns = kNeverNs - 1;
  mutable_settings().write_timeout_ns = kNeverNs - kSecond;
  PeerWrite("a\n");
  Turn();
  EXPECT_EQ(PeerRead(), "a\n");
  Advance(1000 * kDay);
  PeerWrite("partial");
  Turn();
  Advance(1000 * kDay);
  EXPECT_TRUE(closes().empty());
  EXPECT_NE(loop_->timers().NextWorkDelayNs(now_ns_), 0) << "a due timer would spin the loop";
}

TEST_F(ConnectionCloseTest, DeadlineAfterSaturates) {
  EXPECT_EQ(DeadlineAfter(5, 7), 12);
  EXPECT_EQ(DeadlineAfter(kNeverNs - 1, 1), kNeverNs);
  EXPECT_EQ(DeadlineAfter(1000 * kSecond, kNeverNs), kNeverNs);
  EXPECT_EQ(DeadlineAfter(kNeverNs, 0), kNeverNs);
}

TEST_F(ConnectionCloseTest, AShorterIdleReachesAnArmedDeadlineAtTheNewTime) {
  Advance(kSecond);
  mutable_settings().idle_timeout_ns = 3 * kSecond;
  connection_->ApplySettings();
  ExpectClosedExactlyAfter(2 * kSecond, CloseReason::kIdleTimeout);
}

TEST_F(ConnectionCloseTest, AnIdleTimeoutShorterThanTheIdleTimeSoFarClosesOnTheNextTurn) {
  Advance(5 * kSecond);
  mutable_settings().idle_timeout_ns = 2 * kSecond;
  connection_->ApplySettings();
  Turn();
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kIdleTimeout});
}

TEST_F(ConnectionCloseTest, ALongerIdleMovesAnArmedDeadlineLater) {
  Advance(5 * kSecond);
  mutable_settings().idle_timeout_ns = 20 * kSecond;
  connection_->ApplySettings();
  ExpectClosedExactlyAfter(15 * kSecond, CloseReason::kIdleTimeout);
}

TEST_F(ConnectionCloseTest, NewWatermarksApplyToTheOutputAlreadyQueued) {
  mutable_settings().high_watermark = 8 << 20;
  PeerWrite("big 1000000\n");
  Turn();
  ASSERT_GT(connection_->queued_output_bytes(), 256u << 10);
  ASSERT_FALSE(connection_->reading_paused());
  mutable_settings().high_watermark = 256 << 10;
  connection_->ApplySettings();
  EXPECT_TRUE(connection_->reading_paused());

  mutable_settings().high_watermark = 8 << 20;
  mutable_settings().low_watermark = 4 << 20;
  connection_->ApplySettings();
  EXPECT_FALSE(connection_->reading_paused());
}

TEST_F(ConnectionCloseTest, ADrainClosesAnIdleConnectionAtOnceWithAFin) {
  PeerWrite("a\n");
  Turn();
  EXPECT_EQ(PeerRead(), "a\n");
  Advance(kSecond);
  connection_->BeginDrain();
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kShutdown})
      << "nothing from the peer is likely: no lingering";
  PeerRead();
  EXPECT_TRUE(peer_eof_);
}

// Input that arrived just now may be followed by the next request: a drain answers that one
// last, then sends FIN and lingers (more may be in flight).
TEST_F(ConnectionCloseTest, ADrainAfterRecentInputAnswersTheNextRequestLast) {
  PeerWrite("a\n");
  Turn();
  connection_->BeginDrain();
  EXPECT_EQ(PeerRead(), "a\n");
  EXPECT_FALSE(peer_eof_) << "input arrived just now: its successor may be on the way";
  PeerWrite("b\n");
  Turn();
  EXPECT_EQ(PeerRead(), "b\n");
  EXPECT_TRUE(peer_eof_);
  EXPECT_TRUE(closes().empty()) << "input arrived just now: more may be in flight";
  ExpectClosedWhenThePeerCloses(CloseReason::kShutdown);
}

// Without a next request the drain closes once the last input is no longer recent.
TEST_F(ConnectionCloseTest, ADrainAfterRecentInputClosesOnceItIsNoLongerRecent) {
  PeerWrite("a\n");
  Turn();
  connection_->BeginDrain();
  EXPECT_EQ(PeerRead(), "a\n");
  EXPECT_FALSE(peer_eof_);
  Advance(kSecond / 4 + 1);
  PeerRead();
  EXPECT_TRUE(peer_eof_) << "no FIN once the input was no longer recent";
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kShutdown});
}

}  // namespace
}  // namespace shoal::core
