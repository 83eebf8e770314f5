// RESP (the Redis protocol) on core/: a RespRequestParser per connection (request_parser.h: the
// two request forms, their limits, Redis's protocol error texts) and the commands of
// commands.h, answered in order for pipelined requests, in RESP2 or, after HELLO 3, RESP3. A
// malformed request gets "-ERR Protocol error: <Redis's text>" and the connection closes after
// the replies before it (protocol_error; frame_too_large for a bulk string above
// max_frame_bytes or a request too large). QUIT answers +OK and closes.
//
// Threading: one RespProtocol per worker and listener, used on that worker's thread only.
// Registered as "resp" (registration.cc).
#ifndef SHOAL_SERVER_PROTOCOLS_RESP_H_
#define SHOAL_SERVER_PROTOCOLS_RESP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/config/types.h"
#include "server/protocols/registry.h"
#include "server/protocols/resp/request_parser.h"

namespace shoal::server {

inline constexpr size_t kRespMaxArguments = 1024;

// limits.max_frame_bytes, and at most kRespMaxArguments arguments.
RespSettings RespSettingsFrom(const Config& config);

class RespProtocol final : public protocols::LiveProtocol {
 public:
  explicit RespProtocol(const RespSettings& settings) : settings_(settings) {}
  std::unique_ptr<core::Session> NewSession(core::SessionContext& connection) override;
  void Apply(const Config& config) override { settings_ = RespSettingsFrom(config); }
  const RespSettings& settings() const { return settings_; }
  std::string& reply_scratch() { return reply_scratch_; }

 private:
  RespSettings settings_;
  std::string reply_scratch_;
};

}  // namespace shoal::server

#endif  // SHOAL_SERVER_PROTOCOLS_RESP_H_
