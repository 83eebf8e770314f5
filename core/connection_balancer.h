// ConnectionBalancer: one listener's connection count per worker, for `balance:
// least_connections`. Assign picks the worker with the fewest connections exactly (a scan of all
// workers, not two random choices: with a few workers the scan costs a few cache-line loads
// beside an accept, and only the exact minimum keeps max - min <= 1 at small counts) and counts
// the new connection for it with a compare-and-swap on the minimum it saw, so concurrent
// assignments from several workers never push one worker more than one above another while no
// connection closes.
//
// Threading: every method from any thread (atomics, one cache line per worker). Assign is
// O(workers), the others O(1).
#ifndef SHOAL_CORE_CONNECTION_BALANCER_H_
#define SHOAL_CORE_CONNECTION_BALANCER_H_

#include <atomic>
#include <cstdint>
#include <memory>

namespace shoal::core {

class ConnectionBalancer {
 public:
  explicit ConnectionBalancer(int workers);

  // The least-loaded worker (`preferred` among equals), counted one more.
  int Assign(int preferred);
  // Counts one more for `worker` unconditionally (it keeps a connection it could not hand off).
  void Add(int worker) { slots_[worker].connections.fetch_add(1, std::memory_order_relaxed); }
  void Release(int worker) { slots_[worker].connections.fetch_sub(1, std::memory_order_relaxed); }
  int64_t count(int worker) const {
    return slots_[worker].connections.load(std::memory_order_relaxed);
  }
  int workers() const { return workers_; }

 private:
  struct alignas(64) Slot {
    std::atomic<int64_t> connections{0};
  };
  int workers_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_CONNECTION_BALANCER_H_
