// Real Redis clients with their default options against the shoal binary's RESP listener:
// ioredis and node-redis (npm, in $SHOAL_TEST_NODE_DIR or /opt/shoal-test-node, installed by
// tools/install-deps.sh), redis-py (Debian's python3-redis), and redis-cli interactive on a
// pseudo-terminal (it loads its help with COMMAND DOCS), with -3 (RESP3) and with --pipe.
// Each client's script (resp_clients/) exits 0 only when every reply is the expected one.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

class RespClientsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Subprocess({ShoalBinaryPath(), "--config=" + WriteTempFile("resp_clients.yaml",
                                                                             ServerConfig("resp", 2))});
    const int port = WaitForPorts(*server_).listener;
    port_ = port > 0 ? std::to_string(port) : "";
  }

  static void TearDownTestSuite() {
    server_->Signal(SIGTERM);
    server_->Wait(seconds(15));
    delete server_;
  }

  void SetUp() override { ASSERT_FALSE(port_.empty()) << server_->err(); }

  // Runs argv (argv[0] looked up on PATH unless absolute); its exit status, output in *output.
  static int Run(std::vector<std::string> argv, std::string* output,
                 std::string_view stdin_text = {}) {
    if (argv[0].front() != '/') argv[0] = FindOnPath(argv[0]).value_or(argv[0]);
    CommandResult result = RunCommand(argv, seconds(60), stdin_text);
    *output = result.out + result.err;
    return result.exit_code.value_or(-1);
  }

  static std::string NodeDir() {
    const char* dir = std::getenv("SHOAL_TEST_NODE_DIR");
    return dir != nullptr ? dir : "/opt/shoal-test-node";
  }

  static Subprocess* server_;
  static std::string port_;
};

Subprocess* RespClientsTest::server_ = nullptr;
std::string RespClientsTest::port_;

constexpr char kScripts[] = "tests/e2e/resp_clients/";

TEST_F(RespClientsTest, IoredisConnectsWithDefaultOptions) {
  std::string out;
  EXPECT_EQ(Run({"node", std::string(kScripts) + "ioredis_client.js", NodeDir(), port_}, &out), 0)
      << out;
  std::cout << out;
}

TEST_F(RespClientsTest, NodeRedisConnectsWithDefaultOptions) {
  std::string out;
  EXPECT_EQ(Run({"node", std::string(kScripts) + "node_redis_client.js", NodeDir(), port_}, &out),
            0)
      << out;
  std::cout << out;
}

TEST_F(RespClientsTest, RedisPyConnectsWithClientName) {
  std::string out;
  // Debian's interpreter, which python3-redis is installed for.
  EXPECT_EQ(Run({"/usr/bin/python3", std::string(kScripts) + "redis_py_client.py", port_}, &out),
            0)
      << out;
  std::cout << out;
}

TEST_F(RespClientsTest, RedisCliInteractive) {
  const std::string redis_cli = FindOnPath("redis-cli").value_or("redis-cli");
  std::string out;
  EXPECT_EQ(Run({"/usr/bin/python3", std::string(kScripts) + "redis_cli_interactive.py",
                 redis_cli, port_},
                &out),
            0)
      << out;
  EXPECT_EQ(out.find("ERR"), std::string::npos) << out;
  ASSERT_EQ(Run({"redis-cli", "-p", port_, "COMMAND", "DOCS"}, &out), 0) << out;
  EXPECT_NE(out.find("Returns the given string."), std::string::npos) << out;
  EXPECT_EQ(out.find("ERR"), std::string::npos) << out;
}

TEST_F(RespClientsTest, RedisCliResp3) {
  std::string out;
  ASSERT_EQ(Run({"redis-cli", "-3", "-p", port_, "PING"}, &out), 0) << out;
  EXPECT_EQ(out, "PONG\n");
  ASSERT_EQ(Run({"redis-cli", "-3", "-p", port_, "ECHO", "hello world"}, &out), 0) << out;
  EXPECT_EQ(out, "hello world\n");
  ASSERT_EQ(Run({"redis-cli", "-3", "-p", port_, "INFO", "server"}, &out), 0) << out;
  EXPECT_NE(out.find("redis_version:7.0.0"), std::string::npos) << out;
  ASSERT_EQ(Run({"redis-cli", "-3", "-p", port_, "HELLO", "3"}, &out), 0) << out;
  EXPECT_NE(out.find("proto 3\n"), std::string::npos) << out;
}

TEST_F(RespClientsTest, RedisCliPipe) {
  std::string out;
  const std::string commands =
      "PING\r\nECHO a\r\n*2\r\n$4\r\nECHO\r\n$1\r\nb\r\nCLIENT SETNAME piped\r\nSELECT 0\r\n";
  ASSERT_EQ(Run({"redis-cli", "--pipe", "-p", port_}, &out, commands), 0) << out;
  EXPECT_NE(out.find("errors: 0, replies: 5"), std::string::npos) << out;
}

}  // namespace
}  // namespace shoal::testing
