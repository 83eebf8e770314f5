// Incremental, strict, allocation-free HTTP/1.1 request parser (RFC 9110, RFC 9112).
//
// The parser knows nothing of sockets: the caller buffers bytes as they arrive and calls
// Parse() with everything received but not yet consumed. Every result but kError says how many
// leading bytes the caller must drop (`consumed`) before the next call; the rest is presented
// again with newer bytes appended. The buffer may grow or move between calls. Until a request
// completes nothing is consumed, except during a chunked body: once kStreamedBodyBytes of it are
// decoded-and-buffered, the head is copied into the parser (at most max_header_bytes) and the
// chunk framing and data parsed so far are consumed, and so on, so a chunked request holds at
// most its decoded body plus kStreamedBodyBytes and one arrival of raw input, however it is
// framed (small chunked requests are untouched: no copy, no buffer churn). kComplete consumes the rest of the request; the next call starts
// the next (possibly already buffered, pipelined) request.
//
// Thread safety: none. One parser belongs to one connection, used by that connection's thread.
//
// Complexity: linear in the request's bytes however they are split across calls. A call that
// only adds bytes to an incomplete line searches just the new bytes for its end; each complete
// line is validated once; a Content-Length body is never scanned; a chunked body is copied once.
// A call whose input has moved also re-points the views: O(headers).
//
// Memory: the header array (max_headers entries) is allocated at construction (and again only
// if set_limits() raises max_headers). Parsing allocates nothing, except that a chunked body is
// decoded into the caller's string, whose capacity the caller keeps between requests.
//
// Views: request() holds string_views into the input of the latest Parse() call (method,
// target, headers, Content-Length body), into the parser's copy of the head (chunked request)
// or into the caller's decoded-body string (chunked body). They stay valid until the caller changes that buffer or string; each Parse() call
// re-points them at the input it is given, so moving the buffer between calls is safe.
//
// Errors. kError carries the status to send before closing the connection; the parser then
// stays in error until Reset(). A line is judged once its CRLF arrives (or once it can no
// longer end within its limit; a bare CR in the head is refused as soon as the next byte
// arrives), so the status does not depend on how the input was split.
//   400  malformed request line (exactly one SP between method, target and version; target is
//        1*VCHAR); a method or field name that is not a token; whitespace before a colon;
//        obs-fold; a line not ended by CRLF (bare CR or bare LF); a control character other
//        than HTAB in a field value; Content-Length that is not 1*DIGIT or overflows 64 bits,
//        or appears twice (even with the same value); Content-Length with Transfer-Encoding;
//        Transfer-Encoding twice, in an HTTP/1.0 request, or whose final coding is not
//        chunked; a malformed chunk size, chunk extension, chunk CRLF or trailer field; a
//        chunk size of more than 16 hex digits; an HTTP/1.1 request without Host; Host twice
//        or with characters no authority may contain; a Connection value that is not a list
//        of tokens.
//   413  Content-Length above max_body_bytes (judged with the head, before any body byte), or
//        a chunk whose size takes the decoded body above max_body_bytes (judged on the chunk
//        size line, before its data).
//   414  the request line alone cannot end within max_header_bytes.
//   417  an Expect value other than 100-continue in an HTTP/1.1 request.
//   431  the head (everything up to and including the empty line) exceeds max_header_bytes,
//        more than max_headers header fields, or chunk extensions plus trailer fields above
//        max_header_bytes.
//   501  Transfer-Encoding whose final coding is chunked but which lists other codings
//        (e.g. "gzip, chunked"): the request is well framed but we implement no other coding.
//   505  an HTTP major version other than 1. HTTP/1.x for x >= 2 is served as HTTP/1.1, as
//        RFC 9110 section 2.5 asks of a recipient of a higher minor version.
// Empty lines before the request line are skipped (RFC 9112 section 2.2) and count towards
// max_header_bytes. A request with neither Content-Length nor Transfer-Encoding has no body.
// Trailer fields are validated and dropped. Limits are exact: a value equal to the limit is
// accepted, one more is rejected.

#ifndef SHOAL_SERVER_PROTOCOLS_HTTP_REQUEST_PARSER_H_
#define SHOAL_SERVER_PROTOCOLS_HTTP_REQUEST_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::http {

struct Limits {
  // Request line, header lines and the empty line that ends them, CRLFs included
  // (config: limits.max_header_bytes). Separately, it also caps a chunked body's extensions
  // (bytes between a chunk size and its CRLF) plus trailer field lines (without CRLFs).
  size_t max_header_bytes = 16 * 1024;
  // Decoded body (config: limits.max_frame_bytes).
  size_t max_body_bytes = 1024 * 1024;
  // Header fields in one request.
  size_t max_headers = 64;
};

enum class Method : uint8_t {
  kOther,  // a valid token we have no name for; see Request::method_name
  kGet,
  kHead,
  kPost,
  kPut,
  kDelete,
  kOptions,
  kPatch,
  kConnect,
  kTrace,
};

enum class Version : uint8_t { kHttp10, kHttp11 };

struct Header {
  std::string_view name = {};   // as received; compare case-insensitively
  std::string_view value = {};  // without leading and trailing whitespace
};

struct Request {
  Method method = Method::kOther;
  std::string_view method_name = {};
  std::string_view target = {};
  Version version = Version::kHttp11;
  std::span<const Header> headers = {};
  std::optional<uint64_t> content_length = {};
  bool chunked = false;
  // HTTP/1.1: unless Connection lists "close". HTTP/1.0: only if Connection lists "keep-alive"
  // and not "close".
  bool keep_alive = true;
  // HTTP/1.1 request with "Expect: 100-continue" (ignored in HTTP/1.0, RFC 9110 10.1.1).
  bool expect_continue = false;
  // Set at kComplete; empty for a request without a body.
  std::string_view body = {};

  // The first header named `name` (ASCII case-insensitive), or nullptr. O(headers).
  const Header* FindHeader(std::string_view name) const;
};

enum class ParseStatus : uint8_t {
  kNeedMore,         // call again with more input (after dropping `consumed` bytes)
  kHeadersComplete,  // request() has the head, the body is incomplete; once per request
  kComplete,         // request() is complete; drop `consumed` bytes
  kError,            // send `error_status`, then close the connection
};

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  // Leading bytes of this call's input to drop before the next call: at kComplete the rest of
  // the request; before it, 0 except during a chunked body (framing and data decoded so far).
  size_t consumed = 0;
  int error_status = 0;  // kError: 400, 413, 414, 417, 431, 501 or 505
};

class RequestParser {
 public:
  // A chunked body's parsed raw bytes are handed back to the caller once they reach this.
  static constexpr size_t kStreamedBodyBytes = 16 * 1024;

  explicit RequestParser(const Limits& limits = {});
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses the request at the start of `input`, which holds every byte received and not yet
  // consumed. `decoded_body` receives a chunked body: it is cleared (capacity kept) when a
  // chunked head completes; pass the same string on every call for one request. The call
  // after kComplete starts the next request.
  ParseResult Parse(std::string_view input, std::string& decoded_body);

  // Valid from kHeadersComplete or kComplete until the next request starts.
  const Request& request() const { return request_; }

  // True while a request has been partly consumed (a chunked body being streamed): the caller's
  // buffer may be empty although a request is in progress.
  bool mid_request() const { return head_detached_ && phase_ != Phase::kComplete; }

  // Abandons the current request (or error); the next Parse() starts a new one.
  void Reset();

  // Takes effect when the next request starts (or at Reset()).
  void set_limits(const Limits& limits) { next_limits_ = limits; }
  const Limits& limits() const { return limits_; }

 private:
  enum class Phase : uint8_t {
    kRequestLine,
    kHeaderLines,
    kContentLengthBody,
    kChunkSizeLine,
    kChunkData,
    kChunkDataEnd,
    kTrailerLines,
    kComplete,
    kError,
  };
  enum class Progress : uint8_t { kNeedMore, kDone, kFailed };

  bool InHead() const { return phase_ == Phase::kRequestLine || phase_ == Phase::kHeaderLines; }
  Progress Fail(int status);
  void PointViewsAt(const char* data);
  void MoveViews(uintptr_t old_base, const char* data);
  void DetachHead(std::string_view input);
  size_t TakeConsumedBody(std::string_view input);
  Progress ParseHead(std::string_view input);
  int ParseRequestLine(std::string_view line);
  int AddHeader(const Header& header);
  Progress FinishHead();
  Progress ParseChunkedBody(std::string_view input, std::string& decoded_body);
  Progress ParseChunkSizeLine(std::string_view input, size_t decoded_bytes);
  Progress ParseTrailerLines(std::string_view input);

  Limits limits_;
  Limits next_limits_;
  std::vector<Header> headers_;
  Request request_;
  Phase phase_ = Phase::kRequestLine;
  bool head_reported_ = false;
  bool saw_host_ = false;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool unknown_expectation_ = false;
  bool saw_transfer_encoding_ = false;
  int transfer_encoding_error_ = 0;  // raised by FinishHead, after the framing conflict check
  int error_status_ = 0;
  uintptr_t base_ = 0;        // input.data() of the latest call
  size_t pos_ = 0;            // first byte not yet parsed
  size_t line_end_scan_ = 0;  // the current line has no LF before this offset
  size_t body_start_ = 0;
  size_t chunk_remaining_ = 0;
  size_t framing_bytes_ = 0;  // chunk extensions and trailer fields so far
  size_t head_bytes_ = 0;       // a chunked request's head, from the start of its input
  std::string head_copy_;       // a chunked request's head, once its input is consumed
  bool head_detached_ = false;  // request() views point into head_copy_
};

}  // namespace shoal::http

#endif  // SHOAL_SERVER_PROTOCOLS_HTTP_REQUEST_PARSER_H_
