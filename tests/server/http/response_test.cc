#include "server/protocols/http/response.h"

#include <gtest/gtest.h>

#include <string>

#include "server/protocols/http/date_cache.h"

namespace shoal::http {
namespace {

TEST(ResponseTest, ReasonPhrases) {
  EXPECT_EQ(ReasonPhrase(200), "OK");
  EXPECT_EQ(ReasonPhrase(100), "Continue");
  EXPECT_EQ(ReasonPhrase(400), "Bad Request");
  EXPECT_EQ(ReasonPhrase(404), "Not Found");
  EXPECT_EQ(ReasonPhrase(405), "Method Not Allowed");
  EXPECT_EQ(ReasonPhrase(413), "Content Too Large");
  EXPECT_EQ(ReasonPhrase(414), "URI Too Long");
  EXPECT_EQ(ReasonPhrase(417), "Expectation Failed");
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(501), "Not Implemented");
  EXPECT_EQ(ReasonPhrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(ReasonPhrase(299), "");
  EXPECT_EQ(ReasonPhrase(-1), "");
}

TEST(ResponseTest, EveryParserErrorStatusHasAPhrase) {
  for (int status : {400, 413, 414, 417, 431, 501, 505}) {
    EXPECT_FALSE(ReasonPhrase(status).empty()) << status;
  }
}

TEST(ResponseTest, KeepAliveHttp11) {
  std::string out = "previous;";
  AppendResponseHead(out, {.status = 200,
                           .content_type = "text/plain",
                           .content_length = 13,
                           .date = "Sun, 06 Nov 1994 08:49:37 GMT"});
  EXPECT_EQ(out,
            "previous;HTTP/1.1 200 OK\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 13\r\n"
            "\r\n");
}

TEST(ResponseTest, CloseAndHttp10KeepAlive) {
  std::string out;
  AppendResponseHead(out, {.status = 404, .content_length = 0, .keep_alive = false});
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

  out.clear();
  AppendResponseHead(out, {.status = 200,
                           .content_length = 1234567890123,
                           .keep_alive = true,
                           .request_version = Version::kHttp10});
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123\r\nConnection: keep-alive\r\n\r\n");

  out.clear();
  AppendResponseHead(out,
                     {.status = 400, .keep_alive = false, .request_version = Version::kHttp10});
  EXPECT_EQ(out, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(ResponseTest, NoContentLengthFor1xxAnd204) {
  std::string out;
  AppendResponseHead(out, {.status = 204, .content_length = 5});
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\n\r\n");
  out.clear();
  AppendResponseHead(out, {.status = 100});
  EXPECT_EQ(out, kContinueResponse);
}

TEST(ResponseTest, UnknownStatusHasEmptyReason) {
  std::string out;
  AppendResponseHead(out, {.status = 299, .content_length = 2});
  EXPECT_EQ(out, "HTTP/1.1 299 \r\nContent-Length: 2\r\n\r\n");
}

TEST(DateCacheTest, FormatsImfFixdate) {
  char text[kImfFixdateSize];
  const std::pair<int64_t, std::string_view> kCases[] = {
      {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
      {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},  // RFC 9110's example
      {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
      {1709251199, "Thu, 29 Feb 2024 23:59:59 GMT"},
      {1735689600, "Wed, 01 Jan 2025 00:00:00 GMT"},
      {4102444799, "Thu, 31 Dec 2099 23:59:59 GMT"},
      {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"},
  };
  for (const auto& [seconds, expected] : kCases) {
    FormatImfFixdate(seconds, text);
    EXPECT_EQ(std::string_view(text, kImfFixdateSize), expected) << seconds;
  }
}

TEST(DateCacheTest, ReformatsOnlyWhenTheSecondChanges) {
  DateCache cache;
  const std::string_view first = cache.Get(784111777);
  EXPECT_EQ(first, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(cache.Get(784111777).data(), first.data());
  EXPECT_EQ(cache.Get(784111778), "Sun, 06 Nov 1994 08:49:38 GMT");
  EXPECT_EQ(cache.Get(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

}  // namespace
}  // namespace shoal::http
