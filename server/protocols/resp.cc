#include "server/protocols/resp.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <strings.h>

#include "server/log_rate_limit.h"

namespace shoal::server {

namespace {

constexpr size_t kMaxLengthDigits = 20;
constexpr uint64_t kFramingAllowance = 64 * 1024;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Finds the CRLF ending the line that starts at `start`. npos if not arrived yet; sets *bad if a
// bare LF or CR is found or the line exceeds `max`.
size_t FindLineEnd(std::string_view input, size_t start, size_t max, bool* bad) {
  size_t limit = std::min(input.size(), start + max + 2);
  for (size_t i = start; i < limit; ++i) {
    if (input[i] == '\n') {
      *bad = i == start || input[i - 1] != '\r';
      return i - 1;
    }
  }
  if (input.size() >= start + max + 2) *bad = true;
  return std::string_view::npos;
}

// Parses "<prefix><digits>\r\n" at `position`. Returns false when incomplete; sets status on error.
bool ParseCount(std::string_view input, size_t* position, char prefix, int64_t* value,
                RespParse* result) {
  bool bad = false;
  size_t end = FindLineEnd(input, *position, kMaxLengthDigits + 2, &bad);
  if (bad) {
    result->status = RespParseStatus::kProtocolError;
    result->error = "invalid length line";
    return false;
  }
  if (end == std::string_view::npos) return false;
  if (input[*position] != prefix) {
    result->status = RespParseStatus::kProtocolError;
    result->error = prefix == '$' ? "expected '$'" : "expected '*'";
    return false;
  }
  const char* first = input.data() + *position + 1;
  const char* last = input.data() + end;
  auto [ptr, ec] = std::from_chars(first, last, *value);
  if (ec != std::errc() || ptr != last || first == last) {
    result->status = RespParseStatus::kProtocolError;
    result->error = "invalid length";
    return false;
  }
  *position = end + 2;
  return true;
}

RespParse ParseMultibulk(std::string_view input, const RespSettings& settings,
                         RespCommand* command) {
  RespParse result;
  size_t position = 0;
  int64_t count = 0;
  if (!ParseCount(input, &position, '*', &count, &result)) return result;
  if (count <= 0 || static_cast<uint64_t>(count) > settings.max_arguments) {
    result.status = RespParseStatus::kProtocolError;
    result.error = "invalid multibulk length";
    return result;
  }
  command->argument_count = static_cast<size_t>(count);
  for (int64_t k = 0; k < count; ++k) {
    int64_t length = 0;
    if (!ParseCount(input, &position, '$', &length, &result)) return result;
    if (length < 0) {
      result.status = RespParseStatus::kProtocolError;
      result.error = "invalid bulk length";
      return result;
    }
    if (static_cast<uint64_t>(length) > settings.max_frame_bytes) {
      result.status = RespParseStatus::kTooLarge;
      result.error = "bulk string above max_frame_bytes";
      return result;
    }
    size_t size = static_cast<size_t>(length);
    if (position + size > settings.max_frame_bytes + kFramingAllowance) {
      result.status = RespParseStatus::kTooLarge;
      result.error = "request above max_frame_bytes";
      return result;
    }
    if (input.size() - position < size + 2) return result;
    if (input[position + size] != '\r' || input[position + size + 1] != '\n') {
      result.status = RespParseStatus::kProtocolError;
      result.error = "bulk string not followed by CRLF";
      return result;
    }
    if (static_cast<size_t>(k) < RespCommand::kKeptArguments) {
      command->arguments[k] = input.substr(position, size);
    }
    position += size + 2;
  }
  result.status = RespParseStatus::kComplete;
  result.consumed = position;
  return result;
}

RespParse ParseInline(std::string_view input, const RespSettings& settings,
                      RespCommand* command) {
  RespParse result;
  bool bad = false;
  size_t max = static_cast<size_t>(std::min<uint64_t>(settings.max_frame_bytes, 64 * 1024));
  size_t newline = std::string_view::npos;
  for (size_t i = 0; i < std::min(input.size(), max + 2); ++i) {
    if (input[i] == '\n') {
      newline = i;
      break;
    }
  }
  if (newline == std::string_view::npos) {
    if (input.size() >= max + 2) bad = true;
    if (bad) {
      result.status = RespParseStatus::kTooLarge;
      result.error = "inline request too long";
    }
    return result;
  }
  // Inline commands end in LF (CRLF from redis-cli and telnet).
  std::string_view line = input.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  command->argument_count = 0;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) break;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (command->argument_count < RespCommand::kKeptArguments) {
      command->arguments[command->argument_count] = line.substr(start, i - start);
    }
    ++command->argument_count;
  }
  result.status = RespParseStatus::kComplete;
  result.consumed = newline + 1;
  return result;
}

void AppendBulk(std::string& out, std::string_view value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), value.size()).ptr;
  out.push_back('$');
  out.append(digits, static_cast<size_t>(end - digits));
  out.append("\r\n");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

RespParse ParseRespCommand(std::string_view input, const RespSettings& settings,
                           RespCommand* command) {
  *command = RespCommand{};
  if (input.empty()) return RespParse{};
  if (input.front() == '*') return ParseMultibulk(input, settings, command);
  return ParseInline(input, settings, command);
}

bool AppendRespReply(const RespCommand& command, std::string& out) {
  if (command.argument_count == 0) return true;  // an empty inline line: no reply
  std::string_view name = command.arguments[0];
  if (EqualsIgnoreCase(name, "PING")) {
    if (command.argument_count == 1) {
      out.append("+PONG\r\n");
    } else if (command.argument_count == 2) {
      AppendBulk(out, command.arguments[1]);
    } else {
      out.append("-ERR wrong number of arguments for 'ping' command\r\n");
    }
    return true;
  }
  if (EqualsIgnoreCase(name, "ECHO")) {
    if (command.argument_count == 2) {
      AppendBulk(out, command.arguments[1]);
    } else {
      out.append("-ERR wrong number of arguments for 'echo' command\r\n");
    }
    return true;
  }
  if (EqualsIgnoreCase(name, "QUIT")) {
    out.append("+OK\r\n");
    return false;
  }
  out.append("-ERR unknown command '");
  for (char c : name.substr(0, 128)) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  out.append("'\r\n");
  return true;
}

namespace {

class RespSession final : public core::Session {
 public:
  RespSession(core::SessionContext& connection, RespProtocol& protocol)
      : Session(connection), protocol_(protocol) {}

  size_t OnData(std::string_view input) override {
    std::string& out = protocol_.reply_scratch();
    out.clear();
    size_t position = 0;
    uint64_t requests = 0;
    bool close_after = false;
    core::CloseReason reason = core::CloseReason::kPeerClosed;
    while (position < input.size()) {
      RespCommand command;
      RespParse parse = ParseRespCommand(input.substr(position), protocol_.settings(), &command);
      if (parse.status == RespParseStatus::kNeedMore) break;
      if (parse.status != RespParseStatus::kComplete) {
        out.append("-ERR Protocol error: ");
        out.append(parse.error);
        out.append("\r\n");
        close_after = true;
        reason = parse.status == RespParseStatus::kTooLarge ? core::CloseReason::kFrameTooLarge
                                                            : core::CloseReason::kProtocolError;
        thread_local LogRateLimit log_limit(kPeerWarnLinesPerSecond);
        if (auto suppressed = log_limit.Admit(connection().wall_seconds())) {
          spdlog::warn("resp: closing {}: {}{}", connection().PeerName(), parse.error,
                       SuppressedNote(*suppressed));
        }
        position = input.size();
        break;
      }
      position += parse.consumed;
      ++requests;
      if (!AppendRespReply(command, out)) {
        close_after = true;
        position = input.size();
        break;
      }
    }
    connection().Send(out);
    connection().CountRequests(requests);
    if (close_after) connection().CloseAfterFlush(reason);
    partial_ = position < input.size();
    return position;
  }

  bool RequestInProgress() const override { return partial_; }

 private:
  RespProtocol& protocol_;
  bool partial_ = false;
};

}  // namespace

std::unique_ptr<core::Session> RespProtocol::NewSession(core::SessionContext& connection) {
  return std::make_unique<RespSession>(connection, *this);
}

}  // namespace shoal::server
