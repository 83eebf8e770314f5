// The worker budget rule: the bytes a worker holds for its peers (queued output and input buffers
// of all its connections; "queued" below) are capped at worker_budget. From the pressure threshold
// (7/8 of the budget) on, connections holding more than low_watermark stop reading, so the room
// left goes to connections whose peers do read; at the budget every connection holding output
// stops, while one with nothing queued (its peer reads) may still read one read budget. A blocked connection resumes as soon as the same rule no longer
// blocks it.
//
// WorkerBudgetRoom is a pure function (O(1)). BudgetBlockedList holds the connections the rule
// blocked, in blocking order, as an intrusive list: Add and Remove are O(1), ResumeUnblocked is
// O(blocked). Threading: a list and its elements belong to one worker thread.
#ifndef SHOAL_CORE_WORKER_BUDGET_H_
#define SHOAL_CORE_WORKER_BUDGET_H_

#include <cstdint>

#include "core/intrusive_list.h"

namespace shoal::core {

struct WorkerBudgetLimits {
  uint64_t worker_budget = 0;
  uint64_t read_budget_bytes = 0;
  uint64_t low_watermark = 0;
};

uint64_t WorkerBudgetPressureThreshold(uint64_t worker_budget);

// Bytes a connection holding `connection_queued` output bytes may read now, with `worker_queued`
// bytes queued on its whole worker; 0 means the rule blocks it.
uint64_t WorkerBudgetRoom(const WorkerBudgetLimits& limits, uint64_t worker_queued,
                          uint64_t connection_queued);

struct BudgetBlockedTag;
using BudgetBlockedNode = IntrusiveListNode<BudgetBlockedTag>;

// T derives from BudgetBlockedNode and has `uint64_t queued_output_bytes() const`.
template <typename T>
class BudgetBlockedList {
 public:
  // Idempotent while `element` is in the list.
  void Add(T* element) {
    if (!static_cast<BudgetBlockedNode*>(element)->linked()) blocked_.PushBack(element);
  }
  void Remove(T* element) { blocked_.Remove(element); }
  bool empty() const { return blocked_.empty(); }
  size_t size() const { return blocked_.size(); }

  // Removes every element the rule no longer blocks and calls on_unblocked(T*) for it, in blocking
  // order; on_unblocked must not add to or remove from this list other than that element.
  template <typename Fn>
  void ResumeUnblocked(const WorkerBudgetLimits& limits, uint64_t worker_queued, Fn on_unblocked) {
    blocked_.ForEach([&](T* element) {
      if (WorkerBudgetRoom(limits, worker_queued, element->queued_output_bytes()) == 0) return;
      blocked_.Remove(element);
      on_unblocked(element);
    });
  }

 private:
  IntrusiveList<T, BudgetBlockedTag> blocked_;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_WORKER_BUDGET_H_
