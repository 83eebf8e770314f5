// Test support: replaces the global operator new/delete (for the whole test binary that links this
// library) with versions that count allocations per thread, and reads a worker thread's count.
#ifndef SHOAL_TESTS_SUPPORT_ALLOCATION_COUNTER_H_
#define SHOAL_TESTS_SUPPORT_ALLOCATION_COUNTER_H_

#include <cstdint>

#include "core/server.h"

namespace shoal::testing {

// operator new calls made so far on the calling thread.
uint64_t AllocationsOnThisThread();

// operator new calls made so far on the thread of `server`'s worker `worker` (read on that thread
// through a posted task; the posting allocates on the caller's thread, not the worker's).
uint64_t WorkerAllocations(core::Server& server, int worker = 0);

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_ALLOCATION_COUNTER_H_
