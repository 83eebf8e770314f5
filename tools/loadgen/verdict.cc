#include "tools/loadgen/verdict.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tools/loadgen/report.h"

namespace shoal::loadgen {

namespace {

struct OpName {
  std::string_view text;
  Assertion::Op op;
};
// Two-character operators first, so "<=" is not read as "<".
constexpr OpName kOps[] = {{"<=", Assertion::Op::kLessEqual}, {">=", Assertion::Op::kGreaterEqual},
                           {"==", Assertion::Op::kEqual},     {"!=", Assertion::Op::kNotEqual},
                           {"<", Assertion::Op::kLess},       {">", Assertion::Op::kGreater}};

constexpr std::string_view kLatencyMetrics[] = {"p50", "p90", "p99", "p99.9", "p99.99", "max",
                                                 "mean"};
constexpr std::string_view kCountMetrics[] = {
    "errors", "connect", "reset",    "timeout", "eof",    "mismatch",          "status",
    "protocol", "tls_handshake", "rps", "requests", "lost", "failed", "unsent",
    "cpu_us_per_request", "handshakes_per_second"};

bool IsLatency(std::string_view metric) {
  for (auto name : kLatencyMetrics) {
    if (name == metric) return true;
  }
  return false;
}

bool IsKnown(std::string_view metric) {
  if (IsLatency(metric)) return true;
  for (auto name : kCountMetrics) {
    if (name == metric) return true;
  }
  return false;
}

bool Holds(Assertion::Op op, double actual, double value) {
  switch (op) {
    case Assertion::Op::kLess:
      return actual < value;
    case Assertion::Op::kLessEqual:
      return actual <= value;
    case Assertion::Op::kGreater:
      return actual > value;
    case Assertion::Op::kGreaterEqual:
      return actual >= value;
    case Assertion::Op::kEqual:
      return actual == value;
    case Assertion::Op::kNotEqual:
      return actual != value;
  }
  return false;
}

absl::StatusOr<Assertion> ParseOne(std::string_view text) {
  Assertion assertion;
  for (char c : text) {
    if (c != ' ') assertion.text += c;
  }
  const std::string& t = assertion.text;
  size_t at = std::string::npos;
  size_t op_length = 0;
  for (const auto& op : kOps) {
    size_t found = t.find(op.text);
    if (found != std::string::npos) {
      at = found;
      op_length = op.text.size();
      assertion.op = op.op;
      break;
    }
  }
  if (at == std::string::npos || at == 0 || at + op_length == t.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", t, "' is not METRIC OP VALUE (e.g. p99<2ms, errors==0)"));
  }
  assertion.metric = t.substr(0, at);
  const std::string value = t.substr(at + op_length);
  if (!IsKnown(assertion.metric)) {
    return absl::InvalidArgumentError(absl::StrCat("'", t, "': unknown metric '",
                                                   assertion.metric, "'"));
  }
  if (IsLatency(assertion.metric)) {
    absl::Duration duration;
    if (!absl::ParseDuration(value, &duration) || value.find_first_of("0123456789") ==
                                                      std::string::npos ||
        std::isdigit(static_cast<unsigned char>(value.back())) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", t, "': a latency needs a duration with a unit (e.g. 2ms, 500us)"));
    }
    assertion.value = static_cast<double>(absl::ToInt64Nanoseconds(duration));
  } else if (!absl::SimpleAtod(value, &assertion.value) || !std::isfinite(assertion.value)) {
    return absl::InvalidArgumentError(absl::StrCat("'", t, "': '", value, "' is not a number"));
  }
  return assertion;
}

std::string FormatActual(const Assertion& assertion, double actual) {
  if (IsLatency(assertion.metric)) return FormatLatency(actual);
  return absl::StrFormat("%g", actual);
}

}  // namespace

absl::StatusOr<std::vector<Assertion>> ParseAssertions(std::string_view text) {
  std::vector<Assertion> assertions;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',', absl::SkipWhitespace())) {
    auto assertion = ParseOne(std::string_view(part.data(), part.size()));
    if (!assertion.ok()) return assertion.status();
    assertions.push_back(std::move(*assertion));
  }
  if (assertions.empty()) return absl::InvalidArgumentError("no assertion");
  return assertions;
}

std::optional<double> MetricValue(const Result& r, std::string_view metric) {
  const Histogram& latency = r.latency;
  auto as_double = [](auto value) { return static_cast<double>(value); };
  if (metric == "p50") return as_double(latency.ValueAtPercentile(50));
  if (metric == "p90") return as_double(latency.ValueAtPercentile(90));
  if (metric == "p99") return as_double(latency.ValueAtPercentile(99));
  if (metric == "p99.9") return as_double(latency.ValueAtPercentile(99.9));
  if (metric == "p99.99") return as_double(latency.ValueAtPercentile(99.99));
  if (metric == "max") return as_double(latency.max());
  if (metric == "mean") return latency.mean();
  if (metric == "errors") return as_double(r.errors.total());
  if (metric == "rps") return r.requests_per_second();
  if (metric == "requests") return as_double(r.requests);
  if (metric == "lost") return as_double(r.lost);
  if (metric == "failed") return as_double(r.failed);
  if (metric == "unsent") return as_double(r.unsent);
  if (metric == "cpu_us_per_request") return r.server_cpu_us_per_request();
  if (metric == "handshakes_per_second") return r.handshakes_per_second();
  std::optional<double> kind;
  r.errors.ForEachKind([&](std::string_view name, uint64_t count) {
    if (name == metric) kind = as_double(count);
  });
  return kind;
}

std::vector<AssertionOutcome> Evaluate(const std::vector<Assertion>& assertions,
                                       const Result& result) {
  std::vector<AssertionOutcome> outcomes;
  for (const auto& assertion : assertions) {
    AssertionOutcome outcome{assertion, MetricValue(result, assertion.metric), false};
    outcome.passed = outcome.actual && Holds(assertion.op, *outcome.actual, assertion.value);
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

bool AllPassed(const std::vector<AssertionOutcome>& outcomes) {
  for (const auto& outcome : outcomes) {
    if (!outcome.passed) return false;
  }
  return true;
}

std::string FormatOutcomes(const std::vector<AssertionOutcome>& outcomes) {
  std::string out;
  for (const auto& o : outcomes) {
    absl::StrAppend(&out, o.assertion.text, ": ", o.passed ? "ok" : "FAILED", " (",
                    o.actual ? FormatActual(o.assertion, *o.actual) : std::string("unknown"),
                    ")\n");
  }
  return out;
}

}  // namespace shoal::loadgen
