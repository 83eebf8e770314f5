// The HTTP pieces behind the test endpoints and the RFC 9110 list syntax, without sockets: the
// /bytes pattern, prefix routes, each endpoint's answers and bounds, and Transfer-Encoding and
// Connection as lists (empty elements ignored, OWS, case-insensitive).
#include <gtest/gtest.h>

#include <string>

#include "server/protocols/http/request_parser.h"
#include "server/protocols/http/router.h"
#include "server/protocols/http/test_endpoints.h"
#include "server/protocols/http/wire.h"

namespace shoal::http {
namespace {

TEST(TestBytesTest, PatternIsHexOffsetRecords) {
  std::string body;
  AppendTestBytes(0, 40, body);
  EXPECT_EQ(body, "000000000000000\n000000000000010\n00000000");
  std::string middle;
  AppendTestBytes(0x123456789, 20, middle);
  EXPECT_EQ(middle, "456780\n0000001234567");
}

TEST(TestBytesTest, AnyPieceVerifiesFromItsOffset) {
  std::string body;
  AppendTestBytes(0, 1000, body);
  for (size_t offset : {0u, 1u, 15u, 16u, 17u, 500u, 999u}) {
    EXPECT_EQ(FindTestBytesMismatch(offset, std::string_view(body).substr(offset)),
              std::string_view::npos)
        << offset;
  }
  std::string moved = body;
  moved.erase(100, 1);
  const size_t mismatch = FindTestBytesMismatch(0, moved);
  EXPECT_GE(mismatch, 100u);
  EXPECT_LT(mismatch, 112u) << "a lost byte shows within its record";
  EXPECT_NE(FindTestBytesMismatch(16, std::string_view(body).substr(0, 64)),
            std::string_view::npos)
      << "a record at the wrong offset shows";
}

Request Get(std::string_view target) {
  Request request;
  request.method = Method::kGet;
  request.target = target;
  return request;
}

Response Dispatch(std::string_view target, EndpointLimits limits = {1000, 5'000'000'000}) {
  Router router;
  AddTestEndpoints(router);
  Response response;
  response.limits = limits;
  router.Dispatch(Get(target), response);
  return response;
}

TEST(TestEndpointsTest, BytesAnswersThePatternWithinTheLimit) {
  Response response = Dispatch("/bytes/100");
  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(response.body.size(), 100u);
  EXPECT_EQ(FindTestBytesMismatch(0, response.body), std::string_view::npos);
  EXPECT_EQ(Dispatch("/bytes/0").body, "");
  EXPECT_EQ(Dispatch("/bytes/1000?x=1").body.size(), 1000u) << "the query is not the count";
  EXPECT_EQ(Dispatch("/bytes/1001").status, 400);
  EXPECT_EQ(Dispatch("/bytes/abc").status, 400);
  EXPECT_EQ(Dispatch("/bytes/-1").status, 400);
  EXPECT_EQ(Dispatch("/bytes/").status, 400);
  EXPECT_EQ(Dispatch("/bytes/99999999999999999999999").status, 400);
}

TEST(TestEndpointsTest, StatusAnswersTheCode) {
  Response response = Dispatch("/status/503");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body, "Service Unavailable\n");
  EXPECT_EQ(Dispatch("/status/204").body, "");
  EXPECT_EQ(Dispatch("/status/304").body, "");
  EXPECT_EQ(Dispatch("/status/418").status, 418);
  EXPECT_EQ(Dispatch("/status/599").status, 599);
  for (const char* bad : {"/status/199", "/status/600", "/status/abc", "/status/2000",
                          "/status/", "/status/+20"}) {
    EXPECT_EQ(Dispatch(bad).status, 400) << bad;
  }
}

TEST(TestEndpointsTest, DelayAsksForALaterResponseWithinTheLimit) {
  Response response = Dispatch("/delay/250ms");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.delay_ns, 250'000'000);
  EXPECT_EQ(response.body, "delayed 250ms\n");
  EXPECT_EQ(Dispatch("/delay/5s").delay_ns, 5'000'000'000);
  Response over = Dispatch("/delay/6s");
  EXPECT_EQ(over.status, 400);
  EXPECT_EQ(over.delay_ns, 0);
  EXPECT_EQ(over.body, "DURATION in /delay/DURATION is above limits.max_delay (5s)\n");
  EXPECT_EQ(Dispatch("/delay/soon").status, 400);
  EXPECT_EQ(Dispatch("/delay/-1s").status, 400);
}

TEST(TestEndpointsTest, OtherMethodsOnAPrefixAre405) {
  Router router;
  AddTestEndpoints(router);
  Request post = Get("/bytes/10");
  post.method = Method::kPost;
  Response response;
  router.Dispatch(post, response);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.extra_fields, "Allow: GET, HEAD\r\n");
  Request head = Get("/bytes/10");
  head.method = Method::kHead;
  Response head_response;
  head_response.limits.max_body_bytes = 10;
  router.Dispatch(head, head_response);
  EXPECT_EQ(head_response.status, 200);
  Response unknown;
  router.Dispatch(Get("/bytes"), unknown);
  EXPECT_EQ(unknown.status, 404) << "the prefix includes its final slash";
}

// Parses one request; the request (valid until the parser is destroyed) or the error status.
struct Parsed {
  ParseStatus status;
  int error_status;
  bool chunked;
  bool keep_alive;
  std::string body;
};

Parsed Parse(const std::string& head_fields, const std::string& body = "") {
  RequestParser parser;
  std::string decoded;
  const std::string input = "POST /echo HTTP/1.1\r\nHost: a\r\n" + head_fields + "\r\n" + body;
  ParseResult result = parser.Parse(input, decoded);
  if (result.status == ParseStatus::kHeadersComplete) result = parser.Parse(input, decoded);
  return {result.status, result.error_status, parser.request().chunked,
          parser.request().keep_alive, std::string(parser.request().body)};
}

TEST(HttpListSyntaxTest, TransferEncodingIgnoresEmptyElementsAndCase) {
  for (const char* value : {",chunked", "chunked,", " , Chunked ,", ",,\tCHUNKED"}) {
    Parsed parsed = Parse(std::string("Transfer-Encoding: ") + value + "\r\n", "2\r\nhi\r\n0\r\n\r\n");
    EXPECT_EQ(parsed.status, ParseStatus::kComplete) << value;
    EXPECT_TRUE(parsed.chunked) << value;
    EXPECT_EQ(parsed.body, "hi") << value;
  }
  EXPECT_EQ(Parse("Transfer-Encoding: gzip, ,chunked\r\n", "0\r\n\r\n").error_status, 501);
  EXPECT_EQ(Parse("Transfer-Encoding: ,\r\n").error_status, 400) << "no coding at all";
  EXPECT_EQ(Parse("Transfer-Encoding: chunked,,gzip\r\n").error_status, 400);
  EXPECT_EQ(Parse("Transfer-Encoding: chunked, ,chunked\r\n").error_status, 400);
}

TEST(HttpListSyntaxTest, ConnectionIgnoresEmptyElementsAndCase) {
  EXPECT_FALSE(Parse("Connection: , Close\r\nContent-Length: 0\r\n").keep_alive);
  EXPECT_FALSE(Parse("Connection: keep-alive,,close\r\nContent-Length: 0\r\n").keep_alive);
  EXPECT_TRUE(Parse("Connection: ,\r\nContent-Length: 0\r\n").keep_alive);
}

}  // namespace
}  // namespace shoal::http
