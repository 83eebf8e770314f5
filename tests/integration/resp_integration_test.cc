// The RESP protocol on the in-process server over a real socket: pipelined multibulk and inline
// commands are answered in order, an unknown command gets an error and the connection stays
// usable, and QUIT answers +OK, then the server closes.
#include <string>

#include "gtest/gtest.h"
#include "tests/support/client_socket.h"
#include "tests/support/resp_wire.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

TEST(RespIntegration, PipelinedCommandsAreAnsweredInOrderAndQuitCloses) {
  TestServerOptions options;
  options.protocol = "resp";
  auto server = TestServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto fd = Connect((*server)->port());
  ASSERT_TRUE(fd.ok()) << fd.status();

  const std::string requests = RespCommand({"PING"}) + RespCommand({"ECHO", "hello world"}) +
                               "PING\r\n" + RespCommand({"GET", "key"}) +
                               RespCommand({"ECHO", ""});
  const std::string replies =
      "+PONG\r\n$11\r\nhello world\r\n+PONG\r\n"
      "-ERR unknown command 'GET', with args beginning with: 'key' \r\n$0\r\n\r\n";
  ASSERT_TRUE(SendAll(fd->get(), requests, seconds(10)).ok());
  auto answered = ReadExactly(fd->get(), replies.size(), seconds(10));
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(*answered, replies);

  ASSERT_TRUE(SendAll(fd->get(), RespCommand({"QUIT"}), seconds(10)).ok());
  auto ok = ReadExactly(fd->get(), 5, seconds(10));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, "+OK\r\n");
  EXPECT_EQ(EndKindName(WaitForEnd(fd->get(), seconds(10))), EndKindName(EndKind::kEof));
}

}  // namespace
}  // namespace shoal::testing
