// The process's open-file limit: shoal raises the soft RLIMIT_NOFILE to the hard limit at start
// (a 1024 soft limit would make `limits.max_connections` unreachable, with EMFILE as the first
// symptom), and tells whether the configured connections fit.
//
// Threading: main thread, before workers start.
#ifndef SHOAL_SERVER_FD_LIMIT_H_
#define SHOAL_SERVER_FD_LIMIT_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace shoal::server {

struct FdLimit {
  uint64_t before = 0;  // soft limit found at start
  uint64_t now = 0;     // soft limit after raising (the hard limit, or `before` if that failed)
};

// Raises the soft limit to the hard limit. An error only if getrlimit/setrlimit fail.
absl::StatusOr<FdLimit> RaiseFdLimitToHard();

// Descriptors the process needs beside its connections: listeners, epoll/eventfd/timer fds per
// worker, the admin endpoint, stdio, the reserve fd, log and /proc reads.
uint64_t FdsBesideConnections(uint64_t workers, uint64_t listeners);

}  // namespace shoal::server

#endif  // SHOAL_SERVER_FD_LIMIT_H_
