// WorkerStatsCollector: the shoal_* families of docs/design.md, computed at every scrape from
// the per-worker stats of core/stats.h (each worker writes only its own stats; this reads them with
// relaxed loads, so a scrape never blocks or slows a worker).
//
// Families (all of them always present; every close `reason` and every accept `errno` label value
// is always present, zero or not, so that rate() works from the first scrape):
//   shoal_connections_accepted_total{worker,listener}        counter
//   shoal_connections_active{worker,listener}                gauge
//   shoal_connections_closed_total{worker,listener,reason}   counter
//   shoal_bytes_received_total{worker,listener}              counter
//   shoal_bytes_sent_total{worker,listener}                  counter
//   shoal_requests_total{worker,listener}                    counter
//   shoal_request_duration_seconds{listener}                 histogram, summed over workers
//   shoal_output_queue_bytes{worker}                         gauge
//   shoal_backpressure_pauses_total{worker}                  counter
//   shoal_timers_active{worker}                              gauge
//   shoal_event_loop_duration_seconds{worker}                histogram (one loop turn)
//   shoal_accept_errors_total{worker,listener,errno}         counter
//
// A histogram's count is the sum of its bucket counts as read (so the +Inf bucket always equals
// _count in one scrape even while a worker is observing); its sum may lag by the observations
// in flight.
//
// Threading: Collect may run on any thread, concurrently with the workers writing their stats.
#ifndef SHOAL_METRICS_WORKER_STATS_COLLECTOR_H_
#define SHOAL_METRICS_WORKER_STATS_COLLECTOR_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/stats.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace shoal::metrics {

class WorkerStatsCollector final : public prometheus::Collectable {
 public:
  // The stats of every worker, in worker order. They must outlive the collector. Every worker is
  // expected to have the same listeners in the same order (core::Server guarantees it).
  explicit WorkerStatsCollector(std::vector<const core::WorkerStats*> workers);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::vector<const core::WorkerStats*> workers_;
};

// The `errno` label value of accept_errors slot `slot` of core::ListenerStats: "EMFILE", "ENFILE",
// "ENOBUFS", "ENOMEM", "EPERM", "ECONNABORTED", and "other" for the last slot.
std::string_view AcceptErrnoLabel(size_t slot);

}  // namespace shoal::metrics

#endif  // SHOAL_METRICS_WORKER_STATS_COLLECTOR_H_
