// Every measured request is accounted for, against servers that drop connections: the report says
// scheduled = sent + unsent and sent = ok + failed + lost, so a server that drops requests cannot
// look faster than it is.
#include <gtest/gtest.h>

#include "absl/strings/str_format.h"

#include "tests/support/test_server.h"
#include "tests/tools/loadgen/faulty_echo.h"
#include "tests/tools/loadgen/short_run.h"
#include "tools/loadgen/loadgen.h"
#include "tools/loadgen/report.h"

namespace shoal::loadgen {
namespace {

using testing::Fault;
using testing::FaultyEcho;
using testing::TestServer;

std::unique_ptr<TestServer> StartFaulty(FaultyEcho& faulty) {
  return testing::StartLoadgenTarget("echo", faulty.factory());
}

void ExpectEveryRequestAccounted(const Result& result) {
  EXPECT_EQ(result.scheduled(), result.requests_sent + result.unsent);
  EXPECT_EQ(result.requests_sent, result.requests + result.failed + result.lost);
  EXPECT_EQ(result.completed(), result.requests + result.failed);
  const std::string text = FormatText(result);
  EXPECT_NE(text.find(absl::StrFormat("scheduled %d, sent %d, completed %d", result.scheduled(),
                                      result.requests_sent, result.completed())),
            std::string::npos)
      << text;
}

Options Base(const TestServer& server) {
  return testing::ShortRunOptions(server.address_text(),
                                  {.connections = 2, .threads = 1, .size = 16, .verify = true});
}

TEST(AccountingTest, ClosedLoopAgainstAServerThatDropsConnections) {
  FaultyEcho faulty(Fault::kDropAt, 10);
  auto server = StartFaulty(faulty);
  ASSERT_NE(server, nullptr);
  Options options = Base(*server);
  options.requests = 200;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->lost, 0u);
  EXPECT_GT(result->errors.eof + result->errors.reset, 0u);
  EXPECT_LT(result->requests, 200u);
  ExpectEveryRequestAccounted(*result);
}

TEST(AccountingTest, OpenLoopCountsWhatWasDueButNeverSent) {
  FaultyEcho faulty(Fault::kDropAt, 5);
  auto server = StartFaulty(faulty);
  ASSERT_NE(server, nullptr);
  Options options = Base(*server);
  options.rate = 2000;
  options.duration_ns = 300'000'000;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  // 2000/s over 300 ms: 600 slots, every one of them accounted for.
  EXPECT_EQ(result->scheduled(), 600u);
  EXPECT_GT(result->lost, 0u);
  ExpectEveryRequestAccounted(*result);
}

TEST(AccountingTest, ARampSchedulesItsIntegral) {
  auto server = TestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  Options options = Base(**server);
  options.rate = *RateSchedule::Parse("0:4000:500ms");
  options.duration_ns = 500'000'000;
  options.warmup_ns = 100'000'000;  // at the first rate, 0: nothing
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  // (0 + 4000) / 2 req/s over 500 ms.
  EXPECT_NEAR(static_cast<double>(result->scheduled()), 1000, 1);
  EXPECT_EQ(result->requests, result->scheduled());
  EXPECT_EQ(result->errors.total(), 0u);
  ExpectEveryRequestAccounted(*result);
}

TEST(AccountingTest, FailedResponsesAreCountedNotDropped) {
  FaultyEcho faulty(Fault::kCorruptByte, 3);
  auto server = StartFaulty(faulty);
  ASSERT_NE(server, nullptr);
  Options options = Base(*server);
  options.requests = 100;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GE(result->failed, 1u);
  ExpectEveryRequestAccounted(*result);
}

}  // namespace
}  // namespace shoal::loadgen
