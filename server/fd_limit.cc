#include "server/fd_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace shoal::server {

absl::StatusOr<FdLimit> RaiseFdLimitToHard() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
  FdLimit result{limit.rlim_cur, limit.rlim_cur};
  if (limit.rlim_cur == limit.rlim_max) return result;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(std::string("setrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
  result.now = limit.rlim_cur;
  return result;
}

uint64_t FdsBesideConnections(uint64_t workers, uint64_t listeners) {
  return 32 + workers * (listeners + 4);
}

}  // namespace shoal::server
