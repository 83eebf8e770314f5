// Verdicts on a run: assertions such as "p99<2ms,errors==0" (--assert; also the SLO of
// --find_max_rate), parsed once and checked against a Result.
//
// An assertion is METRIC OP VALUE, assertions are comma-separated. OP is one of < <= > >= == !=.
// Metrics:
//   p50 p90 p99 p99.9 p99.99 max mean   corrected latency; VALUE is a duration ("2ms", "500us")
//   errors                              errors of every kind
//   connect reset timeout eof mismatch status protocol   errors of one kind
//   rps requests lost failed unsent     figures of the report
//   cpu_us_per_request                  the server's CPU per request (needs --server_pid or
//                                       --server_metrics; fails when unknown)
// Pure functions; thread-compatible.
#ifndef SHOAL_TOOLS_LOADGEN_VERDICT_H_
#define SHOAL_TOOLS_LOADGEN_VERDICT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/loadgen/loadgen.h"

namespace shoal::loadgen {

struct Assertion {
  enum class Op { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };
  std::string metric;
  Op op = Op::kLess;
  double value = 0;   // latencies in ns
  std::string text;   // as written, spaces removed
};

struct AssertionOutcome {
  Assertion assertion;
  std::optional<double> actual;  // nullopt: the run does not know the metric
  bool passed = false;
};

absl::StatusOr<std::vector<Assertion>> ParseAssertions(std::string_view text);
// The metric's value in `result` (latencies in ns); nullopt when the run has no such figure.
std::optional<double> MetricValue(const Result& result, std::string_view metric);
std::vector<AssertionOutcome> Evaluate(const std::vector<Assertion>& assertions,
                                       const Result& result);
bool AllPassed(const std::vector<AssertionOutcome>& outcomes);
// "p99<2ms: ok (1.25ms)" / "p99<2ms: FAILED (3.10ms)", one line each.
std::string FormatOutcomes(const std::vector<AssertionOutcome>& outcomes);

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_VERDICT_H_
