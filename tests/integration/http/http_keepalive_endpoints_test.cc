// Over real sockets to an in-process HTTP server: route errors (404, 405) keep the connection
// and the requests pipelined behind them are answered, counted as requests and not as
// protocol errors; Transfer-Encoding and Connection as RFC 9110 lists; the test endpoints
// /bytes/N, /status/CODE and /delay/DURATION, the delay on the worker's timer wheel (another
// connection on the same single worker is answered meanwhile).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <string>

#include "core/close_reason.h"
#include "server/protocols/http/wire.h"
#include "tests/support/assert_ok.h"
#include "tests/support/deadline.h"
#include "tests/support/http_client.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

constexpr size_t kMaxBodyBytes = 64 * 1024;

class HttpKeepAliveEndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestServerOptions options;
    options.protocol = "http";
    options.workers = 1;
    options.tick_ns = 1'000'000;
    options.config.limits.max_frame_bytes = kMaxBodyBytes;
    options.config.limits.max_delay = absl::Seconds(2);
    ASSERT_OK_AND_ASSIGN(server_, TestServer::Start(options));
  }

  std::unique_ptr<RawClient> Connect() {
    auto client = std::make_unique<RawClient>(server_->port(), Deadline::In(seconds(10)));
    EXPECT_TRUE(client->connected());
    return client;
  }

  static HttpResponse Read(RawClient& client, bool head = false) {
    auto response = client.ReadResponse(head, Deadline::In(seconds(10)));
    EXPECT_TRUE(response.has_value()) << client.last_error();
    return response.value_or(HttpResponse{});
  }

  std::unique_ptr<TestServer> server_;
};

std::string Get(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n\r\n";
}

TEST_F(HttpKeepAliveEndpointsTest, RequestsPipelinedBehindRouteErrorsAreAnswered) {
  auto client = Connect();
  ASSERT_TRUE(client->Send(Get("/nope") + "DELETE /plaintext HTTP/1.1\r\nHost: t\r\n\r\n" +
                               "BREW /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi" +
                               Get("/plaintext"),
                           Deadline::In(seconds(10))));
  HttpResponse not_found = Read(*client);
  EXPECT_EQ(not_found.status, 404);
  EXPECT_FALSE(not_found.Header("Connection").has_value()) << not_found.raw;
  HttpResponse wrong_method = Read(*client);
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.Header("Allow"), "GET, HEAD");
  HttpResponse unknown_method = Read(*client);
  EXPECT_EQ(unknown_method.status, 405);
  EXPECT_EQ(unknown_method.Header("Allow"), "POST");
  HttpResponse ok = Read(*client);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "Hello, World!");

  ASSERT_TRUE(client->Send(Get("/nope"), Deadline::In(seconds(10))));
  EXPECT_EQ(Read(*client).status, 404) << "the connection is still usable";
  EXPECT_TRUE(WaitFor([&] { return server_->requests() == 5; }, Deadline::In(seconds(10))))
      << server_->StatsSummary();
  client->Close();
  EXPECT_TRUE(WaitFor([&] { return server_->closed_total() == 1; }, Deadline::In(seconds(10))));
  EXPECT_EQ(server_->closed(core::CloseReason::kProtocolError), 0u) << server_->StatsSummary();
}

TEST_F(HttpKeepAliveEndpointsTest, ListSyntaxOnTheWire) {
  auto client = Connect();
  ASSERT_TRUE(client->Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: ,chunked\r\n\r\n"
                           "2\r\nhi\r\n0\r\n\r\n"
                           "GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: , Close\r\n\r\n",
                           Deadline::In(seconds(10))));
  HttpResponse echoed = Read(*client);
  EXPECT_EQ(echoed.status, 200);
  EXPECT_EQ(echoed.body, "hi");
  HttpResponse last = Read(*client);
  EXPECT_EQ(last.Header("Connection"), "close");
  EXPECT_TRUE(client->WaitForClose(Deadline::In(seconds(10)))) << client->last_error();
}

TEST_F(HttpKeepAliveEndpointsTest, BytesAndStatus) {
  auto client = Connect();
  ASSERT_TRUE(client->Send(Get("/bytes/" + std::to_string(kMaxBodyBytes)) + Get("/bytes/0") +
                               "HEAD /bytes/33 HTTP/1.1\r\nHost: t\r\n\r\n" +
                               Get("/bytes/" + std::to_string(kMaxBodyBytes + 1)) +
                               Get("/status/503") + Get("/status/204") + Get("/status/600"),
                           Deadline::In(seconds(10))));
  HttpResponse bytes = Read(*client);
  EXPECT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.Header("Content-Type"), "application/octet-stream");
  ASSERT_EQ(bytes.body.size(), kMaxBodyBytes);
  EXPECT_EQ(http::FindTestBytesMismatch(0, bytes.body), std::string_view::npos);
  EXPECT_EQ(Read(*client).body, "");
  HttpResponse head = Read(*client, /*head=*/true);
  EXPECT_EQ(head.Header("Content-Length"), "33");
  EXPECT_EQ(head.body, "");
  HttpResponse too_many = Read(*client);
  EXPECT_EQ(too_many.status, 400);
  EXPECT_NE(too_many.body.find("limits.max_frame_bytes"), std::string::npos) << too_many.body;
  HttpResponse unavailable = Read(*client);
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.body, "Service Unavailable\n");
  EXPECT_FALSE(unavailable.Header("Connection").has_value());
  HttpResponse no_content = Read(*client);
  EXPECT_EQ(no_content.status, 204);
  EXPECT_FALSE(no_content.Header("Content-Length").has_value());
  EXPECT_EQ(Read(*client).status, 400);
}

TEST_F(HttpKeepAliveEndpointsTest, DelayAnswersLaterInOrderWithoutBlockingTheWorker) {
  auto delayed = Connect();
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(delayed->Send(Get("/delay/1s") + Get("/plaintext") + Get("/delay/3s"),
                            Deadline::In(seconds(10))));
  // The single worker answers another connection while the delay runs.
  auto other = Connect();
  ASSERT_TRUE(other->Send(Get("/plaintext"), Deadline::In(seconds(10))));
  EXPECT_EQ(Read(*other).status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(1))
      << "answered before the delay ended";

  HttpResponse first = Read(*delayed);
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::seconds(1));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "delayed 1s\n");
  HttpResponse second = Read(*delayed);
  EXPECT_EQ(second.body, "Hello, World!") << "pipelined behind the delay, answered after it";
  HttpResponse over_limit = Read(*delayed);
  EXPECT_EQ(over_limit.status, 400);
  EXPECT_NE(over_limit.body.find("limits.max_delay (2s)"), std::string::npos) << over_limit.body;
}

TEST_F(HttpKeepAliveEndpointsTest, DelayedResponseIsSentAfterThePeersFin) {
  auto client = Connect();
  ASSERT_TRUE(client->Send(Get("/delay/100ms") + Get("/plaintext"), Deadline::In(seconds(10))));
  ASSERT_EQ(::shutdown(client->fd(), SHUT_WR), 0);
  EXPECT_EQ(Read(*client).body, "delayed 100ms\n");
  EXPECT_EQ(Read(*client).body, "Hello, World!");
  EXPECT_TRUE(client->WaitForClose(Deadline::In(seconds(10)))) << client->last_error();
}

}  // namespace
}  // namespace shoal::testing
