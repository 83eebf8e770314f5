// ns per request for RequestParser on typical load-generator requests.
//   bazel run //server/protocols/http:request_parser_bench   (.bazelrc builds -c opt)

#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "server/protocols/http/request_parser.h"

namespace shoal::http {
namespace {

// What `wrk http://localhost:8080/` sends.
constexpr std::string_view kWrkGet = "GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n";

// The TechEmpower plaintext request (wrk with their headers).
constexpr std::string_view kPlaintextGet =
    "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n"
    "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;"
    "q=0.7\r\nConnection: keep-alive\r\n\r\n";

constexpr std::string_view kChunkedPost =
    "POST /echo HTTP/1.1\r\nHost: localhost:8080\r\nTransfer-Encoding: chunked\r\n\r\n"
    "d\r\nHello, World!\r\n0\r\n\r\n";

void ParseOne(benchmark::State& state, std::string_view request) {
  RequestParser parser;
  std::string body;
  for (auto _ : state) {
    const ParseResult result = parser.Parse(request, body);
    benchmark::DoNotOptimize(result);
    benchmark::DoNotOptimize(parser.request().headers.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(request.size()));
}

void BM_WrkGet(benchmark::State& state) { ParseOne(state, kWrkGet); }
void BM_PlaintextGet(benchmark::State& state) { ParseOne(state, kPlaintextGet); }
void BM_ChunkedPost(benchmark::State& state) { ParseOne(state, kChunkedPost); }

// wrk --pipeline 16: parse and drop 16 requests from one buffer.
void BM_PlaintextGetPipelined16(benchmark::State& state) {
  std::string buffer;
  for (int i = 0; i < 16; ++i) buffer.append(kPlaintextGet);
  RequestParser parser;
  std::string body;
  for (auto _ : state) {
    std::string_view input = buffer;
    while (!input.empty()) {
      const ParseResult result = parser.Parse(input, body);
      input.remove_prefix(result.consumed);
    }
    benchmark::DoNotOptimize(input);
  }
  state.SetItemsProcessed(state.iterations() * 16);
}

// A 16 KiB head arriving one byte per call: linear work keeps this near 16K small calls.
void BM_LargeHeadByteByByte(benchmark::State& state) {
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
  head.append(16 * 1024 - head.size() - 4, 'p');
  head.append("\r\n\r\n");
  RequestParser parser;
  std::string body;
  for (auto _ : state) {
    for (size_t n = 1; n <= head.size(); ++n) {
      benchmark::DoNotOptimize(parser.Parse(std::string_view(head).substr(0, n), body));
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(head.size()));
}

BENCHMARK(BM_WrkGet);
BENCHMARK(BM_PlaintextGet);
BENCHMARK(BM_ChunkedPost);
BENCHMARK(BM_PlaintextGetPipelined16);
BENCHMARK(BM_LargeHeadByteByByte);

}  // namespace
}  // namespace shoal::http
