// Parsing and answering a request within the limits must not touch the heap once warmed up.
// This binary replaces the global operator new to count allocations.

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>
#include <string_view>

#include "server/protocols/http/date_cache.h"
#include "server/protocols/http/request_parser.h"
#include "server/protocols/http/response.h"

namespace {
size_t g_allocations = 0;
}  // namespace

void* operator new(size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return ::operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace shoal::http {
namespace {

constexpr std::string_view kWrkGet =
    "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n"
    "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;"
    "q=0.7\r\nConnection: keep-alive\r\n\r\n";
constexpr std::string_view kPost =
    "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\nExpect: 100-continue\r\n\r\n"
    "Hello, World!";
constexpr std::string_view kChunked =
    "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;name=value\r\nHello\r\n7\r\n, World\r\n0\r\nX-Trailer: t\r\n\r\n";

// Parses every request in `pipelined`, fed in pieces of `piece` bytes, and answers each.
size_t ParseAndAnswer(RequestParser& parser, std::string& body, std::string& buffer,
                      std::string_view pipelined, size_t piece, std::string& out, DateCache& dates,
                      int64_t now) {
  size_t requests = 0;
  for (size_t fed = 0; fed < pipelined.size();) {
    const size_t n = std::min(piece, pipelined.size() - fed);
    buffer.append(pipelined.substr(fed, n));
    fed += n;
    while (true) {
      const ParseResult result = parser.Parse(buffer, body);
      if (result.status != ParseStatus::kComplete) {
        if (result.status == ParseStatus::kError) break;
        buffer.erase(0, result.consumed);
        if (result.status == ParseStatus::kHeadersComplete) continue;
        break;
      }
      const Request& request = parser.request();
      AppendResponseHead(out, {.status = 200,
                               .content_type = "text/plain",
                               .content_length = request.body.size(),
                               .keep_alive = request.keep_alive,
                               .request_version = request.version,
                               .date = dates.Get(now)});
      out.append(request.body);
      buffer.erase(0, result.consumed);
      ++requests;
    }
  }
  return requests;
}

TEST(RequestParserAllocationTest, SteadyStateParsingDoesNotAllocate) {
  std::string pipelined;
  for (int i = 0; i < 4; ++i) pipelined.append(kWrkGet).append(kPost).append(kChunked);

  RequestParser parser;
  std::string body;
  std::string buffer;
  std::string out;
  buffer.reserve(4096);
  out.reserve(8192);
  DateCache dates;

  // Warm-up: lets the decoded-body string reach its steady capacity.
  ASSERT_EQ(ParseAndAnswer(parser, body, buffer, pipelined, pipelined.size(), out, dates, 1), 12u);

  for (size_t piece : {pipelined.size(), size_t{1}, size_t{7}, size_t{64}}) {
    out.clear();
    const size_t before = g_allocations;
    const size_t requests = ParseAndAnswer(parser, body, buffer, pipelined, piece, out, dates,
                                           static_cast<int64_t>(piece) + 1000);
    const size_t allocations = g_allocations - before;
    EXPECT_EQ(requests, 12u) << piece;
    EXPECT_EQ(allocations, 0u) << "pieces of " << piece << " bytes";
  }
}

TEST(RequestParserAllocationTest, CounterSeesAllocations) {
  const size_t before = g_allocations;
  RequestParser parser;  // reserves its header array
  std::string grown(1000, 'x');
  EXPECT_GE(g_allocations - before, 2u);
}

}  // namespace
}  // namespace shoal::http
