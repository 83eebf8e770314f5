// The commands shoal answers, as COMMAND and COMMAND DOCS describe them to clients (redis-cli
// builds its hints from them): name, arity in Redis's convention (N: exactly N arguments with
// the name; -N: at least N), flags, ACL categories, documentation, arguments and subcommands.
// A read-only table built on first use; any thread. Lookups are case-insensitive linear scans
// of a dozen entries.
#ifndef SHOAL_SERVER_PROTOCOLS_RESP_COMMAND_TABLE_H_
#define SHOAL_SERVER_PROTOCOLS_RESP_COMMAND_TABLE_H_

#include <string>
#include <string_view>
#include <vector>

#include "server/protocols/resp/wire.h"

namespace shoal::server {

enum class RespCommandId {
  kPing, kEcho, kQuit, kReset, kHello, kSelect, kInfo,
  kClient, kClientSetname, kClientGetname, kClientId, kClientSetinfo,
  kCommand, kCommandCount, kCommandDocs, kCommandInfo,
};

struct RespArgumentSpec {
  std::string_view name;
  std::string_view type;  // "string", "integer", ...
  bool optional = false;
  bool multiple = false;
};

struct RespCommandSpec {
  RespCommandId id;
  std::string name;  // lower case; a subcommand's is "container|subcommand"
  int arity;
  std::vector<std::string_view> flags;
  std::vector<std::string_view> categories;
  std::string_view summary;
  std::string_view since;
  std::string_view group;
  std::string_view complexity;
  std::vector<RespArgumentSpec> arguments;
  std::vector<RespCommandSpec> subcommands;

  bool ArityAccepts(size_t argument_count) const;
  // The subcommand named `name` (without the container's prefix), or nullptr.
  const RespCommandSpec* FindSubcommand(std::string_view name) const;
};

const std::vector<RespCommandSpec>& RespCommandTable();
// The top-level command named `name`, or nullptr.
const RespCommandSpec* FindRespCommand(std::string_view name);

// One COMMAND INFO entry: the 10-element array of Redis 7.
void AppendRespCommandInfo(const RespCommandSpec& spec, RespVersion version, std::string& out);
// One COMMAND DOCS value: the documentation map (the caller writes the name before it).
void AppendRespCommandDocs(const RespCommandSpec& spec, RespVersion version, std::string& out);

bool RespEqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace shoal::server

#endif  // SHOAL_SERVER_PROTOCOLS_RESP_COMMAND_TABLE_H_
