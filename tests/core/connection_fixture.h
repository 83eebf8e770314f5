// The Connection test fixture: a Connection over a socketpair, driven turn by turn on the test
// thread, with a fake owner (ConnectionOwner) and a fake clock (EventLoop::Options::clock), so
// deadline logic is checked without sleeping. Test thread only.
#ifndef SHOAL_TESTS_CORE_CONNECTION_FIXTURE_H_
#define SHOAL_TESTS_CORE_CONNECTION_FIXTURE_H_

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/connection.h"
#include "gtest/gtest.h"
#include "tests/core/manual_clock_loop.h"
#include "tests/support/assert_ok.h"
#include "tests/support/default_options.h"

namespace shoal::core {

inline constexpr int64_t kMs = kManualTickNs;
inline constexpr int64_t kSecond = 1000 * kMs;

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

  ConnectionSettings connection_settings = shoal::testing::DefaultConnectionSettings();
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
    ASSERT_OK_AND_ASSIGN(loop_, CreateManualClockLoop(&now_ns_));
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

  // The peer sends its FIN; `reason` is the one close on the next turn.
  void ExpectClosedWhenThePeerCloses(CloseReason reason) {
    ASSERT_EQ(shutdown(peer_.get(), SHUT_WR), 0);
    Turn();
    EXPECT_EQ(closes(), std::vector<CloseReason>{reason});
  }

  // Time moves `after_ns` in two steps: nothing is closed 1 ns before, `reason` is the one close
  // at it.
  void ExpectClosedExactlyAfter(int64_t after_ns, CloseReason reason) {
    Advance(after_ns - 1);
    EXPECT_TRUE(closes().empty()) << "closed 1 ns early";
    Advance(1);
    EXPECT_EQ(closes(), std::vector<CloseReason>{reason});
  }

  int64_t now_ns_ = 1000 * kSecond;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<FakeOwner> owner_;
  LineProtocol protocol_;
  ScopedFd peer_;
  bool peer_eof_ = false;
  std::unique_ptr<Connection> connection_;
};

}  // namespace shoal::core

#endif  // SHOAL_TESTS_CORE_CONNECTION_FIXTURE_H_
