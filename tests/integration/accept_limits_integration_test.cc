// Limits enforced at accept, live: limits.max_connections (reloaded value in force for the next
// accept) and the per-source limits (connections and rate per client IP, close reason
// source_limit, counted in shoal_overload_actions_total; other sources unaffected).
#include <arpa/inet.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/echo_wire.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

using core::CloseReason;
using core::OverloadAction;

// True if one echo round trip works on `fd`.
bool Echoes(int fd) {
  const std::string frame = EncodeFrame("accept limits");
  if (!SendAll(fd, frame, seconds(5)).ok()) return false;
  auto reply = ReadExactly(fd, frame.size(), seconds(5));
  return reply.ok() && *reply == frame;
}

bool ClosedByServer(int fd) {
  EndKind end = WaitForEnd(fd, seconds(5));
  return end == EndKind::kEof || end == EndKind::kReset;
}

class AcceptLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestServerOptions options;
    options.workers = 1;
    auto server = TestServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  void SetLimits(int64_t max_connections, core::SourceLimits per_source) {
    server_->server().UpdateLimits(max_connections, per_source);
    ASSERT_TRUE(server_->Barrier());
  }

  uint64_t actions(OverloadAction action) const {
    return server_->worker_stats(0).overload_actions[static_cast<size_t>(action)].value();
  }

  std::unique_ptr<TestServer> server_;
};

TEST_F(AcceptLimitsTest, OverTheSourceLimitClosedAtAcceptOtherSourcesUnaffected) {
  SetLimits(100000, {/*max_connections=*/2, /*rate_per_second=*/0});
  std::vector<core::ScopedFd> held;
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, ConnectFrom("127.0.0.1", server_->port()));
    ASSERT_TRUE(Echoes(fd.get()));
    held.push_back(std::move(fd));
  }
  ASSERT_OK_AND_ASSIGN(core::ScopedFd over, ConnectFrom("127.0.0.1", server_->port()));
  EXPECT_TRUE(ClosedByServer(over.get()));
  ASSERT_TRUE(server_->Barrier());
  EXPECT_EQ(server_->closed(CloseReason::kSourceLimit), 1u) << server_->StatsSummary();
  EXPECT_EQ(actions(OverloadAction::kSourceLimit), 1u);

  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(core::ScopedFd other, ConnectFrom("127.0.0.2", server_->port()));
    EXPECT_TRUE(Echoes(other.get())) << "another source must be served";
    held.push_back(std::move(other));
  }
  for (auto& fd : held) EXPECT_TRUE(Echoes(fd.get()));

  // A freed slot is usable again; lifting the limit (live) admits more.
  held.erase(held.begin());
  ASSERT_TRUE(WaitFor([&] { return server_->active() == 3; }, seconds(5)));
  ASSERT_OK_AND_ASSIGN(core::ScopedFd again, ConnectFrom("127.0.0.1", server_->port()));
  EXPECT_TRUE(Echoes(again.get()));
  SetLimits(100000, {});
  ASSERT_OK_AND_ASSIGN(core::ScopedFd unlimited, ConnectFrom("127.0.0.1", server_->port()));
  EXPECT_TRUE(Echoes(unlimited.get()));
  EXPECT_EQ(server_->closed(CloseReason::kSourceLimit), 1u);
}

TEST_F(AcceptLimitsTest, OverTheSourceRateClosedAtAcceptOtherSourcesUnaffected) {
  SetLimits(100000, {/*max_connections=*/0, /*rate_per_second=*/3});
  size_t served = 0, refused = 0;
  std::vector<core::ScopedFd> held;
  // Ten connections at once: a burst of 3 tokens (and at most a few refilled meanwhile) admits
  // fewer than ten.
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, ConnectFrom("127.0.0.1", server_->port()));
    held.push_back(std::move(fd));
  }
  for (auto& fd : held) (Echoes(fd.get()) ? served : refused)++;
  EXPECT_GE(served, 3u);
  EXPECT_GT(refused, 0u);
  ASSERT_TRUE(server_->Barrier());
  EXPECT_EQ(server_->closed(CloseReason::kSourceLimit), refused) << server_->StatsSummary();
  EXPECT_EQ(actions(OverloadAction::kSourceRate), refused);
  ASSERT_OK_AND_ASSIGN(core::ScopedFd other, ConnectFrom("127.0.0.3", server_->port()));
  EXPECT_TRUE(Echoes(other.get())) << "another source must be served";
}

TEST_F(AcceptLimitsTest, ReloadedMaxConnectionsIsInForceForTheNextAccept) {
  std::vector<core::ScopedFd> held;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(server_->port()));
    ASSERT_TRUE(Echoes(fd.get()));
    held.push_back(std::move(fd));
  }
  // No barrier: the process-wide limit is read by the very next accept.
  server_->server().UpdateLimits(3, {});
  EXPECT_EQ(server_->server().max_connections(), 3);
  ASSERT_OK_AND_ASSIGN(core::ScopedFd over, Connect(server_->port()));
  EXPECT_TRUE(ClosedByServer(over.get()));
  ASSERT_TRUE(server_->Barrier());
  EXPECT_EQ(server_->closed(CloseReason::kOverload), 1u) << server_->StatsSummary();
  for (auto& fd : held) EXPECT_TRUE(Echoes(fd.get())) << "open connections are kept";

  server_->server().UpdateLimits(4, {});
  ASSERT_OK_AND_ASSIGN(core::ScopedFd fourth, Connect(server_->port()));
  EXPECT_TRUE(Echoes(fourth.get()));
}

}  // namespace
}  // namespace shoal::testing
