// Connection's request, deadline, backpressure and close rules, on the fixture of
// tests/core/connection_fixture.h (a socketpair and a fake clock: nothing sleeps).
#include "tests/core/connection_fixture.h"

#include <sys/socket.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace shoal::core {
namespace {

TEST(ConnectionSettingsTest, TheMappedDefaultsPassAndAnUnsetFieldIsNamed) {
  EXPECT_TRUE(CheckConnectionSettings(shoal::testing::DefaultConnectionSettings()).ok());
  ConnectionSettings unset_budget = shoal::testing::DefaultConnectionSettings();
  unset_budget.read_budget_bytes = 0;
  absl::Status status = CheckConnectionSettings(unset_budget);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("read_budget_bytes"), std::string::npos) << status;
  EXPECT_FALSE(CheckConnectionSettings(ConnectionSettings{}).ok());
}

TEST_F(ConnectionTest, AnswersEachRequestAndCountsIt) {
  PeerWrite("a\nbb\n");
  Turn();
  EXPECT_EQ(PeerRead(), "a\nbb\n");
  EXPECT_EQ(listener_stats().requests.value(), 2u);
  EXPECT_EQ(listener_stats().bytes_received.value(), 5u);
  EXPECT_EQ(listener_stats().bytes_sent.value(), 5u);
  EXPECT_TRUE(closes().empty());
}

TEST_F(ConnectionTest, IdleDeadlineFiresExactlyAfterTheIdleTimeoutSinceTheLastActivity) {
  Advance(6 * kSecond);
  PeerWrite("a\n");
  Turn();
  EXPECT_EQ(PeerRead(), "a\n");
  ExpectClosedExactlyAfter(settings().idle_timeout_ns, CloseReason::kIdleTimeout);
  EXPECT_EQ(listener_stats().closed[static_cast<size_t>(CloseReason::kIdleTimeout)].value(), 1u);
  PeerRead();
  EXPECT_TRUE(peer_eof_);
}

TEST_F(ConnectionTest, ReadDeadlineTimesARequestInProgress) {
  PeerWrite("partial");
  Turn();
  ExpectClosedExactlyAfter(settings().read_timeout_ns, CloseReason::kReadTimeout);
}

TEST_F(ConnectionTest, ACompletedRequestStopsTheReadDeadline) {
  PeerWrite("partial");
  Turn();
  Advance(settings().read_timeout_ns - kMs);
  PeerWrite("\n");
  Turn();
  EXPECT_EQ(PeerRead(), "partial\n");
  Advance(settings().read_timeout_ns * 3);
  EXPECT_TRUE(closes().empty());
}

TEST_F(ConnectionTest, WriteDeadlineClosesWhenThePeerStopsReading) {
  PeerWrite("big 4000000\n");
  Turn();
  ASSERT_GT(connection_->queued_output_bytes(), 0u);
  ExpectClosedExactlyAfter(settings().write_timeout_ns, CloseReason::kWriteTimeout);
}

TEST_F(ConnectionTest, WritingProgressKeepsTheWriteDeadlineAway) {
  PeerWrite("big 4000000\n");
  Turn();
  size_t received = 0;
  for (int i = 0; i < 1000 && received < 4000000; ++i) {
    Advance(settings().write_timeout_ns / 2);
    received += PeerRead().size();
  }
  EXPECT_EQ(received, 4000000u);
  EXPECT_TRUE(closes().empty());
}

TEST_F(ConnectionTest, HighWatermarkPausesReadingUntilOutputFallsBelowTheLowWatermark) {
  PeerWrite("big 1000000\n");
  Turn();
  ASSERT_GT(connection_->queued_output_bytes(), settings().high_watermark);
  EXPECT_TRUE(connection_->reading_paused());
  EXPECT_EQ(owner_->stats.backpressure_pauses.value(), 1u);

  PeerWrite("after\n");
  Turn();
  std::string received;
  for (int i = 0; i < 1000 && connection_->reading_paused(); ++i) {
    received += PeerRead();
    Turn();
  }
  EXPECT_FALSE(connection_->reading_paused());
  EXPECT_LE(connection_->queued_output_bytes(), settings().low_watermark);
  EXPECT_EQ(owner_->stats.backpressure_resumes.value(), 1u);
  // The line that arrived while paused raised no new edge; it is read on resumption.
  for (int i = 0; i < 1000 && received.size() < 1000006; ++i) {
    received += PeerRead();
    Turn();
  }
  ASSERT_EQ(received.size(), 1000006u);
  EXPECT_EQ(received.substr(1000000), "after\n");
  EXPECT_EQ(received.find_first_not_of('x'), 1000000u);
}

TEST_F(ConnectionTest, ReadDeadlineDoesNotRunWhileTheWatermarkHoldsUpReading) {
  PeerWrite("big 1000000\npartial");
  Turn();
  ASSERT_TRUE(connection_->reading_paused());
  Advance(settings().read_timeout_ns * 2);
  EXPECT_TRUE(closes().empty()) << "only the write deadline runs, and it is further away";
}

TEST_F(ConnectionTest, CloseAfterFlushSendsTheAnswerThenFinAndLingersUntilThePeerCloses) {
  PeerWrite("a\nclose\nignored\n");
  Turn();
  EXPECT_EQ(PeerRead(), "a\n");
  EXPECT_TRUE(peer_eof_);
  EXPECT_TRUE(closes().empty()) << "lingering: the peer's FIN is awaited";
  ExpectClosedWhenThePeerCloses(CloseReason::kProtocolError);
}

TEST_F(ConnectionTest, LingeringEndsAtTheLingerDeadlineWithTheDecidedReason) {
  PeerWrite("close\n");
  Turn();
  PeerRead();
  ASSERT_TRUE(peer_eof_);
  PeerWrite("unread bytes are discarded while lingering\n");
  ExpectClosedExactlyAfter(settings().read_timeout_ns, CloseReason::kProtocolError);
}

TEST_F(ConnectionTest, PeerHalfCloseIsAnsweredThenClosedAsPeerClosed) {
  PeerWrite("a\n");
  ASSERT_EQ(shutdown(peer_.get(), SHUT_WR), 0);
  Turn();
  EXPECT_EQ(PeerRead(), "a\n");
  EXPECT_TRUE(peer_eof_);
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kPeerClosed});
}

TEST_F(ConnectionTest, ForwardedBytesGoToTheOutputAndWhatFollowsIsParsed) {
  PeerWrite("fwd 5\n");
  Turn();
  PeerWrite("abcdeX\n");
  Turn();
  EXPECT_EQ(PeerRead(), "abcdeX\n");
  EXPECT_EQ(protocol_.forwards_completed, 1);
  EXPECT_EQ(listener_stats().bytes_received.value(), 13u);
}

TEST_F(ConnectionTest, ALongForwardIsStreamedThroughTheOutputQueue) {
  constexpr size_t kTotal = 200 * 1024;
  PeerWrite("fwd " + std::to_string(kTotal) + "\n");
  Turn();
  std::string payload(kTotal, 'f');
  size_t sent = 0;
  std::string received;
  for (int i = 0; i < 10000 && received.size() < kTotal; ++i) {
    if (sent < kTotal) {
      ssize_t n = send(peer_.get(), payload.data() + sent, kTotal - sent, MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
    }
    Turn();
    received += PeerRead();
  }
  EXPECT_EQ(received, payload);
  EXPECT_EQ(protocol_.forwards_completed, 1);
  EXPECT_TRUE(closes().empty());
}

TEST_F(ConnectionTest, WorkerBudgetBlocksReadingAndStopsTheIdleDeadlineUntilResumed) {
  const uint64_t full = settings().worker_budget + settings().read_budget_bytes;
  owner_->pool.AddQueued(static_cast<int64_t>(full));
  PeerWrite("a\n");
  Turn();
  EXPECT_EQ(owner_->budget_blocked, std::vector<Connection*>{connection_.get()});
  EXPECT_TRUE(connection_->reading_paused());
  EXPECT_EQ(PeerRead(), "");
  Advance(settings().idle_timeout_ns * 2);
  EXPECT_TRUE(closes().empty());

  owner_->pool.AddQueued(-static_cast<int64_t>(full));
  connection_->ResumeAfterBudget();
  Turn();
  EXPECT_EQ(PeerRead(), "a\n");
  Advance(settings().idle_timeout_ns);
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kIdleTimeout});
}

TEST_F(ConnectionTest, DrainWaitsForTheRequestInFlightThenClosesAsShutdown) {
  PeerWrite("par");
  Turn();
  connection_->BeginDrain();
  EXPECT_TRUE(connection_->draining());
  PeerRead();
  EXPECT_FALSE(peer_eof_);
  PeerWrite("t\n");
  Turn();
  EXPECT_EQ(PeerRead(), "part\n");
  EXPECT_TRUE(peer_eof_);
  PeerWrite("not answered\n");
  Turn();
  EXPECT_EQ(PeerRead(), "");
  ExpectClosedWhenThePeerCloses(CloseReason::kShutdown);
}

TEST_F(ConnectionTest, AnOwnerCloseDropsQueuedOutputAndCountsItsReason) {
  PeerWrite("big 4000000\n");
  Turn();
  ASSERT_GT(owner_->pool.queued_bytes(), 0u);
  connection_->Close(CloseReason::kShutdown);
  EXPECT_EQ(owner_->pool.queued_bytes(), 0u);
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kShutdown});
  EXPECT_EQ(listener_stats().active.value(), 0);
  connection_->Close(CloseReason::kReset);
  EXPECT_EQ(closes().size(), 1u) << "a second close is ignored";
}

}  // namespace
}  // namespace shoal::core
