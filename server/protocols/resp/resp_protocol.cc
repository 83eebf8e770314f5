#include "server/protocols/resp/resp_protocol.h"

#include <spdlog/spdlog.h>

#include <atomic>

#include "server/log_rate_limit.h"
#include "server/protocols/resp/commands.h"

namespace shoal::server {

RespSettings RespSettingsFrom(const Config& config) {
  return RespSettings{config.limits.max_frame_bytes, kRespMaxArguments};
}

namespace {

// CLIENT ID: unique across the process's RESP connections, from 1.
uint64_t NextClientId() {
  static std::atomic<uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

class RespSession final : public core::Session {
 public:
  RespSession(core::SessionContext& connection, RespProtocol& protocol)
      : Session(connection), protocol_(protocol) {
    client_.id = NextClientId();
  }

  size_t OnData(std::string_view input) override {
    std::string& out = protocol_.reply_scratch();
    out.clear();
    size_t position = 0;
    uint64_t requests = 0;
    bool close_after = false;
    core::CloseReason reason = core::CloseReason::kPeerClosed;
    while (position < input.size()) {
      RespParse parse = parser_.Parse(input.substr(position), protocol_.settings(), &command_);
      if (parse.status == RespParseStatus::kNeedMore) break;
      if (parse.status != RespParseStatus::kComplete) {
        AppendRespError(std::string("ERR Protocol error: ").append(parse.error), out);
        close_after = true;
        reason = parse.status == RespParseStatus::kTooLarge ? core::CloseReason::kFrameTooLarge
                                                            : core::CloseReason::kProtocolError;
        thread_local LogRateLimit log_limit(kPeerWarnLinesPerSecond);
        if (auto suppressed = log_limit.Admit(connection().wall_seconds())) {
          spdlog::warn("resp: closing {}: {}{}", connection().PeerName(), parse.error,
                       SuppressedNote(*suppressed));
        }
        position = input.size();
        break;
      }
      position += parse.consumed;
      ++requests;
      if (AppendRespReply(command_, client_, out) == RespAfterReply::kClose) {
        close_after = true;
        position = input.size();
        break;
      }
    }
    connection().Send(out);
    connection().CountRequests(requests);
    if (close_after) connection().CloseAfterFlush(reason);
    partial_ = position < input.size();
    return position;
  }

  bool RequestInProgress() const override { return partial_; }

 private:
  RespProtocol& protocol_;
  RespRequestParser parser_;
  RespCommand command_;
  RespClient client_;
  bool partial_ = false;
};

}  // namespace

std::unique_ptr<core::Session> RespProtocol::NewSession(core::SessionContext& connection) {
  return std::make_unique<RespSession>(connection, *this);
}

}  // namespace shoal::server
