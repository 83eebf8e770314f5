// HTTP/1.1 over real sockets against an in-process core::Server running http::HttpProtocol (the
// routes of docs/design.md) on 127.0.0.1:0: pipelining, HEAD, Expect: 100-continue, the error
// statuses and the close after them, keep-alive rules, slow clients, limits and the read deadline.
// Every wait is bounded; nothing sleeps to synchronise.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "core/close_reason.h"
#include "server/protocols/http/http_protocol.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/http_client.h"
#include "tests/support/http_wire.h"
#include "tests/support/random_bytes.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr size_t kMaxBodyBytes = 256 * 1024;
constexpr std::string_view kHello = "Hello, World!";

TestServerOptions DefaultOptions() {
  TestServerOptions options;
  options.protocol = "http";
  options.workers = 1;
  options.config.limits.max_header_bytes = kMaxHeaderBytes;
  options.config.limits.max_frame_bytes = kMaxBodyBytes;
  return options;
}

// One request and the response shoal must send for it.
struct Exchange {
  std::string request;
  bool head = false;
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::string connection;  // the Connection field's value, "" for none
  std::string extra_fields;
};

// A 200 exchange.
Exchange Ok(std::string request, std::string body, std::string content_type = "text/plain",
            std::string connection = "") {
  Exchange exchange;
  exchange.request = std::move(request);
  exchange.body = std::move(body);
  exchange.content_type = std::move(content_type);
  exchange.connection = std::move(connection);
  return exchange;
}

Exchange Get(std::string_view target = "/plaintext") {
  return Ok("GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n\r\n",
            std::string(kHello));
}

Exchange Head(std::string_view target = "/plaintext") {
  Exchange exchange = Ok("HEAD " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n\r\n",
                         std::string(kHello));
  exchange.head = true;
  return exchange;
}

Exchange PostEcho(const std::string& body) {
  return Ok("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body,
            body, "application/octet-stream");
}

// `body` in chunks of random sizes (some with extensions), then a trailer field now and then.
std::string ChunkedEncoding(const std::string& body, std::mt19937_64& random) {
  std::string out;
  size_t at = 0;
  while (at < body.size()) {
    size_t n = std::min<size_t>(body.size() - at, 1 + random() % 700);
    char size[32];
    std::snprintf(size, sizeof(size), random() % 2 ? "%zx" : "%zX", n);
    out += size;
    if (random() % 5 == 0) out += ";ext=\"v\"";
    out += "\r\n";
    out.append(body, at, n);
    out += "\r\n";
    at += n;
  }
  out += "0\r\n";
  if (random() % 3 == 0) out += "X-Trailer: yes\r\n";
  out += "\r\n";
  return out;
}

Exchange PostEchoChunked(const std::string& body, std::mt19937_64& random) {
  return Ok("POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" +
                ChunkedEncoding(body, random),
            body, "application/octet-stream");
}

// Reads the response to `exchange` and checks it byte for byte (the Date value aside, which must
// be an IMF-fixdate).
void ExpectExchange(RawClient& client, const Exchange& exchange, size_t index = 0) {
  auto response = client.ReadResponse(exchange.head, Deadline::In(seconds(10)));
  ASSERT_TRUE(response.has_value()) << "response " << index << ": " << client.last_error();
  std::string date = response->Header("Date").value_or("");
  EXPECT_TRUE(IsImfFixdate(date)) << "response " << index << " Date: " << date;
  EXPECT_EQ(response->raw,
            ExpectedResponse(exchange.status, date, exchange.content_type, exchange.body,
                             exchange.head, exchange.connection, exchange.extra_fields))
      << "response " << index << " to " << exchange.request.substr(0, 60);
}

std::vector<Exchange> MixedExchanges(size_t count, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<Exchange> exchanges;
  for (size_t i = 0; i < count; ++i) {
    switch (random() % 5) {
      case 0:
        exchanges.push_back(Get());
        break;
      case 1:
        exchanges.push_back(Get("/plaintext?i=" + std::to_string(i)));
        break;
      case 2:
        exchanges.push_back(Head());
        break;
      case 3:
        exchanges.push_back(PostEcho(RandomBytes(random() % 3000, seed + i)));
        break;
      default:
        exchanges.push_back(PostEchoChunked(RandomBytes(random() % 3000, seed + i), random));
        break;
    }
  }
  return exchanges;
}

class HttpIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(DefaultOptions()); }

  void StartServer(const TestServerOptions& options) {
    auto started = TestServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
  }

  std::unique_ptr<RawClient> Connect() {
    auto client = std::make_unique<RawClient>(server_->port(), Deadline::In(seconds(10)));
    EXPECT_TRUE(client->connected()) << client->last_error();
    return client;
  }

  std::unique_ptr<TestServer> server_;
};

TEST_F(HttpIntegrationTest, PipelinedMixedRequestsInOneWriteAreAnsweredInOrderExactly) {
  std::vector<Exchange> exchanges = MixedExchanges(50, 1);
  std::string all;
  for (const Exchange& exchange : exchanges) all += exchange.request;
  auto client = Connect();
  ASSERT_TRUE(client->Send(all, Deadline::In(seconds(10)))) << client->last_error();
  for (size_t i = 0; i < exchanges.size(); ++i) {
    ASSERT_NO_FATAL_FAILURE(ExpectExchange(*client, exchanges[i], i));
  }
  // The connection is still open and in sync.
  ASSERT_TRUE(client->Send(Get().request, Deadline::In(seconds(10))));
  ExpectExchange(*client, Get(), exchanges.size());
  EXPECT_TRUE(client->pending().empty()) << client->pending();
  EXPECT_TRUE(WaitFor([&] { return server_->requests() == exchanges.size() + 1; },
                      Deadline::In(seconds(10))))
      << server_->requests();
}

TEST_F(HttpIntegrationTest, PipelinedRequestsSplitAtRandomPointsAreAnsweredInOrder) {
  std::vector<Exchange> exchanges = MixedExchanges(60, 2);
  std::string all;
  for (const Exchange& exchange : exchanges) all += exchange.request;
  auto client = Connect();
  std::mt19937_64 random(3);
  // Each piece is its own send(); with TCP_NODELAY on loopback most arrive as separate reads.
  for (size_t at = 0; at < all.size();) {
    size_t n = std::min<size_t>(all.size() - at, 1 + random() % 97);
    ASSERT_TRUE(client->Send(std::string_view(all).substr(at, n), Deadline::In(seconds(10))));
    at += n;
  }
  for (size_t i = 0; i < exchanges.size(); ++i) {
    ASSERT_NO_FATAL_FAILURE(ExpectExchange(*client, exchanges[i], i));
  }
}

TEST_F(HttpIntegrationTest, ThousandPipelinedGetsInOneWrite) {
  std::string all;
  for (int i = 0; i < 1000; ++i) all += Get().request;
  auto client = Connect();
  ASSERT_TRUE(client->Send(all, Deadline::In(seconds(10))));
  for (int i = 0; i < 1000; ++i) {
    ASSERT_NO_FATAL_FAILURE(ExpectExchange(*client, Get(), static_cast<size_t>(i)));
  }
}

TEST_F(HttpIntegrationTest, HeadHasContentLengthButNoBody) {
  auto client = Connect();
  // HEAD then GET in one write: a body after the HEAD response would corrupt the GET's framing.
  ASSERT_TRUE(client->Send(Head().request + Get().request, Deadline::In(seconds(10))));
  auto head = client->ReadResponse(/*head_request=*/true, Deadline::In(seconds(10)));
  ASSERT_TRUE(head.has_value()) << client->last_error();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("Content-Length"), "13");
  EXPECT_EQ(head->Header("Content-Type"), "text/plain");
  EXPECT_TRUE(head->body.empty());
  auto get = client->ReadResponse(false, Deadline::In(seconds(10)));
  ASSERT_TRUE(get.has_value()) << client->last_error();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, kHello);
}

TEST_F(HttpIntegrationTest, HeadOnUnknownPathIs404WithoutBody) {
  auto client = Connect();
  ASSERT_TRUE(client->Send("HEAD /nope HTTP/1.1\r\nHost: t\r\n\r\n" + Get().request,
                           Deadline::In(seconds(10))));
  auto response = client->ReadResponse(/*head_request=*/true, Deadline::In(seconds(10)));
  ASSERT_TRUE(response.has_value()) << client->last_error();
  EXPECT_EQ(response->status, 404);
  EXPECT_FALSE(response->Header("Connection").has_value()) << response->raw;
  ExpectExchange(*client, Get());
}

TEST_F(HttpIntegrationTest, AbsoluteFormTargetIsRouted) {
  auto client = Connect();
  ASSERT_TRUE(client->Send("GET http://test/plaintext HTTP/1.1\r\nHost: test\r\n\r\n",
                           Deadline::In(seconds(10))));
  ExpectExchange(*client, Get());
}

TEST_F(HttpIntegrationTest, PipelinedLargeEchoesPassThroughBackpressure) {
  // 24 bodies of 200 KiB in one stream: more than the read budget per turn and the 1 MiB high
  // watermark, so the server pauses reading while we read its replies.
  std::mt19937_64 random(5);
  std::vector<Exchange> exchanges;
  std::string all;
  for (int i = 0; i < 24; ++i) {
    std::string body = RandomBytes(200 * 1024, 500 + static_cast<uint64_t>(i));
    exchanges.push_back(i % 2 ? PostEchoChunked(body, random) : PostEcho(body));
    all += exchanges.back().request;
  }
  auto client = Connect();
  ASSERT_TRUE(client->SendWhileReading(all, Deadline::In(seconds(20)))) << client->last_error();
  for (size_t i = 0; i < exchanges.size(); ++i) {
    ASSERT_NO_FATAL_FAILURE(ExpectExchange(*client, exchanges[i], i));
  }
}

// --- Expect: 100-continue ---------------------------------------------------------------------

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

TEST_F(HttpIntegrationTest, ExpectContinueGetsInterimResponseThenFinalOne) {
  auto client = Connect();
  const std::string body = RandomBytes(5000, 7);
  ASSERT_TRUE(client->Send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                           "Content-Length: 5000\r\n\r\n",
                           Deadline::In(seconds(10))));
  auto interim = client->ReadExactly(kContinue.size(), Deadline::In(seconds(10)));
  ASSERT_TRUE(interim.has_value()) << client->last_error();
  EXPECT_EQ(*interim, kContinue);
  ASSERT_TRUE(client->Send(body, Deadline::In(seconds(10))));
  Exchange echo = PostEcho(body);
  ExpectExchange(*client, echo);

  // Same connection, a second 100-continue request with a chunked body.
  ASSERT_TRUE(client->Send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n",
                           Deadline::In(seconds(10))));
  interim = client->ReadExactly(kContinue.size(), Deadline::In(seconds(10)));
  ASSERT_TRUE(interim.has_value()) << client->last_error();
  EXPECT_EQ(*interim, kContinue);
  std::mt19937_64 random(8);
  ASSERT_TRUE(client->Send(ChunkedEncoding(body, random), Deadline::In(seconds(10))));
  ExpectExchange(*client, echo);
  EXPECT_TRUE(client->pending().empty());
}

TEST_F(HttpIntegrationTest, ExpectContinueWithBodyAlreadySentGetsAtMostOneInterimResponse) {
  auto client = Connect();
  ASSERT_TRUE(client->Send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                           "Content-Length: 5\r\n\r\nhello" +
                               Get().request,
                           Deadline::In(seconds(10))));
  // The server may or may not have seen the body with the head; either way at most one interim
  // response, before the final one.
  auto first = client->ReadResponse(false, Deadline::In(seconds(10)));
  ASSERT_TRUE(first.has_value()) << client->last_error();
  if (first->status == 100) {
    first = client->ReadResponse(false, Deadline::In(seconds(10)));
    ASSERT_TRUE(first.has_value()) << client->last_error();
  }
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "hello");
  ExpectExchange(*client, Get());
}

// A request head with Expect: 100-continue the server refuses: its final status comes at once
// (no interim 100), with the header named, and then the server closes.
struct RefusedExpectation {
  std::string name;
  std::string head;
  int status;
  std::string header;
  std::string header_value;
};

class HttpRefusedExpectationTest : public HttpIntegrationTest,
                                   public ::testing::WithParamInterface<RefusedExpectation> {};

TEST_P(HttpRefusedExpectationTest, IsAnsweredWithoutInterimThenClosed) {
  const RefusedExpectation& expectation = GetParam();
  auto client = Connect();
  ASSERT_TRUE(client->Send(expectation.head, Deadline::In(seconds(10))));
  auto response = client->ReadResponse(false, Deadline::In(seconds(10)));
  ASSERT_TRUE(response.has_value()) << client->last_error();
  EXPECT_EQ(response->status, expectation.status);
  if (!expectation.header.empty()) {
    EXPECT_EQ(response->Header(expectation.header), expectation.header_value);
  }
  EXPECT_TRUE(client->WaitForClose(Deadline::In(seconds(10)))) << client->last_error();
}

INSTANTIATE_TEST_SUITE_P(
    ExpectContinue, HttpRefusedExpectationTest,
    ::testing::Values(
        RefusedExpectation{"UnknownPathIs404",
                           "POST /upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                           "Content-Length: 100000\r\n\r\n",
                           404, "Connection", "close"},
        RefusedExpectation{"WrongMethodIs405",
                           "PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                           "Content-Length: 10\r\n\r\n",
                           405, "Allow", "POST"},
        RefusedExpectation{"BodyOverLimitIs413",
                           "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                           "Content-Length: " +
                               std::to_string(kMaxBodyBytes + 1) + "\r\n\r\n",
                           413, "", ""}),
    [](const ::testing::TestParamInfo<RefusedExpectation>& info) { return info.param.name; });

TEST_F(HttpIntegrationTest, ExpectIsIgnoredInHttp10) {
  auto client = Connect();
  // An HTTP/1.0 client never waits for 100 (RFC 9110 10.1.1): no interim response, ever.
  ASSERT_TRUE(client->Send("POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
                           Deadline::In(seconds(10))));
  ASSERT_TRUE(client->Send("abc", Deadline::In(seconds(10))));
  auto response = client->ReadResponse(false, Deadline::In(seconds(10)));
  ASSERT_TRUE(response.has_value()) << client->last_error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "abc");
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_TRUE(client->WaitForClose(Deadline::In(seconds(10)))) << client->last_error();
}

// --- Errors: the status, then the connection closes ------------------------------------------

struct ErrorCase {
  std::string name;
  std::string request;
  int status;
  std::string allow;  // expected Allow field, "" for none
  core::CloseReason reason = core::CloseReason::kProtocolError;
};

void PrintTo(const ErrorCase& error, std::ostream* out) { *out << error.name; }

std::vector<ErrorCase> ErrorCases() {
  // Each request is followed by a valid GET in the same write: it must never be answered.
  return {
      {"ContentLengthAndTransferEncoding",
       "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n",
       400, ""},
      {"TransferEncodingAndContentLength",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
       "0\r\n\r\n",
       400, ""},
      {"DuplicateContentLength",
       "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400,
       ""},
      {"ContentLengthList", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 3\r\n\r\nabc",
       400, ""},
      {"ObsFold", "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-A: a\r\n  folded\r\n\r\n", 400, ""},
      {"BareLineFeed", "GET /plaintext HTTP/1.1\nHost: t\r\n\r\n", 400, ""},
      {"SpaceBeforeColon", "GET /plaintext HTTP/1.1\r\nHost : t\r\n\r\n", 400, ""},
      {"MissingHost", "GET /plaintext HTTP/1.1\r\n\r\n", 400, ""},
      {"BadChunkSize",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, ""},
      {"ContentLengthOverLimit",
       "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(kMaxBodyBytes + 1) +
           "\r\n\r\n",
       413, "", core::CloseReason::kFrameTooLarge},
      {"ChunkOverLimit",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
           [] {
             char size[32];
             std::snprintf(size, sizeof(size), "%zx", kMaxBodyBytes + 1);
             return std::string(size);
           }() +
           "\r\n",
       413, "", core::CloseReason::kFrameTooLarge},
      {"HeadersOverLimit",
       "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(kMaxHeaderBytes, 'a') +
           "\r\n\r\n",
       431, ""},
      {"RequestLineOverLimit",
       "GET /" + std::string(kMaxHeaderBytes, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n", 414, ""},
      {"UnknownExpectation", "GET /plaintext HTTP/1.1\r\nHost: t\r\nExpect: magic\r\n\r\n", 417,
       ""},
      {"UnsupportedTransferCoding",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501,
       ""},
      {"Http2RequestLine", "GET /plaintext HTTP/2.0\r\nHost: t\r\n\r\n", 505, ""},
  };
}

class HttpErrorTest : public HttpIntegrationTest,
                      public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(HttpErrorTest, AnswersStatusThenClosesWithoutAnsweringWhatFollows) {
  const ErrorCase& error = GetParam();
  auto client = Connect();
  // A valid request before the bad one is answered; the one after is not.
  ASSERT_TRUE(client->Send(Get().request + error.request + Get().request,
                           Deadline::In(seconds(10))));
  ExpectExchange(*client, Get());
  auto response = client->ReadResponse(false, Deadline::In(seconds(10)));
  ASSERT_TRUE(response.has_value()) << client->last_error();
  EXPECT_EQ(response->status, error.status) << response->raw;
  EXPECT_EQ(response->Header("Connection"), "close") << response->raw;
  if (error.allow.empty()) {
    EXPECT_FALSE(response->Header("Allow").has_value()) << response->raw;
  } else {
    EXPECT_EQ(response->Header("Allow"), error.allow) << response->raw;
  }
  EXPECT_TRUE(IsImfFixdate(response->Header("Date").value_or(""))) << response->raw;
  EXPECT_TRUE(client->WaitForClose(Deadline::In(seconds(10)))) << client->last_error();
  // The server lingers (reading and discarding) until our FIN; the close is counted then.
  client->Close();
  EXPECT_TRUE(WaitFor([&] { return server_->closed(error.reason) == 1; },
                      Deadline::In(seconds(10))))
      << "close reason " << core::CloseReasonName(error.reason) << " not counted";
}

INSTANTIATE_TEST_SUITE_P(Table, HttpErrorTest, ::testing::ValuesIn(ErrorCases()),
                         [](const auto& info) { return info.param.name; });

TEST_F(HttpIntegrationTest, HeadAtLimitIsServedAndOneByteMoreIs431) {
  // The head counts the request line, the header lines and the final CRLF.
  auto head_of_size = [](size_t size) {
    std::string head = "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Pad: \r\n\r\n";
    return head.insert(head.size() - 4, size - head.size(), 'p');
  };
  {
    auto client = Connect();
    std::string at_limit = head_of_size(kMaxHeaderBytes);
    ASSERT_EQ(at_limit.size(), kMaxHeaderBytes);
    ASSERT_TRUE(client->Send(at_limit, Deadline::In(seconds(10))));
    ExpectExchange(*client, Get());
  }
  auto client = Connect();
  ASSERT_TRUE(client->Send(head_of_size(kMaxHeaderBytes + 1), Deadline::In(seconds(10))));
  auto response = client->ReadResponse(false, Deadline::In(seconds(10)));
  ASSERT_TRUE(response.has_value()) << client->last_error();
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client->WaitForClose(Deadline::In(seconds(10)))) << client->last_error();
}

TEST_F(HttpIntegrationTest, BodyAtLimitIsEchoedAndOneByteMoreIs413) {
  std::mt19937_64 random(11);
  const std::string at_limit = RandomBytes(kMaxBodyBytes, 12);
  {
    auto client = Connect();
    Exchange with_length = PostEcho(at_limit);
    Exchange chunked = PostEchoChunked(at_limit, random);
    ASSERT_TRUE(client->Send(with_length.request + chunked.request, Deadline::In(seconds(10))));
    ExpectExchange(*client, with_length);
    ExpectExchange(*client, chunked);
  }
  for (bool use_chunked : {false, true}) {
    auto client = Connect();
    const std::string over = RandomBytes(kMaxBodyBytes + 1, 13);
    Exchange exchange = use_chunked ? PostEchoChunked(over, random) : PostEcho(over);
    // The server answers before reading the whole body, and may close while we still send: a
    // failed send is fine, the response is what counts.
    client->Send(exchange.request, Deadline::In(seconds(10)));
    auto response = client->ReadResponse(false, Deadline::In(seconds(10)));
    ASSERT_TRUE(response.has_value()) << "chunked=" << use_chunked << ": " << client->last_error();
    EXPECT_EQ(response->status, 413) << "chunked=" << use_chunked;
    EXPECT_EQ(response->Header("Connection"), "close");
  }
}

// --- Keep-alive rules --------------------------------------------------------------------------

TEST_F(HttpIntegrationTest, Http10WithoutKeepAliveIsClosedAfterTheResponse) {
  auto client = Connect();
  ASSERT_TRUE(client->Send("GET /plaintext HTTP/1.0\r\n\r\n" + Get().request,
                           Deadline::In(seconds(10))));
  Exchange expected = Get();
  expected.connection = "close";
  ExpectExchange(*client, expected);
  EXPECT_TRUE(client->WaitForClose(Deadline::In(seconds(10)))) << client->last_error();
  client->Close();
  EXPECT_TRUE(WaitFor([&] { return server_->closed(core::CloseReason::kPeerClosed) == 1; },
                      Deadline::In(seconds(10))));
}

TEST_F(HttpIntegrationTest, Http10WithKeepAliveStaysOpen) {
  auto client = Connect();
  Exchange keep_alive = Ok("GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                           std::string(kHello), "text/plain", "keep-alive");
  Exchange post = Ok("POST /echo HTTP/1.0\r\nConnection: Keep-Alive\r\nContent-Length: 4\r\n\r\nping",
                     "ping", "application/octet-stream", "keep-alive");
  ASSERT_TRUE(client->Send(keep_alive.request, Deadline::In(seconds(10))));
  ExpectExchange(*client, keep_alive);
  // Still open: a second and third request on the same connection.
  ASSERT_TRUE(client->Send(post.request, Deadline::In(seconds(10))));
  ExpectExchange(*client, post);
  Exchange last =
      Ok("GET /plaintext HTTP/1.0\r\n\r\n", std::string(kHello), "text/plain", "close");
  ASSERT_TRUE(client->Send(last.request, Deadline::In(seconds(10))));
  ExpectExchange(*client, last);
  EXPECT_TRUE(client->WaitForClose(Deadline::In(seconds(10)))) << client->last_error();
}

TEST_F(HttpIntegrationTest, Http11ConnectionCloseIsHonouredMidPipeline) {
  auto client = Connect();
  Exchange closing = Ok("GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                        std::string(kHello), "text/plain", "close");
  ASSERT_TRUE(client->Send(Get().request + closing.request + Get().request,
                           Deadline::In(seconds(10))));
  ExpectExchange(*client, Get());
  ExpectExchange(*client, closing);
  EXPECT_TRUE(client->WaitForClose(Deadline::In(seconds(10)))) << client->last_error();
}

TEST_F(HttpIntegrationTest, Http11StaysOpenByDefault) {
  auto client = Connect();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client->Send(Get().request, Deadline::In(seconds(10))));
    ExpectExchange(*client, Get(), static_cast<size_t>(i));
  }
  EXPECT_EQ(server_->active(), 1);
}

TEST_F(HttpIntegrationTest, ClientHalfCloseStillGetsEveryPipelinedResponse) {
  auto client = Connect();
  std::vector<Exchange> exchanges = MixedExchanges(20, 21);
  std::string all;
  for (const Exchange& exchange : exchanges) all += exchange.request;
  ASSERT_TRUE(client->Send(all, Deadline::In(seconds(10))));
  ASSERT_EQ(shutdown(client->fd(), SHUT_WR), 0);
  for (size_t i = 0; i < exchanges.size(); ++i) {
    ASSERT_NO_FATAL_FAILURE(ExpectExchange(*client, exchanges[i], i));
  }
  EXPECT_TRUE(client->WaitForClose(Deadline::In(seconds(10)))) << client->last_error();
}

// --- Slow clients and deadlines ----------------------------------------------------------------

// Sends `bytes` one byte per send(), waiting each time until the server has read that byte, so
// that every byte arrives in a read of its own.
void SendByteByByte(RawClient& client, TestServer& server, std::string_view bytes) {
  uint64_t received = server.bytes_received();
  for (char c : bytes) {
    ASSERT_TRUE(client.Send(std::string_view(&c, 1), Deadline::In(seconds(10))));
    ++received;
    ASSERT_TRUE(WaitFor([&] { return server.bytes_received() >= received; },
                        Deadline::In(seconds(10))))
        << "the server did not read byte " << received;
  }
}

TEST_F(HttpIntegrationTest, SlowClientSendingByteByByteIsServed) {
  auto client = Connect();
  std::mt19937_64 random(31);
  Exchange get = Get();
  Exchange head = Head();
  Exchange post = PostEcho("slow body");
  Exchange chunked = PostEchoChunked("a chunked slow body", random);
  for (const Exchange* exchange : {&get, &head, &post, &chunked}) {
    ASSERT_NO_FATAL_FAILURE(SendByteByByte(*client, *server_, exchange->request));
    ASSERT_NO_FATAL_FAILURE(ExpectExchange(*client, *exchange));
  }
  // Expect: 100-continue, byte by byte: the interim response comes after the head's last byte.
  ASSERT_NO_FATAL_FAILURE(SendByteByByte(
      *client, *server_,
      "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
  auto interim = client->ReadExactly(kContinue.size(), Deadline::In(seconds(10)));
  ASSERT_TRUE(interim.has_value()) << client->last_error();
  EXPECT_EQ(*interim, kContinue);
  ASSERT_NO_FATAL_FAILURE(SendByteByByte(*client, *server_, "xyz"));
  ExpectExchange(*client, PostEcho("xyz"));
}

class HttpDeadlineTest : public ::testing::Test {
 protected:
  // Starts a server with `options` and a client whose first GET is answered: its connection is
  // then idle, not reading.
  void StartAfterOneExchange(const TestServerOptions& options) {
    ASSERT_OK_AND_ASSIGN(started_, TestServer::Start(options));
    client_ = std::make_unique<RawClient>(started_->port(), Deadline::In(seconds(10)));
    ASSERT_TRUE(client_->connected());
    ASSERT_TRUE(client_->Send(Get().request, Deadline::In(seconds(10))));
    ExpectExchange(*client_, Get());
  }

  std::unique_ptr<TestServer> started_;
  std::unique_ptr<RawClient> client_;
};

TEST_F(HttpDeadlineTest, StalledRequestIsClosedAtTheReadDeadline) {
  TestServerOptions options = DefaultOptions();
  options.settings.read_timeout_ns = 300'000'000;
  ASSERT_NO_FATAL_FAILURE(StartAfterOneExchange(options));
  TestServer& server = *started_;
  RawClient& client = *client_;
  // Then half a request.
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc",
                          Deadline::In(seconds(10))));
  EXPECT_TRUE(client.WaitForClose(Deadline::In(seconds(10)))) << client.last_error();
  EXPECT_TRUE(WaitFor([&] { return server.closed(core::CloseReason::kReadTimeout) == 1; },
                      Deadline::In(seconds(10))));
}

TEST_F(HttpDeadlineTest, IdleKeepAliveConnectionIsNotReadTimedOut) {
  TestServerOptions options = DefaultOptions();
  options.settings.read_timeout_ns = 100'000'000;
  options.settings.idle_timeout_ns = 600'000'000;
  ASSERT_NO_FATAL_FAILURE(StartAfterOneExchange(options));
  TestServer& server = *started_;
  RawClient& client = *client_;
  // Between requests the idle deadline applies, not the (shorter) read deadline.
  EXPECT_TRUE(client.WaitForClose(Deadline::In(seconds(10)))) << client.last_error();
  EXPECT_EQ(server.closed(core::CloseReason::kReadTimeout), 0u);
  EXPECT_TRUE(WaitFor([&] { return server.closed(core::CloseReason::kIdleTimeout) == 1; },
                      Deadline::In(seconds(10))));
}

// --- Handlers with other statuses (the admin endpoint's router is built this way) ---------------

TEST(HttpHandlerTest, HandlerStatusesKeepTheConnection) {
  auto router = std::make_shared<http::Router>();
  router->Add(http::Method::kGet, "/unavailable", [](const http::Request&, http::Response& r) {
    r.status = 503;
    r.body = "draining\n";
  });
  router->Add(http::Method::kGet, "/forbidden", [](const http::Request&, http::Response& r) {
    r.status = 403;
    r.body = "no\n";
  });
  router->Add(http::Method::kGet, "/extra", [](const http::Request&, http::Response& r) {
    r.content_type = "text/plain; version=0.0.4";
    r.extra_fields = "Cache-Control: no-store\r\n";
    r.storage = "metric 1\n";
    r.body = r.storage;
  });
  TestServerOptions options = DefaultOptions();
  http::Limits limits = http::LimitsFrom(options.config);
  options.factory = [limits, router](size_t, int) {
    return std::make_unique<http::HttpProtocol>(limits, router);
  };
  ASSERT_OK_AND_ASSIGN(auto started, TestServer::Start(options));
  TestServer& server = *started;
  RawClient client(server.port(), Deadline::In(seconds(10)));
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send("GET /extra HTTP/1.1\r\nHost: t\r\n\r\n"
                          "GET /unavailable HTTP/1.1\r\nHost: t\r\n\r\n"
                          "GET /extra HTTP/1.1\r\nHost: t\r\n\r\n"
                          "GET /forbidden HTTP/1.1\r\nHost: t\r\n\r\n"
                          "GET /extra HTTP/1.1\r\nHost: t\r\n\r\n",
                          Deadline::In(seconds(10))));
  for (int status : {200, 503, 200, 403, 200}) {
    auto response = client.ReadResponse(false, Deadline::In(seconds(10)));
    ASSERT_TRUE(response.has_value()) << client.last_error();
    std::string date = response->Header("Date").value_or("");
    if (status == 200) {
      EXPECT_EQ(response->raw, ExpectedResponse(200, date, "text/plain; version=0.0.4",
                                                "metric 1\n", false, "",
                                                "Cache-Control: no-store\r\n"));
    } else if (status == 503) {
      // A handler's 5xx keeps the connection.
      EXPECT_EQ(response->status, 503);
      EXPECT_FALSE(response->Header("Connection").has_value()) << response->raw;
      EXPECT_EQ(response->body, "draining\n");
    } else {
      // So does a 4xx: the request after it is answered.
      EXPECT_EQ(response->status, 403);
      EXPECT_FALSE(response->Header("Connection").has_value()) << response->raw;
    }
  }
}

TEST_F(HttpIntegrationTest, DateFollowsTheClock) {
  auto client = Connect();
  ASSERT_TRUE(client->Send(Get().request, Deadline::In(seconds(10))));
  auto first = client->ReadResponse(false, Deadline::In(seconds(10)));
  ASSERT_TRUE(first.has_value()) << client->last_error();
  // Wait (polling the clock, bounded) until the wall-clock second is past the first response's,
  // plus a margin: the server reads the coarse clock, which may lag by a scheduler tick.
  const auto first_second = std::chrono::floor<seconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(WaitFor(
      [&] {
        return std::chrono::system_clock::now() >= first_second + milliseconds(1050);
      },
      Deadline::In(seconds(5))));
  ASSERT_TRUE(client->Send(Get().request, Deadline::In(seconds(10))));
  auto second = client->ReadResponse(false, Deadline::In(seconds(10)));
  ASSERT_TRUE(second.has_value()) << client->last_error();
  std::string date1 = first->Header("Date").value_or("");
  std::string date2 = second->Header("Date").value_or("");
  EXPECT_TRUE(IsImfFixdate(date1)) << date1;
  EXPECT_TRUE(IsImfFixdate(date2)) << date2;
  EXPECT_NE(date1, date2);
  // The same bytes otherwise (the cached head is rebuilt for the new second).
  EXPECT_EQ(second->raw, ExpectedResponse(200, date2, "text/plain", kHello, false));
  // The Date is the current time, to the second (within a margin for a slow machine).
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char expected[64];
  std::strftime(expected, sizeof(expected), "%a, %d %b %Y", &tm);
  EXPECT_EQ(date2.substr(0, 16), std::string(expected).substr(0, 16)) << date2;
}

// --- Several workers, several connections --------------------------------------------------------

TEST(HttpWorkersTest, ManyConnectionsOnTwoWorkersPipelineIndependently) {
  TestServerOptions options = DefaultOptions();
  options.workers = 2;
  ASSERT_OK_AND_ASSIGN(auto started, TestServer::Start(options));
  TestServer& server = *started;
  std::vector<std::unique_ptr<RawClient>> clients;
  std::vector<std::vector<Exchange>> exchanges;
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::make_unique<RawClient>(server.port(), Deadline::In(seconds(10))));
    ASSERT_TRUE(clients.back()->connected());
    exchanges.push_back(MixedExchanges(25, 100 + static_cast<uint64_t>(i)));
    std::string all;
    for (const Exchange& exchange : exchanges.back()) all += exchange.request;
    ASSERT_TRUE(clients.back()->Send(all, Deadline::In(seconds(10))));
  }
  for (size_t c = 0; c < clients.size(); ++c) {
    for (size_t i = 0; i < exchanges[c].size(); ++i) {
      ASSERT_NO_FATAL_FAILURE(ExpectExchange(*clients[c], exchanges[c][i], i))
          << "connection " << c;
    }
  }
}

}  // namespace
}  // namespace shoal::testing
