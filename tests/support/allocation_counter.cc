#include "tests/support/allocation_counter.h"

#include <cstdlib>
#include <future>
#include <new>

namespace {
thread_local uint64_t allocations_on_this_thread = 0;
}  // namespace

void* operator new(size_t size) {
  ++allocations_on_this_thread;
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace shoal::testing {

uint64_t AllocationsOnThisThread() { return allocations_on_this_thread; }

uint64_t WorkerAllocations(core::Server& server, int worker) {
  std::promise<uint64_t> result;
  server.workers()[static_cast<size_t>(worker)]->event_loop().Post(
      [&result] { result.set_value(allocations_on_this_thread); });
  return result.get_future().get();
}

}  // namespace shoal::testing
