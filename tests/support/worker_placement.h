// Connections placed on known workers of a TestServer: connect one client at a time and see
// which worker's accepted counter moved. Valid only while no other connection is being accepted.
// Threading: test thread only.
#ifndef SHOAL_TESTS_SUPPORT_WORKER_PLACEMENT_H_
#define SHOAL_TESTS_SUPPORT_WORKER_PLACEMENT_H_

#include <cstddef>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/socket.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/test_server.h"

namespace shoal::testing {

// Connects one client and waits until some worker has counted it as accepted; returns the socket
// and that worker's index.
absl::StatusOr<std::pair<core::ScopedFd, int>> ConnectAttributed(TestServer& server,
                                                                 Deadline deadline,
                                                                 const ClientOptions& options = {});

// Connects (one at a time, attributing each) until every worker holds at least `per_worker`
// connections; surplus connections on workers already full are closed. Result indexed by worker.
absl::StatusOr<std::vector<std::vector<core::ScopedFd>>> ConnectBalanced(
    TestServer& server, size_t per_worker, Deadline deadline, const ClientOptions& options = {});

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_WORKER_PLACEMENT_H_
