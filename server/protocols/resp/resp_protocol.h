// RESP2 (the Redis protocol) with the commands a load tester needs: PING [message], ECHO message,
// QUIT, and an error for anything else, in both request forms: multibulk arrays
// (*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n) and inline commands (PING\r\n). Enough for
// `redis-benchmark -t ping` and `redis-cli`. Pipelined requests are answered in order. A malformed
// request gets "-ERR Protocol error: ..." and the connection closes (protocol_error); a bulk
// string above max_frame_bytes likewise (frame_too_large).
//
// Threading: one RespProtocol per worker and listener, used on that worker's thread only.
// Registered as "resp" (registration.cc); the wire format is in wire.h.
#ifndef SHOAL_SERVER_PROTOCOLS_RESP_H_
#define SHOAL_SERVER_PROTOCOLS_RESP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/config/types.h"
#include "server/protocols/registry.h"
#include "server/protocols/resp/wire.h"

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
