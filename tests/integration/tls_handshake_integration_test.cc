// Handshakes that fail or never finish: half a ClientHello then silence, and a connection that
// sends nothing, are closed at the read timeout (read_timeout); bytes that are not TLS are closed
// at once (tls_error). Each counts as a failed handshake, while a good client connected
// meanwhile keeps being served. A client that resets the connection once our handshake flight
// was sent (as clients rejecting our certificate do) has failed the handshake: tls_error.
#include <poll.h>
#include <sys/socket.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/integration/integration_bounds.h"
#include "tests/integration/tls_test_server.h"
#include "tests/support/client_socket.h"
#include "tests/support/echo_wire.h"

namespace shoal::testing {
namespace {

constexpr auto kReadTimeout = milliseconds(800);

TEST(TlsHandshake, StalledAndGarbageHandshakesCloseWithoutDisturbingAGoodClient) {
  TestServerOptions options;
  options.settings.read_timeout_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(kReadTimeout).count();
  auto started = StartTlsServer(options);
  ASSERT_TRUE(started.ok()) << started.status();
  TlsTestServer& s = *started;
  auto good = s.Connect();
  ASSERT_TRUE(good.ok()) << good.status();

  const Clock::time_point begin = Clock::now();
  auto half_hello = SendPartialClientHello(s.server->port(), 100);
  ASSERT_TRUE(half_hello.ok()) << half_hello.status();
  auto silent = Connect(s.server->port());
  ASSERT_TRUE(silent.ok()) << silent.status();
  auto garbage = Connect(s.server->port());
  ASSERT_TRUE(garbage.ok()) << garbage.status();
  ASSERT_TRUE(SendAll(garbage->get(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", kTestDeadline).ok());

  EXPECT_TRUE(ReadUntilEnd(garbage->get(), kTestDeadline).closed());
  // Served while the stalled handshakes wait for their deadline.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*good)->Write(EncodeFrame("still here")).ok());
    auto echoed = (*good)->ReadExactly(14, kTestDeadline);
    ASSERT_TRUE(echoed.ok()) << echoed.status();
  }
  EXPECT_TRUE(ReadUntilEnd(half_hello->get(), kTestDeadline).closed());
  EXPECT_TRUE(ReadUntilEnd(silent->get(), kTestDeadline).closed());
  EXPECT_GE(Clock::now() - begin, kReadTimeout - milliseconds(50));

  ASSERT_TRUE(s.server->Barrier());
  EXPECT_EQ(s.server->closed(core::CloseReason::kTlsError), 1u) << s.server->StatsSummary();
  EXPECT_EQ(s.server->closed(core::CloseReason::kReadTimeout), 2u) << s.server->StatsSummary();
  EXPECT_EQ(s.handshakes_ok(), 1u);
  EXPECT_EQ(s.handshakes_failed(), 3u);
  ASSERT_TRUE((*good)->Write(EncodeFrame("after")).ok());
  EXPECT_TRUE((*good)->ReadExactly(9, kTestDeadline).ok());
}

TEST(TlsHandshake, AlpnMismatchAndTooOldAVersionFailTheHandshake) {
  core::TlsOptions tls;
  tls.min_version = core::TlsVersion::k1_3;
  tls.alpn = {"http/1.1"};
  TestServerOptions options;
  options.protocol = "http";
  auto started = StartTlsServer(options, tls);
  ASSERT_TRUE(started.ok()) << started.status();
  TlsTestServer& s = *started;
  TlsClientOptions h2 = s.client;
  h2.alpn = {"h2"};
  EXPECT_FALSE(TlsClient::Connect(s.server->port(), h2).ok());
  TlsClientOptions old = s.client;
  old.max_version = 0x0303;  // TLS 1.2
  EXPECT_FALSE(TlsClient::Connect(s.server->port(), old).ok());
  TlsClientOptions http = s.client;
  http.alpn = {"h2", "http/1.1"};
  auto client = TlsClient::Connect(s.server->port(), http);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->alpn(), "http/1.1");
  ASSERT_TRUE(WaitFor([&] { return s.handshakes_failed() == 2; }, kTestDeadline));
  EXPECT_EQ(s.server->closed(core::CloseReason::kTlsError), 2u) << s.server->StatsSummary();
}

TEST(TlsHandshake, AResetAfterOurFlightWasSentIsAFailedHandshake) {
  auto started = StartTlsServer(TestServerOptions{});
  ASSERT_TRUE(started.ok()) << started.status();
  TlsTestServer& s = *started;
  auto hello = SendPartialClientHello(s.server->port(), 1 << 20);  // the whole ClientHello
  ASSERT_TRUE(hello.ok()) << hello.status();
  pollfd readable{hello->get(), POLLIN, 0};
  ASSERT_EQ(poll(&readable, 1, 10'000), 1) << "no ServerHello";
  char flight[64];
  ASSERT_GT(recv(hello->get(), flight, sizeof(flight), 0), 0);  // and leave the rest unread
  const linger abort_on_close{1, 0};
  ASSERT_EQ(setsockopt(hello->get(), SOL_SOCKET, SO_LINGER, &abort_on_close,
                       sizeof(abort_on_close)),
            0);
  hello->reset();  // RST
  ASSERT_TRUE(WaitFor([&] { return s.server->closed_total() == 1; }, kTestDeadline));
  EXPECT_EQ(s.server->closed(core::CloseReason::kTlsError), 1u) << s.server->StatsSummary();
  EXPECT_EQ(s.handshakes_failed(), 1u);
}

}  // namespace
}  // namespace shoal::testing
