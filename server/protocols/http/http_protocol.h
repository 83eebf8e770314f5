// The HTTP/1.1 protocol on core/: keep-alive, pipelining (responses in request order),
// Expect: 100-continue, HEAD, a Date field formatted at most once per second per worker, and the
// parser's strictness. Every parser error (4xx, 501, 505) is answered, then the connection
// closes and requests pipelined behind it are dropped unanswered (close reason frame_too_large
// for 413, protocol_error otherwise). Responses from the router and its handlers, 404 and 405
// included, keep the connection open (they are requests like others), except a 404/405 answered
// before an announced body (Expect: 100-continue), which closes since the body is never read.
// peer_closed when the client's keep-alive rules end the connection (Connection: close,
// HTTP/1.0 without keep-alive).
//
// A handler may ask for its response to be sent later (Response::delay_ns, GET /delay): the
// session arms the connection's timer and holds the requests pipelined behind it, at most
// max_header_bytes + max_body_bytes of them (more closes the connection, frame_too_large),
// answering them in order once the delayed response is sent.
//
// Threading: one HttpProtocol per worker and listener, on that worker's thread; the Router it
// uses is shared read-only. Registered as "http" (registration.cc) with MakeDefaultRouter().
#ifndef SHOAL_SERVER_PROTOCOLS_HTTP_HTTP_PROTOCOL_H_
#define SHOAL_SERVER_PROTOCOLS_HTTP_HTTP_PROTOCOL_H_

#include <memory>
#include <string>

#include "server/config/types.h"
#include "server/protocols/registry.h"
#include "server/protocols/http/date_cache.h"
#include "server/protocols/http/request_parser.h"
#include "server/protocols/http/response.h"
#include "server/protocols/http/router.h"

namespace shoal::http {

// limits.max_header_bytes and limits.max_frame_bytes (the body).
Limits LimitsFrom(const server::Config& config);
// limits.max_frame_bytes and limits.max_delay.
EndpointLimits EndpointLimitsFrom(const server::Config& config);

class HttpProtocol final : public protocols::LiveProtocol {
 public:
  HttpProtocol(const Limits& limits, std::shared_ptr<const Router> router,
               const EndpointLimits& endpoint_limits = {})
      : limits_(limits), endpoint_limits_(endpoint_limits), router_(std::move(router)) {}
  std::unique_ptr<core::Session> NewSession(core::SessionContext& connection) override;

  // Worker thread only. New limits apply to requests parsed from then on.
  void Apply(const server::Config& config) override {
    limits_ = LimitsFrom(config);
    endpoint_limits_ = EndpointLimitsFrom(config);
  }
  const Limits& limits() const { return limits_; }
  const EndpointLimits& endpoint_limits() const { return endpoint_limits_; }
  const Router& router() const { return *router_; }
  // The bytes of the response head for `head` (whose date is ignored) at `unix_seconds`. The
  // head of the previous call is reused when every field and the second are the same, which is
  // what a stream of identical requests produces: then nothing is formatted. The view is valid
  // until the next call. Worker thread only.
  std::string_view FormatHead(const ResponseHead& head, int64_t unix_seconds);

 private:
  struct CachedHead {
    int status = 0;
    std::string content_type;
    size_t content_length = 0;
    bool keep_alive = false;
    Version request_version = Version::kHttp11;
    int64_t seconds = 0;
    std::string bytes;  // empty: nothing cached
  };

  Limits limits_;
  EndpointLimits endpoint_limits_;
  std::shared_ptr<const Router> router_;
  DateCache date_cache_;
  CachedHead cached_head_;
  std::string head_scratch_;  // heads with extra fields, which are not cached
};

// The default routes: GET /plaintext -> "Hello, World!", POST /echo -> the body, and the test
// endpoints of test_endpoints.h (/bytes/N, /delay/DURATION, /status/CODE).
std::shared_ptr<const Router> MakeDefaultRouter();

}  // namespace shoal::http

#endif  // SHOAL_SERVER_PROTOCOLS_HTTP_HTTP_PROTOCOL_H_
