// The length-prefixed echo protocol: a frame is a 4-byte big-endian length N
// and N bytes; each frame is answered with the identical frame, in order. A length above
// max_frame_bytes closes that connection (frame_too_large). Payloads are streamed: complete frames
// in the input are copied to the output once, and the rest of a frame whose payload has not fully
// arrived is forwarded from the socket to the output without passing through the input buffer,
// so a connection never buffers a whole large frame.
//
// A frame cut short (the peer's FIN, a read timeout, the end of a drain) is never passed off as
// whole: if none of its bytes was echoed yet (its header is incomplete, or forward_partial_payloads
// is false) it is dropped and the connection ends with FIN after the complete frames; if its header
// and part of its payload were already streamed back, the connection ends with a reset (RST),
// after the queued output is written on the peer's FIN, at once on a deadline. Either way a clean
// EOF follows only complete frames; a reset may cut bytes still in flight. The warn line
// for a frame_too_large close is rate-limited per worker thread (server/log_rate_limit.h).
//
// Threading: one EchoProtocol per worker and listener, used on that worker's thread only.
// Registered as "echo" (registration.cc).
#ifndef SHOAL_SERVER_PROTOCOLS_ECHO_ECHO_PROTOCOL_H_
#define SHOAL_SERVER_PROTOCOLS_ECHO_ECHO_PROTOCOL_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "server/config/types.h"
#include "server/protocols/echo/frame.h"
#include "server/protocols/registry.h"

namespace shoal::server {

// Built from a Config (EchoSettingsFrom); the fields carry no defaults of their own.
struct EchoSettings {
  uint64_t max_frame_bytes{};
  // true (from a Config): the rest of a partly arrived frame is forwarded socket -> output queue
  // (SessionContext::ForwardInput). false: only complete frames are echoed; a partial frame stays in
  // the connection's input buffer until it is complete, then is copied to the output (the
  // pre-zero-copy behaviour, kept for tools/bench/zero_copy).
  bool forward_partial_payloads{};
};

// limits.max_frame_bytes, payloads forwarded.
EchoSettings EchoSettingsFrom(const Config& config);

class EchoProtocol final : public protocols::LiveProtocol {
 public:
  explicit EchoProtocol(const EchoSettings& settings) : settings_(settings) {}
  std::unique_ptr<core::Session> NewSession(core::SessionContext& connection) override;
  void Apply(const Config& config) override { settings_ = EchoSettingsFrom(config); }
  const EchoSettings& settings() const { return settings_; }

 private:
  EchoSettings settings_;
};

}  // namespace shoal::server

#endif  // SHOAL_SERVER_PROTOCOLS_ECHO_ECHO_PROTOCOL_H_
