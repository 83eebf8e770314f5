// Writing HTTP/1.1 response heads without allocating (when `out` has the capacity).
//
// Free functions, no state: safe from any thread on distinct strings.

#ifndef SHOAL_SERVER_PROTOCOLS_HTTP_RESPONSE_H_
#define SHOAL_SERVER_PROTOCOLS_HTTP_RESPONSE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "server/protocols/http/request_parser.h"

namespace shoal::http {

// Interim response for a request with "Expect: 100-continue" whose body we want.
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

// The RFC 9110 reason phrase of `status`, or "" for a status we have no phrase for.
std::string_view ReasonPhrase(int status);

struct ResponseHead {
  int status = 200;
  std::string_view content_type = {};  // no Content-Type field when empty
  size_t content_length = 0;           // not sent for 1xx and 204
  bool keep_alive = true;              // false sends "Connection: close"
  // An HTTP/1.0 client keeps the connection open only when told "Connection: keep-alive".
  Version request_version = Version::kHttp11;
  std::string_view date = {};  // IMF-fixdate (see DateCache); no Date field when empty
  // Further complete field lines, each ending in CRLF (e.g. "Allow: GET, HEAD\r\n").
  std::string_view extra_fields = {};
};

// Appends the status line, header fields and the empty line of `head` to `out`.
void AppendResponseHead(std::string& out, const ResponseHead& head);

}  // namespace shoal::http

#endif  // SHOAL_SERVER_PROTOCOLS_HTTP_RESPONSE_H_
