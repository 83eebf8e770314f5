// The RESP listener of the real binary, driven by Redis's own clients (redis-cli, redis-benchmark).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

// Runs a shell command; returns its exit status and stdout.
int RunShell(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output->append(buffer, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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
  ASSERT_EQ(RunShell("redis-cli -p " + port + " PING", &out), 0) << out;
  EXPECT_EQ(out, "PONG\n");
  out.clear();
  ASSERT_EQ(RunShell("redis-cli -p " + port + " ECHO 'hello world'", &out), 0) << out;
  EXPECT_EQ(out, "hello world\n");
  out.clear();
  RunShell("redis-cli -p " + port + " GET key", &out);
  EXPECT_NE(out.find("ERR unknown command 'GET'"), std::string::npos) << out;

  for (const char* pipeline : {"1", "16"}) {
    out.clear();
    ASSERT_EQ(RunShell("timeout 60 redis-benchmark -p " + port + " -t ping -c 20 -n 20000 -q -P " +
                      pipeline,
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
