// A listening socket on 127.0.0.1 and a port the kernel chose, for the blocking test servers of
// the loadgen tests.
#ifndef SHOAL_TESTS_TOOLS_LOADGEN_LOOPBACK_LISTENER_H_
#define SHOAL_TESTS_TOOLS_LOADGEN_LOOPBACK_LISTENER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/socket.h"

namespace shoal::testing {

struct LoopbackListener {
  core::ScopedFd fd;
  uint16_t port = 0;
};

absl::StatusOr<LoopbackListener> ListenOnLoopback(int backlog = 16);

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_TOOLS_LOADGEN_LOOPBACK_LISTENER_H_
