// The real shoal binary serving HTTP (a `protocol: http` listener from a YAML file), driven by
// real clients: curl (keep-alive reuse, HEAD, chunked and Content-Length uploads, 100-continue)
// and wrk (2 seconds, plain and pipelined: zero socket errors, zero non-2xx responses).
//
// Needs curl and wrk on PATH (Debian packages curl and wrk); a missing tool fails the test with a
// message saying so.
#include <signal.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/deadline.h"
#include "tests/support/random_bytes.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

constexpr size_t kMaxBodyBytes = 1024 * 1024;  // the config's limits.max_frame_bytes

std::string RequireTool(const std::string& name) {
  std::optional<std::string> path = FindOnPath(name);
  if (!path) {
    ADD_FAILURE() << name << " is not installed (not on PATH): install the Debian package '"
                  << name << "' (tools/install-deps.sh)";
    return "";
  }
  return *path;
}

class HttpBinaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string config = WriteTempFile("http.yaml",
                                       "workers: 2\n"
                                       "listeners:\n"
                                       "  - name: http\n"
                                       "    address: 127.0.0.1:0\n"
                                       "    protocol: http\n"
                                       "limits:\n"
                                       "  max_frame_bytes: 1MiB\n"
                                       "  max_header_bytes: 16KiB\n"
                                       "admin:\n"
                                       "  address: 127.0.0.1:0\n");
    server_ = new Subprocess({ShoalBinaryPath(), "--config=" + config});
    auto line = server_->WaitForStderrLine("listening: http", Deadline::In(seconds(30)));
    if (!line) {
      setup_error_ = "shoal did not report listening: " + server_->err();
      return;
    }
    // "... listening: http (http) on 127.0.0.1:PORT with 2 workers"
    const std::string prefix = " on 127.0.0.1:";
    size_t at = line->find(prefix);
    if (at == std::string::npos ||
        std::sscanf(line->c_str() + at + prefix.size(), "%d", &port_) != 1) {
      setup_error_ = "no port in: " + *line;
      return;
    }
  }

  static void TearDownTestSuite() {
    server_->Signal(SIGTERM);
    std::optional<int> exit_code = server_->Wait(Deadline::In(seconds(20)));
    EXPECT_EQ(exit_code, 0) << server_->err();
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  static CommandResult Curl(std::vector<std::string> args) {
    std::string curl = RequireTool("curl");
    if (curl.empty()) return {};
    args.insert(args.begin(), {curl, "--silent", "--show-error", "--max-time", "20"});
    return RunCommand(args, Deadline::In(seconds(30)));
  }

  static Subprocess* server_;
  static int port_;
  static std::string setup_error_;
};

Subprocess* HttpBinaryTest::server_ = nullptr;
int HttpBinaryTest::port_ = 0;
std::string HttpBinaryTest::setup_error_;

TEST_F(HttpBinaryTest, CurlReusesTheConnectionForTwoUrls) {
  CommandResult result = Curl({"--verbose", Url("/plaintext"), Url("/plaintext?second=1")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "Hello, World!Hello, World!");
  EXPECT_NE(result.err.find("Re-using existing connection"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("Connection: close"), std::string::npos) << result.err;
}

TEST_F(HttpBinaryTest, CurlHeadGetsHeadersOnlyAndKeepsTheConnection) {
  CommandResult result =
      Curl({"--verbose", "--head", Url("/plaintext"), Url("/plaintext")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // Two header blocks, no body (curl would report excess data or hang on a HEAD body).
  const std::string block_start = "HTTP/1.1 200 OK\r\n";
  ASSERT_EQ(result.out.find(block_start), 0u) << result.out;
  size_t second = result.out.find(block_start, 1);
  ASSERT_NE(second, std::string::npos) << result.out;
  EXPECT_EQ(result.out.substr(0, second), result.out.substr(second)) << result.out;
  EXPECT_NE(result.out.find("Content-Length: 13\r\n"), std::string::npos) << result.out;
  EXPECT_TRUE(result.out.ends_with("\r\n\r\n")) << result.out;
  EXPECT_EQ(result.out.find("Hello"), std::string::npos) << result.out;
  EXPECT_NE(result.err.find("Re-using existing connection"), std::string::npos) << result.err;
}

TEST_F(HttpBinaryTest, CurlChunkedUploadIsEchoedByteExact) {
  const std::string body = RandomBytes(300 * 1000 + 7, 41);
  std::string input = WriteTempFile("chunked.bin", body);
  std::string output = input + ".out";
  CommandResult result =
      Curl({"--verbose", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + input,
            "--output", output, "--write-out", "%{http_code}", Url("/echo")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "200");
  EXPECT_NE(result.err.find("Transfer-Encoding: chunked"), std::string::npos) << result.err;
  std::string echoed = ReadFile(output);
  ASSERT_EQ(echoed.size(), body.size());
  EXPECT_TRUE(echoed == body) << "echoed body differs";
}

TEST_F(HttpBinaryTest, CurlUploadAtTheLimitIsEchoedAndOneByteMoreIs413) {
  const std::string body = RandomBytes(kMaxBodyBytes, 42);
  std::string input = WriteTempFile("limit.bin", body);
  std::string output = input + ".out";
  CommandResult result = Curl({"--data-binary", "@" + input, "--output", output, "--write-out",
                               "%{http_code}", Url("/echo")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "200");
  EXPECT_TRUE(ReadFile(output) == body) << "echoed body differs";

  std::string over = WriteTempFile("over.bin", body + "x");
  // curl sends "Expect: 100-continue" for a body this size; the answer is 413 without a 100.
  result = Curl({"--verbose", "--data-binary", "@" + over, "--output", output, "--write-out",
                 "%{http_code}", Url("/echo")});
  EXPECT_EQ(result.out, "413") << result.err;
  EXPECT_EQ(result.err.find("100 Continue"), std::string::npos) << result.err;
}

TEST_F(HttpBinaryTest, CurlExpectContinueGetsTheInterimResponse) {
  std::string input = WriteTempFile("expect.bin", "expected body");
  CommandResult result = Curl({"--verbose", "-H", "Expect: 100-continue", "--data-binary",
                               "@" + input, Url("/echo")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "expected body");
  EXPECT_NE(result.err.find("< HTTP/1.1 100 Continue"), std::string::npos) << result.err;
}

TEST_F(HttpBinaryTest, CurlSeesErrorStatuses) {
  CommandResult result = Curl({"--include", Url("/missing")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out.find("HTTP/1.1 404 Not Found\r\n"), 0u) << result.out;
  result = Curl({"--include", "-X", "PUT", Url("/plaintext")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out.find("HTTP/1.1 405 Method Not Allowed\r\n"), 0u) << result.out;
  EXPECT_NE(result.out.find("Allow: GET, HEAD\r\n"), std::string::npos) << result.out;
}

// wrk's summary: total requests, socket errors (absent when all zero), non-2xx/3xx (absent when 0).
struct WrkSummary {
  uint64_t requests = 0;
  uint64_t socket_errors = 0;
  uint64_t non_2xx = 0;
};

std::optional<WrkSummary> ParseWrk(const std::string& out) {
  WrkSummary summary;
  // "  123456 requests in 2.00s, 13.37MB read"
  size_t at = out.find(" requests in ");
  if (at == std::string::npos) return std::nullopt;
  size_t start = out.find_last_not_of("0123456789", at - 1);
  start = start == std::string::npos ? 0 : start + 1;
  if (start == at) return std::nullopt;
  summary.requests = std::stoull(out.substr(start, at - start));
  // "  Socket errors: connect 0, read 1, write 0, timeout 0" (only when one is not zero)
  at = out.find("Socket errors:");
  if (at != std::string::npos) {
    unsigned long long connect = 0, read = 0, write = 0, timeout = 0;
    if (std::sscanf(out.c_str() + at, "Socket errors: connect %llu, read %llu, write %llu, timeout %llu",
                    &connect, &read, &write, &timeout) != 4) {
      return std::nullopt;
    }
    summary.socket_errors = connect + read + write + timeout;
  }
  // "  Non-2xx or 3xx responses: 12" (only when not zero)
  at = out.find("Non-2xx or 3xx responses:");
  if (at != std::string::npos) {
    unsigned long long non_2xx = 0;
    if (std::sscanf(out.c_str() + at, "Non-2xx or 3xx responses: %llu", &non_2xx) != 1) {
      return std::nullopt;
    }
    summary.non_2xx = non_2xx;
  }
  return summary;
}

void RunWrk(const std::vector<std::string>& extra, const std::string& url) {
  std::string wrk = RequireTool("wrk");
  ASSERT_FALSE(wrk.empty());
  std::vector<std::string> args = {wrk, "-t2", "-c50", "-d2s", "--timeout", "5s"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(url);
  if (!extra.empty()) args.insert(args.end(), {"--", "16"});
  CommandResult result = RunCommand(args, Deadline::In(seconds(30)));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  std::optional<WrkSummary> summary = ParseWrk(result.out);
  ASSERT_TRUE(summary.has_value()) << result.out;
  EXPECT_GT(summary->requests, 1000u) << result.out;
  EXPECT_EQ(summary->socket_errors, 0u) << result.out;
  EXPECT_EQ(summary->non_2xx, 0u) << result.out;
}

TEST_F(HttpBinaryTest, WrkTwoSecondsWithoutErrors) {
  RunWrk({}, Url("/plaintext"));
}

TEST_F(HttpBinaryTest, WrkPipelinedTwoSecondsWithoutErrors) {
  std::string script = WriteTempFile("pipeline.lua",
                                     "init = function(args)\n"
                                     "  local depth = tonumber(args[1]) or 1\n"
                                     "  local r = {}\n"
                                     "  for i = 1, depth do r[i] = wrk.format() end\n"
                                     "  req = table.concat(r)\n"
                                     "end\n"
                                     "request = function() return req end\n");
  RunWrk({"-s", script}, Url("/plaintext"));
}

}  // namespace
}  // namespace shoal::testing
