// RespRequestParser, one rule per test: the two request forms, Redis 7's treatment of empty and
// negative counts, inline quoting, its protocol error texts, the limits, and resumption.
#include "server/protocols/resp/request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shoal::server {
namespace {

RespSettings Settings() { return RespSettings{512 * 1024, 1024}; }

struct Parsed {
  std::vector<std::vector<std::string>> requests;  // the arguments of each complete request
  size_t consumed = 0;
  RespParseStatus last = RespParseStatus::kNeedMore;
  std::string error;
};

// Feeds `input` in pieces of `piece` bytes (0: whole) the way a session does, parsing every
// complete request.
Parsed Parse(std::string_view input, const RespSettings& settings = Settings(), size_t piece = 0) {
  Parsed parsed;
  RespRequestParser parser;
  RespCommand command;
  size_t available = piece == 0 ? input.size() : 0;
  while (true) {
    if (piece != 0) available = std::min(input.size(), available + piece);
    while (parsed.consumed < available) {
      RespParse parse =
          parser.Parse(input.substr(parsed.consumed, available - parsed.consumed), settings,
                       &command);
      parsed.last = parse.status;
      if (parse.status == RespParseStatus::kNeedMore) break;
      if (parse.status != RespParseStatus::kComplete) {
        parsed.error = std::string(parse.error);
        return parsed;
      }
      EXPECT_GT(parse.consumed, 0u);
      parsed.consumed += parse.consumed;
      std::vector<std::string> arguments;
      for (size_t k = 0; k < std::min(command.argument_count, RespCommand::kKeptArguments); ++k) {
        arguments.emplace_back(command.arguments[k]);
      }
      parsed.requests.push_back(std::move(arguments));
    }
    if (available == input.size()) return parsed;
  }
}

using Args = std::vector<std::string>;

TEST(RespRequestParserTest, MultibulkIsBinarySafe) {
  Parsed parsed = Parse("*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n*1\r\n$0\r\n\r\n");
  ASSERT_EQ(parsed.requests.size(), 2u);
  EXPECT_EQ(parsed.requests[0], (Args{"ECHO", "a\r\nb"}));
  EXPECT_EQ(parsed.requests[1], (Args{""}));
}

TEST(RespRequestParserTest, EmptyAndNegativeCountsAreSkipped) {
  Parsed parsed = Parse("*0\r\n*-10\r\n*-1\r\nPING\r\n");
  ASSERT_EQ(parsed.last, RespParseStatus::kComplete);
  ASSERT_EQ(parsed.requests.size(), 4u);
  EXPECT_TRUE(parsed.requests[0].empty());
  EXPECT_TRUE(parsed.requests[1].empty());
  EXPECT_TRUE(parsed.requests[2].empty());
  EXPECT_EQ(parsed.requests[3], (Args{"PING"}));
}

TEST(RespRequestParserTest, InlineSplitsOnBlanksAndEndsInLfOrCrLf) {
  EXPECT_EQ(Parse("  echo \t hi \r\n").requests, (std::vector<Args>{{"echo", "hi"}}));
  EXPECT_EQ(Parse("PING\n").requests, (std::vector<Args>{{"PING"}}));
  EXPECT_EQ(Parse("\r\n").requests, (std::vector<Args>{{}})) << "an empty line: no arguments";
  EXPECT_EQ(Parse("a\rb\n").requests, (std::vector<Args>{{"a", "b"}})) << "inner CR separates";
  EXPECT_EQ(Parse("a\vb\n").requests, (std::vector<Args>{{"a\vb"}}))
      << "VT skips blanks but does not end a word, as in sdssplitargs";
  EXPECT_EQ(Parse(std::string("ECHO a\0b\n", 9)).requests, (std::vector<Args>{{"ECHO", "a"}}))
      << "a NUL ends the line";
}

TEST(RespRequestParserTest, InlineDoubleQuotesTakeEscapes) {
  EXPECT_EQ(Parse("ECHO \"hello world\"\r\n").requests,
            (std::vector<Args>{{"ECHO", "hello world"}}));
  EXPECT_EQ(Parse("ECHO \"a\\n\\r\\t\\b\\a\\\\\\\"\\q\"\n").requests,
            (std::vector<Args>{{"ECHO", "a\n\r\t\b\a\\\"q"}}));
  EXPECT_EQ(Parse("ECHO \"\\x41\\x6a\\xZZ\"\n").requests,
            (std::vector<Args>{{"ECHO", "Aj" "xZZ"}}))
      << "\\xHH with two hex digits, else the escaped character";
  EXPECT_EQ(Parse("ECHO \"\"\n").requests, (std::vector<Args>{{"ECHO", ""}}));
  EXPECT_EQ(Parse("ECHO a\"b c\"d\n").last, RespParseStatus::kProtocolError)
      << "a closing quote must be followed by a blank";
  EXPECT_EQ(Parse("ECHO a\"b c\"\n").requests, (std::vector<Args>{{"ECHO", "ab c"}}))
      << "a quote may open inside a word";
}

TEST(RespRequestParserTest, InlineSingleQuotesTakeOnlyEscapedQuote) {
  EXPECT_EQ(Parse("ECHO 'it\\'s \\n'\n").requests, (std::vector<Args>{{"ECHO", "it's \\n"}}));
}

TEST(RespRequestParserTest, UnbalancedQuotesAreAProtocolError) {
  for (const char* bad : {"ECHO \"abc\n", "ECHO 'abc\r\n", "ECHO \"a\"b\n", "ECHO 'a'b\n",
                          "ECHO \"abc\\\"\n"}) {
    Parsed parsed = Parse(bad);
    EXPECT_EQ(parsed.last, RespParseStatus::kProtocolError) << bad;
    EXPECT_EQ(parsed.error, "unbalanced quotes in request") << bad;
  }
}

TEST(RespRequestParserTest, RedisErrorTexts) {
  struct Case {
    const char* input;
    const char* error;
  };
  for (const Case& c : std::vector<Case>{
           {"*x\r\n", "invalid multibulk length"},
           {"*01\r\n", "invalid multibulk length"},
           {"*+1\r\n", "invalid multibulk length"},
           {"*2147483648\r\n", "invalid multibulk length"},
           {"*1\r\nfoo\r\n", "expected '$', got 'f'"},
           {"*1\r\n+PING\r\n", "expected '$', got '+'"},
           {"*1\r\n$-1\r\n", "invalid bulk length"},
           {"*1\r\n$x\r\n", "invalid bulk length"},
           {"*1\r\n$4\r\nPINGXX", "expected CRLF after bulk string"},
       }) {
    Parsed parsed = Parse(c.input);
    EXPECT_EQ(parsed.last, RespParseStatus::kProtocolError) << c.input;
    EXPECT_EQ(parsed.error, c.error) << c.input;
  }
}

TEST(RespRequestParserTest, IntegersFollowRedisString2ll) {
  int64_t value = 0;
  EXPECT_TRUE(ParseRedisInteger("0", &value));
  EXPECT_TRUE(ParseRedisInteger("-9223372036854775808", &value));
  EXPECT_EQ(value, INT64_MIN);
  EXPECT_TRUE(ParseRedisInteger("9223372036854775807", &value));
  EXPECT_EQ(value, INT64_MAX);
  for (const char* bad : {"", "-", "-0", "00", "01", "+1", " 1", "1 ", "9223372036854775808",
                          "1x", "000000000000000000001"}) {
    EXPECT_FALSE(ParseRedisInteger(bad, &value)) << bad;
  }
}

TEST(RespRequestParserTest, LimitsAreExact) {
  RespSettings settings = Settings();
  settings.max_frame_bytes = 10;
  EXPECT_EQ(Parse("*2\r\n$4\r\nECHO\r\n$10\r\n0123456789\r\n", settings).requests.size(), 1u);
  Parsed too_large = Parse("*2\r\n$4\r\nECHO\r\n$11\r\n", settings);
  EXPECT_EQ(too_large.last, RespParseStatus::kTooLarge) << "judged from the length line";
  EXPECT_EQ(too_large.error, "invalid bulk length");

  settings.max_arguments = 2;
  EXPECT_EQ(Parse("*2\r\n$1\r\na\r\n$1\r\nb\r\n", settings).requests.size(), 1u);
  EXPECT_EQ(Parse("*3\r\n", settings).error, "invalid multibulk length");

  Parsed count_line = Parse("*" + std::string(kRespMaxLineBytes + 1, '1'));
  EXPECT_EQ(count_line.error, "too big mbulk count string");
  Parsed length_line = Parse("*1\r\n$" + std::string(kRespMaxLineBytes, '1'));
  EXPECT_EQ(length_line.error, "too big bulk count string");

  Parsed inline_line = Parse(std::string(kRespMaxLineBytes + 1, 'P'));
  EXPECT_EQ(inline_line.last, RespParseStatus::kTooLarge);
  EXPECT_EQ(inline_line.error, "too big inline request");
  EXPECT_EQ(Parse(std::string(kRespMaxLineBytes, 'P') + "\n").requests.size(), 1u);
  RespSettings small = Settings();
  small.max_frame_bytes = 8;
  EXPECT_EQ(Parse("PING PING\n", small).last, RespParseStatus::kTooLarge)
      << "an inline line is bounded by max_frame_bytes too";
  EXPECT_EQ(Parse("PING PIN\n", small).last, RespParseStatus::kComplete);
}

TEST(RespRequestParserTest, EveryPieceSizeGivesTheSameRequests) {
  const std::string stream =
      "*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n*-3\r\nECHO \"a b\" 'c'\r\n"
      "*3\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$0\r\n\r\nPING\n";
  const Parsed whole = Parse(stream);
  ASSERT_EQ(whole.consumed, stream.size());
  ASSERT_EQ(whole.requests.size(), 5u);
  for (size_t piece = 1; piece < stream.size(); ++piece) {
    Parsed split = Parse(stream, Settings(), piece);
    EXPECT_EQ(split.requests, whole.requests) << piece;
    EXPECT_EQ(split.consumed, stream.size()) << piece;
  }
}

TEST(RespRequestParserTest, ResumesWithoutReparsingTheRequest) {
  // The bytes already parsed are not examined again: overwrite them between the calls and the
  // parser still completes the request from where it stopped (the arguments are taken from
  // their offsets at the end).
  RespRequestParser parser;
  RespCommand command;
  const std::string head = "*2\r\n$4\r\nECHO\r\n$2\r";
  ASSERT_EQ(parser.Parse(head, Settings(), &command).status, RespParseStatus::kNeedMore);
  EXPECT_TRUE(parser.mid_request());
  std::string rest = std::string(head.size() - 9, '#') + "Echo\r\n$2\r\nhi\r\n";
  RespParse done = parser.Parse(rest, Settings(), &command);
  ASSERT_EQ(done.status, RespParseStatus::kComplete);
  EXPECT_EQ(done.consumed, rest.size());
  ASSERT_EQ(command.argument_count, 2u);
  EXPECT_EQ(command.arguments[0], "Echo");
  EXPECT_EQ(command.arguments[1], "hi");
  EXPECT_FALSE(parser.mid_request());

  const std::string line = "ECHO aaaa";
  ASSERT_EQ(parser.Parse(line, Settings(), &command).status, RespParseStatus::kNeedMore);
  RespParse inline_done = parser.Parse(std::string(line.size(), '\n') + "\n", Settings(), &command);
  ASSERT_EQ(inline_done.status, RespParseStatus::kComplete);
  EXPECT_EQ(inline_done.consumed, line.size() + 1) << "the search for LF resumed after the line";
}

}  // namespace
}  // namespace shoal::server
