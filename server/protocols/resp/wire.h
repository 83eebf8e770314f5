// RESP2 on the wire, without I/O: parsing a request (multibulk array or inline command), the
// server's reply to one, and the value encodings a client or a reply is made of. Shared by the
// server's RESP sessions, loadgen and the tests. Pure functions: any thread.
#ifndef SHOAL_SERVER_PROTOCOLS_RESP_WIRE_H_
#define SHOAL_SERVER_PROTOCOLS_RESP_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::server {

// The listeners[].protocol and loadgen --protocol spelling.
inline constexpr std::string_view kRespName = "resp";

// Requests a server accepts; the fields carry no defaults of their own (see RespSettingsFrom).
struct RespSettings {
  // Longest bulk string, and (plus 64 KiB of framing) longest whole request.
  uint64_t max_frame_bytes{};
  size_t max_arguments{};
};

// One parsed request: its argument count and the first few arguments, as views into the input.
struct RespCommand {
  static constexpr size_t kKeptArguments = 3;
  size_t argument_count = 0;
  std::string_view arguments[kKeptArguments];
};

enum class RespParseStatus { kNeedMore, kComplete, kProtocolError, kTooLarge };

struct RespParse {
  RespParseStatus status = RespParseStatus::kNeedMore;
  size_t consumed = 0;        // bytes of the request when kComplete
  std::string_view error;     // what was wrong, for kProtocolError / kTooLarge
};

// Parses one request from the start of `input`. O(request bytes).
RespParse ParseRespCommand(std::string_view input, const RespSettings& settings,
                           RespCommand* command);

// Appends the reply to `command` to `out`; returns false if the connection should close after it
// (QUIT).
bool AppendRespReply(const RespCommand& command, std::string& out);

// "$<size>\r\n<value>\r\n".
void AppendRespBulk(std::string_view value, std::string& out);
// "$<size>\r\n", the head of a bulk string of `size` bytes.
void AppendRespBulkHeader(size_t size, std::string& out);
// "*<count>\r\n", the head of an array of `count` values.
void AppendRespArrayHeader(size_t count, std::string& out);

}  // namespace shoal::server

#endif  // SHOAL_SERVER_PROTOCOLS_RESP_WIRE_H_
