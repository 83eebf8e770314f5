#include "core/overload.h"

#include <algorithm>

namespace shoal::core {

namespace {

uint64_t Thousandths(uint64_t held, uint64_t limit) {
  if (limit == 0) return 0;
  // held * 1000 / limit without overflow for any held.
  uint64_t whole = held / limit;
  uint64_t part = (held % limit) * 1000 / limit;
  if (whole >= UINT32_MAX / 1000) return UINT32_MAX;
  return whole * 1000 + part;
}

uint64_t ExcessOverResume(uint64_t held, uint64_t limit) {
  if (limit == 0) return 0;
  uint64_t target =
      limit / 1000 * kResumeAcceptPressure + limit % 1000 * kResumeAcceptPressure / 1000;
  return held > target ? held - target : 0;
}

}  // namespace

uint32_t MemoryPressure(const MemoryLimits& limits, const MemoryHeld& held) {
  uint64_t pressure = std::max(Thousandths(held.worker, limits.worker_budget),
                               Thousandths(held.process, limits.process_limit));
  return static_cast<uint32_t>(std::min<uint64_t>(pressure, UINT32_MAX));
}

uint64_t BytesToShed(const MemoryLimits& limits, const MemoryHeld& held) {
  if (MemoryPressure(limits, held) < kSaturatedPressure) return 0;
  return std::max(ExcessOverResume(held.worker, limits.worker_budget),
                  ExcessOverResume(held.process, limits.process_limit));
}

uint32_t TimeoutScale(uint32_t pressure) {
  if (pressure <= kReduceTimeoutsPressure) return kFullTimeoutScale;
  if (pressure >= kSaturatedPressure) return kTimeoutFloorScale;
  uint32_t range = kSaturatedPressure - kReduceTimeoutsPressure;
  uint32_t scale = kFullTimeoutScale - (kFullTimeoutScale - kTimeoutFloorScale) *
                                           (pressure - kReduceTimeoutsPressure) / range;
  // Round up to a step so the scale changes a bounded number of times.
  scale = (scale + kTimeoutScaleStep - 1) / kTimeoutScaleStep * kTimeoutScaleStep;
  return std::clamp(scale, kTimeoutFloorScale, kFullTimeoutScale);
}

bool ProcessOverLimit(const MemoryLimits& limits, const MemoryHeld& held) {
  return limits.process_limit > 0 && held.process >= limits.process_limit;
}

OverloadDecision DecideOverload(uint32_t pressure, bool accepting, bool service_waiting) {
  OverloadDecision decision;
  decision.shed = pressure >= kSaturatedPressure && service_waiting;
  decision.accept =
      pressure < kSaturatedPressure && (accepting || pressure <= kResumeAcceptPressure);
  decision.timeout_scale = TimeoutScale(pressure);
  return decision;
}

int64_t ScaleTimeout(int64_t timeout_ns, uint32_t scale) {
  if (timeout_ns <= 0 || scale >= kFullTimeoutScale) return timeout_ns;
  int64_t scaled = timeout_ns / 1000 * scale + timeout_ns % 1000 * scale / 1000;
  return std::max<int64_t>(scaled, 1);
}

}  // namespace shoal::core
