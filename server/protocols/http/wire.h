// HTTP/1.1 text helpers without I/O, shared by the server's HTTP code, loadgen and the tests: the
// protocol's name and the field-value comparisons of RFC 9110 (case-insensitive names, optional
// whitespace around values). Pure functions: any thread.
#ifndef SHOAL_SERVER_PROTOCOLS_HTTP_WIRE_H_
#define SHOAL_SERVER_PROTOCOLS_HTTP_WIRE_H_

#include <string_view>

namespace shoal::http {

// The listeners[].protocol and loadgen --protocol spelling.
inline constexpr std::string_view kHttpName = "http";

// ASCII case-insensitive equality (field names, tokens). O(size).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// `value` without leading and trailing spaces and tabs (OWS).
std::string_view TrimOws(std::string_view value);

}  // namespace shoal::http

#endif  // SHOAL_SERVER_PROTOCOLS_HTTP_WIRE_H_
