// Fuzz target: shoal::server::RespRequestParser and AppendRespReply (server/protocols/resp/),
// driven the way RespSession drives them: bytes arrive in fuzzer-chosen pieces and are appended
// to the unconsumed input; requests are parsed from it one after another (pipelining) by one
// parser that resumes where it stopped, until one is incomplete; a protocol error, a too-large
// request or QUIT ends the connection.
//
// Input: the control block of fuzz_support.h (byte 0 picks max_frame_bytes and max_arguments),
// then the byte stream. Invariants, at every call:
//  * kNeedMore consumes nothing; kComplete has 0 < consumed <= input size; an error has a message;
//  * mid_request() is false exactly after a complete request or an error;
//  * a multibulk request has at most max_arguments arguments (none for a count <= 0), each at
//    most max_frame_bytes, its kept arguments views inside the request's bytes;
//  * the reply is empty for a request without arguments and otherwise ends in CRLF: PING ->
//    +PONG, PING x / ECHO x -> exactly $len CRLF x CRLF, QUIT -> +OK, an unknown command -> one
//    "-ERR unknown command" line;
// and split independence: the requests (consumed, arguments, reply) and the final error are the
// same whether the stream arrives whole or in pieces (INFO's reply, which holds the uptime, is
// compared by its first line). Every parse reads an exact-size heap copy.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/protocols/resp/command_table.h"
#include "server/protocols/resp/commands.h"
#include "server/protocols/resp/request_parser.h"
#include "tests/fuzz/fuzz_support.h"

namespace shoal::fuzz {
namespace {

using server::RespCommand;
using server::RespParse;
using server::RespParseStatus;
using server::RespSettings;

RespSettings SettingsFor(uint8_t settings) {
  static constexpr uint64_t kMaxFrame[] = {0, 1, 2, 5, 16, 64, 1000, uint64_t{1} << 20};
  static constexpr size_t kMaxArguments[] = {0, 1, 2, 3, 4, 8, 64, 1024};
  RespSettings result;
  result.max_frame_bytes = kMaxFrame[settings & 7];
  result.max_arguments = kMaxArguments[(settings >> 3) & 7];
  return result;
}

bool Inside(std::string_view view, const char* base, size_t size) {
  if (view.empty()) return view.data() == nullptr || (view.data() >= base && view.data() <= base + size);
  return view.data() >= base && view.data() <= base + size &&
         view.size() <= static_cast<size_t>(base + size - view.data());
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

std::string Bulk(std::string_view value) {
  return "$" + std::to_string(value.size()) + "\r\n" + std::string(value) + "\r\n";
}

void CheckReply(const RespCommand& command, const std::string& reply) {
  if (command.argument_count == 0) {
    SHOAL_FUZZ_CHECK(reply.empty());
    return;
  }
  SHOAL_FUZZ_CHECK(reply.size() >= 3 && reply.ends_with("\r\n"));
  const std::string_view name = command.arguments[0];
  if (EqualsIgnoreCase(name, "PING") && command.argument_count == 1) {
    SHOAL_FUZZ_CHECK(reply == "+PONG\r\n");
  } else if ((EqualsIgnoreCase(name, "PING") || EqualsIgnoreCase(name, "ECHO")) &&
             command.argument_count == 2) {
    SHOAL_FUZZ_CHECK(reply == Bulk(command.arguments[1]));
  } else if (EqualsIgnoreCase(name, "QUIT")) {
    SHOAL_FUZZ_CHECK(reply == "+OK\r\n");
  } else if (server::FindRespCommand(name) == nullptr) {
    // One error line, whatever the command name held.
    SHOAL_FUZZ_CHECK(reply.starts_with("-ERR unknown command '"));
    SHOAL_FUZZ_CHECK(reply.find('\n') == reply.size() - 1);
  }
}

std::vector<std::string> RunConnection(std::string_view stream, const RespSettings& settings,
                                       const std::array<uint8_t, kControlBytes - 1>* pieces) {
  std::vector<std::string> events;
  std::string pending;
  bool closed = false;
  server::RespRequestParser parser;
  server::RespClient client;
  client.id = 1;
  auto on_piece = [&](std::string_view piece) {
    pending.append(piece);
    size_t position = 0;
    while (position < pending.size()) {
      const size_t size = pending.size() - position;
      std::unique_ptr<char[]> copy(new char[size]);
      std::memcpy(copy.get(), pending.data() + position, size);
      const std::string_view input(copy.get(), size);
      RespCommand command;
      const RespParse parse = parser.Parse(input, settings, &command);
      if (parse.status == RespParseStatus::kNeedMore) {
        SHOAL_FUZZ_CHECK(parse.consumed == 0);
        SHOAL_FUZZ_CHECK(parser.mid_request());
        break;
      }
      SHOAL_FUZZ_CHECK(!parser.mid_request());
      if (parse.status != RespParseStatus::kComplete) {
        SHOAL_FUZZ_CHECK(!parse.error.empty());
        events.push_back((parse.status == RespParseStatus::kTooLarge ? "too large: " : "error: ") +
                         std::string(parse.error));
        closed = true;
        return false;
      }
      SHOAL_FUZZ_CHECK(parse.consumed > 0 && parse.consumed <= size);
      const bool multibulk = input.front() == '*';
      if (multibulk) SHOAL_FUZZ_CHECK(command.argument_count <= settings.max_arguments);
      std::string event = "consumed " + std::to_string(parse.consumed) + " argc " +
                          std::to_string(command.argument_count);
      for (size_t k = 0; k < std::min(command.argument_count, RespCommand::kKeptArguments); ++k) {
        const std::string_view argument = command.arguments[k];
        if (multibulk) {
          SHOAL_FUZZ_CHECK(Inside(argument, input.data(), parse.consumed));
          SHOAL_FUZZ_CHECK(argument.size() <= settings.max_frame_bytes);
        }
        event += " [" + std::string(argument) + "]";
      }
      std::string reply;
      const bool keep_open =
          server::AppendRespReply(command, client, reply) == server::RespAfterReply::kContinue;
      CheckReply(command, reply);
      const bool info = command.argument_count > 0 && EqualsIgnoreCase(command.arguments[0], "INFO");
      event += " -> " + (info ? reply.substr(0, reply.find('\n')) : reply);
      events.push_back(std::move(event));
      position += parse.consumed;
      if (!keep_open) {
        closed = true;
        return false;
      }
    }
    pending.erase(0, position);
    return true;
  };
  if (pieces == nullptr) {
    if (!stream.empty()) on_piece(stream);
  } else {
    ForEachPiece(stream, *pieces, on_piece);
  }
  if (!closed) events.push_back("open, " + std::to_string(pending.size()) + " bytes pending");
  return events;
}

}  // namespace

int RespFuzzOneInput(const uint8_t* data, size_t size) {
  const StreamInput input = SplitControl(data, size);
  const RespSettings settings = SettingsFor(input.settings);
  const std::vector<std::string> whole = RunConnection(input.stream, settings, nullptr);
  const std::vector<std::string> split = RunConnection(input.stream, settings, &input.pieces);
  SHOAL_FUZZ_CHECK(whole.size() == split.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    if (whole[i] != split[i]) {
      std::fprintf(stderr, "event %zu differs:\n  whole: %s\n  split: %s\n", i, whole[i].c_str(),
                   split[i].c_str());
    }
    SHOAL_FUZZ_CHECK(whole[i] == split[i]);
  }
  return 0;
}

}  // namespace shoal::fuzz

SHOAL_FUZZ_TARGET(shoal::fuzz::RespFuzzOneInput)
