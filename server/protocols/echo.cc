#include "server/protocols/echo.h"

#include <spdlog/spdlog.h>

namespace shoal::server {

namespace {

class EchoSession final : public core::Session {
 public:
  EchoSession(core::Connection& connection, const EchoProtocol& protocol)
      : Session(connection), protocol_(protocol) {}

  size_t OnData(std::string_view input) override {
    size_t position = 0;
    uint64_t frames = 0;
    const uint64_t max_frame_bytes = protocol_.settings().max_frame_bytes;
    while (input.size() - position >= kEchoHeaderBytes) {
      uint32_t length = DecodeEchoLength(input.substr(position, kEchoHeaderBytes));
      if (length > max_frame_bytes) {
        spdlog::warn("echo: closing {}: frame of {} bytes exceeds max_frame_bytes {}",
                     connection().PeerName(), length, max_frame_bytes);
        connection().CountRequests(frames);
        connection().Close(core::CloseReason::kFrameTooLarge);
        return input.size();
      }
      size_t available = input.size() - position - kEchoHeaderBytes;
      if (available >= length) {
        connection().Send(input.substr(position, kEchoHeaderBytes + length));
        position += kEchoHeaderBytes + length;
        ++frames;
        continue;
      }
      connection().Send(input.substr(position));
      connection().ForwardInput(length - available);
      forwarding_ = true;
      position = input.size();
      break;
    }
    partial_header_ = position < input.size();
    if (frames > 0) connection().CountRequests(frames);
    return position;
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

std::unique_ptr<core::Session> EchoProtocol::NewSession(core::Connection& connection) {
  return std::make_unique<EchoSession>(connection, *this);
}

}  // namespace shoal::server
