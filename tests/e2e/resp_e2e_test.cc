// The RESP listener of the real binary, driven by Redis's own clients (redis-cli, redis-benchmark).
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

// Runs a Redis client (argv[0] found on PATH); returns its exit status (-1 when it did not exit
// within a minute) and its stdout and stderr.
int RunRedisTool(std::vector<std::string> argv, std::string* output) {
  argv[0] = FindOnPath(argv[0]).value_or(argv[0]);
  CommandResult result = RunCommand(argv, seconds(60));
  *output = result.out + result.err;
  return result.exit_code.value_or(-1);
}

TEST(RespE2eTest, RedisClientsTalkToShoal) {
  std::string path = WriteTempFile("resp.yaml",
                                   "workers: 2\n"
                                   "listeners:\n"
                                   "  - name: resp\n"
                                   "    address: 127.0.0.1:0\n"
                                   "    protocol: resp\n"
                                   "admin:\n"
                                   "  address: 127.0.0.1:0\n");
  Subprocess server({ShoalBinaryPath(), "--config=" + path});
  auto line = server.WaitForStderrLine("listening:", milliseconds(20000));
  ASSERT_TRUE(line.has_value()) << server.err();
  std::string port = std::to_string(PortFromListeningLine(*line));

  std::string out;
  ASSERT_EQ(RunRedisTool({"redis-cli", "-p", port, "PING"}, &out), 0) << out;
  EXPECT_EQ(out, "PONG\n");
  ASSERT_EQ(RunRedisTool({"redis-cli", "-p", port, "ECHO", "hello world"}, &out), 0) << out;
  EXPECT_EQ(out, "hello world\n");
  RunRedisTool({"redis-cli", "-p", port, "GET", "key"}, &out);
  EXPECT_NE(out.find("ERR unknown command 'GET'"), std::string::npos) << out;

  for (const char* pipeline : {"1", "16"}) {
    ASSERT_EQ(RunRedisTool({"redis-benchmark", "-p", port, "-t", "ping", "-c", "20", "-n", "20000",
                            "-q", "-P", pipeline},
                           &out),
              0)
        << out;
    EXPECT_NE(out.find("PING_INLINE"), std::string::npos) << out;
    EXPECT_NE(out.find("PING_MBULK"), std::string::npos) << out;
    EXPECT_NE(out.find("requests per second"), std::string::npos) << out;
  }
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(milliseconds(15000)), 0) << server.err();
}

}  // namespace
}  // namespace shoal::testing
