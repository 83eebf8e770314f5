#include "tests/integration/balance_spread.h"

#include <algorithm>
#include <vector>

#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"

namespace shoal::testing {

absl::StatusOr<Spread> TrialSpread(TestServer& server, size_t connections) {
  auto fds = ConnectMany(server.port(), connections, seconds(10));
  if (!fds.ok()) return fds.status();
  const auto expected = static_cast<int64_t>(connections);
  if (!WaitFor([&] { return server.active() == expected; }, seconds(10))) {
    return absl::DeadlineExceededError("not all served: " + server.StatsSummary());
  }
  Spread spread{0, INT64_MAX};
  for (int w = 0; w < server.worker_count(); ++w) {
    int64_t active = server.listener_stats(w).active.value();
    spread.most = std::max(spread.most, active);
    spread.fewest = std::min(spread.fewest, active);
  }
  fds->clear();
  if (!WaitFor([&] { return server.active() == 0; }, seconds(10)) || !server.Barrier()) {
    return absl::DeadlineExceededError("not all closed: " + server.StatsSummary());
  }
  return spread;
}

}  // namespace shoal::testing
