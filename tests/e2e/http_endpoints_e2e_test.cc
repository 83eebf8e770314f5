// The shoal binary's HTTP listener with real clients: curl keeps using the connection behind a
// 404, fetches /bytes/N (verified from each byte's offset) and waits out /delay; wrk drives the
// test endpoints for a second each without a socket error.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "server/protocols/http/wire.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

class HttpEndpointsE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string config =
        WriteTempFile("http_endpoints.yaml", ServerConfig("http", 2, "limits:\n  max_delay: 2s\n"));
    server_ = new Subprocess({ShoalBinaryPath(), "--config=" + config});
    port_ = WaitForPorts(*server_).listener;
  }

  static void TearDownTestSuite() {
    server_->Signal(SIGTERM);
    EXPECT_EQ(server_->Wait(seconds(15)), 0) << server_->err();
    delete server_;
  }

  void SetUp() override { ASSERT_GT(port_, 0) << server_->err(); }

  static std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  static CommandResult Run(std::vector<std::string> argv) {
    argv[0] = FindOnPath(argv[0]).value_or(argv[0]);
    return RunCommand(argv, seconds(60));
  }

  static size_t Count(const std::string& text, const std::string& needle) {
    size_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      ++count;
    }
    return count;
  }

  static Subprocess* server_;
  static int port_;
};

Subprocess* HttpEndpointsE2eTest::server_ = nullptr;
int HttpEndpointsE2eTest::port_ = 0;

TEST_F(HttpEndpointsE2eTest, CurlReusesTheConnectionBehindA404) {
  CommandResult result =
      Run({"curl", "--silent", "--verbose", Url("/nope"), Url("/plaintext"), Url("/status/503")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "Not Found\nHello, World!Service Unavailable\n");
  EXPECT_EQ(Count(result.err, "Connected to"), 1u) << result.err;
  EXPECT_EQ(Count(result.err, "Re-using existing connection"), 2u) << result.err;
}

TEST_F(HttpEndpointsE2eTest, CurlFetchesVerifiableBytes) {
  CommandResult result = Run({"curl", "--silent", "--fail", Url("/bytes/1000000")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_EQ(result.out.size(), 1000000u);
  EXPECT_EQ(http::FindTestBytesMismatch(0, result.out), std::string_view::npos);
}

TEST_F(HttpEndpointsE2eTest, CurlWaitsOutTheDelay) {
  CommandResult result = Run({"curl", "--silent", "--write-out", "%{http_code} %{time_total}",
                              Url("/delay/250ms")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string prefix = "delayed 250ms\n200 ";
  ASSERT_EQ(result.out.substr(0, prefix.size()), prefix) << result.out;
  EXPECT_GE(std::strtod(result.out.c_str() + prefix.size(), nullptr), 0.25) << result.out;
}

TEST_F(HttpEndpointsE2eTest, WrkDrivesTheEndpointsWithoutSocketErrors) {
  for (const char* path : {"/bytes/16384", "/delay/20ms", "/status/204"}) {
    CommandResult result = Run({"wrk", "-t1", "-c16", "-d1s", Url(path)});
    ASSERT_EQ(result.exit_code, 0) << path << ": " << result.err;
    EXPECT_NE(result.out.find(" requests in "), std::string::npos) << path << ": " << result.out;
    EXPECT_EQ(result.out.find("Socket errors"), std::string::npos) << path << ": " << result.out;
    EXPECT_EQ(result.out.find("Non-2xx"), std::string::npos) << path << ": " << result.out;
  }
}

}  // namespace
}  // namespace shoal::testing
