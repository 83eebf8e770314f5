// What shoal answers to a parsed RESP request, with Redis 7's replies and error texts: PING,
// ECHO, QUIT, RESET, HELLO [2|3] [AUTH default <any>] [SETNAME name], SELECT 0, INFO (the
// server section), CLIENT SETNAME/GETNAME/ID/SETINFO, COMMAND, COMMAND COUNT/DOCS/INFO. Anything
// else gets Redis's "unknown command" error and the connection stays usable. Where shoal
// differs from redis-server on purpose: HELLO's server field is "shoal" and its version (like
// INFO's redis_version) is the Redis compatibility level, kRespCompatibilityVersion; there is
// one database, 0; AUTH accepts the user "default" with any password (no ACL).
//
// Threading: called on the connection's worker thread; `client` is that connection's state.
#ifndef SHOAL_SERVER_PROTOCOLS_RESP_COMMANDS_H_
#define SHOAL_SERVER_PROTOCOLS_RESP_COMMANDS_H_

#include <cstdint>
#include <string>

#include "server/protocols/resp/request_parser.h"
#include "server/protocols/resp/wire.h"

namespace shoal::server {

inline constexpr std::string_view kRespCompatibilityVersion = "7.0.0";

// The per-connection state the commands read and change.
struct RespClient {
  uint64_t id = 0;
  RespVersion version = RespVersion::kResp2;
  std::string name;
  std::string library_name;
  std::string library_version;
};

enum class RespAfterReply { kContinue, kClose };

// Appends the reply to `command` to `out` (nothing for a request without arguments).
// O(reply size); INFO and COMMAND build their text on each call.
RespAfterReply AppendRespReply(const RespCommand& command, RespClient& client, std::string& out);

}  // namespace shoal::server

#endif  // SHOAL_SERVER_PROTOCOLS_RESP_COMMANDS_H_
