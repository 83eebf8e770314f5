// The commands shoal answers over RESP: Redis 7's replies, arities and error texts, RESP3 after
// HELLO 3, and the connection state (name, protocol) that HELLO, CLIENT and RESET change.
#include "server/protocols/resp/commands.h"

#include <gtest/gtest.h>

#include <string>

#include "server/protocols/resp/command_table.h"

namespace shoal::server {
namespace {

// Parses `input` (complete requests) and answers each of them for `client`.
std::string Answer(std::string_view input, RespClient& client, bool* closed = nullptr) {
  RespRequestParser parser;
  RespCommand command;
  const RespSettings settings{1 << 20, 1024};
  std::string out;
  size_t position = 0;
  while (position < input.size()) {
    RespParse parse = parser.Parse(input.substr(position), settings, &command);
    EXPECT_EQ(parse.status, RespParseStatus::kComplete) << input;
    if (parse.status != RespParseStatus::kComplete) break;
    position += parse.consumed;
    if (AppendRespReply(command, client, out) == RespAfterReply::kClose) {
      if (closed != nullptr) *closed = true;
      break;
    }
  }
  return out;
}

std::string Answer(std::string_view input) {
  RespClient client;
  return Answer(input, client);
}

TEST(RespCommandsTest, PingAndEcho) {
  EXPECT_EQ(Answer("*1\r\n$4\r\nPING\r\n"), "+PONG\r\n");
  EXPECT_EQ(Answer("ping hello\r\n"), "$5\r\nhello\r\n");
  EXPECT_EQ(Answer("PING a b\r\n"), "-ERR wrong number of arguments for 'ping' command\r\n");
  EXPECT_EQ(Answer("EcHo \"hello world\"\r\n"), "$11\r\nhello world\r\n");
  EXPECT_EQ(Answer("ECHO\r\n"), "-ERR wrong number of arguments for 'echo' command\r\n");
  EXPECT_EQ(Answer("\r\n*0\r\n*-10\r\n"), "") << "requests without arguments get no reply";
}

TEST(RespCommandsTest, UnknownCommandsQuoteTheirArgumentsAsRedisDoes) {
  EXPECT_EQ(Answer("GET key\r\n"),
            "-ERR unknown command 'GET', with args beginning with: 'key' \r\n");
  EXPECT_EQ(Answer("FOO\r\n"), "-ERR unknown command 'FOO', with args beginning with: \r\n");
  EXPECT_EQ(Answer("*2\r\n$4\r\nA\r\nB\r\n$3\r\nc\nd\r\n"),
            "-ERR unknown command 'A  B', with args beginning with: 'c d' \r\n")
      << "CR and LF become spaces";
  const std::string long_argument(200, 'x');
  EXPECT_EQ(Answer("GET " + long_argument + " y\r\n"),
            "-ERR unknown command 'GET', with args beginning with: '" + std::string(128, 'x') +
                "' \r\n")
      << "arguments are listed up to 128 bytes";
}

TEST(RespCommandsTest, QuitAnswersOkAndCloses) {
  RespClient client;
  bool closed = false;
  EXPECT_EQ(Answer("QUIT\r\nPING\r\n", client, &closed), "+OK\r\n");
  EXPECT_TRUE(closed);
}

TEST(RespCommandsTest, HelloSwitchesToResp3AndBack) {
  RespClient client;
  client.id = 7;
  const std::string resp2 = Answer("HELLO\r\n", client);
  EXPECT_EQ(resp2.substr(0, 5), "*14\r\n");
  EXPECT_NE(resp2.find("$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:7\r\n"), std::string::npos) << resp2;
  const std::string resp3 = Answer("HELLO 3\r\n", client);
  EXPECT_EQ(resp3.substr(0, 4), "%7\r\n");
  EXPECT_NE(resp3.find("$5\r\nproto\r\n:3\r\n"), std::string::npos) << resp3;
  EXPECT_NE(resp3.find("$7\r\nmodules\r\n*0\r\n"), std::string::npos) << resp3;
  EXPECT_EQ(client.version, RespVersion::kResp3);
  EXPECT_EQ(Answer("CLIENT GETNAME\r\n", client), "_\r\n") << "RESP3 null";
  EXPECT_EQ(Answer("HELLO 2\r\n", client).substr(0, 5), "*14\r\n");
  EXPECT_EQ(Answer("CLIENT GETNAME\r\n", client), "$-1\r\n");
}

TEST(RespCommandsTest, HelloOptionsAndErrors) {
  RespClient client;
  EXPECT_EQ(Answer("HELLO 4\r\n", client), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(Answer("HELLO x\r\n", client),
            "-ERR Protocol version is not an integer or out of range\r\n");
  EXPECT_EQ(Answer("HELLO 3 FOO\r\n", client), "-ERR Syntax error in HELLO option 'FOO'\r\n");
  EXPECT_EQ(Answer("HELLO 3 SETNAME\r\n", client),
            "-ERR Syntax error in HELLO option 'SETNAME'\r\n");
  EXPECT_EQ(Answer("HELLO 3 SETNAME \"a b\"\r\n", client),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(client.version, RespVersion::kResp2) << "a failed HELLO changes nothing";
  EXPECT_EQ(Answer("HELLO 3 AUTH someone pass\r\n", client),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(Answer("HELLO 3 AUTH default any SETNAME app\r\n", client).substr(0, 4), "%7\r\n");
  EXPECT_EQ(client.name, "app");
}

TEST(RespCommandsTest, ClientSubcommands) {
  RespClient client;
  client.id = 42;
  EXPECT_EQ(Answer("CLIENT ID\r\n", client), ":42\r\n");
  EXPECT_EQ(Answer("CLIENT GETNAME\r\n", client), "$-1\r\n");
  EXPECT_EQ(Answer("client setname app-1\r\n", client), "+OK\r\n");
  EXPECT_EQ(Answer("CLIENT GETNAME\r\n", client), "$5\r\napp-1\r\n");
  EXPECT_EQ(Answer("CLIENT SETNAME \"a\\nb\"\r\n", client),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(Answer("CLIENT SETNAME \"\"\r\nCLIENT GETNAME\r\n", client), "+OK\r\n$-1\r\n")
      << "an empty name clears it";
  EXPECT_EQ(Answer("CLIENT SETINFO LIB-NAME redis-py\r\n", client), "+OK\r\n");
  EXPECT_EQ(client.library_name, "redis-py");
  EXPECT_EQ(Answer("CLIENT SETINFO lib-ver 5.0\r\n", client), "+OK\r\n");
  EXPECT_EQ(Answer("CLIENT SETINFO color red\r\n", client), "-ERR Unrecognized option 'color'\r\n");
  EXPECT_EQ(Answer("CLIENT SETNAME\r\n", client),
            "-ERR wrong number of arguments for 'client|setname' command\r\n");
  EXPECT_EQ(Answer("CLIENT\r\n", client),
            "-ERR wrong number of arguments for 'client' command\r\n");
  EXPECT_EQ(Answer("CLIENT kill\r\n", client),
            "-ERR unknown subcommand 'kill'. Try CLIENT HELP.\r\n");
}

TEST(RespCommandsTest, SelectOnlyDatabaseZero) {
  EXPECT_EQ(Answer("SELECT 0\r\n"), "+OK\r\n");
  EXPECT_EQ(Answer("SELECT 1\r\n"), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(Answer("SELECT x\r\n"), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Answer("SELECT\r\n"), "-ERR wrong number of arguments for 'select' command\r\n");
}

TEST(RespCommandsTest, ResetClearsTheConnectionState) {
  RespClient client;
  Answer("HELLO 3 SETNAME app\r\n", client);
  EXPECT_EQ(Answer("RESET\r\n", client), "+RESET\r\n");
  EXPECT_EQ(client.version, RespVersion::kResp2);
  EXPECT_EQ(client.name, "");
}

TEST(RespCommandsTest, InfoHasTheServerSection) {
  RespClient client;
  const std::string info = Answer("INFO\r\n", client);
  ASSERT_EQ(info[0], '$');
  EXPECT_NE(info.find("# Server\r\nredis_version:7.0.0\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("\r\nprocess_id:"), std::string::npos) << info;
  EXPECT_EQ(Answer("INFO server\r\n", client).substr(0, 1), "$");
  EXPECT_EQ(Answer("INFO keyspace\r\n", client), "$0\r\n\r\n") << "other sections are empty";
  Answer("HELLO 3\r\n", client);
  const std::string verbatim = Answer("INFO\r\n", client);
  ASSERT_EQ(verbatim[0], '=');
  EXPECT_NE(verbatim.find("\r\ntxt:# Server\r\n"), std::string::npos) << verbatim;
}

TEST(RespCommandsTest, CommandDescribesEveryCommand) {
  const size_t count = RespCommandTable().size();
  EXPECT_EQ(Answer("COMMAND COUNT\r\n"), ":" + std::to_string(count) + "\r\n");
  const std::string all = Answer("COMMAND\r\n");
  EXPECT_EQ(all.substr(0, all.find('\n') + 1), "*" + std::to_string(count) + "\r\n");
  EXPECT_NE(all.find("*10\r\n$4\r\nping\r\n:-1\r\n*1\r\n+fast\r\n"), std::string::npos) << all;
  EXPECT_NE(all.find("$14\r\nclient|setname\r\n:3\r\n"), std::string::npos) << all;
  EXPECT_EQ(Answer("COMMAND INFO ping nosuch\r\n").substr(0, 4), "*2\r\n");
  EXPECT_NE(Answer("COMMAND INFO ping nosuch\r\n").find("$-1\r\n"), std::string::npos);

  const std::string docs = Answer("COMMAND DOCS echo nosuch\r\n");
  EXPECT_EQ(docs,
            "*2\r\n$4\r\necho\r\n*10\r\n$7\r\nsummary\r\n$25\r\nReturns the given string.\r\n"
            "$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n"
            "$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*4\r\n$4\r\nname\r\n"
            "$7\r\nmessage\r\n$4\r\ntype\r\n$6\r\nstring\r\n");
  RespClient resp3;
  Answer("HELLO 3\r\n", resp3);
  EXPECT_EQ(Answer("COMMAND DOCS\r\n", resp3).substr(0, 3), "%" + std::to_string(count) + "\r");
}

}  // namespace
}  // namespace shoal::server
