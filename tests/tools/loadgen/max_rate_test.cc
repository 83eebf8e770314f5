// --find_max_rate against a server throttled to a known rate: the search converges near it
// (short open-loop steps; an SLO loose enough for a loaded machine, tight enough that a queue
// growing for a whole step breaks it).
#include "tools/loadgen/max_rate.h"

#include <gtest/gtest.h>

#include "tests/tools/loadgen/throttled_echo_server.h"

namespace shoal::loadgen {
namespace {

TEST(MaxRateTest, ConvergesOnTheRateOfAThrottledServer) {
  constexpr double kServerRate = 500;
  auto server = testing::ThrottledEchoServer::Start(kServerRate);
  ASSERT_TRUE(server.ok()) << server.status();
  MaxRateOptions options;
  options.run.targets = {(*server)->address()};
  options.run.connections = 1;
  options.run.pipeline = 4096;
  options.run.size = 16;
  options.run.duration_ns = 600'000'000;
  options.slo = *ParseAssertions("p99<100ms");
  options.start_rate = 125;
  options.precision = 0.05;
  auto found = FindMaxRate(options);
  ASSERT_TRUE(found.ok()) << found.status();
  std::string steps;
  for (const auto& step : found->steps) {
    steps += std::to_string(step.rate) + (step.held ? " held\n" : " failed\n");
  }
  // Above the server's rate the queue grows by (rate - 500)/s: at +20 % it adds 60 requests
  // (120 ms) over a step, breaking the SLO; below it nothing queues, and 2 ms between answers
  // leave room for a loaded machine's scheduling delays.
  EXPECT_GE(found->max_rate, 0.5 * kServerRate) << steps;
  EXPECT_LE(found->max_rate, 1.2 * kServerRate) << steps;
  ASSERT_TRUE(found->failed_rate.has_value()) << steps;
  EXPECT_LE((*found->failed_rate - found->max_rate) / found->max_rate, 0.05 + 1e-9) << steps;
  ASSERT_TRUE(found->best_step.has_value());
  EXPECT_EQ(found->steps[*found->best_step].rate, found->max_rate);
  EXPECT_LE(found->steps.size(), 12u) << steps;
}

TEST(MaxRateTest, ARunThatLosesRequestsDoesNotHold) {
  Result result;
  result.requests = 10;
  result.requests_sent = 11;
  result.lost = 1;
  EXPECT_FALSE(StepHolds(result, {}));
  result.lost = 0;
  result.requests_sent = 10;
  EXPECT_TRUE(StepHolds(result, {}));
}

}  // namespace
}  // namespace shoal::loadgen
