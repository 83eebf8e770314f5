// Connection over a socketpair, driven turn by turn on the test thread, with a fake owner and a
// fake clock (EventLoop::Options::clock): deadline logic is checked without sleeping.
#include "core/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "tests/core/manual_clock_loop.h"

namespace shoal::core {
namespace {

constexpr int64_t kMs = kManualTickNs;
constexpr int64_t kSecond = 1000 * kMs;

// Line protocol: "big N" answers N bytes of 'x'; "fwd N" forwards the next N input bytes (sent
// alone, so OnData consumes all its input); "close" ends with CloseAfterFlush(protocol_error);
// any other line is echoed. A partial line is a request in progress.
class LineSession final : public Session {
 public:
  LineSession(SessionContext& connection, int& forwards_completed)
      : Session(connection), forwards_completed_(forwards_completed) {}

  size_t OnData(std::string_view input) override {
    size_t consumed = 0;
    uint64_t requests = 0;
    for (size_t end; (end = input.find('\n', consumed)) != std::string_view::npos;) {
      std::string_view line = input.substr(consumed, end - consumed);
      consumed = end + 1;
      ++requests;
      if (line == "close") {
        connection().CountRequests(requests);
        connection().CloseAfterFlush(CloseReason::kProtocolError);
        return input.size();
      }
      if (line.starts_with("big ")) {
        connection().Send(std::string(std::stoul(std::string(line.substr(4))), 'x'));
      } else if (line.starts_with("fwd ")) {
        connection().ForwardInput(std::stoul(std::string(line.substr(4))));
      } else {
        connection().Send(std::string(line) + "\n");
      }
    }
    connection().CountRequests(requests);
    partial_ = consumed < input.size();
    return consumed;
  }

  void OnForwardComplete() override { ++forwards_completed_; }
  bool RequestInProgress() const override { return partial_; }

 private:
  int& forwards_completed_;
  bool partial_ = false;
};

class LineProtocol final : public Protocol {
 public:
  std::unique_ptr<Session> NewSession(SessionContext& connection) override {
    return std::make_unique<LineSession>(connection, forwards_completed);
  }
  int forwards_completed = 0;
};

class FakeOwner final : public ConnectionOwner {
 public:
  explicit FakeOwner(EventLoop& loop) : stats(0, {"test"}), loop_(loop) {}

  EventLoop& loop() override { return loop_; }
  ChunkPool& chunk_pool() override { return pool; }
  char* read_scratch() override { return scratch_; }
  size_t read_scratch_bytes() const override { return sizeof(scratch_); }
  const ConnectionSettings& settings() const override { return connection_settings; }
  WorkerStats& worker_stats() override { return stats; }
  void OnConnectionClosed(Connection*, CloseReason reason) override { closes.push_back(reason); }
  void OnBudgetBlocked(Connection* connection) override { budget_blocked.push_back(connection); }

  ConnectionSettings connection_settings;
  ChunkPool pool;
  WorkerStats stats;
  std::vector<CloseReason> closes;
  std::vector<Connection*> budget_blocked;

 private:
  EventLoop& loop_;
  char scratch_[64 * 1024];
};

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = CreateManualClockLoop(&now_ns_);
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
    owner_ = std::make_unique<FakeOwner>(*loop_);
    ConnectionSettings& settings = owner_->connection_settings;
    settings.idle_timeout_ns = 10 * kSecond;
    settings.read_timeout_ns = 2 * kSecond;
    settings.write_timeout_ns = 5 * kSecond;
    settings.high_watermark = 256 << 10;
    settings.low_watermark = 64 << 10;
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    peer_.reset(fds[1]);
    connection_ = std::make_unique<Connection>(*owner_, ScopedFd(fds[0]), listener_stats());
    listener_stats().active.Add(1);
    ASSERT_TRUE(connection_->Start(protocol_).ok());
  }

  void TearDown() override {
    if (!connection_->closed()) connection_->Close(CloseReason::kShutdown);
  }

  ListenerStats& listener_stats() { return *owner_->stats.listeners[0]; }
  const ConnectionSettings& settings() { return owner_->connection_settings; }

  // One loop turn at the current fake time, then one more (a deadline re-armed while the timer
  // fired is due on the next turn).
  void Turn() {
    loop_->PollOnce();
    loop_->PollOnce();
  }
  void Advance(int64_t ns) {
    now_ns_ += ns;
    Turn();
  }

  void PeerWrite(std::string_view bytes) {
    ASSERT_EQ(send(peer_.get(), bytes.data(), bytes.size(), MSG_DONTWAIT),
              static_cast<ssize_t>(bytes.size()));
  }
  // Everything the peer can read now; sets peer_eof_ on end of stream.
  std::string PeerRead() {
    std::string out;
    char buffer[64 * 1024];
    for (;;) {
      ssize_t n = recv(peer_.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n > 0) {
        out.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) peer_eof_ = true;
      return out;
    }
  }

  std::vector<CloseReason> closes() const { return owner_->closes; }

  int64_t now_ns_ = 1000 * kSecond;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<FakeOwner> owner_;
  LineProtocol protocol_;
  ScopedFd peer_;
  bool peer_eof_ = false;
  std::unique_ptr<Connection> connection_;
};

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
  Advance(settings().idle_timeout_ns - 1);
  EXPECT_TRUE(closes().empty());
  Advance(1);
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kIdleTimeout});
  EXPECT_EQ(listener_stats().closed[static_cast<size_t>(CloseReason::kIdleTimeout)].value(), 1u);
  PeerRead();
  EXPECT_TRUE(peer_eof_);
}

TEST_F(ConnectionTest, ReadDeadlineTimesARequestInProgress) {
  PeerWrite("partial");
  Turn();
  Advance(settings().read_timeout_ns - 1);
  EXPECT_TRUE(closes().empty());
  Advance(1);
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kReadTimeout});
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
  Advance(settings().write_timeout_ns - 1);
  EXPECT_TRUE(closes().empty());
  Advance(1);
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kWriteTimeout});
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
  ASSERT_EQ(shutdown(peer_.get(), SHUT_WR), 0);
  Turn();
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kProtocolError});
}

TEST_F(ConnectionTest, LingeringEndsAtTheLingerDeadlineWithTheDecidedReason) {
  PeerWrite("close\n");
  Turn();
  PeerRead();
  ASSERT_TRUE(peer_eof_);
  PeerWrite("unread bytes are discarded while lingering\n");
  Advance(settings().read_timeout_ns - 1);
  EXPECT_TRUE(closes().empty());
  Advance(1);
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kProtocolError});
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
  ASSERT_EQ(shutdown(peer_.get(), SHUT_WR), 0);
  Turn();
  EXPECT_EQ(closes(), std::vector<CloseReason>{CloseReason::kShutdown});
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
