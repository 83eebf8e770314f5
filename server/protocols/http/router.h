// Router: maps (method, path) to a handler, with the HTTP answers for what does not match (404 for
// an unknown path, 405 with an Allow field for a known path and another method). A route is an
// exact path, or a prefix (AddPrefix) that every path starting with it matches. A GET route also
// answers HEAD. Routes are added before serving; afterwards the router is read-only and may be
// shared by every worker. Lookup is a linear scan: routers here hold a handful of routes.
#ifndef SHOAL_SERVER_PROTOCOLS_HTTP_ROUTER_H_
#define SHOAL_SERVER_PROTOCOLS_HTTP_ROUTER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/protocols/http/request_parser.h"

namespace shoal::http {

// Bounds on what a client may ask a handler for (the size or the time of an answer).
struct EndpointLimits {
  uint64_t max_body_bytes = 1024 * 1024;  // limits.max_frame_bytes
  int64_t max_delay_ns = 0;               // limits.max_delay
};

// What a handler fills in. `body` may point at static data, at the request (valid until the
// response is sent), or at `storage`, a string the session reuses between requests.
struct Response {
  int status = 200;
  std::string_view content_type = "text/plain";
  std::string_view body;
  std::string_view extra_fields;  // complete lines ending in CRLF
  std::string storage;
  // > 0: the session sends this response that long after the request (on the worker's timer
  // wheel, never blocking), and answers the requests pipelined behind it after it.
  int64_t delay_ns = 0;
  // Set by the session before dispatch.
  EndpointLimits limits;
};

using Handler = std::function<void(const Request& request, Response& response)>;

class Router {
 public:
  void Add(Method method, std::string path, Handler handler);
  // A route for every path that starts with `prefix`.
  void AddPrefix(Method method, std::string prefix, Handler handler);
  // Fills `response` for `request`: the handler's answer, or 404/405.
  void Dispatch(const Request& request, Response& response) const;
  // True if a handler exists for the request's path and method (for 100-continue decisions).
  bool Matches(const Request& request) const;

 private:
  struct Route {
    Method method;
    std::string path;
    bool prefix;
    Handler handler;
    std::string allow_field;  // "Allow: ...\r\n" for every method on this path
  };
  void AddRoute(Route route);
  // The route for the request's path and method, or nullptr; *on_path: a route on that path.
  const Route* Find(const Request& request, const Route** on_path) const;

  std::vector<Route> routes_;
};

// The path of a request target, without its query. For an absolute-form target
// ("http://host/path?q") the path after the authority ("/" when there is none).
std::string_view TargetPath(std::string_view target);

}  // namespace shoal::http

#endif  // SHOAL_SERVER_PROTOCOLS_HTTP_ROUTER_H_
