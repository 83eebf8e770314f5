// RESP2 (the Redis protocol) with the commands a load tester needs: PING [message], ECHO message,
// QUIT, and an error for anything else, in both request forms: multibulk arrays
// (*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n) and inline commands (PING\r\n). Enough for
// `redis-benchmark -t ping` and `redis-cli`. Pipelined requests are answered in order. A malformed
// request gets "-ERR Protocol error: ..." and the connection closes (protocol_error); a bulk
// string above max_frame_bytes likewise (frame_too_large).
//
// Threading: one RespProtocol per worker and listener, used on that worker's thread only.
#ifndef SHOAL_SERVER_PROTOCOLS_RESP_H_
#define SHOAL_SERVER_PROTOCOLS_RESP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/protocol.h"

namespace shoal::server {

struct RespSettings {
  // Longest bulk string, and (plus 64 KiB of framing) longest whole request.
  uint64_t max_frame_bytes = 1 << 20;
  size_t max_arguments = 1024;
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

// Parses one request from the start of `input`. Pure; O(request bytes).
RespParse ParseRespCommand(std::string_view input, const RespSettings& settings,
                           RespCommand* command);

// Appends the reply to `command` to `out`; returns false if the connection should close after it
// (QUIT).
bool AppendRespReply(const RespCommand& command, std::string& out);

class RespProtocol final : public core::Protocol {
 public:
  explicit RespProtocol(const RespSettings& settings) : settings_(settings) {}
  std::unique_ptr<core::Session> NewSession(core::SessionContext& connection) override;
  void set_settings(const RespSettings& settings) { settings_ = settings; }
  const RespSettings& settings() const { return settings_; }
  std::string& reply_scratch() { return reply_scratch_; }

 private:
  RespSettings settings_;
  std::string reply_scratch_;
};

}  // namespace shoal::server

#endif  // SHOAL_SERVER_PROTOCOLS_RESP_H_
