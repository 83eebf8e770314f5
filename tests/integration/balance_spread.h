// Per-worker load spread of a TestServer's listener, for the balancing test and benchmark.
// Threading: test thread only.
#ifndef SHOAL_TESTS_INTEGRATION_BALANCE_SPREAD_H_
#define SHOAL_TESTS_INTEGRATION_BALANCE_SPREAD_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "tests/support/test_server.h"

namespace shoal::testing {

// Active connections on the busiest and the idlest worker.
struct Spread {
  int64_t most = 0;
  int64_t fewest = 0;
  int64_t difference() const { return most - fewest; }
  // max / min with min counted as at least 1, as shoal_worker_connections_imbalance.
  double ratio() const { return static_cast<double>(most) / (fewest > 0 ? fewest : 1); }
};

// Opens `connections` at once from the calling thread, waits until all are served, measures the
// spread, then closes them and waits until the server has let go of every one.
absl::StatusOr<Spread> TrialSpread(TestServer& server, size_t connections);

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_INTEGRATION_BALANCE_SPREAD_H_
