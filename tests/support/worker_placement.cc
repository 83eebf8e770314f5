#include "tests/support/worker_placement.h"

#include <string>

namespace shoal::testing {

absl::StatusOr<std::pair<core::ScopedFd, int>> ConnectAttributed(TestServer& server,
                                                                 Deadline deadline,
                                                                 const ClientOptions& options) {
  std::vector<uint64_t> before = server.accepted_per_worker();
  uint64_t before_total = server.accepted();
  auto fd = Connect(server.port(), deadline, options);
  if (!fd.ok()) return fd.status();
  if (!WaitFor([&] { return server.accepted() > before_total; }, deadline)) {
    return absl::DeadlineExceededError("no worker accepted the connection");
  }
  std::vector<uint64_t> after = server.accepted_per_worker();
  int worker = -1;
  for (size_t w = 0; w < after.size(); ++w) {
    if (after[w] != before[w]) {
      if (worker >= 0 || after[w] != before[w] + 1) {
        return absl::InternalError("more than one connection accepted at once");
      }
      worker = static_cast<int>(w);
    }
  }
  return std::make_pair(std::move(*fd), worker);
}

absl::StatusOr<std::vector<std::vector<core::ScopedFd>>> ConnectBalanced(
    TestServer& server, size_t per_worker, Deadline deadline, const ClientOptions& options) {
  const size_t workers = static_cast<size_t>(server.worker_count());
  std::vector<std::vector<core::ScopedFd>> by_worker(workers);
  const size_t max_attempts = per_worker * workers * 20 + 100;
  for (size_t attempt = 0; attempt < max_attempts; ++attempt) {
    bool full = true;
    for (const auto& fds : by_worker) full = full && fds.size() >= per_worker;
    if (full) return by_worker;
    auto connected = ConnectAttributed(server, deadline, options);
    if (!connected.ok()) return connected.status();
    auto& slot = by_worker[static_cast<size_t>(connected->second)];
    if (slot.size() < per_worker) slot.push_back(std::move(connected->first));
    // else: the surplus connection closes here.
  }
  return absl::DeadlineExceededError("could not place " + std::to_string(per_worker) +
                                     " connections on every worker");
}

}  // namespace shoal::testing
