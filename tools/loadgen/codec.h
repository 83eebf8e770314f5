// Codec: how loadgen speaks one protocol on one connection: it writes request number `seq` and
// recognises (and, with verification, checks) the response to it. Responses arrive in request
// order on a connection, so the connection hands each codec call the oldest request in flight.
//
// Payloads: request `seq` on connection `connection_id` carries a pseudo-random stream seeded by
// both numbers (every byte depends on both, at every size), so a response that belongs to another
// request (a replayed or reordered one), another connection, or has any byte changed fails
// verification (at size 1, a stale reply passes with probability 1/256 per request). Without verification every request of a connection carries the same payload and
// only the response framing (length, status) is checked, which keeps the client cheap.
//
// Threading: a Codec belongs to one connection, on its loop thread. Not copyable.
#ifndef SHOAL_TOOLS_LOADGEN_CODEC_H_
#define SHOAL_TOOLS_LOADGEN_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "server/protocols/echo/frame.h"

namespace shoal::loadgen {

// What the http codec asks for: GET /plaintext (expects "Hello, World!") or POST /echo with a
// `size`-byte body (expects the body back).
enum class HttpRequest { kPlaintext, kEcho };

// The protocols loadgen speaks, by the names the server's wire libraries give them:
// echo, http, resp.
std::span<const std::string_view> ProtocolNames();
bool KnownProtocol(std::string_view name);
std::string_view HttpRequestName(HttpRequest request);
bool ParseHttpRequest(std::string_view text, HttpRequest* request);

struct CodecOptions {
  std::string protocol{server::kEchoName};  // one of ProtocolNames()
  size_t size = 64;           // payload bytes (echo frame, http POST body, RESP ECHO argument)
  bool verify = false;        // check every payload byte
  HttpRequest http = HttpRequest::kPlaintext;
  std::string host = "localhost";  // the http Host field
};

class Codec {
 public:
  enum class Status {
    kIncomplete,     // more bytes are needed
    kComplete,       // a well-formed response that passed the checks
    kMismatch,       // well-formed, but the payload is not what request `seq` sent
    kBadStatus,      // http: a response other than 2xx; resp: an error reply
    kProtocolError,  // not a valid response (wrong length, garbage): the stream is lost
  };
  struct Decoded {
    Status status = Status::kIncomplete;
    size_t consumed = 0;  // bytes of the response (meaningful unless kIncomplete/kProtocolError)
    bool close_after = false;  // http "Connection: close": the server closes after this response
  };

  virtual ~Codec() = default;
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  // Appends request `seq` to `out`.
  virtual void AppendRequest(uint64_t seq, std::string& out) = 0;
  // Decodes the response to request `seq` at the start of `input`. Once it returns kIncomplete it
  // may keep parse state: the next call passes the same bytes with more appended.
  virtual Decoded DecodeResponse(std::string_view input, uint64_t seq) = 0;
  // Bytes of one request and the usual response, for reports.
  virtual size_t request_bytes() const = 0;

 protected:
  Codec() = default;
};

// nullptr when options.protocol is not one of ProtocolNames().
std::unique_ptr<Codec> MakeCodec(const CodecOptions& options, uint64_t connection_id);

// The payload of request `seq` on connection `connection_id` (see above), and its check.
void FillPayload(uint64_t connection_id, uint64_t seq, char* out, size_t size);
bool PayloadMatches(uint64_t connection_id, uint64_t seq, const char* data, size_t size);

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_CODEC_H_
