#include "server/protocols/resp/resp_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shoal::server {
namespace {

struct Replies {
  std::string out;
  size_t consumed = 0;
  RespParseStatus last = RespParseStatus::kNeedMore;
  bool quit = false;
};

// Parses and answers every complete request at the start of `input`, like the session does.
Replies Answer(std::string_view input, const RespSettings& settings = RespSettingsFrom(Config::Default())) {
  Replies replies;
  while (replies.consumed < input.size()) {
    RespCommand command;
    RespParse parse = ParseRespCommand(input.substr(replies.consumed), settings, &command);
    replies.last = parse.status;
    if (parse.status != RespParseStatus::kComplete) break;
    replies.consumed += parse.consumed;
    if (!AppendRespReply(command, replies.out)) {
      replies.quit = true;
      break;
    }
  }
  return replies;
}

TEST(RespTest, MultibulkPingAndEcho) {
  EXPECT_EQ(Answer("*1\r\n$4\r\nPING\r\n").out, "+PONG\r\n");
  EXPECT_EQ(Answer("*2\r\n$4\r\nping\r\n$5\r\nhello\r\n").out, "$5\r\nhello\r\n");
  EXPECT_EQ(Answer("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n").out, "$0\r\n\r\n");
  EXPECT_EQ(Answer("*2\r\n$4\r\nEcHo\r\n$4\r\na\r\nb\r\n").out, "$4\r\na\r\nb\r\n")
      << "binary-safe bulk strings";
}

TEST(RespTest, InlineCommands) {
  EXPECT_EQ(Answer("PING\r\n").out, "+PONG\r\n");
  EXPECT_EQ(Answer("PING\n").out, "+PONG\r\n");
  EXPECT_EQ(Answer("  echo   hi \r\n").out, "$2\r\nhi\r\n");
  EXPECT_EQ(Answer("\r\n").out, "") << "an empty line gets no reply";
}

TEST(RespTest, PipelinedRequestsAnsweredInOrder) {
  std::string input = "*1\r\n$4\r\nPING\r\nECHO a\r\n*2\r\n$4\r\nECHO\r\n$1\r\nb\r\nPING\r\n";
  Replies replies = Answer(input);
  EXPECT_EQ(replies.out, "+PONG\r\n$1\r\na\r\n$1\r\nb\r\n+PONG\r\n");
  EXPECT_EQ(replies.consumed, input.size());
}

TEST(RespTest, EverySplitPointNeedsMoreThenCompletes) {
  std::string request = "*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n";
  for (size_t cut = 0; cut < request.size(); ++cut) {
    Replies partial = Answer(request.substr(0, cut));
    EXPECT_EQ(partial.consumed, 0u) << cut;
    EXPECT_EQ(partial.last, RespParseStatus::kNeedMore) << cut;
  }
  EXPECT_EQ(Answer(request).out, "$11\r\nhello world\r\n");
}

TEST(RespTest, ErrorsAndUnknownCommands) {
  EXPECT_EQ(Answer("*1\r\n$3\r\nGET\r\n").out, "-ERR unknown command 'GET'\r\n");
  EXPECT_EQ(Answer("PING a b\r\n").out, "-ERR wrong number of arguments for 'ping' command\r\n");
  EXPECT_EQ(Answer("ECHO\r\n").out, "-ERR wrong number of arguments for 'echo' command\r\n");
  Replies quit = Answer("QUIT\r\nPING\r\n");
  EXPECT_EQ(quit.out, "+OK\r\n");
  EXPECT_TRUE(quit.quit);
}

TEST(RespTest, MalformedRequestsAreProtocolErrors) {
  for (const char* bad : {"*x\r\n", "*-1\r\n", "*0\r\n", "*1\r\n+PING\r\n", "*1\r\n$-1\r\n",
                          "*1\r\n$4\r\nPINGXX", "*1\n", "*1\r\n$4\nPING\r\n", "*99999\r\n",
                          "*1\r\n$123456789012345678901234\r\n"}) {
    EXPECT_EQ(Answer(bad).last, RespParseStatus::kProtocolError) << bad;
  }
}

TEST(RespTest, SizeLimitsAreExact) {
  RespSettings settings = RespSettingsFrom(Config::Default());
  settings.max_frame_bytes = 10;
  std::string at_limit = "*2\r\n$4\r\nECHO\r\n$10\r\n0123456789\r\n";
  EXPECT_EQ(Answer(at_limit, settings).out, "$10\r\n0123456789\r\n");
  EXPECT_EQ(Answer("*2\r\n$4\r\nECHO\r\n$11\r\n", settings).last, RespParseStatus::kTooLarge)
      << "judged from the length line, before the data";
  settings.max_arguments = 2;
  EXPECT_EQ(Answer("*3\r\n", settings).last, RespParseStatus::kProtocolError);
  RespSettings small = RespSettingsFrom(Config::Default());
  small.max_frame_bytes = 8;
  EXPECT_EQ(Answer(std::string(70000, 'P'), small).last, RespParseStatus::kTooLarge)
      << "an inline line without end is bounded";
}

}  // namespace
}  // namespace shoal::server
