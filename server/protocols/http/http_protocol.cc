#include "server/protocols/http/http_protocol.h"

#include "server/protocols/http/response.h"

namespace shoal::http {

Limits LimitsFrom(const server::Config& config) {
  Limits limits;
  limits.max_header_bytes = config.limits.max_header_bytes;
  limits.max_body_bytes = config.limits.max_frame_bytes;
  return limits;
}

namespace {

class HttpSession final : public core::Session {
 public:
  HttpSession(core::SessionContext& connection, HttpProtocol& protocol)
      : Session(connection), protocol_(protocol), parser_(protocol.limits()) {}

  size_t OnData(std::string_view input) override {
    if (!partial_ && !closing_) {
      // Between requests: a reload's limits apply from the request that starts now.
      parser_.set_limits(protocol_.limits());
      parser_.Reset();
    }
    size_t position = 0;
    uint64_t requests = 0;
    while (!closing_) {
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
      ++requests;
      const Request& request = parser_.request();
      Respond(request, /*close_after=*/!request.keep_alive);
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

  bool RequestInProgress() const override { return partial_; }

 private:
  void Respond(const Request& request, bool close_after) {
    response_.status = 200;
    response_.content_type = "text/plain";
    response_.body = {};
    response_.extra_fields = {};
    protocol_.router().Dispatch(request, response_);
    const bool client_error = response_.status >= 400 && response_.status < 500;
    // Past its max age or request limit the connection ends after this reply, announced.
    const bool last = connection().LastReply() && !close_after && !client_error;
    const bool keep_alive = !close_after && !client_error && !last;
    WriteResponse(request.method == Method::kHead, request.version, keep_alive);
    if (!keep_alive) {
      closing_ = true;
      connection().CloseAfterFlush(client_error ? core::CloseReason::kProtocolError
                                   : last       ? core::CloseReason::kMaxAge
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

  HttpProtocol& protocol_;
  RequestParser parser_;
  std::string body_;
  Response response_;
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
  return router;
}

}  // namespace shoal::http
