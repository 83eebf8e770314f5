// Every protocol over TLS on the in-process server, with the OpenSSL test client: answers are
// the plaintext ones; many requests arriving as many TLS records in one TCP send are all
// answered with no further byte from the client (OpenSSL holds decrypted records an
// edge-triggered loop must drain); large echo frames (the forwarding path) round-trip.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/integration_bounds.h"
#include "tests/integration/tls_test_server.h"
#include "tests/support/echo_wire.h"
#include "tests/support/random_bytes.h"
#include "tests/support/resp_wire.h"

namespace shoal::testing {
namespace {

constexpr char kPlaintextRequest[] = "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n";

TlsTestServer Start(const std::string& protocol, int workers = 1) {
  TestServerOptions options;
  options.protocol = protocol;
  options.workers = workers;
  auto server = StartTlsServer(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return *std::move(server);
}

TEST(TlsProtocols, EchoHttpAndRespAnswerOverTls) {
  TlsTestServer echo = Start("echo");
  auto client = echo.Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Write(EncodeFrame("hello")).ok());
  auto echoed = (*client)->ReadExactly(9, kTestDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, EncodeFrame("hello"));
  EXPECT_EQ((*client)->peer_subject(), "/CN=localhost");

  TlsTestServer http = Start("http");
  auto browser = http.Connect();
  ASSERT_TRUE(browser.ok()) << browser.status();
  ASSERT_TRUE((*browser)->Write(kPlaintextRequest).ok());
  auto page = (*browser)->ReadUntil("Hello, World!", kTestDeadline);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << *page;

  TlsTestServer resp = Start("resp");
  auto redis = resp.Connect();
  ASSERT_TRUE(redis.ok()) << redis.status();
  ASSERT_TRUE((*redis)->Write(RespCommand({"PING"})).ok());
  auto pong = (*redis)->ReadExactly(7, kTestDeadline);
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(*pong, "+PONG\r\n");

  for (TlsTestServer* server : {&echo, &http, &resp}) {
    ASSERT_TRUE(server->server->Barrier());
    EXPECT_EQ(server->handshakes_ok(), 1u);
    EXPECT_EQ(server->handshakes_failed(), 0u);
    EXPECT_EQ(server->server->listener_stats(0).tls.negotiated[1].value(), 1u);  // TLSv1.3
    EXPECT_EQ(server->server->listener_stats(0).tls.handshake_duration.count(), 1u);
  }
}

// N requests as N records in one send(): every answer arrives with nothing more sent.
void ExpectPipelinedRecordsAnswered(const std::string& protocol, const std::string& request,
                                    const std::string& answer_end, size_t requests) {
  SCOPED_TRACE(protocol);
  TlsTestServer server = Start(protocol);
  auto client = server.Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->WriteRecordsInOneSend(std::vector<std::string>(requests, request)).ok());
  for (size_t i = 0; i < requests; ++i) {
    auto answer = (*client)->ReadUntil(answer_end, seconds(10));
    ASSERT_TRUE(answer.ok()) << "answer " << i << " of " << requests << ": " << answer.status();
  }
}

TEST(TlsProtocols, PipelinedRecordsInOneSendAreAllAnswered) {
  ExpectPipelinedRecordsAnswered("echo", EncodeFrame("ping"), "ping", 64);
  ExpectPipelinedRecordsAnswered("http", kPlaintextRequest, "Hello, World!", 64);
  ExpectPipelinedRecordsAnswered("resp", RespCommand({"PING"}), "+PONG\r\n", 64);
}

TEST(TlsProtocols, LargeEchoFramesRoundTrip) {
  TlsTestServer server = Start("echo");
  auto client = server.Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  for (size_t size : {size_t{1}, size_t{16 << 10}, size_t{100'000}, size_t{1 << 20}}) {
    std::string frame = EncodeFrame(RandomBytes(size, size));
    ASSERT_TRUE((*client)->Write(frame, kTestDeadline).ok());
    auto echoed = (*client)->ReadExactly(frame.size(), kTestDeadline);
    ASSERT_TRUE(echoed.ok()) << size << ": " << echoed.status();
    EXPECT_TRUE(*echoed == frame) << size;
  }
}

TEST(TlsProtocols, PeerCloseWithAndWithoutCloseNotifyIsPeerClosed) {
  TlsTestServer server = Start("echo");
  {
    auto polite = server.Connect();
    ASSERT_TRUE(polite.ok()) << polite.status();
    ASSERT_TRUE((*polite)->Shutdown().ok());
    EXPECT_TRUE((*polite)->ReadToEnd(kTestDeadline).how.ok());
  }
  {
    auto abrupt = server.Connect();
    ASSERT_TRUE(abrupt.ok()) << abrupt.status();
    ASSERT_TRUE((*abrupt)->Write(EncodeFrame("x")).ok());
    ASSERT_TRUE((*abrupt)->ReadExactly(5).ok());
  }  // closed with a FIN alone
  ASSERT_TRUE(WaitFor([&] { return server.server->closed_total() == 2; }, kTestDeadline));
  EXPECT_EQ(server.server->closed(core::CloseReason::kPeerClosed), 2u)
      << server.server->StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
