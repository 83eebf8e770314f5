#include "tools/loadgen/max_rate.h"

namespace shoal::loadgen {

bool StepHolds(const Result& result, const std::vector<AssertionOutcome>& outcomes) {
  return AllPassed(outcomes) && result.errors.total() == 0 && result.lost == 0 &&
         result.failed == 0 && result.unsent == 0 && result.requests > 0;
}

absl::StatusOr<MaxRateResult> FindMaxRate(const MaxRateOptions& options) {
  MaxRateResult out;
  auto step = [&](double rate) -> absl::StatusOr<bool> {
    Options run = options.run;
    run.rate = RateSchedule(rate);
    run.requests = -1;
    auto result = Run(run);
    if (!result.ok()) return result.status();
    MaxRateStep s;
    s.rate = rate;
    s.outcomes = Evaluate(options.slo, *result);
    s.held = StepHolds(*result, s.outcomes);
    s.result = std::move(*result);
    if (options.on_step) options.on_step(s);
    out.steps.push_back(std::move(s));
    const MaxRateStep& last = out.steps.back();
    if (last.held && rate > out.max_rate) {
      out.max_rate = rate;
      out.best_step = out.steps.size() - 1;
    }
    if (!last.held && (!out.failed_rate || rate < *out.failed_rate)) out.failed_rate = rate;
    return last.held;
  };

  double rate = options.start_rate;
  auto first = step(rate);
  if (!first.ok()) return first.status();
  int steps = 1;
  // Exponential phase: find a rate that holds and one that fails.
  if (*first) {
    while (steps < options.max_steps && rate * 2 <= options.max_rate) {
      rate *= 2;
      auto held = step(rate);
      if (!held.ok()) return held.status();
      ++steps;
      if (!*held) break;
    }
  } else {
    while (steps < options.max_steps && rate / 2 >= options.min_rate) {
      rate /= 2;
      auto held = step(rate);
      if (!held.ok()) return held.status();
      ++steps;
      if (*held) break;
    }
  }
  // Binary phase between the highest rate that held and the lowest that failed.
  while (steps < options.max_steps && out.max_rate > 0 && out.failed_rate &&
         (*out.failed_rate - out.max_rate) / out.max_rate > options.precision) {
    auto held = step((out.max_rate + *out.failed_rate) / 2);
    if (!held.ok()) return held.status();
    ++steps;
  }
  return out;
}

}  // namespace shoal::loadgen
