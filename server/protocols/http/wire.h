// HTTP/1.1 text helpers without I/O, shared by the server's HTTP code, loadgen and the tests: the
// protocol's name, the field-value comparisons of RFC 9110 (case-insensitive names, optional
// whitespace around values), and the body pattern of GET /bytes/N. Pure functions: any thread.
#ifndef SHOAL_SERVER_PROTOCOLS_HTTP_WIRE_H_
#define SHOAL_SERVER_PROTOCOLS_HTTP_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::http {

// The listeners[].protocol and loadgen --protocol spelling.
inline constexpr std::string_view kHttpName = "http";

// ASCII case-insensitive equality (field names, tokens). O(size).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// `value` without leading and trailing spaces and tabs (OWS).
std::string_view TrimOws(std::string_view value);

// The body of GET /bytes/N is N bytes of 16-byte records, record k being the offset 16 * k as 15
// lower-case hex digits and a LF ("000000000000000\n000000000000010\n..."), the last one cut
// short: byte i depends on i alone, so a client checks any part of a body from its offset, and
// a byte lost, repeated or moved shows.
inline constexpr size_t kTestBytesRecord = 16;
// Appends bytes [offset, offset + count) of the pattern. O(count).
void AppendTestBytes(uint64_t offset, size_t count, std::string& out);
// The index in `bytes` (bytes [offset, offset + size) of a body) of the first byte that differs
// from the pattern, or std::string_view::npos when none does. O(size).
size_t FindTestBytesMismatch(uint64_t offset, std::string_view bytes);

}  // namespace shoal::http

#endif  // SHOAL_SERVER_PROTOCOLS_HTTP_WIRE_H_
