// Connection flood beyond limits.max_connections: an in-process server with a limit of 100 gets
// 300 connections. The 200 beyond the limit are closed at accept and counted as `overload`; the
// 100 it holds keep echoing byte-exact; when clients leave, the count recovers and new
// connections are served again (and the limit still holds).
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/echo_stream.h"
#include "tests/support/process_resources.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

constexpr int64_t kLimit = 100;
constexpr size_t kFlood = 300;

// Every connection in `fds` echoes a few frames byte for byte (all driven at once).
void ExpectAllEcho(const std::vector<core::ScopedFd>& fds, uint64_t seed) {
  EchoDriver driver;
  for (size_t i = 0; i < fds.size(); ++i) {
    driver.Add(fds[i].get(), FrameStream::Random(seed + i, 8, 0, 20000));
  }
  EXPECT_EQ(driver.Run(Deadline::In(std::chrono::seconds(20))), EchoDriver::Result::kAllFinished)
      << driver.Summary();
  for (size_t i = 0; i < driver.size(); ++i) {
    const auto& c = driver.conn(i);
    ASSERT_FALSE(c.failed()) << "connection " << i << ": " << driver.Summary();
    ASSERT_EQ(c.received, c.stream.size()) << "connection " << i;
  }
}

TEST(ConnectionFlood, ExcessClosedAtAcceptAsOverloadExistingKeepWorkingAndCountRecovers) {
  RaiseFdLimitToHard();
  TestServerOptions options;
  options.workers = 2;
  options.max_connections = kLimit;
  ASSERT_OK_AND_ASSIGN(auto server_or, TestServer::Start(options));
  TestServer& server = *server_or;

  // Fill the server to its limit.
  auto held_or = ConnectMany(server.port(), kLimit, Deadline::In(std::chrono::seconds(20)));
  ASSERT_TRUE(held_or.ok()) << held_or.status();
  std::vector<core::ScopedFd> held = std::move(*held_or);
  ASSERT_TRUE(WaitFor([&] { return server.active() == kLimit; }, std::chrono::seconds(20)))
      << server.StatsSummary();
  EXPECT_EQ(server.closed(core::CloseReason::kOverload), 0u);

  // The flood: 200 more. Each handshake completes in the kernel; the server accepts and closes.
  auto excess_or =
      ConnectMany(server.port(), kFlood - kLimit, Deadline::In(std::chrono::seconds(20)));
  ASSERT_TRUE(excess_or.ok()) << excess_or.status();
  std::vector<core::ScopedFd> excess = std::move(*excess_or);
  ASSERT_TRUE(WaitFor(
      [&] { return server.closed(core::CloseReason::kOverload) == kFlood - kLimit; },
      std::chrono::seconds(20)))
      << server.StatsSummary();
  EXPECT_EQ(server.active(), kLimit) << server.StatsSummary();
  EXPECT_EQ(server.accepted(), kFlood) << server.StatsSummary();
  // Every excess client sees its connection end (FIN, or RST if it had sent something): none is
  // left hanging half-open.
  for (size_t i = 0; i < excess.size(); ++i) {
    EndKind end = WaitForEnd(excess[i].get(), Deadline::In(std::chrono::seconds(10)));
    EXPECT_TRUE(end == EndKind::kEof || end == EndKind::kReset)
        << "excess connection " << i << ": " << EndKindName(end);
  }
  excess.clear();

  // The held connections still work, every byte verified.
  ExpectAllEcho(held, 1000);
  EXPECT_EQ(server.active(), kLimit);

  // Half of the clients leave; the count recovers.
  held.resize(kLimit / 2);
  ASSERT_TRUE(WaitFor([&] { return server.active() == kLimit / 2; }, std::chrono::seconds(20)))
      << server.StatsSummary();

  // New connections are accepted again, up to the limit, and served.
  const uint64_t overload_before = server.closed(core::CloseReason::kOverload);
  auto fresh_or = ConnectMany(server.port(), kLimit / 2, Deadline::In(std::chrono::seconds(20)));
  ASSERT_TRUE(fresh_or.ok()) << fresh_or.status();
  ASSERT_TRUE(WaitFor([&] { return server.active() == kLimit; }, std::chrono::seconds(20)))
      << server.StatsSummary();
  EXPECT_EQ(server.closed(core::CloseReason::kOverload), overload_before);
  ExpectAllEcho(*fresh_or, 2000);
  ExpectAllEcho(held, 3000);

  // The limit still holds: one more is closed as overload.
  auto one_more = Connect(server.port(), Deadline::In(std::chrono::seconds(10)));
  ASSERT_TRUE(one_more.ok()) << one_more.status();
  ASSERT_TRUE(WaitFor(
      [&] { return server.closed(core::CloseReason::kOverload) == overload_before + 1; },
      std::chrono::seconds(20)))
      << server.StatsSummary();
  EndKind end = WaitForEnd(one_more->get(), Deadline::In(std::chrono::seconds(10)));
  EXPECT_TRUE(end == EndKind::kEof || end == EndKind::kReset) << EndKindName(end);
  EXPECT_EQ(server.active(), kLimit);
}

}  // namespace
}  // namespace shoal::testing
