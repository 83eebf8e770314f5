#include "server/protocols/echo/echo_protocol.h"
#include "server/protocols/registry.h"

namespace shoal::server {
namespace {

std::unique_ptr<protocols::LiveProtocol> Make(const Config& config, const ListenerConfig&) {
  return std::make_unique<EchoProtocol>(EchoSettingsFrom(config));
}

constexpr std::string_view kFrame("\0\0\0\2hi", 6);
const protocols::Registrar kEcho({kEchoName, &Make, "echo_decoder", kFrame, kFrame});

}  // namespace
}  // namespace shoal::server
