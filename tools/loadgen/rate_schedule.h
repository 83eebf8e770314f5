// RateSchedule: the open-loop request rate over time, and the time each request is due.
//
// Syntax (--rate): "R" is a constant R requests/s ("0": closed loop). Otherwise a comma-separated
// list of phases, each "R:DURATION" (constant) or "A:B:DURATION" (linear ramp from A to B), e.g.
//   1000:5000:20s            ramp from 1000 to 5000 req/s over 20 s
//   1000:5s,2000:5s,4000:5s  steps
// After the last phase its final rate holds. Time 0 is the start of the load; a warm-up is a
// lead-in at the first rate (WithLeadIn) so the phases begin with the measurement.
//
// Slot s (the s-th request of the whole run, counted from 0) is due at the time t where the
// integral of the rate from 0 to t reaches s. For a constant rate r that is s / r, as before.
// SlotOffsetNs is O(log phases); the parse is O(length of the text).
//
// Threading: immutable after construction; share freely.
#ifndef SHOAL_TOOLS_LOADGEN_RATE_SCHEDULE_H_
#define SHOAL_TOOLS_LOADGEN_RATE_SCHEDULE_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace shoal::loadgen {

struct RatePhase {
  double from = 0;          // requests/s at the start of the phase
  double to = 0;            // ... and at its end (== from: constant)
  int64_t duration_ns = 0;  // > 0
};

class RateSchedule {
 public:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  // Constant `rate` requests/s; 0 = closed loop. Implicit, so `options.rate = 2000` reads well.
  RateSchedule(double rate = 0);  // NOLINT(google-explicit-constructor)
  static absl::StatusOr<RateSchedule> FromPhases(std::vector<RatePhase> phases);
  static absl::StatusOr<RateSchedule> Parse(std::string_view text);

  bool open_loop() const { return !phases_.empty() || final_rate_ > 0; }
  bool valid() const { return final_rate_ >= 0; }
  // A constant rate (no phases).
  bool constant() const { return phases_.empty(); }
  double initial_rate() const { return phases_.empty() ? final_rate_ : phases_.front().from; }
  double final_rate() const { return final_rate_; }
  double peak_rate() const;
  // The phases' total length (0 for a constant rate).
  int64_t length_ns() const;
  const std::vector<RatePhase>& phases() const { return phases_; }

  // The same schedule, `lead_in_ns` later, preceded by that long at the initial rate.
  RateSchedule WithLeadIn(int64_t lead_in_ns) const;

  // When slot `slot` is due, from time 0; kNever when the rate has ended at 0 before it.
  int64_t SlotOffsetNs(uint64_t slot) const;
  // Slots due in [0, offset_ns): the integral of the rate, rounded up.
  uint64_t SlotsBefore(int64_t offset_ns) const;

  // The text Parse reads ("2000", "1000:5000:20s", ...).
  std::string ToString() const;

 private:
  std::vector<RatePhase> phases_;
  std::vector<double> slots_at_start_;  // cumulative slots when each phase begins; one extra: end
  double final_rate_ = 0;
  double ns_per_slot_ = 0;  // constant: 1e9 / rate
};

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_RATE_SCHEDULE_H_
