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
  AddRoute(Route{method, std::move(path), false, std::move(handler), ""});
}

void Router::AddPrefix(Method method, std::string prefix, Handler handler) {
  AddRoute(Route{method, std::move(prefix), true, std::move(handler), ""});
}

void Router::AddRoute(Route added) {
  routes_.push_back(std::move(added));
  const Route& last = routes_.back();
  auto same_path = [&](const Route& route) {
    return route.path == last.path && route.prefix == last.prefix;
  };
  // Recompute the Allow field of every route on this path.
  std::string methods;
  for (const Route& route : routes_) {
    if (!same_path(route)) continue;
    if (!methods.empty()) methods += ", ";
    methods += MethodName(route.method);
    if (route.method == Method::kGet) methods += ", HEAD";
  }
  for (Route& route : routes_) {
    if (same_path(route)) route.allow_field = "Allow: " + methods + "\r\n";
  }
}

const Router::Route* Router::Find(const Request& request, const Route** on_path) const {
  std::string_view path = TargetPath(request.target);
  *on_path = nullptr;
  for (const Route& route : routes_) {
    if (route.prefix ? !path.starts_with(route.path) : route.path != path) continue;
    *on_path = &route;
    if (route.method == request.method ||
        (route.method == Method::kGet && request.method == Method::kHead)) {
      return &route;
    }
  }
  return nullptr;
}

bool Router::Matches(const Request& request) const {
  const Route* on_path;
  return Find(request, &on_path) != nullptr;
}

void Router::Dispatch(const Request& request, Response& response) const {
  const Route* on_path;
  const Route* route = Find(request, &on_path);
  if (route != nullptr) {
    route->handler(request, response);
    return;
  }
  response.content_type = "text/plain";
  if (on_path == nullptr) {
    response.status = 404;
    response.body = "Not Found\n";
    return;
  }
  response.status = 405;
  response.body = "Method Not Allowed\n";
  response.extra_fields = on_path->allow_field;
}

}  // namespace shoal::http
