// The overload policy of one worker, after Envoy's overload manager: from the memory held for
// peers (this worker's input buffers and output queues, and the whole process's total) it decides
// whether to accept, how far to scale the idle and read timeouts down, and whether to shed
// connections that hold memory without making progress.
//
// Pressure is in thousandths of the limit (1000 = saturated): the larger of the worker's held
// bytes over its worker_budget and the process total over limits.max_memory.
// - Stop accepting at saturation; accept again at or below kResumeAcceptPressure.
// - Shed at saturation while service is waiting (a connection with nothing queued blocked by the
//   budget, a connection queued for accept, or the process over max_memory): the worker closes the
//   largest stalled holders (memory_pressure) until it is back at kResumeAcceptPressure, so a
//   well-behaved peer is never refused while memory is held by peers that do not read. While no
//   one waits, holders only stay paused by the budget rule (core/worker_budget.h).
// - Scale idle/read timeouts from kReduceTimeoutsPressure (scale 1) linearly down to
//   kTimeoutFloorScale at saturation, in steps of kTimeoutScaleStep (so existing deadlines are
//   re-armed a bounded number of times).
//
// Everything here is pure and O(1); the worker applies the decision (core/worker.h).
#ifndef SHOAL_CORE_OVERLOAD_H_
#define SHOAL_CORE_OVERLOAD_H_

#include <cstdint>

namespace shoal::core {

inline constexpr uint32_t kSaturatedPressure = 1000;
inline constexpr uint32_t kResumeAcceptPressure = 875;
inline constexpr uint32_t kReduceTimeoutsPressure = 800;
// Timeout scales are in thousandths too.
inline constexpr uint32_t kFullTimeoutScale = 1000;
inline constexpr uint32_t kTimeoutFloorScale = 100;
inline constexpr uint32_t kTimeoutScaleStep = 50;

struct MemoryLimits {
  uint64_t worker_budget = 0;  // 0 = no worker bound
  uint64_t process_limit = 0;  // 0 = no process bound
};

struct MemoryHeld {
  uint64_t worker = 0;
  uint64_t process = 0;
};

// Saturating at UINT32_MAX.
uint32_t MemoryPressure(const MemoryLimits& limits, const MemoryHeld& held);

// The bytes the worker must free to be back under kResumeAcceptPressure (0 when not saturated).
uint64_t BytesToShed(const MemoryLimits& limits, const MemoryHeld& held);

struct OverloadDecision {
  bool shed = false;
  bool accept = true;
  uint32_t timeout_scale = kFullTimeoutScale;
};

// Whether the process total is at or over its limit (service is then due whoever waits).
bool ProcessOverLimit(const MemoryLimits& limits, const MemoryHeld& held);

// `accepting` is whether the worker accepts now (for the hysteresis); `service_waiting` whether a
// peer waits for service that only freed memory can give.
OverloadDecision DecideOverload(uint32_t pressure, bool accepting, bool service_waiting);

uint32_t TimeoutScale(uint32_t pressure);

// `timeout_ns` scaled by `scale` thousandths, at least 1 ns when timeout_ns > 0.
int64_t ScaleTimeout(int64_t timeout_ns, uint32_t scale);

}  // namespace shoal::core

#endif  // SHOAL_CORE_OVERLOAD_H_
