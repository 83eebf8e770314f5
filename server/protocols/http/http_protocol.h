// The HTTP/1.1 protocol on core/: keep-alive, pipelining (responses in request order),
// Expect: 100-continue, HEAD, a Date field formatted at most once per second per worker, and the
// parser's strictness. After an error response (4xx/5xx from the parser) the connection closes.
//
// Threading: one HttpProtocol per worker and listener, on that worker's thread; the Router it
// uses is shared read-only.
#ifndef SHOAL_SERVER_PROTOCOLS_HTTP_HTTP_PROTOCOL_H_
#define SHOAL_SERVER_PROTOCOLS_HTTP_HTTP_PROTOCOL_H_

#include <memory>
#include <string>

#include "core/connection.h"
#include "core/protocol.h"
#include "server/protocols/http/date_cache.h"
#include "server/protocols/http/request_parser.h"
#include "server/protocols/http/router.h"

namespace shoal::http {

class HttpProtocol final : public core::Protocol {
 public:
  HttpProtocol(const Limits& limits, std::shared_ptr<const Router> router)
      : limits_(limits), router_(std::move(router)) {}
  std::unique_ptr<core::Session> NewSession(core::Connection& connection) override;

  // Worker thread only. New limits apply to requests parsed from then on.
  void set_limits(const Limits& limits) { limits_ = limits; }
  const Limits& limits() const { return limits_; }
  const Router& router() const { return *router_; }
  DateCache& date_cache() { return date_cache_; }
  // Scratch for response heads, reused by every session of this worker.
  std::string& head_scratch() { return head_scratch_; }

 private:
  Limits limits_;
  std::shared_ptr<const Router> router_;
  DateCache date_cache_;
  std::string head_scratch_;
};

// The routes of DESIGN.md section 4: GET /plaintext -> "Hello, World!", POST /echo -> the body.
std::shared_ptr<const Router> MakeDefaultRouter();

}  // namespace shoal::http

#endif  // SHOAL_SERVER_PROTOCOLS_HTTP_HTTP_PROTOCOL_H_
