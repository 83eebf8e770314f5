// Connection lifetime over real loopback sockets: past limits.max_connection_age (plus jitter) or
// limits.max_requests_per_connection a connection ends gracefully at a request boundary, counted
// as max_age. HTTP announces the last response with `Connection: close`; echo ends after a
// complete reply with FIN; an idle connection closes at its age. The timing assertions allow
// kSchedulingSlack for a loaded machine on top of age + jitter + one tick.
#include <chrono>
#include <string>

#include "core/close_reason.h"
#include "gtest/gtest.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_wire.h"
#include "tests/support/http_client.h"
#include "tests/support/default_options.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

constexpr int64_t kTickNs = 10'000'000;
constexpr int64_t kAgeNs = 300'000'000;
constexpr int64_t kJitterNs = 100'000'000;
constexpr double kSchedulingSlackMs = 150;
constexpr std::string_view kGet = "GET /plaintext HTTP/1.1\r\nHost: shoal\r\n\r\n";

std::unique_ptr<TestServer> StartServer(const std::string& protocol, int64_t age_ns,
                                        uint64_t max_requests) {
  TestServerOptions options;
  options.protocol = protocol;
  options.tick_ns = kTickNs;
  options.settings.max_connection_age_ns = age_ns;
  options.settings.max_connection_age_jitter_ns = age_ns > 0 ? kJitterNs : 0;
  options.settings.max_requests_per_connection = max_requests;
  auto server = TestServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

// After the client saw the server's FIN: closing our end ends the server's lingering, and the
// close is counted.
void ExpectOneMaxAgeClose(TestServer& server) {
  EXPECT_TRUE(WaitFor([&] { return server.closed(core::CloseReason::kMaxAge) == 1; }, seconds(5)))
      << server.StatsSummary();
  EXPECT_EQ(server.closed_total(), 1u) << server.StatsSummary();
}

void ExpectWithinAge(Clock::time_point start, Clock::time_point end) {
  const double elapsed_ms = MillisBetween(start, end);
  EXPECT_GE(elapsed_ms, kAgeNs / 1e6);
  EXPECT_LE(elapsed_ms, (kAgeNs + kJitterNs + kTickNs) / 1e6 + kSchedulingSlackMs);
}

TEST(MaxAge, HttpKeepAliveClientGetsConnectionCloseAndLosesNoRequest) {
  auto server = StartServer("http", kAgeNs, 0);
  ASSERT_NE(server, nullptr);
  const Clock::time_point start = Clock::now();
  RawClient client(server->port(), seconds(5));
  ASSERT_TRUE(client.connected());
  int answered = 0;
  for (;;) {
    ASSERT_TRUE(client.Send(kGet, seconds(5)));
    auto response = client.ReadResponse(false, seconds(5));
    ASSERT_TRUE(response) << "request " << answered << ": " << client.last_error();
    ASSERT_EQ(response->status, 200);
    ASSERT_EQ(response->body, "Hello, World!");
    ++answered;
    if (response->Header("Connection") == "close") break;
    ASSERT_LT(MillisBetween(start, Clock::now()), 5000) << "never told to close";
  }
  const Clock::time_point told = Clock::now();
  EXPECT_TRUE(client.WaitForClose(seconds(5))) << client.last_error();
  ExpectWithinAge(start, told);
  client.Close();
  ExpectOneMaxAgeClose(*server);
  EXPECT_EQ(server->requests(), static_cast<uint64_t>(answered));
}

TEST(MaxAge, EchoEndsAfterACompleteReplyWithFin) {
  auto server = StartServer("echo", kAgeNs, 0);
  ASSERT_NE(server, nullptr);
  const Clock::time_point start = Clock::now();
  auto fd = Connect(server->port(), seconds(5));
  ASSERT_TRUE(fd.ok()) << fd.status();
  const std::string frame = EncodeFrame("a frame of some length");
  int answered = 0;
  for (;;) {
    ASSERT_TRUE(SendAll(fd->get(), frame, seconds(5)).ok());
    // Either the whole frame comes back or the stream ends cleanly before any of it: never a part.
    std::string reply = ReadUpTo(fd->get(), frame.size(), seconds(5));
    if (reply.empty()) break;
    ASSERT_EQ(reply, frame) << "reply " << answered << " cut";
    ++answered;
    ASSERT_LT(MillisBetween(start, Clock::now()), 5000) << "never closed";
  }
  const Clock::time_point ended = Clock::now();
  EXPECT_EQ(WaitForEnd(fd->get(), seconds(5)), EndKind::kEof);
  EXPECT_GT(answered, 0);
  ExpectWithinAge(start, ended);
  fd->reset();
  ExpectOneMaxAgeClose(*server);
}

TEST(MaxAge, IdleConnectionClosesWithFinAtItsAge) {
  auto server = StartServer("http", kAgeNs, 0);
  ASSERT_NE(server, nullptr);
  const Clock::time_point start = Clock::now();
  auto fd = Connect(server->port(), seconds(5));
  ASSERT_TRUE(fd.ok()) << fd.status();
  End end = ReadUntilEnd(fd->get(), seconds(5));
  EXPECT_EQ(end.kind, End::Kind::kEof) << end.ToString();
  EXPECT_EQ(end.data_bytes, 0u);
  ExpectWithinAge(start, end.at);
  ExpectOneMaxAgeClose(*server);
}

TEST(MaxAge, AReloadAppliesToConnectionsAcceptedAfterIt) {
  auto server = StartServer("echo", 0, 0);
  ASSERT_NE(server, nullptr);
  auto before = Connect(server->port(), seconds(5));
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(WaitFor([&] { return server->active() == 1; }, seconds(5)));
  core::ConnectionSettings settings = DefaultConnectionSettings();
  settings.max_connection_age_ns = kAgeNs;
  settings.max_connection_age_jitter_ns = kJitterNs;
  server->server().UpdateSettings(settings);
  ASSERT_TRUE(server->Barrier());
  const Clock::time_point start = Clock::now();
  auto after = Connect(server->port(), seconds(5));
  ASSERT_TRUE(after.ok()) << after.status();
  End end = ReadUntilEnd(after->get(), seconds(5));
  EXPECT_EQ(end.kind, End::Kind::kEof) << end.ToString();
  ExpectWithinAge(start, end.at);
  ExpectOneMaxAgeClose(*server);
  // The connection accepted before the reload keeps no age.
  EXPECT_EQ(WaitForEnd(before->get(), milliseconds(200)), EndKind::kTimeout);
}

TEST(MaxRequests, HttpAnnouncesTheLastResponseAndDropsWhatWasPipelinedAfterIt) {
  auto server = StartServer("http", 0, 3);
  ASSERT_NE(server, nullptr);
  RawClient client(server->port(), seconds(5));
  ASSERT_TRUE(client.connected());
  std::string pipelined;
  for (int i = 0; i < 5; ++i) pipelined += kGet;
  ASSERT_TRUE(client.Send(pipelined, seconds(5)));
  for (int i = 0; i < 3; ++i) {
    auto response = client.ReadResponse(false, seconds(5));
    ASSERT_TRUE(response) << "response " << i << ": " << client.last_error();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->Header("Connection") == "close", i == 2) << "response " << i;
  }
  EXPECT_TRUE(client.WaitForClose(seconds(5))) << client.last_error();
  client.Close();
  ExpectOneMaxAgeClose(*server);
}

TEST(MaxRequests, EchoEndsWithFinAfterTheLastReply) {
  auto server = StartServer("echo", 0, 3);
  ASSERT_NE(server, nullptr);
  auto fd = Connect(server->port(), seconds(5));
  ASSERT_TRUE(fd.ok()) << fd.status();
  const std::string frame = EncodeFrame("counted");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(SendAll(fd->get(), frame, seconds(5)).ok());
    auto reply = ReadExactly(fd->get(), frame.size(), seconds(5));
    ASSERT_TRUE(reply.ok()) << "reply " << i << ": " << reply.status();
    EXPECT_EQ(*reply, frame);
  }
  EXPECT_EQ(WaitForEnd(fd->get(), seconds(5)), EndKind::kEof);
  fd->reset();
  ExpectOneMaxAgeClose(*server);
}

}  // namespace
}  // namespace shoal::testing
