#include "server/protocols/http/http_protocol.h"

#include "server/protocols/http/response.h"
#include "server/protocols/http/test_endpoints.h"

namespace shoal::http {

Limits LimitsFrom(const server::Config& config) {
  Limits limits;
  limits.max_header_bytes = config.limits.max_header_bytes;
  limits.max_body_bytes = config.limits.max_frame_bytes;
  return limits;
}

EndpointLimits EndpointLimitsFrom(const server::Config& config) {
  return EndpointLimits{config.limits.max_frame_bytes,
                        absl::ToInt64Nanoseconds(config.limits.max_delay)};
}

namespace {

// A response body kept in the session's storage above this is released after sending, so an
// idle connection does not hold a large /bytes body.
constexpr size_t kKeptStorageBytes = 64 * 1024;

class HttpSession final : public core::Session {
 public:
  HttpSession(core::SessionContext& connection, HttpProtocol& protocol)
      : Session(connection), protocol_(protocol), parser_(protocol.limits()) {}

  size_t OnData(std::string_view input) override {
    if (delayed_ || !held_.empty()) {
      if (!closing_ && Hold(input) && !delayed_) ProcessHeld();
      return input.size();
    }
    const size_t used = Process(input);
    // Behind a delayed response the rest waits in held_: no new bytes may come to present it.
    if (delayed_ && used < input.size()) Hold(input.substr(used));
    return delayed_ ? input.size() : used;
  }

  void OnTimer() override {
    if (!delayed_) return;
    delayed_ = false;
    connection().CountRequests(1);
    Finish();
    if (!closing_ && !held_.empty()) ProcessHeld();
    if (peer_shut_down_ && !delayed_ && !closing_) {
      connection().CloseAfterFlush(core::CloseReason::kPeerClosed);
    }
  }

  void OnPeerShutdown() override {
    // The delayed response and what the client pipelined behind it are still answered.
    if (delayed_) {
      peer_shut_down_ = true;
      return;
    }
    connection().CloseAfterFlush(core::CloseReason::kPeerClosed);
  }

  bool RequestInProgress() const override { return partial_ || delayed_ || !held_.empty(); }

 private:
  // Parses and answers the requests in `input` up to a delayed response; returns the bytes used.
  size_t Process(std::string_view input) {
    if (!partial_ && !closing_) {
      // Between requests: a reload's limits apply from the request that starts now.
      parser_.set_limits(protocol_.limits());
      parser_.Reset();
    }
    size_t position = 0;
    uint64_t requests = 0;
    while (!closing_ && !delayed_) {
      ParseResult result = parser_.Parse(input.substr(position), body_);
      if (result.status != ParseStatus::kError) position += result.consumed;
      if (result.status == ParseStatus::kNeedMore) break;
      if (result.status == ParseStatus::kHeadersComplete) {
        const Request& request = parser_.request();
        if (request.expect_continue && !continue_sent_) {
          if (!protocol_.router().Matches(request)) {
            // Answer now rather than invite a body we would refuse; the body never comes in.
            Respond(request, /*close_after=*/true);
            break;
          }
          connection().Send(kContinueResponse);
          continue_sent_ = true;
        }
        break;
      }
      if (result.status == ParseStatus::kError) {
        SendError(result.error_status);
        break;
      }
      const Request& request = parser_.request();
      Respond(request, /*close_after=*/!request.keep_alive);
      if (!delayed_) ++requests;
      parser_.set_limits(protocol_.limits());  // takes effect at the Reset: the next request
      parser_.Reset();
      continue_sent_ = false;
    }
    if (requests > 0) connection().CountRequests(requests);
    // Once a response closes the connection, whatever follows is never answered: drop it.
    if (closing_) position = input.size();
    partial_ = position < input.size() || parser_.mid_request();
    return position;
  }

  // Keeps `input` for after the delayed response; false (and the connection closed) when that
  // would hold more than one request of the largest size.
  bool Hold(std::string_view input) {
    const Limits& limits = protocol_.limits();
    if (held_.size() + input.size() > limits.max_header_bytes + limits.max_body_bytes) {
      held_.clear();
      closing_ = true;
      connection().Close(core::CloseReason::kFrameTooLarge);
      return false;
    }
    held_.append(input);
    return true;
  }

  void ProcessHeld() { held_.erase(0, Process(held_)); }

  void Respond(const Request& request, bool close_after) {
    response_.status = 200;
    response_.content_type = "text/plain";
    response_.body = {};
    response_.extra_fields = {};
    response_.delay_ns = 0;
    response_.limits = protocol_.endpoint_limits();
    protocol_.router().Dispatch(request, response_);
    // Past its max age or request limit the connection ends after this reply, announced.
    const bool last = !close_after && connection().LastReply();
    pending_ = {request.method == Method::kHead, request.version, !close_after && !last, last};
    if (response_.delay_ns > 0) {
      delayed_ = true;
      connection().StartTimer(response_.delay_ns);
      return;
    }
    Finish();
  }

  // Sends response_ as Respond prepared it.
  void Finish() {
    WriteResponse(pending_.head_only, pending_.version, pending_.keep_alive);
    if (response_.storage.capacity() > kKeptStorageBytes) std::string().swap(response_.storage);
    if (!pending_.keep_alive) {
      closing_ = true;
      connection().CloseAfterFlush(pending_.last ? core::CloseReason::kMaxAge
                                                 : core::CloseReason::kPeerClosed);
    }
  }

  void SendError(int status) {
    response_.status = status;
    response_.content_type = "text/plain";
    response_.body = ReasonPhrase(status);
    response_.extra_fields = {};
    WriteResponse(/*head_only=*/false, Version::kHttp11, /*keep_alive=*/false);
    closing_ = true;
    // A body over limits.max_frame_bytes is the HTTP form of an oversized frame.
    connection().CloseAfterFlush(status == 413 ? core::CloseReason::kFrameTooLarge
                                               : core::CloseReason::kProtocolError);
  }

  void WriteResponse(bool head_only, Version version, bool keep_alive) {
    ResponseHead fields;
    fields.status = response_.status;
    fields.content_type = response_.content_type;
    fields.content_length = response_.body.size();
    fields.keep_alive = keep_alive;
    fields.request_version = version;
    fields.extra_fields = response_.extra_fields;
    connection().Send(protocol_.FormatHead(fields, connection().wall_seconds()));
    if (!head_only) connection().Send(response_.body);
  }

  // How response_ is to be written, decided when its request was read.
  struct PendingResponse {
    bool head_only = false;
    Version version = Version::kHttp11;
    bool keep_alive = true;
    // Past its max age or request limit: the connection ends after this reply, announced.
    bool last = false;
  };

  HttpProtocol& protocol_;
  RequestParser parser_;
  std::string body_;
  Response response_;
  PendingResponse pending_;
  std::string held_;  // input received behind a delayed response
  bool delayed_ = false;
  bool peer_shut_down_ = false;
  bool continue_sent_ = false;
  bool partial_ = false;
  // A response that ends the connection was sent: no further request is parsed or answered.
  bool closing_ = false;
};

}  // namespace

std::string_view HttpProtocol::FormatHead(const ResponseHead& head, int64_t unix_seconds) {
  if (!head.extra_fields.empty()) {
    head_scratch_.clear();
    ResponseHead dated = head;
    dated.date = date_cache_.Get(unix_seconds);
    AppendResponseHead(head_scratch_, dated);
    return head_scratch_;
  }
  CachedHead& cached = cached_head_;
  if (cached.bytes.empty() || cached.seconds != unix_seconds || cached.status != head.status ||
      cached.content_length != head.content_length || cached.keep_alive != head.keep_alive ||
      cached.request_version != head.request_version ||
      cached.content_type != head.content_type) {
    cached.status = head.status;
    cached.content_type.assign(head.content_type);
    cached.content_length = head.content_length;
    cached.keep_alive = head.keep_alive;
    cached.request_version = head.request_version;
    cached.seconds = unix_seconds;
    cached.bytes.clear();
    ResponseHead dated = head;
    dated.date = date_cache_.Get(unix_seconds);
    AppendResponseHead(cached.bytes, dated);
  }
  return cached.bytes;
}

std::unique_ptr<core::Session> HttpProtocol::NewSession(core::SessionContext& connection) {
  return std::make_unique<HttpSession>(connection, *this);
}

std::shared_ptr<const Router> MakeDefaultRouter() {
  auto router = std::make_shared<Router>();
  router->Add(Method::kGet, "/plaintext", [](const Request&, Response& response) {
    response.body = "Hello, World!";
  });
  router->Add(Method::kPost, "/echo", [](const Request& request, Response& response) {
    response.content_type = "application/octet-stream";
    response.body = request.body;
  });
  AddTestEndpoints(*router);
  return router;
}

}  // namespace shoal::http
