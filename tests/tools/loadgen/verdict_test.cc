// Assertions (--assert, the SLO of --find_max_rate): parsing, their errors, and evaluation against
// a Result built by hand.
#include "tools/loadgen/verdict.h"

#include <gtest/gtest.h>

namespace shoal::loadgen {
namespace {

Result ResultWithLatencies(std::initializer_list<int64_t> latencies_ns) {
  Result result;
  for (int64_t ns : latencies_ns) result.latency.Record(ns);
  result.requests = latencies_ns.size();
  result.requests_sent = result.requests;
  result.duration_s = 1;
  return result;
}

TEST(VerdictTest, ParsesMetricsOperatorsAndUnits) {
  auto assertions = ParseAssertions("p99<2ms, errors==0,rps>=1000,p99.9 <= 500us,eof!=3");
  ASSERT_TRUE(assertions.ok()) << assertions.status();
  ASSERT_EQ(assertions->size(), 5u);
  EXPECT_EQ((*assertions)[0].metric, "p99");
  EXPECT_EQ((*assertions)[0].op, Assertion::Op::kLess);
  EXPECT_EQ((*assertions)[0].value, 2e6);
  EXPECT_EQ((*assertions)[1].op, Assertion::Op::kEqual);
  EXPECT_EQ((*assertions)[2].op, Assertion::Op::kGreaterEqual);
  EXPECT_EQ((*assertions)[3].metric, "p99.9");
  EXPECT_EQ((*assertions)[3].op, Assertion::Op::kLessEqual);
  EXPECT_EQ((*assertions)[3].value, 5e5);
  EXPECT_EQ((*assertions)[3].text, "p99.9<=500us");
  EXPECT_EQ((*assertions)[4].op, Assertion::Op::kNotEqual);
}

TEST(VerdictTest, RejectsWhatIsNotAnAssertion) {
  for (const char* text : {"", "p99", "p99<", "<2ms", "p98<2ms", "p99<2", "errors==none",
                           "p99~2ms", "errors==0,"}) {
    if (std::string(text) == "errors==0,") {
      EXPECT_TRUE(ParseAssertions(text).ok());  // a trailing comma is harmless
      continue;
    }
    EXPECT_FALSE(ParseAssertions(text).ok()) << text;
  }
}

TEST(VerdictTest, EvaluatesAgainstTheResult) {
  Result result = ResultWithLatencies({100'000, 200'000, 3'000'000});
  result.errors.eof = 2;
  auto assertions = ParseAssertions("max<2ms,p50<1ms,errors==0,eof==2,requests==3");
  ASSERT_TRUE(assertions.ok());
  auto outcomes = Evaluate(*assertions, result);
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_FALSE(outcomes[0].passed);
  EXPECT_TRUE(outcomes[1].passed);
  EXPECT_FALSE(outcomes[2].passed);
  EXPECT_TRUE(outcomes[3].passed);
  EXPECT_TRUE(outcomes[4].passed);
  EXPECT_FALSE(AllPassed(outcomes));
  const std::string text = FormatOutcomes(outcomes);
  EXPECT_NE(text.find("max<2ms: FAILED (3.00ms)"), std::string::npos) << text;
  EXPECT_NE(text.find("p50<1ms: ok"), std::string::npos) << text;
}

TEST(VerdictTest, AnUnknownFigureFails) {
  Result result = ResultWithLatencies({100});
  auto outcomes = Evaluate(*ParseAssertions("cpu_us_per_request<10"), result);
  EXPECT_FALSE(outcomes[0].passed);
  EXPECT_NE(FormatOutcomes(outcomes).find("unknown"), std::string::npos);
  result.server_cpu_seconds = 0.000005;
  EXPECT_TRUE(Evaluate(*ParseAssertions("cpu_us_per_request<10"), result)[0].passed);
}

}  // namespace
}  // namespace shoal::loadgen
