#include "server/protocols/resp/commands.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "server/protocols/resp/command_table.h"

namespace shoal::server {

namespace {

const auto kLoadedAt = std::chrono::steady_clock::now();

// What Redis's "%s" of the argument prints: up to its first NUL.
std::string_view AsCString(std::string_view text) { return text.substr(0, text.find('\0')); }

void AppendOk(std::string& out) { out.append("+OK\r\n"); }

void AppendError(std::string_view text, std::string& out) { AppendRespError(text, out); }

void AppendUnknownCommand(const RespCommand& command, std::string& out) {
  std::string text = "ERR unknown command '";
  text.append(AsCString(command.arguments[0]).substr(0, 128));
  text.append("', with args beginning with: ");
  std::string listed;
  const size_t kept = std::min(command.argument_count, RespCommand::kKeptArguments);
  for (size_t i = 1; i < kept && listed.size() < 128; ++i) {
    const size_t room = 128 - listed.size();
    listed.append("'");
    listed.append(AsCString(command.arguments[i]).substr(0, room));
    listed.append("' ");
  }
  text.append(listed);
  AppendError(text, out);
}

void AppendArityError(const RespCommandSpec& spec, std::string& out) {
  AppendError("ERR wrong number of arguments for '" + spec.name + "' command", out);
}

// Redis's client name and attribute rule: printable ASCII without space.
bool ValidClientAttribute(std::string_view value) {
  for (char c : value) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

bool SetClientName(std::string_view name, RespClient& client, std::string& out) {
  if (!ValidClientAttribute(name)) {
    AppendError("ERR Client names cannot contain spaces, newlines or special characters.", out);
    return false;
  }
  client.name.assign(name);
  return true;
}

void Hello(const RespCommand& command, RespClient& client, std::string& out) {
  const size_t argc = std::min(command.argument_count, RespCommand::kKeptArguments);
  int64_t version = 0;
  size_t next = 1;
  if (argc >= 2) {
    if (!ParseRedisInteger(command.arguments[next++], &version)) {
      AppendError("ERR Protocol version is not an integer or out of range", out);
      return;
    }
    if (version < 2 || version > 3) {
      AppendError("NOPROTO unsupported protocol version", out);
      return;
    }
  }
  const std::string_view* name = nullptr;
  for (size_t j = next; j < argc; ++j) {
    const size_t more = argc - 1 - j;
    const std::string_view option = command.arguments[j];
    if (RespEqualsIgnoreCase(option, "AUTH") && more >= 2) {
      if (command.arguments[j + 1] != "default") {
        AppendError("WRONGPASS invalid username-password pair or user is disabled.", out);
        return;
      }
      j += 2;
    } else if (RespEqualsIgnoreCase(option, "SETNAME") && more >= 1) {
      name = &command.arguments[++j];
    } else {
      AppendError("ERR Syntax error in HELLO option '" + std::string(AsCString(option)) + "'",
                  out);
      return;
    }
  }
  if (name != nullptr && !SetClientName(*name, client, out)) return;
  if (version != 0) client.version = static_cast<RespVersion>(version);
  AppendRespMapHeader(7, client.version, out);
  AppendRespBulk("server", out);
  AppendRespBulk("shoal", out);
  AppendRespBulk("version", out);
  AppendRespBulk(kRespCompatibilityVersion, out);
  AppendRespBulk("proto", out);
  AppendRespInteger(static_cast<int64_t>(client.version), out);
  AppendRespBulk("id", out);
  AppendRespInteger(static_cast<int64_t>(client.id), out);
  AppendRespBulk("mode", out);
  AppendRespBulk("standalone", out);
  AppendRespBulk("role", out);
  AppendRespBulk("master", out);
  AppendRespBulk("modules", out);
  AppendRespArrayHeader(0, out);
}

std::string ServerSection() {
  static const std::string fixed = [] {
    struct utsname name {};
    uname(&name);
    std::string text = "# Server\r\n";
    text += "redis_version:" + std::string(kRespCompatibilityVersion) + "\r\n";
    text += "redis_mode:standalone\r\n";
    text += std::string("os:") + name.sysname + " " + name.release + " " + name.machine + "\r\n";
    text += "arch_bits:" + std::to_string(sizeof(void*) * 8) + "\r\n";
    text += "multiplexing_api:epoll\r\n";
    text += "process_id:" + std::to_string(getpid()) + "\r\n";
    return text;
  }();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now() - kLoadedAt)
                          .count();
  return fixed + "uptime_in_seconds:" + std::to_string(uptime) + "\r\n" +
         "uptime_in_days:" + std::to_string(uptime / 86400) + "\r\n";
}

void Info(const RespCommand& command, const RespClient& client, std::string& out) {
  bool server = command.argument_count == 1;
  const size_t argc = std::min(command.argument_count, RespCommand::kKeptArguments);
  for (size_t i = 1; i < argc; ++i) {
    for (std::string_view section : {"server", "default", "all", "everything"}) {
      server = server || RespEqualsIgnoreCase(command.arguments[i], section);
    }
  }
  AppendRespVerbatimText(server ? ServerSection() : std::string(), client.version, out);
}

void Select(std::string_view index, std::string& out) {
  int64_t value = 0;
  if (!ParseRedisInteger(index, &value) || value < INT32_MIN || value > INT32_MAX) {
    AppendError("ERR value is not an integer or out of range", out);
  } else if (value != 0) {
    AppendError("ERR DB index is out of range", out);
  } else {
    AppendOk(out);
  }
}

void ClientSetinfo(std::string_view attribute, std::string_view value, RespClient& client,
                   std::string& out) {
  std::string* destination = nullptr;
  if (RespEqualsIgnoreCase(attribute, "lib-name")) {
    destination = &client.library_name;
  } else if (RespEqualsIgnoreCase(attribute, "lib-ver")) {
    destination = &client.library_version;
  } else {
    AppendError("ERR Unrecognized option '" + std::string(AsCString(attribute)) + "'", out);
    return;
  }
  if (!ValidClientAttribute(value)) {
    AppendError("ERR " + std::string(AsCString(attribute)) +
                    " cannot contain spaces, newlines or special characters.",
                out);
    return;
  }
  destination->assign(value);
  AppendOk(out);
}

// COMMAND INFO and COMMAND DOCS: every command, or those named from argument 2 on.
void CommandInfoOrDocs(const RespCommand& command, bool docs, const RespClient& client,
                       std::string& out) {
  std::vector<const RespCommandSpec*> specs;
  const size_t argc = std::min(command.argument_count, RespCommand::kKeptArguments);
  if (argc <= 2) {
    for (const RespCommandSpec& spec : RespCommandTable()) specs.push_back(&spec);
  } else {
    for (size_t i = 2; i < argc; ++i) {
      const RespCommandSpec* spec = FindRespCommand(command.arguments[i]);
      if (spec != nullptr || !docs) specs.push_back(spec);
    }
  }
  if (docs) {
    AppendRespMapHeader(specs.size(), client.version, out);
  } else {
    AppendRespArrayHeader(specs.size(), out);
  }
  for (const RespCommandSpec* spec : specs) {
    if (docs) {
      AppendRespBulk(spec->name, out);
      AppendRespCommandDocs(*spec, client.version, out);
    } else if (spec == nullptr) {
      AppendRespNull(client.version, out);
    } else {
      AppendRespCommandInfo(*spec, client.version, out);
    }
  }
}

RespAfterReply Execute(const RespCommandSpec& spec, const RespCommand& command,
                       RespClient& client, std::string& out) {
  const std::string_view* arguments = command.arguments;
  switch (spec.id) {
    case RespCommandId::kPing:
      if (command.argument_count == 1) {
        out.append("+PONG\r\n");
      } else if (command.argument_count == 2) {
        AppendRespBulk(arguments[1], out);
      } else {
        AppendArityError(spec, out);
      }
      break;
    case RespCommandId::kEcho: AppendRespBulk(arguments[1], out); break;
    case RespCommandId::kQuit: AppendOk(out); return RespAfterReply::kClose;
    case RespCommandId::kReset:
      client.version = RespVersion::kResp2;
      client.name.clear();
      AppendRespSimple("RESET", out);
      break;
    case RespCommandId::kHello: Hello(command, client, out); break;
    case RespCommandId::kSelect: Select(arguments[1], out); break;
    case RespCommandId::kInfo: Info(command, client, out); break;
    case RespCommandId::kClientSetname:
      if (SetClientName(arguments[2], client, out)) AppendOk(out);
      break;
    case RespCommandId::kClientGetname:
      if (client.name.empty()) {
        AppendRespNull(client.version, out);
      } else {
        AppendRespBulk(client.name, out);
      }
      break;
    case RespCommandId::kClientId: AppendRespInteger(static_cast<int64_t>(client.id), out); break;
    case RespCommandId::kClientSetinfo:
      ClientSetinfo(arguments[2], arguments[3], client, out);
      break;
    case RespCommandId::kCommandCount:
      AppendRespInteger(static_cast<int64_t>(RespCommandTable().size()), out);
      break;
    case RespCommandId::kCommand:
    case RespCommandId::kCommandInfo:
      CommandInfoOrDocs(command, /*docs=*/false, client, out);
      break;
    case RespCommandId::kCommandDocs: CommandInfoOrDocs(command, /*docs=*/true, client, out); break;
    case RespCommandId::kClient: break;  // a container: never reached without a subcommand
  }
  return RespAfterReply::kContinue;
}

}  // namespace

RespAfterReply AppendRespReply(const RespCommand& command, RespClient& client, std::string& out) {
  if (command.argument_count == 0) return RespAfterReply::kContinue;
  const RespCommandSpec* spec = FindRespCommand(command.arguments[0]);
  if (spec == nullptr) {
    AppendUnknownCommand(command, out);
    return RespAfterReply::kContinue;
  }
  if (!spec->subcommands.empty() && command.argument_count >= 2) {
    const RespCommandSpec* sub = spec->FindSubcommand(command.arguments[1]);
    if (sub == nullptr) {
      std::string container = spec->name;
      for (char& c : container) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
      AppendError("ERR unknown subcommand '" +
                      std::string(AsCString(command.arguments[1]).substr(0, 128)) + "'. Try " +
                      container + " HELP.",
                  out);
      return RespAfterReply::kContinue;
    }
    spec = sub;
  }
  if (!spec->ArityAccepts(command.argument_count)) {
    AppendArityError(*spec, out);
    return RespAfterReply::kContinue;
  }
  return Execute(*spec, command, client, out);
}

}  // namespace shoal::server
