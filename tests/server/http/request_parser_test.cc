#include "server/protocols/http/request_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shoal::http {
namespace {

using namespace std::string_view_literals;
using Fields = std::vector<std::pair<std::string, std::string>>;

// An owning copy of a parsed request, comparable across feeding schedules.
struct Parsed {
  std::string method_name = {};
  Method method = Method::kOther;
  std::string target = {};
  Version version = Version::kHttp11;
  Fields headers = {};
  std::optional<uint64_t> content_length = {};
  bool chunked = false;
  bool keep_alive = true;
  bool expect_continue = false;
  std::string body = {};
  size_t consumed = 0;

  bool operator==(const Parsed&) const = default;
};

void PrintTo(const Parsed& p, std::ostream* os) {
  *os << "{" << p.method_name << " " << p.target << " v" << static_cast<int>(p.version)
      << " headers=[";
  for (const auto& [name, value] : p.headers) *os << name << ": " << value << "; ";
  *os << "] cl=" << (p.content_length ? std::to_string(*p.content_length) : "none")
      << " chunked=" << p.chunked << " keep_alive=" << p.keep_alive
      << " expect_continue=" << p.expect_continue << " body=\"" << p.body
      << "\" consumed=" << p.consumed << "}";
}

Parsed Snapshot(const Request& request, size_t consumed) {
  Parsed parsed{.method_name = std::string(request.method_name),
                .method = request.method,
                .target = std::string(request.target),
                .version = request.version,
                .headers = {},
                .content_length = request.content_length,
                .chunked = request.chunked,
                .keep_alive = request.keep_alive,
                .expect_continue = request.expect_continue,
                .body = std::string(request.body),
                .consumed = consumed};
  for (const Header& header : request.headers) {
    parsed.headers.emplace_back(std::string(header.name), std::string(header.value));
  }
  return parsed;
}

struct Outcome {
  std::vector<Parsed> requests = {};
  int error_status = 0;
  size_t unconsumed = 0;  // 0 after an error: how much had arrived by then depends on the split

  bool operator==(const Outcome&) const = default;
};

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << "{error=" << o.error_status << " unconsumed=" << o.unconsumed << " requests=[";
  for (const Parsed& p : o.requests) {
    PrintTo(p, os);
    *os << " ";
  }
  *os << "]}";
}

// Plays a connection's caller: bytes arrive in pieces ending at `cuts`; after each arrival it
// parses until the parser needs more, dropping each complete request's bytes. Every call sees
// the unconsumed bytes at a new address and the previous copy is overwritten, as a buffer that
// grows or compacts would do, so views left pointing at old memory show up as wrong values.
class Connection {
 public:
  explicit Connection(const Limits& limits = {}) : parser_(limits) {}

  // With bytes arriving one at a time, every request with body framing must report its head
  // before it completes.
  void ExpectHeadReports() { expect_head_reports_ = true; }

  Outcome Feed(std::string_view data, const std::vector<size_t>& cuts) {
    size_t fed = 0;
    for (size_t cut : cuts) {
      pending_.append(data.substr(fed, cut - fed));
      fed = cut;
      if (!ParseAvailable()) break;
    }
    if (outcome_.error_status == 0) outcome_.unconsumed = pending_.size();
    return outcome_;
  }

  RequestParser& parser() { return parser_; }

 private:
  std::string_view Place() {
    ++calls_;
    std::string& buffer = buffers_[calls_ % 2];
    const size_t offset = 1 + calls_ % 7;
    buffer.assign(offset, '#');
    buffer.append(pending_);
    return std::string_view(buffer).substr(offset);
  }

  void Poison() {
    std::string& buffer = buffers_[calls_ % 2];
    std::fill(buffer.begin(), buffer.end(), '\xEE');
  }

  // Returns false once the parser reported an error.
  bool ParseAvailable() {
    while (true) {
      const ParseResult result = parser_.Parse(Place(), body_);
      switch (result.status) {
        case ParseStatus::kNeedMore:
          DropPartOfRequest(result.consumed);
          Poison();
          return true;
        case ParseStatus::kHeadersComplete:
          DropPartOfRequest(result.consumed);
          EXPECT_FALSE(head_.has_value()) << "kHeadersComplete reported twice";
          head_ = Snapshot(parser_.request(), 0);
          Poison();
          break;
        case ParseStatus::kComplete: {
          Parsed parsed = Snapshot(parser_.request(), request_consumed_ + result.consumed);
          request_consumed_ = 0;
          Poison();
          if (head_) {
            Parsed head_part = parsed;
            head_part.body.clear();
            head_part.consumed = 0;
            EXPECT_EQ(*head_, head_part) << "head changed between kHeadersComplete and kComplete";
          }
          if (expect_head_reports_ && (parsed.chunked || parsed.content_length.value_or(0) > 0)) {
            EXPECT_TRUE(head_.has_value()) << "no kHeadersComplete for " << parsed.target;
          }
          head_.reset();
          EXPECT_LE(result.consumed, pending_.size());
          pending_.erase(0, result.consumed);
          outcome_.requests.push_back(std::move(parsed));
          break;
        }
        case ParseStatus::kError:
          EXPECT_EQ(result.consumed, 0u);
          outcome_.error_status = result.error_status;
          Poison();
          return false;
      }
    }
  }

  // Before a request completes only a streamed (chunked) body may be consumed.
  void DropPartOfRequest(size_t consumed) {
    if (consumed == 0) return;
    EXPECT_TRUE(parser_.mid_request()) << "consumed " << consumed << " bytes outside a chunked body";
    EXPECT_LE(consumed, pending_.size());
    pending_.erase(0, consumed);
    request_consumed_ += consumed;
  }

  RequestParser parser_;
  std::string body_;
  std::string pending_;
  size_t request_consumed_ = 0;
  std::string buffers_[2];
  size_t calls_ = 0;
  std::optional<Parsed> head_;
  bool expect_head_reports_ = false;
  Outcome outcome_;
};

Outcome FeedWhole(std::string_view data, const Limits& limits = {}) {
  return Connection(limits).Feed(data, {0, data.size()});
}

// The outcome of feeding `data` in one piece, after checking that every two-piece split and
// byte-by-byte arrival produce the same outcome.
Outcome FeedAllSplits(std::string_view data, const Limits& limits = {}) {
  const Outcome whole = FeedWhole(data, limits);
  for (size_t split = 1; split < data.size(); ++split) {
    EXPECT_EQ(Connection(limits).Feed(data, {0, split, data.size()}), whole)
        << "split at " << split;
  }
  std::vector<size_t> bytewise(data.size() + 1);
  for (size_t i = 0; i <= data.size(); ++i) bytewise[i] = i;
  Connection bytewise_connection(limits);
  bytewise_connection.ExpectHeadReports();
  EXPECT_EQ(bytewise_connection.Feed(data, bytewise), whole) << "byte by byte";
  return whole;
}

Parsed Get(std::string target, Fields headers, size_t consumed) {
  return {.method_name = "GET",
          .method = Method::kGet,
          .target = std::move(target),
          .headers = std::move(headers),
          .consumed = consumed};
}

// ---------------------------------------------------------------------------------------------
// Valid requests, fed at every split point.

constexpr std::string_view kSimpleGet =
    "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\nAccept: */*\r\n\r\n";

TEST(RequestParserTest, SimpleGet) {
  const Outcome outcome = FeedAllSplits(kSimpleGet);
  EXPECT_EQ(outcome.error_status, 0);
  EXPECT_EQ(outcome.unconsumed, 0u);
  EXPECT_THAT(outcome.requests, testing::ElementsAre(Get(
                                    "/plaintext", {{"Host", "localhost:8080"}, {"Accept", "*/*"}},
                                    kSimpleGet.size())));
}

TEST(RequestParserTest, HeadWithOptionalWhitespaceAndOddCase) {
  constexpr std::string_view kInput =
      "HEAD /index.html?q=1&r=%20 HTTP/1.1\r\n"
      "hOsT:   example.com  \r\n"
      "User-Agent:\tcurl/8.0\t\r\n"
      "X-Empty:\r\n"
      "X-Spaces:    \r\n"
      "X-Inner: a  b\tc\r\n"
      "X-Obs-Text: caf\xC3\xA9\r\n"
      "\r\n";
  const Outcome outcome = FeedAllSplits(kInput);
  ASSERT_EQ(outcome.error_status, 0);
  EXPECT_THAT(outcome.requests,
              testing::ElementsAre(Parsed{.method_name = "HEAD",
                                          .method = Method::kHead,
                                          .target = "/index.html?q=1&r=%20",
                                          .headers = {{"hOsT", "example.com"},
                                                      {"User-Agent", "curl/8.0"},
                                                      {"X-Empty", ""},
                                                      {"X-Spaces", ""},
                                                      {"X-Inner", "a  b\tc"},
                                                      {"X-Obs-Text", "caf\xC3\xA9"}},
                                          .consumed = kInput.size()}));
}

constexpr std::string_view kPostWithLength =
    "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n"
    "Hello, World!";

TEST(RequestParserTest, PostWithContentLength) {
  const Outcome outcome = FeedAllSplits(kPostWithLength);
  ASSERT_EQ(outcome.error_status, 0);
  EXPECT_THAT(
      outcome.requests,
      testing::ElementsAre(Parsed{
          .method_name = "POST",
          .method = Method::kPost,
          .target = "/echo",
          .headers = {{"Host", "a"}, {"Content-Type", "text/plain"}, {"Content-Length", "13"}},
          .content_length = 13,
          .body = "Hello, World!",
          .consumed = kPostWithLength.size()}));
}

constexpr std::string_view kChunkedPost =
    "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
    "5;name=value\r\nHello\r\n"
    "7 ; quoted=\"a \\\"b\\\" c\" ;flag\t;x = y\r\n, World\r\n"
    "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
    "00a\r\n0123456789\r\n"
    "0;last\r\nX-Checksum: abc\r\nX-Trailer-2:  x y \r\n\r\n";

TEST(RequestParserTest, ChunkedPostWithExtensionsAndTrailers) {
  const Outcome outcome = FeedAllSplits(kChunkedPost);
  ASSERT_EQ(outcome.error_status, 0);
  EXPECT_THAT(outcome.requests, testing::ElementsAre(Parsed{
                                    .method_name = "POST",
                                    .method = Method::kPost,
                                    .target = "/upload",
                                    .headers = {{"Host", "a"}, {"Transfer-Encoding", "Chunked"}},
                                    .chunked = true,
                                    .body = "Hello, Worldabcdefghijklmnopqrstuvwxyz0123456789",
                                    .consumed = kChunkedPost.size()}));
}

TEST(RequestParserTest, ChunkedWithEmptyBody) {
  constexpr std::string_view kInput =
      "PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  const Outcome outcome = FeedAllSplits(kInput);
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_TRUE(outcome.requests[0].chunked);
  EXPECT_EQ(outcome.requests[0].body, "");
  EXPECT_EQ(outcome.requests[0].consumed, kInput.size());
}

TEST(RequestParserTest, Http10ClosesByDefault) {
  constexpr std::string_view kInput = "GET / HTTP/1.0\r\n\r\n";
  const Outcome outcome = FeedAllSplits(kInput);
  EXPECT_THAT(outcome.requests, testing::ElementsAre(Parsed{.method_name = "GET",
                                                            .method = Method::kGet,
                                                            .target = "/",
                                                            .version = Version::kHttp10,
                                                            .keep_alive = false,
                                                            .consumed = kInput.size()}));
}

TEST(RequestParserTest, Http10KeepAlive) {
  constexpr std::string_view kInput =
      "GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\nUser-Agent: ab\r\n\r\n";
  const Outcome outcome = FeedAllSplits(kInput);
  EXPECT_THAT(outcome.requests, testing::ElementsAre(Parsed{
                                    .method_name = "GET",
                                    .method = Method::kGet,
                                    .target = "/a",
                                    .version = Version::kHttp10,
                                    .headers = {{"Connection", "Keep-Alive"}, {"User-Agent", "ab"}},
                                    .keep_alive = true,
                                    .consumed = kInput.size()}));
}

TEST(RequestParserTest, ConnectionCloseAmongOtherTokens) {
  constexpr std::string_view kInput =
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade,, CLOSE\r\n\r\n";
  const Outcome outcome = FeedAllSplits(kInput);
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_FALSE(outcome.requests[0].keep_alive);
}

TEST(RequestParserTest, ExpectContinue) {
  constexpr std::string_view kInput =
      "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\nabcd";
  const Outcome outcome = FeedAllSplits(kInput);
  EXPECT_THAT(outcome.requests,
              testing::ElementsAre(Parsed{
                  .method_name = "PUT",
                  .method = Method::kPut,
                  .target = "/f",
                  .headers = {{"Host", "a"}, {"Expect", "100-Continue"}, {"Content-Length", "4"}},
                  .content_length = 4,
                  .expect_continue = true,
                  .body = "abcd",
                  .consumed = kInput.size()}));
}

TEST(RequestParserTest, PipelinedRequestsInOneBuffer) {
  constexpr std::string_view kClosing =
      "GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  std::string input;
  input.append(kSimpleGet).append(kPostWithLength).append(kChunkedPost).append(kSimpleGet);
  input.append(kClosing);

  std::vector<Parsed> expected;
  for (std::string_view one : {kSimpleGet, kPostWithLength, kChunkedPost, kSimpleGet, kClosing}) {
    const Outcome alone = FeedWhole(one);
    ASSERT_EQ(alone.requests.size(), 1u);
    expected.push_back(alone.requests[0]);
  }
  EXPECT_FALSE(expected.back().keep_alive);

  const Outcome outcome = FeedAllSplits(input);
  EXPECT_EQ(outcome.error_status, 0);
  EXPECT_EQ(outcome.unconsumed, 0u);
  EXPECT_EQ(outcome.requests, expected);
}

TEST(RequestParserTest, PipelinedRequestFollowedByPartialOne) {
  std::string input(kSimpleGet);
  input.append("GET /next HTTP/1.1\r\nHo");
  const Outcome outcome = FeedAllSplits(input);
  EXPECT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.unconsumed, input.size() - kSimpleGet.size());
}

TEST(RequestParserTest, EmptyLinesBeforeRequestLineAreSkipped) {
  constexpr std::string_view kInput = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const Outcome outcome = FeedAllSplits(kInput);
  EXPECT_THAT(outcome.requests, testing::ElementsAre(Get("/", {{"Host", "a"}}, kInput.size())));
}

TEST(RequestParserTest, HigherMinorVersionIsServedAsHttp11) {
  const Outcome outcome = FeedAllSplits("GET / HTTP/1.2\r\nHost: a\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].version, Version::kHttp11);
  EXPECT_TRUE(outcome.requests[0].keep_alive);
}

TEST(RequestParserTest, MethodsAndTargetForms) {
  const std::pair<std::string_view, Method> kMethods[] = {
      {"GET", Method::kGet},        {"HEAD", Method::kHead},       {"POST", Method::kPost},
      {"PUT", Method::kPut},        {"DELETE", Method::kDelete},   {"OPTIONS", Method::kOptions},
      {"PATCH", Method::kPatch},    {"CONNECT", Method::kConnect}, {"TRACE", Method::kTrace},
      {"PROPFIND", Method::kOther}, {"get", Method::kOther},       {"GETS", Method::kOther},
      {"M-SEARCH", Method::kOther},
  };
  for (const auto& [name, method] : kMethods) {
    const std::string input = std::string(name) + " * HTTP/1.1\r\nHost: a\r\n\r\n";
    const Outcome outcome = FeedWhole(input);
    ASSERT_EQ(outcome.requests.size(), 1u) << name;
    EXPECT_EQ(outcome.requests[0].method, method) << name;
    EXPECT_EQ(outcome.requests[0].method_name, name);
  }
  const Outcome absolute = FeedWhole("GET http://example.com:80/x?y HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(absolute.requests.size(), 1u);
  EXPECT_EQ(absolute.requests[0].target, "http://example.com:80/x?y");
}

TEST(RequestParserTest, HostValues) {
  for (std::string_view host :
       {"", "example.com", "[::1]:8080", "127.0.0.1:80", "xn--bcher-kva.de"}) {
    const std::string input = "GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
    EXPECT_EQ(FeedWhole(input).error_status, 0) << host;
  }
}

TEST(RequestParserTest, GetWithContentLengthBodyAndZeroLength) {
  const Outcome with_body =
      FeedAllSplits("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz");
  ASSERT_EQ(with_body.requests.size(), 1u);
  EXPECT_EQ(with_body.requests[0].body, "xyz");

  const Outcome empty = FeedAllSplits("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 000\r\n\r\n");
  ASSERT_EQ(empty.requests.size(), 1u);
  EXPECT_EQ(empty.requests[0].content_length, 0u);
  EXPECT_EQ(empty.requests[0].body, "");
}

TEST(RequestParserTest, FindHeaderIsCaseInsensitive) {
  RequestParser parser;
  std::string body;
  const ParseResult result = parser.Parse(
      "GET / HTTP/1.1\r\nHost: a\r\nX-Dup: 1\r\nx-dup: 2\r\nContent-Type: text/html\r\n\r\n", body);
  ASSERT_EQ(result.status, ParseStatus::kComplete);
  const Request& request = parser.request();
  ASSERT_NE(request.FindHeader("content-type"), nullptr);
  EXPECT_EQ(request.FindHeader("CONTENT-TYPE")->value, "text/html");
  EXPECT_EQ(request.FindHeader("x-DUP")->value, "1");
  EXPECT_EQ(request.FindHeader("Content-Typ"), nullptr);
  EXPECT_EQ(request.FindHeader("Accept"), nullptr);
}

TEST(RequestParserTest, PipelinedPairsParseAsTheyDoAlone) {
  // No state may leak from one request into the next: every request parses the same after
  // any other as on a fresh parser. The head limit fits one request's chunk extensions and
  // trailers but not two.
  const Limits limits{.max_header_bytes = 100};
  const std::string_view kFirsts[] = {
      kSimpleGet,
      kPostWithLength,
      kChunkedPost,
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\ny\r\n0\r\n\r\n",
  };
  const std::string_view kSeconds[] = {
      kSimpleGet,
      kPostWithLength,
      kChunkedPost,
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
      "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nxy",
      "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",  // 400: no Host
      "GET / HTTP/1.1\r\nHost: a\r\nX-1: 1\r\nX-2: 2\r\nX-3: 3\r\nX-4: 4\r\nX-5: 5\r\n\r\n",
  };
  for (std::string_view first : kFirsts) {
    const Outcome alone = FeedWhole(first, limits);
    ASSERT_EQ(alone.requests.size(), 1u) << first;
    for (std::string_view second : kSeconds) {
      Outcome expected = FeedWhole(second, limits);
      expected.requests.insert(expected.requests.begin(), alone.requests[0]);
      const std::string pair = std::string(first) + std::string(second);
      EXPECT_EQ(FeedAllSplits(pair, limits), expected) << first << second;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Call-level behaviour.

TEST(RequestParserTest, ExpectContinueReportsHeadBeforeBody) {
  constexpr std::string_view kHead =
      "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
  RequestParser parser;
  std::string body;
  std::string buffer(kHead);

  ParseResult result = parser.Parse(buffer, body);
  ASSERT_EQ(result.status, ParseStatus::kHeadersComplete);
  EXPECT_TRUE(parser.request().expect_continue);
  EXPECT_EQ(parser.request().content_length, 5u);
  EXPECT_EQ(parser.request().target, "/upload");

  EXPECT_EQ(parser.Parse(buffer, body).status, ParseStatus::kNeedMore);
  buffer += "he";
  EXPECT_EQ(parser.Parse(buffer, body).status, ParseStatus::kNeedMore);
  buffer += "llo";
  buffer.shrink_to_fit();
  result = parser.Parse(buffer, body);
  ASSERT_EQ(result.status, ParseStatus::kComplete);
  EXPECT_EQ(result.consumed, buffer.size());
  EXPECT_EQ(parser.request().body, "hello");
  EXPECT_EQ(parser.request().target, "/upload");
}

TEST(RequestParserTest, EveryRequestReportsItsHead) {
  constexpr std::string_view kHead =
      "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  RequestParser parser;
  std::string body;
  for (int i = 0; i < 3; ++i) {
    std::string buffer(kHead);
    ASSERT_EQ(parser.Parse(buffer, body).status, ParseStatus::kHeadersComplete) << i;
    buffer += "ok";
    ASSERT_EQ(parser.Parse(buffer, body).status, ParseStatus::kComplete) << i;
  }
}

TEST(RequestParserTest, CompleteRequestInOneCallSkipsHeadersComplete) {
  RequestParser parser;
  std::string body;
  EXPECT_EQ(parser.Parse(kPostWithLength, body).status, ParseStatus::kComplete);
}

TEST(RequestParserTest, Http10IgnoresExpect) {
  const Outcome outcome =
      FeedWhole("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx");
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_FALSE(outcome.requests[0].expect_continue);
  EXPECT_EQ(FeedWhole("GET / HTTP/1.0\r\nExpect: something-else\r\n\r\n").error_status, 0);
}

TEST(RequestParserTest, ErrorIsStickyUntilReset) {
  RequestParser parser;
  std::string body;
  EXPECT_EQ(parser.Parse("GET / HTTP/1.1\nHost: a\r\n\r\n", body).error_status, 400);
  const ParseResult again = parser.Parse(kSimpleGet, body);
  EXPECT_EQ(again.status, ParseStatus::kError);
  EXPECT_EQ(again.error_status, 400);
  parser.Reset();
  EXPECT_EQ(parser.Parse(kSimpleGet, body).status, ParseStatus::kComplete);
}

TEST(RequestParserTest, ResetAbandonsPartialRequest) {
  RequestParser parser;
  std::string body;
  EXPECT_EQ(parser.Parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Len", body).status,
            ParseStatus::kNeedMore);
  parser.Reset();
  const ParseResult result = parser.Parse(kSimpleGet, body);
  ASSERT_EQ(result.status, ParseStatus::kComplete);
  EXPECT_EQ(parser.request().target, "/plaintext");
  EXPECT_EQ(parser.request().headers.size(), 2u);
}

TEST(RequestParserTest, NextRequestStartsFresh) {
  RequestParser parser;
  std::string body;
  ASSERT_EQ(parser.Parse(kChunkedPost, body).status, ParseStatus::kComplete);
  ASSERT_EQ(parser.Parse("GET / HTTP/1.0\r\n\r\n", body).status, ParseStatus::kComplete);
  const Request& request = parser.request();
  EXPECT_FALSE(request.chunked);
  EXPECT_TRUE(request.headers.empty());
  EXPECT_EQ(request.body, "");
  EXPECT_FALSE(request.keep_alive);
}

TEST(RequestParserTest, SetLimitsAppliesToNextRequest) {
  RequestParser parser(Limits{.max_body_bytes = 4});
  std::string body;
  ASSERT_EQ(parser.Parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n", body).status,
            ParseStatus::kHeadersComplete);
  parser.set_limits(Limits{.max_body_bytes = 3, .max_headers = 100});
  EXPECT_EQ(parser.limits().max_body_bytes, 4u);
  EXPECT_EQ(
      parser.Parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd", body).status,
      ParseStatus::kComplete);
  const ParseResult next =
      parser.Parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd", body);
  EXPECT_EQ(next.error_status, 413);
  EXPECT_EQ(parser.limits().max_body_bytes, 3u);
  EXPECT_EQ(parser.limits().max_headers, 100u);
}

TEST(RequestParserTest, ChunkedBodyReusesCallerString) {
  RequestParser parser;
  std::string body = "stale";
  ASSERT_EQ(parser.Parse(kChunkedPost, body).status, ParseStatus::kComplete);
  EXPECT_EQ(parser.request().body.data(), body.data());
  EXPECT_EQ(body, "Hello, Worldabcdefghijklmnopqrstuvwxyz0123456789");
  const size_t capacity = body.capacity();
  const char* data = body.data();
  ASSERT_EQ(parser.Parse(kChunkedPost, body).status, ParseStatus::kComplete);
  EXPECT_EQ(body.capacity(), capacity);
  EXPECT_EQ(body.data(), data);
}

// ---------------------------------------------------------------------------------------------
// Malformed requests and the exact status for each.

struct Malformed {
  std::string_view name;
  std::string_view input;
  int status;
};

const Malformed kMalformed[] = {
    // Request line.
    {"lowercase protocol", "GET / http/1.1\r\nHost: a\r\n\r\n", 400},
    {"missing version", "GET /\r\nHost: a\r\n\r\n", 400},
    {"missing target", "GET HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"only method", "GET\r\n\r\n", 400},
    {"two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"two spaces before version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
    {"leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"control char in target", "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"DEL in target", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"non-ascii in target", "GET /caf\xC3\xA9 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"method with separator", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"method with slash", "GET/ / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"version with two minor digits", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
    {"version without minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", 400},
    {"version with two major digits", "GET / HTTP/11.1\r\nHost: a\r\n\r\n", 400},
    {"version with letters", "GET / HTTP/x.y\r\nHost: a\r\n\r\n", 400},
    {"nul in request line", "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},
    // Line endings.
    {"bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
    {"bare LF after header", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
    {"bare LF ending head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400},
    {"bare LF only", "GET / HTTP/1.1\nHost: a\n\n", 400},
    {"bare LF before request line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"bare CR inside header value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400},
    {"bare CR line endings", "GET / HTTP/1.1\rHost: a\r\r", 400},
    {"bare CR after request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", 400},
    {"CR CR LF", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400},
    // Header fields.
    {"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
    {"tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400},
    {"space in name", "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400},
    {"empty name", "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", 400},
    {"missing colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400},
    {"separator in name", "GET / HTTP/1.1\r\nHost: a\r\nX[1]: x\r\n\r\n", 400},
    {"non-ascii in name", "GET / HTTP/1.1\r\nHost: a\r\nX\xC3\xA9: x\r\n\r\n", 400},
    {"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n  c\r\n\r\n", 400},
    {"obs-fold with tab", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", 400},
    {"first field line indented", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
    {"control char in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", 400},
    {"escape in value", "GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[0m\r\n\r\n", 400},
    {"DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fz\r\n\r\n", 400},
    {"nul in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0z\r\n\r\n"sv, 400},
    // Host.
    {"missing host in 1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400},
    {"duplicate host", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
    {"duplicate host in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400},
    {"host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
    {"host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
    {"host with userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400},
    // Connection.
    {"connection with non-token", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\"\r\n\r\n", 400},
    {"connection with inner space", "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep alive\r\n\r\n",
     400},
    // Content-Length.
    {"content-length with sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx", 400},
    {"content-length negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\nx", 400},
    {"content-length hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x1\r\n\r\nx", 400},
    {"content-length empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400},
    {"content-length inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n",
     400},
    {"content-length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx", 400},
    {"content-length duplicate same value",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400},
    {"content-length duplicate different value",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\nxy", 400},
    {"content-length overflow",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", 400},
    {"content-length with transfer-encoding",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
     "0\r\n\r\n",
     400},
    {"transfer-encoding with content-length",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
     "0\r\n\r\n",
     400},
    // Transfer-Encoding.
    {"unknown coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
    {"chunked not final", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
     400},
    {"chunked twice in list",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
    {"transfer-encoding twice",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
     "\r\n0\r\n\r\n",
     400},
    {"transfer-encoding empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400},
    {"chunked with parameter",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", 400},
    {"transfer-encoding in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     400},
    {"other coding before chunked",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
    {"two codings before chunked",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: deflate;x=1 , gzip,chunked\r\n\r\n", 501},
    // Chunked framing.
    {"chunk size missing", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
     400},
    {"chunk size not hex",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", 400},
    {"chunk size with sign",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
     400},
    {"chunk size 0x prefix",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
     400},
    {"chunk size with trailing space",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
     400},
    {"chunk size of 17 digits",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n000000000000000005\r\nhello"
     "\r\n0\r\n\r\n",
     400},
    {"chunk size overflowing 64 bits",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", 400},
    {"chunk size line with bare LF",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400},
    {"chunk data longer than size",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello!\r\n0\r\n\r\n",
     400},
    {"chunk data without CRLF",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello0\r\n\r\n", 400},
    {"chunk data with bare LF",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", 400},
    {"chunk data with CR then other byte",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\rx0\r\n\r\n", 400},
    {"chunk data with CR only",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r0\r\n\r\n", 400},
    {"extension without name",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n",
     400},
    {"extension without semicolon",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n",
     400},
    {"extension with empty value",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\r\nhello\r\n0\r\n\r\n",
     400},
    {"extension with unterminated quote",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
     "chunked\r\n\r\n5;a=\"x\r\nhello\r\n0\r\n\r\n",
     400},
    {"extension with control char",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
     "chunked\r\n\r\n5;a=\"\x01\"\r\nhello\r\n0\r\n"
     "\r\n",
     400},
    {"extension with bare CR",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n",
     400},
    {"extension with trailing space",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a \r\nhello\r\n0\r\n\r\n",
     400},
    {"trailer without colon",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T\r\n\r\n", 400},
    {"trailer obs-fold",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n",
     400},
    {"trailer space before colon",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX : a\r\n\r\n", 400},
    {"trailer with bare LF",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\n\r\n", 400},
    {"trailers ended by bare LF",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n", 400},
    // Versions and expectations.
    {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
    {"HTTP/0.9 style version", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505},
    {"HTTP/3.1", "GET / HTTP/3.1\r\n\r\n", 505},
    {"unknown expectation", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417},
    {"expectation list", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n", 417},
};

class MalformedTest : public testing::TestWithParam<Malformed> {};

TEST_P(MalformedTest, RejectedWithExactStatusAtEverySplit) {
  const Malformed& c = GetParam();
  const Outcome outcome = FeedAllSplits(c.input);
  EXPECT_TRUE(outcome.requests.empty());
  EXPECT_EQ(outcome.error_status, c.status);
}

INSTANTIATE_TEST_SUITE_P(Table, MalformedTest, testing::ValuesIn(kMalformed),
                         [](const testing::TestParamInfo<Malformed>& info) {
                           std::string name;
                           for (char c : info.param.name) {
                             name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
                           }
                           return name;
                         });

TEST(RequestParserTest, ResetAfterEachErrorParsesTheNextRequestCleanly) {
  const Outcome fresh = FeedWhole(kChunkedPost);
  for (const Malformed& c : kMalformed) {
    RequestParser parser;
    std::string body;
    ASSERT_EQ(parser.Parse(c.input, body).status, ParseStatus::kError) << c.name;
    parser.Reset();
    const ParseResult result = parser.Parse(kChunkedPost, body);
    ASSERT_EQ(result.status, ParseStatus::kComplete) << c.name;
    EXPECT_EQ(Snapshot(parser.request(), result.consumed), fresh.requests[0]) << c.name;
  }
}

bool IsTchar(unsigned char c) {
  if (c >= 0x80) return false;
  if (std::isalnum(c) != 0) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// Every byte value in each position, against the RFC's character classes.
TEST(RequestParserTest, CharacterClasses) {
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    const auto u = static_cast<unsigned char>(i);
    const std::string byte(1, c);
    const bool token = IsTchar(u);

    const int method = FeedWhole("G" + byte + "T / HTTP/1.1\r\nHost: a\r\n\r\n").error_status;
    EXPECT_EQ(method, token ? 0 : 400) << "method byte " << i;

    if (c != ':') {
      const int name =
          FeedWhole("GET / HTTP/1.1\r\nHost: a\r\nX" + byte + "Y: v\r\n\r\n").error_status;
      EXPECT_EQ(name, token ? 0 : 400) << "field name byte " << i;
    }

    const bool value_char = c == '\t' || c == ' ' || (u >= 0x21 && u != 0x7f);
    const int value =
        FeedWhole("GET / HTTP/1.1\r\nHost: a\r\nX: a" + byte + "b\r\n\r\n").error_status;
    EXPECT_EQ(value, value_char ? 0 : 400) << "field value byte " << i;

    const bool target_char = u >= 0x21 && u <= 0x7e;
    const int target = FeedWhole("GET /" + byte + " HTTP/1.1\r\nHost: a\r\n\r\n").error_status;
    EXPECT_EQ(target, target_char ? 0 : 400) << "target byte " << i;

    const bool host_char =
        (u < 0x80 && std::isalnum(u) != 0) ||
        std::string_view("-._~%!$&'()*+,;=:[]").find(c) != std::string_view::npos;
    const bool trimmed = c == ' ' || c == '\t';  // leading/trailing whitespace is not the value
    const int host = FeedWhole("GET / HTTP/1.1\r\nHost: " + byte + "\r\n\r\n").error_status;
    EXPECT_EQ(host, host_char || trimmed ? 0 : 400) << "host byte " << i;
  }
}

TEST(RequestParserTest, BareCrIsRejectedWithoutWaitingForLineFeed) {
  RequestParser parser;
  std::string body;
  EXPECT_EQ(parser.Parse("GET / HTTP/1.1\rH", body).error_status, 400);
}

TEST(RequestParserTest, OversizedContentLengthIsRejectedBeforeTheBody) {
  RequestParser parser(Limits{.max_body_bytes = 100});
  std::string body;
  const ParseResult result = parser.Parse(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n", body);
  EXPECT_EQ(result.status, ParseStatus::kError);
  EXPECT_EQ(result.error_status, 413);
}

// ---------------------------------------------------------------------------------------------
// Limits: exactly the limit is accepted, one more byte (or field) is rejected.

// A GET whose head is exactly `size` bytes, padded in the last header value.
std::string GetWithHeadSize(size_t size) {
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
  const size_t fixed = head.size() + 4;
  EXPECT_GE(size, fixed);
  head.append(size - fixed, 'p');
  head.append("\r\n\r\n");
  return head;
}

TEST(RequestParserLimitsTest, HeaderBytesAtBoundary) {
  for (size_t limit : {size_t{64}, size_t{100}, size_t{16 * 1024}}) {
    const Limits limits{.max_header_bytes = limit};
    const std::string at_limit = GetWithHeadSize(limit);
    const Outcome ok = FeedWhole(at_limit, limits);
    ASSERT_EQ(ok.requests.size(), 1u) << limit;
    EXPECT_EQ(ok.requests[0].consumed, limit);
    EXPECT_EQ(FeedWhole(GetWithHeadSize(limit + 1), limits).error_status, 431) << limit;
  }
}

TEST(RequestParserLimitsTest, HeaderBytesAtBoundaryAtEverySplit) {
  const Limits limits{.max_header_bytes = 80};
  EXPECT_EQ(FeedAllSplits(GetWithHeadSize(80), limits).requests.size(), 1u);
  EXPECT_EQ(FeedAllSplits(GetWithHeadSize(81), limits).error_status, 431);
}

TEST(RequestParserLimitsTest, OversizedHeadIsRejectedBeforeItEnds) {
  RequestParser parser(Limits{.max_header_bytes = 64});
  std::string body;
  std::string input = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
  input.resize(63, 'p');
  EXPECT_EQ(parser.Parse(input, body).status, ParseStatus::kNeedMore);
  input.push_back('p');
  const ParseResult result = parser.Parse(input, body);
  EXPECT_EQ(result.status, ParseStatus::kError);
  EXPECT_EQ(result.error_status, 431);
}

TEST(RequestParserLimitsTest, EmptyLinesBeforeRequestCountTowardsHeaderBytes) {
  const Limits limits{.max_header_bytes = 64};
  const std::string head = GetWithHeadSize(62);
  EXPECT_EQ(FeedWhole("\r\n" + head, limits).requests.size(), 1u);
  EXPECT_EQ(FeedWhole("\r\n\r\n" + head, limits).error_status, 431);
}

TEST(RequestParserLimitsTest, LongRequestLineIs414) {
  const Limits limits{.max_header_bytes = 64};
  std::string request_line = "GET /";
  request_line.append(64 - 5 - 10, 'x');
  request_line.append(" HTTP/1.1\r");  // 64 bytes; its LF is byte 65
  ASSERT_EQ(request_line.size(), 64u);
  EXPECT_EQ(FeedAllSplits(request_line + "\nHost: a\r\n\r\n", limits).error_status, 414);
  EXPECT_EQ(FeedAllSplits("GET /" + std::string(100, 'x'), limits).error_status, 414);
}

std::string GetWithHeaderCount(size_t count) {
  std::string input = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (size_t i = 1; i < count; ++i) input += "X-" + std::to_string(i) + ": v\r\n";
  return input + "\r\n";
}

TEST(RequestParserLimitsTest, HeaderCountAtBoundary) {
  const Outcome ok = FeedWhole(GetWithHeaderCount(64));
  ASSERT_EQ(ok.requests.size(), 1u);
  EXPECT_EQ(ok.requests[0].headers.size(), 64u);
  EXPECT_EQ(FeedWhole(GetWithHeaderCount(65)).error_status, 431);

  const Limits small{.max_headers = 3};
  EXPECT_EQ(FeedAllSplits(GetWithHeaderCount(3), small).requests.size(), 1u);
  EXPECT_EQ(FeedAllSplits(GetWithHeaderCount(4), small).error_status, 431);
}

TEST(RequestParserLimitsTest, RaisedHeaderCountTakesEffect) {
  RequestParser parser;
  parser.set_limits(Limits{.max_headers = 200});
  parser.Reset();
  std::string body;
  const std::string input = GetWithHeaderCount(200);
  ASSERT_EQ(parser.Parse(input, body).status, ParseStatus::kComplete);
  EXPECT_EQ(parser.request().headers.size(), 200u);
  EXPECT_EQ(parser.request().headers.back().name, "X-199");
}

std::string PostWithContentLength(size_t length) {
  return "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n" +
         std::string(length, 'b');
}

TEST(RequestParserLimitsTest, ContentLengthAtBoundary) {
  const Limits limits{.max_body_bytes = 1000};
  const Outcome ok = FeedWhole(PostWithContentLength(1000), limits);
  ASSERT_EQ(ok.requests.size(), 1u);
  EXPECT_EQ(ok.requests[0].body.size(), 1000u);
  EXPECT_EQ(FeedWhole(PostWithContentLength(1001), limits).error_status, 413);

  const Outcome one_mib = FeedWhole(PostWithContentLength(1024 * 1024));
  ASSERT_EQ(one_mib.requests.size(), 1u);
  EXPECT_EQ(one_mib.requests[0].body.size(), 1024u * 1024u);
  EXPECT_EQ(FeedWhole(PostWithContentLength(1024 * 1024 + 1)).error_status, 413);
}

TEST(RequestParserLimitsTest, ContentLengthOverLimitRejectedWithHeadOnly) {
  RequestParser parser(Limits{.max_body_bytes = 10});
  std::string body;
  const ParseResult result =
      parser.Parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", body);
  EXPECT_EQ(result.status, ParseStatus::kError);
  EXPECT_EQ(result.error_status, 413);
}

// A chunked POST whose decoded body is `size` bytes, in chunks of at most `chunk` bytes.
std::string ChunkedPost(size_t size, size_t chunk) {
  std::string input = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  char hex[32];
  for (size_t sent = 0; sent < size; sent += chunk) {
    const size_t n = std::min(chunk, size - sent);
    std::snprintf(hex, sizeof(hex), "%zx\r\n", n);
    input += hex;
    input.append(n, 'c');
    input += "\r\n";
  }
  return input + "0\r\n\r\n";
}

TEST(RequestParserLimitsTest, ChunkedBodyAtBoundary) {
  const Limits limits{.max_body_bytes = 30};
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{30}, size_t{31}}) {
    const Outcome ok = FeedAllSplits(ChunkedPost(30, chunk), limits);
    ASSERT_EQ(ok.requests.size(), 1u) << chunk;
    EXPECT_EQ(ok.requests[0].body, std::string(30, 'c'));
    EXPECT_EQ(FeedAllSplits(ChunkedPost(31, chunk), limits).error_status, 413) << chunk;
  }
  const Outcome one_mib = FeedWhole(ChunkedPost(1024 * 1024, 4096));
  ASSERT_EQ(one_mib.requests.size(), 1u);
  EXPECT_EQ(one_mib.requests[0].body.size(), 1024u * 1024u);
  EXPECT_EQ(FeedWhole(ChunkedPost(1024 * 1024 + 1, 4096)).error_status, 413);
}

TEST(RequestParserLimitsTest, OversizedChunkRejectedBeforeItsData) {
  RequestParser parser(Limits{.max_body_bytes = 100});
  std::string body;
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(parser.Parse(head + "64\r\n", body).status, ParseStatus::kHeadersComplete);
  parser.Reset();
  const ParseResult result = parser.Parse(head + "65\r\n", body);
  EXPECT_EQ(result.status, ParseStatus::kError);
  EXPECT_EQ(result.error_status, 413);
  parser.Reset();
  EXPECT_EQ(parser.Parse(head + "ffffffffffffffff\r\n", body).error_status, 413);
}

TEST(RequestParserLimitsTest, ChunkExtensionsAndTrailersShareHeaderByteBudget) {
  const Limits limits{.max_header_bytes = 100};
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  // Extension bytes: ";a=" + 17 = 20, then trailer "X: " + 77 = 80: exactly 100.
  const std::string at_limit = head + "1;a=" + std::string(17, 'e') +
                               "\r\nz\r\n0\r\nX: " + std::string(77, 't') + "\r\n\r\n";
  const Outcome ok = FeedAllSplits(at_limit, limits);
  ASSERT_EQ(ok.requests.size(), 1u);
  EXPECT_EQ(ok.requests[0].body, "z");

  const std::string over_by_trailer = head + "1;a=" + std::string(17, 'e') +
                                      "\r\nz\r\n0\r\nX: " + std::string(78, 't') + "\r\n\r\n";
  EXPECT_EQ(FeedAllSplits(over_by_trailer, limits).error_status, 431);

  const std::string long_extension = head + "1;a=" + std::string(98, 'e') + "\r\nz\r\n0\r\n\r\n";
  EXPECT_EQ(FeedAllSplits(long_extension, limits).error_status, 431);
  const std::string extension_at_limit =
      head + "1;a=" + std::string(97, 'e') + "\r\nz\r\n0\r\n\r\n";
  EXPECT_EQ(FeedAllSplits(extension_at_limit, limits).requests.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Mutations of valid requests: whatever the verdict, it must not depend on how bytes arrive.

TEST(RequestParserTest, MutatedRequestsGetTheSameVerdictWhateverTheSplit) {
  const std::string pipelined =
      std::string(kSimpleGet) + std::string(kChunkedPost) + std::string(kPostWithLength);
  std::mt19937 random(12345);
  constexpr char kInteresting[] = {'\r', '\n', ' ', '\t', ':',  ';',    '"',
                                   '\\', '0',  'a', ',',  '\0', '\x7f', '\x80'};
  const Limits limits{.max_header_bytes = 120, .max_body_bytes = 40, .max_headers = 4};
  for (int round = 0; round < 400; ++round) {
    std::string input = pipelined;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = random() % input.size();
      const char byte = kInteresting[random() % sizeof(kInteresting)];
      switch (random() % 3) {
        case 0:
          input[at] = byte;
          break;
        case 1:
          input.insert(at, 1, byte);
          break;
        default:
          input.erase(at, 1);
          break;
      }
    }
    for (const Limits& l : {Limits{}, limits}) {
      const Outcome whole = FeedWhole(input, l);
      std::vector<size_t> bytewise(input.size() + 1);
      for (size_t i = 0; i <= input.size(); ++i) bytewise[i] = i;
      ASSERT_EQ(Connection(l).Feed(input, bytewise), whole) << testing::PrintToString(input);
      const size_t split = random() % input.size();
      ASSERT_EQ(Connection(l).Feed(input, {split, input.size()}), whole)
          << testing::PrintToString(input) << " split at " << split;
    }
  }
}

// A chunked body framed to cost the most raw bytes per decoded byte (1-byte chunks with
// zero-padded 16-digit sizes: 21 raw bytes each) is consumed as it is decoded: the caller never
// holds more than one arrival plus kStreamedBodyBytes, whatever the body's size.
TEST(RequestParserTest, ChunkedBodyIsConsumedAsItIsDecoded) {
  constexpr size_t kBody = 1 << 20;
  constexpr size_t kArrival = 64 << 10;
  Limits limits;
  limits.max_body_bytes = kBody;
  RequestParser parser(limits);
  std::string decoded;
  std::string wire = "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t i = 0; i < kBody; ++i) {
    wire += "0000000000000001\r\n";
    wire += static_cast<char>('a' + i % 26);
    wire += "\r\n";
  }
  wire += "0\r\n\r\n";

  std::string pending;
  size_t fed = 0, largest_pending = 0;
  ParseResult result;
  while (result.status != ParseStatus::kComplete) {
    ASSERT_LT(fed, wire.size()) << "input ended before the request completed";
    const size_t take = std::min(kArrival, wire.size() - fed);
    pending.append(wire, fed, take);
    fed += take;
    largest_pending = std::max(largest_pending, pending.size());
    result = parser.Parse(pending, decoded);
    ASSERT_NE(result.status, ParseStatus::kError) << result.error_status;
    pending.erase(0, result.consumed);
  }
  EXPECT_EQ(fed, wire.size());
  EXPECT_TRUE(pending.empty());
  ASSERT_EQ(parser.request().body.size(), kBody);
  EXPECT_EQ(parser.request().body.substr(0, 3), "abc");
  EXPECT_EQ(parser.request().target, "/echo");
  EXPECT_NE(parser.request().FindHeader("host"), nullptr);
  EXPECT_LE(largest_pending, kArrival + RequestParser::kStreamedBodyBytes + 32);
}

}  // namespace
}  // namespace shoal::http
