#include "server/protocols/http/test_endpoints.h"

#include <charconv>
#include <string>

#include "absl/time/time.h"
#include "server/config/units.h"
#include "server/protocols/http/response.h"
#include "server/protocols/http/wire.h"

namespace shoal::http {

namespace {

// The path's part after `prefix` (the route guarantees the prefix).
std::string_view Parameter(const Request& request, std::string_view prefix) {
  return TargetPath(request.target).substr(prefix.size());
}

bool ParseDecimal(std::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 19) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

void BadRequest(Response& response, std::string reason) {
  response.status = 400;
  response.storage = std::move(reason);
  response.body = response.storage;
}

void Bytes(const Request& request, Response& response) {
  uint64_t count = 0;
  if (!ParseDecimal(Parameter(request, "/bytes/"), &count)) {
    BadRequest(response, "N in /bytes/N must be a decimal count of bytes\n");
    return;
  }
  if (count > response.limits.max_body_bytes) {
    BadRequest(response, "N in /bytes/N is above limits.max_frame_bytes (" +
                             std::to_string(response.limits.max_body_bytes) + ")\n");
    return;
  }
  response.content_type = "application/octet-stream";
  response.storage.clear();
  AppendTestBytes(0, static_cast<size_t>(count), response.storage);
  response.body = response.storage;
}

void Delay(const Request& request, Response& response) {
  const std::string_view text = Parameter(request, "/delay/");
  auto delay = server::ParseDuration(text);
  if (!delay.ok()) {
    BadRequest(response, "DURATION in /delay/DURATION: " + std::string(delay.status().message()) +
                             "\n");
    return;
  }
  const int64_t delay_ns = absl::ToInt64Nanoseconds(*delay);
  if (delay_ns > response.limits.max_delay_ns) {
    BadRequest(response, "DURATION in /delay/DURATION is above limits.max_delay (" +
                             server::FormatConfigDuration(
                                 absl::Nanoseconds(response.limits.max_delay_ns)) +
                             ")\n");
    return;
  }
  response.storage = "delayed " + std::string(text) + "\n";
  response.body = response.storage;
  response.delay_ns = delay_ns;
}

void Status(const Request& request, Response& response) {
  uint64_t code = 0;
  const std::string_view text = Parameter(request, "/status/");
  if (text.size() != 3 || !ParseDecimal(text, &code) || code < 200 || code > 599) {
    BadRequest(response, "CODE in /status/CODE must be a status from 200 to 599\n");
    return;
  }
  response.status = static_cast<int>(code);
  if (code == 204 || code == 304) return;
  response.storage.assign(ReasonPhrase(response.status));
  response.storage.push_back('\n');
  response.body = response.storage;
}

}  // namespace

void AddTestEndpoints(Router& router) {
  router.AddPrefix(Method::kGet, "/bytes/", &Bytes);
  router.AddPrefix(Method::kGet, "/delay/", &Delay);
  router.AddPrefix(Method::kGet, "/status/", &Status);
}

}  // namespace shoal::http
