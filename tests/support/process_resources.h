// This test process's own resources: resident memory and the descriptor limit. Any thread.
#ifndef SHOAL_TESTS_SUPPORT_PROCESS_RESOURCES_H_
#define SHOAL_TESTS_SUPPORT_PROCESS_RESOURCES_H_

#include <sys/resource.h>

#include <cstdint>

namespace shoal::testing {

// Resident set size of this process, from /proc/self/statm (0 if unreadable).
uint64_t ResidentBytes();

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
rlim_t RaiseFdLimitToHard();

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_PROCESS_RESOURCES_H_
