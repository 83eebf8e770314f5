// RESP values on the wire, without I/O: the encodings a reply or a client's request is made of,
// in RESP2 and, where the two differ (null, map, set, verbatim string), RESP3. Shared by the
// server's RESP sessions, loadgen and the tests. Pure functions: any thread; each appends to
// `out` in O(size of what it appends).
#ifndef SHOAL_SERVER_PROTOCOLS_RESP_WIRE_H_
#define SHOAL_SERVER_PROTOCOLS_RESP_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::server {

// The listeners[].protocol and loadgen --protocol spelling.
inline constexpr std::string_view kRespName = "resp";

// The protocol a connection's replies are encoded in: RESP2 until HELLO 3 asks for RESP3.
enum class RespVersion { kResp2 = 2, kResp3 = 3 };

// "$<size>\r\n<value>\r\n".
void AppendRespBulk(std::string_view value, std::string& out);
// "$<size>\r\n", the head of a bulk string of `size` bytes.
void AppendRespBulkHeader(size_t size, std::string& out);
// "*<count>\r\n", the head of an array of `count` values.
void AppendRespArrayHeader(size_t count, std::string& out);
// "+<text>\r\n"; `text` holds no CR or LF.
void AppendRespSimple(std::string_view text, std::string& out);
// "-<text>\r\n" with every CR and LF of `text` turned into a space, as Redis does. `text` starts
// with the error code ("ERR ...").
void AppendRespError(std::string_view text, std::string& out);
// ":<value>\r\n".
void AppendRespInteger(int64_t value, std::string& out);
// RESP2 "$-1\r\n", RESP3 "_\r\n".
void AppendRespNull(RespVersion version, std::string& out);
// The head of a map of `pairs` key-value pairs: RESP3 "%<pairs>", RESP2 an array of 2 * pairs.
void AppendRespMapHeader(size_t pairs, RespVersion version, std::string& out);
// The head of a set: RESP3 "~<count>", RESP2 an array.
void AppendRespSetHeader(size_t count, RespVersion version, std::string& out);
// Text for a human: RESP3 the verbatim string "=<size>\r\ntxt:<text>\r\n", RESP2 a bulk string.
void AppendRespVerbatimText(std::string_view text, RespVersion version, std::string& out);

}  // namespace shoal::server

#endif  // SHOAL_SERVER_PROTOCOLS_RESP_WIRE_H_
