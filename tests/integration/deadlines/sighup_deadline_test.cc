// SIGHUP over the real binary: the config file is rewritten with a shorter timeouts.idle, SIGHUP
// applies it, and a new connection is closed after the new idle, as is one opened before the
// reload (its armed deadline moves); an invalid file on a later SIGHUP is rejected whole and the
// running idle stays.
//
// "SIGHUP: applied" is logged once the new settings are posted to each worker, which may not have
// run them yet. An echo round trip on a connection of the (single) worker orders things: the
// worker answers it in some loop turn, and runs its posted tasks at the end of that same turn,
// before any later turn could accept the next connection.
#include <signal.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/integration/deadlines/deadline_bounds.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

std::string Config(const std::string& idle, const std::string& extra = "") {
  return EchoServerConfig(
      1, "timeouts:\n  idle: " + idle + "\n  read: 10s\n  write: 10s\n  tick: 10ms\n" + extra);
}

// Connects, and returns how long (ms) until the server closed the silent connection, or -1.
double SilentConnectionLifetimeMs(uint16_t port, milliseconds timeout, std::string* failure) {
  const Clock::time_point t0 = Clock::now();
  auto fd = Connect(port);
  if (!fd.ok()) {
    *failure = fd.status().ToString();
    return -1;
  }
  End end = ReadUntilEnd(fd->get(), timeout);
  if (end.kind != End::Kind::kEof) {
    *failure = end.ToString();
    return -1;
  }
  return MillisBetween(t0, end.at);
}

TEST(SighupDeadline, SighupShortensIdleForNewConnections) {
  constexpr milliseconds kNewIdle{300};
  const std::string path = WriteTempFile("sighup_deadline.yaml", Config("5s"));
  Subprocess server({ShoalBinaryPath(), "--config=" + path});
  ASSERT_TRUE(server.started());
  auto listening = server.WaitForStderrLine("listening:", milliseconds(20000));
  ASSERT_TRUE(listening.has_value()) << server.err();
  int port = PortFromListeningLine(*listening);
  ASSERT_GT(port, 0) << *listening;

  // Opened under idle 5s; also the connection whose echo orders the reloads (see above).
  auto keeper = Connect(static_cast<uint16_t>(port));
  ASSERT_TRUE(keeper.ok()) << keeper.status();
  ASSERT_TRUE(PingPong(keeper->get(), "before", milliseconds(5000)).ok());

  size_t mark = server.err().size();
  WriteTempFile("sighup_deadline.yaml", Config("300ms"));
  server.Signal(SIGHUP);
  auto applied = server.WaitForStderrLine("SIGHUP: applied", milliseconds(10000), mark);
  ASSERT_TRUE(applied.has_value()) << server.err();
  ASSERT_TRUE(PingPong(keeper->get(), "after reload", milliseconds(5000)).ok());
  const Clock::time_point keeper_last_echoed = Clock::now();

  std::string failure;
  double lived =
      SilentConnectionLifetimeMs(static_cast<uint16_t>(port), milliseconds(6000), &failure);
  ASSERT_GE(lived, 0) << "new connection not closed at the new idle: " << failure << "\n"
                      << server.err();
  EXPECT_GE(lived, kNewIdle.count()) << "closed before the new idle deadline";
  EXPECT_LE(lived, (kNewIdle + Tick() + kSlack).count()) << "the new idle was not applied";
  RecordProperty("closed_after_ms_with_reloaded_idle", std::to_string(lived));

  // The connection opened before the reload had its deadline armed under idle 5s: it moved.
  End keeper_end = ReadUntilEnd(keeper->get(), milliseconds(6000));
  ASSERT_EQ(keeper_end.kind, End::Kind::kEof) << keeper_end.ToString() << "\n" << server.err();
  EXPECT_LE(MillisBetween(keeper_last_echoed, keeper_end.at), (kNewIdle + Tick() + kSlack).count())
      << "the connection armed under the old idle kept it";

  // An invalid file (an unknown key) would set idle back to 5s; it is rejected whole.
  mark = server.err().size();
  WriteTempFile("sighup_deadline.yaml", Config("5s", "bogus_key: 1\n"));
  server.Signal(SIGHUP);
  auto rejected = server.WaitForStderrLine("SIGHUP: config rejected", milliseconds(10000), mark);
  ASSERT_TRUE(rejected.has_value()) << server.err();
  auto orderer = Connect(static_cast<uint16_t>(port));
  ASSERT_TRUE(orderer.ok()) << orderer.status();
  ASSERT_TRUE(PingPong(orderer->get(), "after rejected reload", milliseconds(5000)).ok());
  lived = SilentConnectionLifetimeMs(static_cast<uint16_t>(port), milliseconds(6000), &failure);
  ASSERT_GE(lived, 0) << "after a rejected reload: " << failure << "\n" << server.err();
  EXPECT_LE(lived, (kNewIdle + Tick() + kSlack).count()) << "the rejected file was applied";
  RecordProperty("closed_after_ms_after_rejected_reload", std::to_string(lived));

  // SIGTERM drains: an open connection sees our FIN at once; closing it ends the drain.
  keeper = Connect(static_cast<uint16_t>(port));
  ASSERT_TRUE(keeper.ok()) << keeper.status();
  ASSERT_TRUE(PingPong(keeper->get(), "before drain", milliseconds(5000)).ok());
  server.Signal(SIGTERM);
  End end = ReadUntilEnd(keeper->get(), milliseconds(5000));
  EXPECT_EQ(end.kind, End::Kind::kEof) << end.ToString();
  keeper->reset();
  EXPECT_EQ(server.Wait(milliseconds(15000)), 0) << server.err();
}

}  // namespace
}  // namespace shoal::testing
