// loadgen's connection churn against an in-process echo server over real sockets:
// --reconnect_every closes each connection after N answered requests and opens a new one (the
// server sees every one of them), and --connect_rate spaces connect attempts.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/support/test_server.h"
#include "tests/tools/loadgen/short_run.h"
#include "tools/loadgen/loadgen.h"

namespace shoal::loadgen {
namespace {

using testing::TestServer;

std::unique_ptr<TestServer> StartEcho() { return testing::StartLoadgenTarget(); }

Options Base(const TestServer& server) {
  return testing::ShortRunOptions(server.address_text(),
                                  {.connections = 4, .threads = 2, .size = 32, .verify = true});
}

TEST(ChurnTest, ReconnectEveryOpensANewConnectionAfterNAnsweredRequests) {
  auto server = StartEcho();
  ASSERT_NE(server, nullptr);
  Options options = Base(*server);
  options.requests = 1000;          // 250 per connection
  options.reconnect_every = 50;     // 5 sockets each: 4 reconnects
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 1000u);
  EXPECT_EQ(result->verified, 1000u);
  EXPECT_EQ(result->errors.total(), 0u);
  EXPECT_EQ(result->lost, 0u);
  EXPECT_EQ(result->reconnects, 16u);
  EXPECT_EQ(result->connects, 20u);
  EXPECT_TRUE(server->Barrier());
  EXPECT_EQ(server->accepted(), 20u);
  EXPECT_EQ(server->requests(), 1000u);
}

TEST(ChurnTest, ReconnectEveryInOpenLoopKeepsTheSchedule) {
  auto server = StartEcho();
  ASSERT_NE(server, nullptr);
  Options options = Base(*server);
  options.requests = 400;
  options.rate = 2000;
  options.reconnect_every = 20;
  options.pipeline = 1;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 400u);
  EXPECT_EQ(result->errors.total(), 0u);
  EXPECT_EQ(result->reconnects, 16u);  // 100 per connection: 5 sockets each
}

TEST(ChurnTest, ConnectRateSpacesConnectAttempts) {
  auto server = StartEcho();
  ASSERT_NE(server, nullptr);
  Options options = Base(*server);
  options.requests = 400;
  options.reconnect_every = 50;  // 100 per connection: 2 sockets each, 8 connects in all
  options.connect_rate = 20;     // each of the 2 threads: one connect per 100 ms
  const auto start = std::chrono::steady_clock::now();
  auto result = loadgen::Run(options);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 400u);
  EXPECT_EQ(result->connects, 8u);
  EXPECT_EQ(result->reconnects, 4u);
  // Each thread makes 4 connects, the last no earlier than 300 ms after the first.
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
}

TEST(ChurnTest, RejectsNegativeChurnOptions) {
  Options options;
  options.targets = {"127.0.0.1:1"};
  options.reconnect_every = -1;
  EXPECT_FALSE(ValidateOptions(options).ok());
  options.reconnect_every = 0;
  options.connect_rate = -1;
  EXPECT_FALSE(ValidateOptions(options).ok());
}

}  // namespace
}  // namespace shoal::loadgen
