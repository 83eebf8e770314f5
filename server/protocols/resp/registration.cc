#include "server/protocols/resp/resp_protocol.h"
#include "server/protocols/registry.h"
#include "server/protocols/resp/wire.h"

namespace shoal::server {
namespace {

std::unique_ptr<protocols::LiveProtocol> Make(const Config& config, const ListenerConfig&) {
  return std::make_unique<RespProtocol>(RespSettingsFrom(config));
}

const protocols::Registrar kResp({kRespName, &Make, "resp", "PING\r\n", "+PONG\r\n"});

}  // namespace
}  // namespace shoal::server
