#include "core/connection_balancer.h"

namespace shoal::core {

ConnectionBalancer::ConnectionBalancer(int workers)
    : workers_(workers), slots_(new Slot[static_cast<size_t>(workers)]) {}

int ConnectionBalancer::Assign(int preferred) {
  for (;;) {
    int best = preferred;
    int64_t fewest = count(preferred);
    for (int w = 0; w < workers_; ++w) {
      int64_t connections = count(w);
      if (connections < fewest) {
        best = w;
        fewest = connections;
      }
    }
    if (slots_[best].connections.compare_exchange_weak(fewest, fewest + 1,
                                                       std::memory_order_relaxed)) {
      return best;
    }
  }
}

}  // namespace shoal::core
