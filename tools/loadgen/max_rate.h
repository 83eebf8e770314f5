// FindMaxRate (--find_max_rate --slo=...): the highest constant open-loop rate at which the
// server meets an SLO. Each step is a short open-loop run (the options' duration, warm-up,
// connections...) at one rate. A step holds when every SLO assertion passes and every scheduled
// request was answered well (no error, nothing lost, failed or unsent). The search doubles the
// rate from `start_rate` while steps hold (halves it while they fail, if the first fails), then
// bisects between the highest rate that held and the lowest that failed until they are within
// `precision` of each other.
//
// Threading: blocks the calling thread (each step is a Run); `on_step` is called on it.
#ifndef SHOAL_TOOLS_LOADGEN_MAX_RATE_H_
#define SHOAL_TOOLS_LOADGEN_MAX_RATE_H_

#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/loadgen/loadgen.h"
#include "tools/loadgen/verdict.h"

namespace shoal::loadgen {

struct MaxRateStep {
  double rate = 0;
  bool held = false;
  Result result;
  std::vector<AssertionOutcome> outcomes;
};

struct MaxRateOptions {
  Options run;                    // each step's run (its rate is set per step)
  std::vector<Assertion> slo;
  double start_rate = 1000;
  double precision = 0.05;        // stop when (failed - held) / held <= this
  double min_rate = 1;            // below this the search gives up (nothing holds)
  double max_rate = 1e8;          // above this the search stops (everything holds)
  int max_steps = 40;
  std::function<void(const MaxRateStep&)> on_step;
};

struct MaxRateResult {
  double max_rate = 0;                 // 0: no rate held
  std::optional<double> failed_rate;   // the lowest rate that failed, if any did
  std::vector<MaxRateStep> steps;
  // The run at max_rate (the step that held there), when one held.
  std::optional<size_t> best_step;
};

// Errors only when a step cannot run at all (bad options, no connection).
absl::StatusOr<MaxRateResult> FindMaxRate(const MaxRateOptions& options);
// Whether a step's run meets the SLO (see above).
bool StepHolds(const Result& result, const std::vector<AssertionOutcome>& outcomes);

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_MAX_RATE_H_
