#include "server/protocols/echo/echo_protocol.h"

#include <spdlog/spdlog.h>

#include "server/log_rate_limit.h"

namespace shoal::server {

EchoSettings EchoSettingsFrom(const Config& config) {
  return EchoSettings{config.limits.max_frame_bytes, true};
}

namespace {

class EchoSession final : public core::Session {
 public:
  EchoSession(core::SessionContext& connection, const EchoProtocol& protocol)
      : Session(connection), protocol_(protocol) {}

  size_t OnData(std::string_view input) override {
    const uint64_t max_frame_bytes = protocol_.settings().max_frame_bytes;
    EchoScan scan = ScanEchoFrames(input, max_frame_bytes);
    if (scan.payload_to_forward > 0 && !protocol_.settings().forward_partial_payloads) {
      // Keep the partial frame (header and the payload so far) buffered until it is complete.
      connection().Send(input.substr(0, scan.partial_frame_start));
      connection().CountRequests(scan.frames_completed);
      partial_header_ = true;
      return scan.partial_frame_start;
    }
    connection().Send(input.substr(0, scan.echo_bytes));
    connection().CountRequests(scan.frames_completed);
    if (scan.frame_too_large) {
      thread_local LogRateLimit log_limit(kPeerWarnLinesPerSecond);
      if (auto suppressed = log_limit.Admit(connection().wall_seconds())) {
        spdlog::warn("echo: closing {}: frame of {} bytes exceeds max_frame_bytes {}{}",
                     connection().PeerName(), scan.too_large_length, max_frame_bytes,
                     SuppressedNote(*suppressed));
      }
      // No frame is in progress any more: the close is frame_too_large, never a read timeout.
      partial_header_ = false;
      connection().CloseAfterFlush(core::CloseReason::kFrameTooLarge);
      return input.size();
    }
    if (scan.payload_to_forward > 0) {
      connection().ForwardInput(scan.payload_to_forward);
      forwarding_ = true;
    }
    partial_header_ = scan.echo_bytes < input.size();
    return scan.echo_bytes;
  }

  void OnForwardComplete() override {
    forwarding_ = false;
    connection().CountRequests(1);
  }

  bool RequestInProgress() const override { return forwarding_ || partial_header_; }

 private:
  const EchoProtocol& protocol_;
  bool forwarding_ = false;
  bool partial_header_ = false;
};

}  // namespace

std::unique_ptr<core::Session> EchoProtocol::NewSession(core::SessionContext& connection) {
  return std::make_unique<EchoSession>(connection, *this);
}

}  // namespace shoal::server
