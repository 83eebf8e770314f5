#include "server/protocols/http/http_protocol.h"

#include "server/protocols/http/response.h"

namespace shoal::http {

namespace {

class HttpSession final : public core::Session {
 public:
  HttpSession(core::Connection& connection, HttpProtocol& protocol)
      : Session(connection), protocol_(protocol), parser_(protocol.limits()) {}

  size_t OnData(std::string_view input) override {
    size_t position = 0;
    uint64_t requests = 0;
    for (;;) {
      ParseResult result = parser_.Parse(input.substr(position), body_);
      if (result.status == ParseStatus::kNeedMore) break;
      if (result.status == ParseStatus::kHeadersComplete) {
        const Request& request = parser_.request();
        if (request.expect_continue && !continue_sent_) {
          if (!protocol_.router().Matches(request)) {
            // Answer now rather than invite a body we would refuse; the body never comes in.
            Respond(request, /*close_after=*/true);
            position = input.size();
            break;
          }
          connection().Send(kContinueResponse);
          continue_sent_ = true;
        }
        break;
      }
      if (result.status == ParseStatus::kError) {
        SendError(result.error_status);
        position = input.size();
        break;
      }
      ++requests;
      const Request& request = parser_.request();
      bool keep_alive = request.keep_alive;
      Respond(request, !keep_alive);
      position += result.consumed;
      parser_.Reset();
      parser_.set_limits(protocol_.limits());
      continue_sent_ = false;
      if (!keep_alive) {
        position = input.size();
        break;
      }
    }
    if (requests > 0) connection().CountRequests(requests);
    partial_ = position < input.size();
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
    bool keep_alive = !close_after && response_.status < 400;
    WriteResponse(request.method == Method::kHead, request.version, keep_alive);
    if (!keep_alive) connection().CloseAfterFlush(core::CloseReason::kPeerClosed);
  }

  void SendError(int status) {
    response_.status = status;
    response_.content_type = "text/plain";
    response_.body = ReasonPhrase(status);
    response_.extra_fields = {};
    WriteResponse(/*head_only=*/false, Version::kHttp11, /*keep_alive=*/false);
    connection().CloseAfterFlush(core::CloseReason::kProtocolError);
  }

  void WriteResponse(bool head_only, Version version, bool keep_alive) {
    std::string& head = protocol_.head_scratch();
    head.clear();
    ResponseHead fields;
    fields.status = response_.status;
    fields.content_type = response_.content_type;
    fields.content_length = response_.body.size();
    fields.keep_alive = keep_alive;
    fields.request_version = version;
    fields.date = protocol_.date_cache().Get(connection().wall_seconds());
    fields.extra_fields = response_.extra_fields;
    AppendResponseHead(head, fields);
    if (!head_only) head.append(response_.body);
    connection().Send(head);
  }

  HttpProtocol& protocol_;
  RequestParser parser_;
  std::string body_;
  Response response_;
  bool continue_sent_ = false;
  bool partial_ = false;
};

}  // namespace

std::unique_ptr<core::Session> HttpProtocol::NewSession(core::Connection& connection) {
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
