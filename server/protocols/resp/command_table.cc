#include "server/protocols/resp/command_table.h"

#include <strings.h>

namespace shoal::server {

namespace {

using Id = RespCommandId;

std::vector<RespCommandSpec> BuildTable() {
  const std::vector<std::string_view> connection = {"@fast", "@connection"};
  const std::vector<std::string_view> slow_connection = {"@slow", "@connection"};
  const std::vector<std::string_view> handshake = {"noscript", "loading", "stale", "fast",
                                                   "no_auth", "allow_busy"};
  std::vector<RespCommandSpec> client_subcommands = {
      {Id::kClientSetname, "client|setname", 3, {"noscript", "loading", "stale"}, slow_connection,
       "Sets the connection name.", "2.6.9", "connection", "O(1)",
       {{"connection-name", "string"}}, {}},
      {Id::kClientGetname, "client|getname", 2, {"noscript", "loading", "stale"}, slow_connection,
       "Returns the name of the connection.", "2.6.9", "connection", "O(1)", {}, {}},
      {Id::kClientId, "client|id", 2, {"noscript", "loading", "stale"}, slow_connection,
       "Returns the unique client ID of the connection.", "5.0.0", "connection", "O(1)", {}, {}},
      {Id::kClientSetinfo, "client|setinfo", 4, {"noscript", "loading", "stale"},
       slow_connection, "Sets information specific to the client or connection.", "7.2.0",
       "connection", "O(1)", {{"attribute", "string"}, {"value", "string"}}, {}},
  };
  std::vector<RespCommandSpec> command_subcommands = {
      {Id::kCommandCount, "command|count", 2, {"loading", "stale"}, slow_connection,
       "Returns a count of commands.", "2.8.13", "server", "O(1)", {}, {}},
      {Id::kCommandDocs, "command|docs", -2, {"loading", "stale"}, slow_connection,
       "Returns documentary information about one, multiple or all commands.", "7.0.0",
       "server", "O(N) where N is the number of commands to look up",
       {{"command-name", "string", true, true}}, {}},
      {Id::kCommandInfo, "command|info", -2, {"loading", "stale"}, slow_connection,
       "Returns information about one, multiple or all commands.", "2.8.13", "server",
       "O(N) where N is the number of commands to look up",
       {{"command-name", "string", true, true}}, {}},
  };
  return {
      {Id::kPing, "ping", -1, {"fast"}, connection, "Returns the server's liveliness response.",
       "1.0.0", "connection", "O(1)", {{"message", "string", true}}, {}},
      {Id::kEcho, "echo", 2, {"loading", "stale", "fast"}, connection, "Returns the given string.", "1.0.0",
       "connection", "O(1)", {{"message", "string"}}, {}},
      {Id::kQuit, "quit", -1, handshake, connection, "Closes the connection.", "1.0.0",
       "connection", "O(1)", {}, {}},
      {Id::kReset, "reset", 1, handshake, connection, "Resets the connection.", "6.2.0",
       "connection", "O(1)", {}, {}},
      {Id::kHello, "hello", -1, handshake, connection, "Handshakes with the Redis server.",
       "6.0.0", "connection", "O(1)",
       {{"protover", "integer", true}}, {}},
      {Id::kSelect, "select", 2, {"loading", "stale", "fast"}, connection,
       "Changes the selected database.", "1.0.0", "connection", "O(1)",
       {{"index", "integer"}}, {}},
      {Id::kInfo, "info", -1, {"loading", "stale"}, {"@slow", "@dangerous"},
       "Returns information and statistics about the server.", "1.0.0", "server", "O(1)",
       {{"section", "string", true, true}}, {}},
      {Id::kClient, "client", -2, {}, {"@slow"},
       "A container for client connection commands.", "2.4.0", "connection",
       "Depends on subcommand.", {}, std::move(client_subcommands)},
      {Id::kCommand, "command", -1, {"loading", "stale"}, slow_connection,
       "Returns detailed information about all commands.", "2.8.13", "server",
       "O(N) where N is the total number of commands", {}, std::move(command_subcommands)},
  };
}

void AppendStatusSet(const std::vector<std::string_view>& values, RespVersion version,
                     std::string& out) {
  AppendRespSetHeader(values.size(), version, out);
  for (std::string_view value : values) AppendRespSimple(value, out);
}

void AppendArgumentDocs(const RespArgumentSpec& argument, RespVersion version, std::string& out) {
  const bool has_flags = argument.optional || argument.multiple;
  AppendRespMapHeader(has_flags ? 3 : 2, version, out);
  AppendRespBulk("name", out);
  AppendRespBulk(argument.name, out);
  AppendRespBulk("type", out);
  AppendRespBulk(argument.type, out);
  if (!has_flags) return;
  AppendRespBulk("flags", out);
  std::vector<std::string_view> flags;
  if (argument.optional) flags.push_back("optional");
  if (argument.multiple) flags.push_back("multiple");
  AppendStatusSet(flags, version, out);
}

}  // namespace

bool RespEqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool RespCommandSpec::ArityAccepts(size_t argument_count) const {
  return arity > 0 ? argument_count == static_cast<size_t>(arity)
                   : argument_count >= static_cast<size_t>(-arity);
}

const RespCommandSpec* RespCommandSpec::FindSubcommand(std::string_view sub) const {
  for (const RespCommandSpec& spec : subcommands) {
    std::string_view own = std::string_view(spec.name).substr(name.size() + 1);
    if (RespEqualsIgnoreCase(own, sub)) return &spec;
  }
  return nullptr;
}

const std::vector<RespCommandSpec>& RespCommandTable() {
  static const std::vector<RespCommandSpec> table = BuildTable();
  return table;
}

const RespCommandSpec* FindRespCommand(std::string_view name) {
  for (const RespCommandSpec& spec : RespCommandTable()) {
    if (RespEqualsIgnoreCase(spec.name, name)) return &spec;
  }
  return nullptr;
}

void AppendRespCommandInfo(const RespCommandSpec& spec, RespVersion version, std::string& out) {
  AppendRespArrayHeader(10, out);
  AppendRespBulk(spec.name, out);
  AppendRespInteger(spec.arity, out);
  AppendStatusSet(spec.flags, version, out);
  for (int key_position = 0; key_position < 3; ++key_position) AppendRespInteger(0, out);
  AppendStatusSet(spec.categories, version, out);
  AppendRespArrayHeader(0, out);  // tips
  AppendRespArrayHeader(0, out);  // key specifications
  AppendRespArrayHeader(spec.subcommands.size(), out);
  for (const RespCommandSpec& sub : spec.subcommands) AppendRespCommandInfo(sub, version, out);
}

void AppendRespCommandDocs(const RespCommandSpec& spec, RespVersion version, std::string& out) {
  AppendRespMapHeader(4 + !spec.arguments.empty() + !spec.subcommands.empty(), version, out);
  AppendRespBulk("summary", out);
  AppendRespBulk(spec.summary, out);
  AppendRespBulk("since", out);
  AppendRespBulk(spec.since, out);
  AppendRespBulk("group", out);
  AppendRespBulk(spec.group, out);
  AppendRespBulk("complexity", out);
  AppendRespBulk(spec.complexity, out);
  if (!spec.arguments.empty()) {
    AppendRespBulk("arguments", out);
    AppendRespArrayHeader(spec.arguments.size(), out);
    for (const RespArgumentSpec& argument : spec.arguments) {
      AppendArgumentDocs(argument, version, out);
    }
  }
  if (!spec.subcommands.empty()) {
    AppendRespBulk("subcommands", out);
    AppendRespMapHeader(spec.subcommands.size(), version, out);
    for (const RespCommandSpec& sub : spec.subcommands) {
      AppendRespBulk(sub.name, out);
      AppendRespCommandDocs(sub, version, out);
    }
  }
}

}  // namespace shoal::server
