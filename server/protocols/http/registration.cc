#include "server/protocols/http/http_protocol.h"
#include "server/protocols/http/wire.h"
#include "server/protocols/registry.h"

namespace shoal::http {
namespace {

std::unique_ptr<protocols::LiveProtocol> Make(const server::Config& config,
                                              const server::ListenerConfig&) {
  static const std::shared_ptr<const Router> router = MakeDefaultRouter();
  return std::make_unique<HttpProtocol>(LimitsFrom(config), router, EndpointLimitsFrom(config));
}

const protocols::Registrar kHttp({kHttpName, &Make, "request_parser",
                                  "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n",
                                  "HTTP/1.1 200 OK\r\n"});

}  // namespace
}  // namespace shoal::http
