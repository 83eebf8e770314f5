// Fuzz target: shoal::http::RequestParser, driven the way a connection drives it: bytes arrive in
// fuzzer-chosen pieces and are appended to the unconsumed input; Parse() is called with all of it
// (from the start of the current request); kComplete drops `consumed` bytes and parsing goes on
// with the next, possibly pipelined, request; kError ends the connection.
//
// Input: the control block of fuzz_support.h, then the byte stream. Control byte 0:
//   bit 7     1: every Parse() call gets a fresh exact-size copy of the input (the buffer moves
//             between calls, the old one is freed first, so a stale view is a use-after-free);
//             0: the input stays in place while a request is parsed.
//   bits 0-6  the Limits (defaults, small ones, or ones derived from the byte).
// The stream is parsed twice: whole (one piece, in place) and in the chosen pieces.
//
// Invariants, at every call:
//  * kNeedMore and kHeadersComplete consume nothing, except inside a chunked body (mid_request());
//    0 < consumed <= input size at kComplete; kHeadersComplete at most once per request, and only
//    for a request with a body;
//  * every view (method, target, header names and values, a Content-Length body) of a request
//    without a chunked body lies inside the input of that call, before `consumed` (a chunked
//    request's head lives in the parser once its bytes are consumed); a chunked body is exactly
//    the decoded-body string;
//  * the request obeys the parser's contract: method and field names are tokens, the target is
//    VCHARs, values are trimmed field-value characters, at most max_headers fields, Host once (and
//    present in HTTP/1.1), Content-Length present iff content_length is set (once), body size =
//    Content-Length, body <= max_body_bytes, head <= max_header_bytes, never both Content-Length
//    and chunked, Expect only in HTTP/1.1, keep_alive as Connection and the version say, the
//    Method enum matches the name;
//  * kError carries one of the documented statuses, and stays (the next call repeats it);
//  * the head seen at kHeadersComplete is the head seen at kComplete;
// and split independence: the sequence of completed requests (every field, body bytes and
// `consumed`) and the final error status are the same whole and split, as is whether the trailing
// incomplete request's head was reported.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/protocols/http/request_parser.h"
#include "tests/fuzz/fuzz_support.h"

namespace shoal::fuzz {
namespace {

using http::Header;
using http::Limits;
using http::Method;
using http::ParseResult;
using http::ParseStatus;
using http::Request;
using http::RequestParser;
using http::Version;

Limits LimitsFor(uint8_t settings) {
  const unsigned v = settings & 0x7f;
  const unsigned k = v >> 2;  // 0..31
  switch (v & 3) {
    case 0:
      return Limits{};  // 16KiB head, 1MiB body, 64 fields
    case 1:
      return Limits{64, 64, 4};
    case 2:
      return Limits{1 + k * 8, k * 3, k % 6};
    default:
      return Limits{40 + k, 16, 2};
  }
}

bool IsTokenChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}
bool IsFieldValue(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!(u == ' ' || u == '\t' || (u >= 0x21 && u != 0x7f))) return false;
  }
  return s.empty() || (s.front() != ' ' && s.front() != '\t' && s.back() != ' ' && s.back() != '\t');
}
bool IsVisible(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) return false;
  }
  return !s.empty();
}
// ASCII case-insensitive (the fuzzer runs in the C locale).
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](char x, char y) { return lower(x) == lower(y); });
}
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
bool ListHas(std::string_view list, std::string_view element) {
  while (true) {
    const size_t comma = list.find(',');
    if (EqualsIgnoreCase(Trim(list.substr(0, comma)), element)) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

Method ExpectedMethod(std::string_view name) {
  static constexpr std::pair<std::string_view, Method> kMethods[] = {
      {"GET", Method::kGet},         {"HEAD", Method::kHead},     {"POST", Method::kPost},
      {"PUT", Method::kPut},         {"DELETE", Method::kDelete}, {"OPTIONS", Method::kOptions},
      {"PATCH", Method::kPatch},     {"CONNECT", Method::kConnect}, {"TRACE", Method::kTrace},
  };
  for (const auto& [spelling, method] : kMethods) {
    if (name == spelling) return method;
  }
  return Method::kOther;
}

// `view` lies inside [base, base + size); an empty view may also sit at the end, or be null.
bool Inside(std::string_view view, const char* base, size_t size) {
  if (base == nullptr) return true;
  if (view.empty() && (view.data() == nullptr || view.data() == base + size)) return true;
  return view.data() >= base && view.data() <= base + size &&
         view.size() <= static_cast<size_t>(base + size - view.data());
}

void Append(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += '|';
}

// Checks the head against the contract and returns it serialized (everything but the body).
// The views must lie in [base, base + extent) (base null: the head lives in the parser).
std::string CheckHead(const Request& request, const Limits& limits, const char* base,
                      size_t extent) {
  SHOAL_FUZZ_CHECK(Inside(request.method_name, base, extent));
  SHOAL_FUZZ_CHECK(Inside(request.target, base, extent));
  SHOAL_FUZZ_CHECK(IsToken(request.method_name));
  SHOAL_FUZZ_CHECK(request.method == ExpectedMethod(request.method_name));
  SHOAL_FUZZ_CHECK(IsVisible(request.target));
  SHOAL_FUZZ_CHECK(request.headers.size() <= limits.max_headers);

  size_t hosts = 0, content_lengths = 0, transfer_encodings = 0;
  bool close = false, keep_alive = false;
  std::string out;
  Append(out, request.method_name);
  Append(out, request.target);
  out += request.version == Version::kHttp10 ? "1.0|" : "1.1|";
  for (const Header& header : request.headers) {
    SHOAL_FUZZ_CHECK(Inside(header.name, base, extent));
    SHOAL_FUZZ_CHECK(Inside(header.value, base, extent));
    SHOAL_FUZZ_CHECK(IsToken(header.name));
    SHOAL_FUZZ_CHECK(IsFieldValue(header.value));
    if (EqualsIgnoreCase(header.name, "host")) ++hosts;
    if (EqualsIgnoreCase(header.name, "content-length")) ++content_lengths;
    if (EqualsIgnoreCase(header.name, "transfer-encoding")) ++transfer_encodings;
    if (EqualsIgnoreCase(header.name, "connection")) {
      close = close || ListHas(header.value, "close");
      keep_alive = keep_alive || ListHas(header.value, "keep-alive");
    }
    Append(out, header.name);
    Append(out, header.value);
    const Header* found = request.FindHeader(header.name);
    SHOAL_FUZZ_CHECK(found != nullptr && EqualsIgnoreCase(found->name, header.name));
  }
  const bool http11 = request.version == Version::kHttp11;
  SHOAL_FUZZ_CHECK(hosts <= 1);
  SHOAL_FUZZ_CHECK(!http11 || hosts == 1);
  SHOAL_FUZZ_CHECK(content_lengths == (request.content_length.has_value() ? 1u : 0u));
  SHOAL_FUZZ_CHECK(transfer_encodings <= 1);
  SHOAL_FUZZ_CHECK(!request.chunked || (transfer_encodings == 1 && http11));
  SHOAL_FUZZ_CHECK(!(request.chunked && request.content_length.has_value()));
  SHOAL_FUZZ_CHECK(request.content_length.value_or(0) <= limits.max_body_bytes);
  SHOAL_FUZZ_CHECK(!request.expect_continue || http11);
  SHOAL_FUZZ_CHECK(request.keep_alive == (!close && (http11 || keep_alive)));
  out += request.content_length ? std::to_string(*request.content_length) : "-";
  out += request.chunked ? "|chunked" : "|";
  out += request.keep_alive ? "|keep-alive" : "|close";
  out += request.expect_continue ? "|100-continue|" : "||";
  return out;
}

bool IsDocumentedError(int status) {
  for (int documented : {400, 413, 414, 417, 431, 501, 505}) {
    if (status == documented) return true;
  }
  return false;
}

struct Outcome {
  std::vector<std::string> events;  // "complete ..." per request, then "error N" if any
  bool trailing_head_reported = false;
};

// One connection. `pieces` null: the whole stream at once.
Outcome RunConnection(std::string_view stream, const Limits& limits,
                      const std::array<uint8_t, kControlBytes - 1>* pieces, bool move) {
  Outcome outcome;
  RequestParser parser(limits);
  std::string decoded_body;
  // In place: the stream is laid out in one exact-size arena; the unconsumed input is
  // [start, end) of it. Moving: `current` is a fresh copy of [start, end) for every call.
  std::unique_ptr<char[]> arena(new char[stream.size() + 1]);
  std::unique_ptr<char[]> current;
  size_t start = 0, end = 0;
  bool head_reported = false;
  std::string reported_head;
  bool failed = false;
  size_t request_consumed = 0;
  // Only a chunked body may be consumed before its request completes.
  auto drop_part_of_request = [&](size_t consumed) {
    if (consumed == 0) return;
    SHOAL_FUZZ_CHECK(parser.mid_request());
    SHOAL_FUZZ_CHECK(consumed <= end - start);
    start += consumed;
    request_consumed += consumed;
  };

  auto on_piece = [&](std::string_view piece) {
    std::memcpy(arena.get() + end, piece.data(), piece.size());
    end += piece.size();
    while (true) {
      const size_t size = end - start;
      const char* base = arena.get() + start;
      if (move) {
        current.reset(new char[size + 1]);
        std::memcpy(current.get(), arena.get() + start, size);
        base = current.get();
      }
      const std::string_view input(base, size);
      const ParseResult result = parser.Parse(input, decoded_body);
      const Request& request = parser.request();
      switch (result.status) {
        case ParseStatus::kNeedMore:
          drop_part_of_request(result.consumed);
          return true;
        case ParseStatus::kHeadersComplete: {
          SHOAL_FUZZ_CHECK(!head_reported);
          SHOAL_FUZZ_CHECK(request.chunked || request.content_length.value_or(0) > 0);
          head_reported = true;
          reported_head = CheckHead(request, parser.limits(), request.chunked ? nullptr : base,
                                    size);
          drop_part_of_request(result.consumed);
          return true;
        }
        case ParseStatus::kError: {
          SHOAL_FUZZ_CHECK(result.consumed == 0);
          SHOAL_FUZZ_CHECK(IsDocumentedError(result.error_status));
          const ParseResult again = parser.Parse(input, decoded_body);
          SHOAL_FUZZ_CHECK(again.status == ParseStatus::kError);
          SHOAL_FUZZ_CHECK(again.error_status == result.error_status);
          outcome.events.push_back("error " + std::to_string(result.error_status));
          failed = true;
          return false;
        }
        case ParseStatus::kComplete: {
          SHOAL_FUZZ_CHECK(result.consumed > 0);
          SHOAL_FUZZ_CHECK(result.consumed <= size);
          std::string summary = CheckHead(request, parser.limits(),
                                          request.chunked ? nullptr : base, result.consumed);
          if (head_reported) SHOAL_FUZZ_CHECK(summary == reported_head);
          const std::string_view body = request.body;
          SHOAL_FUZZ_CHECK(body.size() <= parser.limits().max_body_bytes);
          if (request.chunked) {
            SHOAL_FUZZ_CHECK(body.data() == decoded_body.data());
            SHOAL_FUZZ_CHECK(body.size() == decoded_body.size());
          } else {
            SHOAL_FUZZ_CHECK(body.size() == request.content_length.value_or(0));
            if (!body.empty()) {
              // The body is the last `content_length` bytes of the request.
              SHOAL_FUZZ_CHECK(body.data() == base + result.consumed - body.size());
            }
            SHOAL_FUZZ_CHECK(result.consumed - body.size() <= parser.limits().max_header_bytes);
          }
          summary += body;
          summary += "|consumed=" + std::to_string(request_consumed + result.consumed);
          outcome.events.push_back("complete " + summary);
          start += result.consumed;
          request_consumed = 0;
          head_reported = false;
          break;  // the next (pipelined) request, possibly with no bytes yet
        }
      }
    }
  };
  if (pieces == nullptr) {
    if (!stream.empty()) on_piece(stream);
  } else {
    ForEachPiece(stream, *pieces, on_piece);
  }
  outcome.trailing_head_reported = !failed && head_reported;
  return outcome;
}

}  // namespace

int RequestParserFuzzOneInput(const uint8_t* data, size_t size) {
  const StreamInput input = SplitControl(data, size);
  const Limits limits = LimitsFor(input.settings);
  const bool move = (input.settings & 0x80) != 0;
  const Outcome whole = RunConnection(input.stream, limits, nullptr, false);
  const Outcome split = RunConnection(input.stream, limits, &input.pieces, move);
  SHOAL_FUZZ_CHECK(whole.events.size() == split.events.size());
  for (size_t i = 0; i < whole.events.size(); ++i) {
    if (whole.events[i] != split.events[i]) {
      std::fprintf(stderr, "request %zu differs:\n  whole: %s\n  split: %s\n", i,
                   whole.events[i].c_str(), split.events[i].c_str());
    }
    SHOAL_FUZZ_CHECK(whole.events[i] == split.events[i]);
  }
  SHOAL_FUZZ_CHECK(whole.trailing_head_reported == split.trailing_head_reported);
  return 0;
}

}  // namespace shoal::fuzz

SHOAL_FUZZ_TARGET(shoal::fuzz::RequestParserFuzzOneInput)
