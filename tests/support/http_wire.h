// HTTP/1.1 on the wire as shoal sends it, for tests: a strict parser of responses (status line,
// header fields, a Content-Length body; none after HEAD, none for 1xx), the IMF-fixdate check,
// and the exact bytes shoal sends for given fields. Pure functions, no I/O.
#ifndef SHOAL_TESTS_SUPPORT_HTTP_WIRE_H_
#define SHOAL_TESTS_SUPPORT_HTTP_WIRE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shoal::testing {

struct HttpResponse {
  std::string raw;  // every byte of the response
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The value of the first field named `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
  size_t HeaderCount(std::string_view name) const;
};

enum class ParseOutcome { kNeedMore, kDone, kMalformed };

// Parses the response at the start of `data`. On kDone fills `out` and `*consumed`; on kMalformed
// puts the reason in `out->reason`. `head_request` means the response has no body whatever its
// Content-Length says.
ParseOutcome ParseResponse(std::string_view data, bool head_request, HttpResponse* out,
                           size_t* consumed);

// Whether `value` is an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
bool IsImfFixdate(std::string_view value);
// The response bytes shoal sends for these fields (Date given), for byte-exact comparisons.
std::string ExpectedResponse(int status, std::string_view date, std::string_view content_type,
                             std::string_view body, bool head_request,
                             std::string_view connection_field = {},
                             std::string_view extra_fields = {});

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_HTTP_WIRE_H_
