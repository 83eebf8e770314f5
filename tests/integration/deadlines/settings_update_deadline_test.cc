// Server::UpdateSettings (what SIGHUP calls) over real sockets: new timeouts apply to every
// connection within one loop turn. A shorter idle closes new connections and already-armed ones
// alike at their last activity + the new idle (not at the old deadline). A longer idle moves an
// existing connection's deadline later.

#include "gtest/gtest.h"
#include "tests/integration/deadlines/deadline_bounds.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

using core::CloseReason;

core::ConnectionSettings WithIdle(milliseconds idle) {
  return WithTimeouts(idle, milliseconds(10000), milliseconds(10000));
}

// One worker with `idle` as its idle timeout.
absl::StatusOr<std::unique_ptr<TestServer>> StartWithIdle(milliseconds idle) {
  TestServerOptions options;
  options.workers = 1;
  options.settings = WithIdle(idle);
  return TestServer::Start(options);
}

TEST(SettingsUpdateDeadline, ShorterIdleAppliesToNewAndAlreadyArmedConnections) {
  constexpr milliseconds kOldIdle{5000};
  constexpr milliseconds kNewIdle{300};
  ASSERT_OK_AND_ASSIGN(auto server, StartWithIdle(kOldIdle));
  TestServer& s = *server;

  // An existing connection: accepted (the echo proves it) with its deadline at accept + old idle.
  const Clock::time_point old_sent = Clock::now();
  auto old_fd = Connect(s.port());
  ASSERT_TRUE(old_fd.ok()) << old_fd.status();
  ASSERT_TRUE(PingPong(old_fd->get(), "before", milliseconds(5000)).ok());
  const Clock::time_point old_last_echoed = Clock::now();

  s.server().UpdateSettings(WithIdle(kNewIdle));
  ASSERT_TRUE(s.Barrier()) << "the worker never ran the posted settings";

  const Clock::time_point new_connect = Clock::now();
  auto new_fd = Connect(s.port());
  ASSERT_TRUE(new_fd.ok()) << new_fd.status();
  End new_end = ReadUntilEnd(new_fd->get(), kNewIdle + milliseconds(5000));
  ASSERT_EQ(new_end.kind, End::Kind::kEof) << new_end.ToString() << "; " << s.StatsSummary();
  double new_lived = MillisBetween(new_connect, new_end.at);
  EXPECT_GE(new_lived, kNewIdle.count()) << "closed before the new idle deadline";
  EXPECT_LE(new_lived, (kNewIdle + Tick() + kSlack).count()) << "new idle not applied";

  // The existing connection's deadline was armed under the old idle; it moves to its last
  // activity + the new idle.
  End old_end = ReadUntilEnd(old_fd->get(), kOldIdle + milliseconds(5000));
  ASSERT_EQ(old_end.kind, End::Kind::kEof) << old_end.ToString() << "; " << s.StatsSummary();
  double old_idle_for = MillisBetween(old_last_echoed, old_end.at);
  EXPECT_GE(MillisBetween(old_sent, old_end.at), kNewIdle.count()) << "closed too early";
  EXPECT_LE(old_idle_for, (kNewIdle + Tick() + kSlack).count())
      << "the armed deadline kept the old idle";
  RecordProperty("new_connection_closed_after_ms", std::to_string(new_lived));
  RecordProperty("old_connection_closed_after_ms", std::to_string(old_idle_for));

  ExpectClosedOnlyFor(s, CloseReason::kIdleTimeout, 2);
}

TEST(SettingsUpdateDeadline, LongerIdleAppliesToAnExistingConnectionAtItsNextCheck) {
  constexpr milliseconds kOldIdle{600};
  constexpr milliseconds kNewIdle{1500};
  ASSERT_OK_AND_ASSIGN(auto server, StartWithIdle(kOldIdle));
  TestServer& s = *server;

  auto fd = Connect(s.port());
  ASSERT_TRUE(fd.ok()) << fd.status();
  const Clock::time_point last_sent = Clock::now();
  ASSERT_TRUE(PingPong(fd->get(), "before", milliseconds(5000)).ok());
  const Clock::time_point last_echoed = Clock::now();
  s.server().UpdateSettings(WithIdle(kNewIdle));
  ASSERT_TRUE(s.Barrier()) << "the worker never ran the posted settings";
  // Only meaningful if the update landed before the old deadline fired.
  ASSERT_LT(MillisBetween(last_sent, Clock::now()), kOldIdle.count())
      << "the machine is too slow for this test's timing";

  End end = ReadUntilEnd(fd->get(), kNewIdle + milliseconds(5000));
  ASSERT_EQ(end.kind, End::Kind::kEof) << end.ToString() << "; " << s.StatsSummary();
  double since_sent = MillisBetween(last_sent, end.at);
  double since_echoed = MillisBetween(last_echoed, end.at);
  EXPECT_GE(since_sent, kNewIdle.count()) << "closed at the old idle";
  EXPECT_LE(since_echoed, (kNewIdle + Tick() + kSlack).count()) << "closed late";
  RecordProperty("closed_after_ms", std::to_string(since_echoed));

  ExpectClosedOnlyFor(s, CloseReason::kIdleTimeout, 1);
}

}  // namespace
}  // namespace shoal::testing
