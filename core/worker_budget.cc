#include "core/worker_budget.h"

namespace shoal::core {

uint64_t WorkerBudgetPressureThreshold(uint64_t worker_budget) {
  return worker_budget - worker_budget / 8;
}

uint64_t WorkerBudgetRoom(const WorkerBudgetLimits& limits, uint64_t worker_queued,
                          uint64_t connection_queued) {
  // A connection with nothing queued has a peer that reads: it may always read one read budget,
  // so clients that read are served even while non-readers hold the whole budget.
  if (connection_queued == 0) {
    uint64_t cap = limits.worker_budget + limits.read_budget_bytes;
    return worker_queued >= cap ? 0 : cap - worker_queued;
  }
  if (worker_queued >= limits.worker_budget) return 0;
  // Under pressure, connections holding more than the low watermark pause first.
  if (worker_queued >= WorkerBudgetPressureThreshold(limits.worker_budget) &&
      connection_queued > limits.low_watermark) {
    return 0;
  }
  return limits.worker_budget - worker_queued;
}

}  // namespace shoal::core
