// Self-tests of the wire builders and parsers the tests rely on: a helper that encoded or parsed
// wrongly would make every test built on it meaningless.
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/echo_wire.h"
#include "tests/support/http_wire.h"
#include "tests/support/resp_wire.h"

namespace shoal::testing {
namespace {

TEST(EchoWireTest, FrameIsBigEndianLengthThenPayload) {
  EXPECT_EQ(EncodeFrame("hi"), std::string("\0\0\0\2hi", 6));
  EXPECT_EQ(EncodeFrameHeader(0x01020304), "\x01\x02\x03\x04");
  EXPECT_EQ(DecodeFrameLength(EncodeFrameHeader(0xfffffffe)), 0xfffffffeu);
}

TEST(RespWireTest, CommandIsAMultibulkOfBulkStrings) {
  EXPECT_EQ(RespCommand({"PING"}), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(RespCommand({"ECHO", "hello world"}), "*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n");
  EXPECT_EQ(RespBulkString(""), "$0\r\n\r\n");
}

TEST(HttpWireTest, ParsesPipelinedResponsesAndTheirFields) {
  const std::string data =
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-type: text/plain\r\n\r\nhello"
      "HTTP/1.1 204 No Content\r\n\r\n";
  HttpResponse first;
  size_t consumed = 0;
  ASSERT_EQ(ParseResponse(data, false, &first, &consumed), ParseOutcome::kDone);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "hello");
  EXPECT_EQ(first.Header("Content-Type"), std::optional<std::string>("text/plain"));
  EXPECT_EQ(first.HeaderCount("content-length"), 1u);
  HttpResponse second;
  ASSERT_EQ(ParseResponse(data.substr(consumed), false, &second, &consumed), ParseOutcome::kDone);
  EXPECT_EQ(second.status, 204);
  EXPECT_TRUE(second.body.empty());
}

TEST(HttpWireTest, WaitsForTheWholeBodyAndRejectsWhatShoalNeverSends) {
  HttpResponse response;
  size_t consumed = 0;
  EXPECT_EQ(ParseResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, &response,
                          &consumed),
            ParseOutcome::kNeedMore);
  EXPECT_EQ(ParseResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, &response,
                          &consumed),
            ParseOutcome::kDone);
  EXPECT_EQ(ParseResponse("HTTP/1.1 200 OK\r\n\r\n", false, &response, &consumed),
            ParseOutcome::kMalformed);
  EXPECT_EQ(ParseResponse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, &response,
                          &consumed),
            ParseOutcome::kMalformed);
}

TEST(HttpWireTest, ImfFixdate) {
  EXPECT_TRUE(IsImfFixdate("Sun, 06 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(IsImfFixdate("Sunday, 06-Nov-94 08:49:37 GMT"));
}

}  // namespace
}  // namespace shoal::testing
