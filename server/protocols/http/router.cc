#include "server/protocols/http/router.h"

namespace shoal::http {

namespace {

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet: return "GET";
    case Method::kHead: return "HEAD";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kDelete: return "DELETE";
    case Method::kOptions: return "OPTIONS";
    case Method::kPatch: return "PATCH";
    case Method::kConnect: return "CONNECT";
    case Method::kTrace: return "TRACE";
    case Method::kOther: return "";
  }
  return "";
}

}  // namespace

std::string_view TargetPath(std::string_view target) {
  // absolute-form (RFC 9112 3.2.2), which a server must accept: "http://host:port/path?query".
  if (!target.empty() && target.front() != '/') {
    size_t scheme_end = target.find("://");
    if (scheme_end != std::string_view::npos) {
      size_t path_start = target.find_first_of("/?", scheme_end + 3);
      target = path_start == std::string_view::npos ? std::string_view("/")
                                                    : target.substr(path_start);
      if (target.front() == '?') return "/";
    }
  }
  size_t query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

void Router::Add(Method method, std::string path, Handler handler) {
  routes_.push_back(Route{method, std::move(path), std::move(handler), ""});
  // Recompute the Allow field of every route on this path.
  std::string methods;
  for (const Route& route : routes_) {
    if (route.path != routes_.back().path) continue;
    if (!methods.empty()) methods += ", ";
    methods += MethodName(route.method);
    if (route.method == Method::kGet) methods += ", HEAD";
  }
  for (Route& route : routes_) {
    if (route.path == routes_.back().path) route.allow_field = "Allow: " + methods + "\r\n";
  }
}

const Router::Route* Router::Find(const Request& request, bool* path_known) const {
  std::string_view path = TargetPath(request.target);
  *path_known = false;
  for (const Route& route : routes_) {
    if (route.path != path) continue;
    *path_known = true;
    if (route.method == request.method ||
        (route.method == Method::kGet && request.method == Method::kHead)) {
      return &route;
    }
  }
  return nullptr;
}

bool Router::Matches(const Request& request) const {
  bool path_known;
  return Find(request, &path_known) != nullptr;
}

void Router::Dispatch(const Request& request, Response& response) const {
  bool path_known;
  const Route* route = Find(request, &path_known);
  if (route != nullptr) {
    route->handler(request, response);
    return;
  }
  response.content_type = "text/plain";
  if (!path_known) {
    response.status = 404;
    response.body = "Not Found\n";
    return;
  }
  response.status = 405;
  response.body = "Method Not Allowed\n";
  for (const Route& candidate : routes_) {
    if (candidate.path == TargetPath(request.target)) {
      response.extra_fields = candidate.allow_field;
      break;
    }
  }
}

}  // namespace shoal::http
