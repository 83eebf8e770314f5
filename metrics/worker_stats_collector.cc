#include "metrics/worker_stats_collector.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

#include "prometheus/metric_type.h"

namespace shoal::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Names of core::kCountedAcceptErrnos, slot by slot, then the catch-all slot.
constexpr std::string_view kAcceptErrnoNames[] = {"EMFILE", "ENFILE",       "ENOBUFS", "ENOMEM",
                                                  "EPERM",  "ECONNABORTED", "other"};
static_assert(std::size(kAcceptErrnoNames) == core::kCountedAcceptErrnos.size() + 1);
static_assert(core::kCountedAcceptErrnos[0] == EMFILE);
static_assert(core::kCountedAcceptErrnos[1] == ENFILE);
static_assert(core::kCountedAcceptErrnos[2] == ENOBUFS);
static_assert(core::kCountedAcceptErrnos[3] == ENOMEM);
static_assert(core::kCountedAcceptErrnos[4] == EPERM);
static_assert(core::kCountedAcceptErrnos[5] == ECONNABORTED);

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

ClientMetric::Label Label(std::string name, std::string value) {
  return ClientMetric::Label{std::move(name), std::move(value)};
}

void AddCounter(MetricFamily& family, std::vector<ClientMetric::Label> labels, uint64_t value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = static_cast<double>(value);
  family.metric.push_back(std::move(metric));
}

void AddGauge(MetricFamily& family, std::vector<ClientMetric::Label> labels, int64_t value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = static_cast<double>(value);
  family.metric.push_back(std::move(metric));
}

// Sums histograms with identical bounds into one client histogram (cumulative buckets; the
// serializer adds the +Inf bucket from sample_count).
class HistogramSum {
 public:
  void Add(const core::Histogram& histogram) {
    const std::vector<double>& bounds = histogram.upper_bounds();
    if (counts_.empty()) {
      bounds_ = bounds;
      counts_.assign(bounds.size() + 1, 0);
    }
    if (bounds != bounds_) return;  // cannot be summed; never the case for core's stats
    for (size_t i = 0; i <= bounds.size(); ++i) counts_[i] += histogram.bucket_count(i);
    sum_ += histogram.sum_seconds();
  }

  ClientMetric ToMetric(std::vector<ClientMetric::Label> labels) const {
    ClientMetric metric;
    metric.label = std::move(labels);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += counts_[i];
      metric.histogram.bucket.push_back(ClientMetric::Bucket{cumulative, bounds_[i]});
    }
    if (!counts_.empty()) cumulative += counts_.back();
    metric.histogram.sample_count = cumulative;
    metric.histogram.sample_sum = sum_;
    return metric;
  }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
};

// Per listener, in listener order: max over min active connections across workers, the min
// counted as at least 1 (so a worker with none shows the max itself).
void AddImbalance(MetricFamily& family, const std::vector<const core::WorkerStats*>& workers) {
  if (workers.empty()) return;
  for (size_t l = 0; l < workers.front()->listeners.size(); ++l) {
    int64_t most = 0;
    int64_t fewest = INT64_MAX;
    for (const core::WorkerStats* worker : workers) {
      if (l >= worker->listeners.size()) return;
      int64_t active = worker->listeners[l]->active.value();
      most = std::max(most, active);
      fewest = std::min(fewest, active);
    }
    ClientMetric metric;
    metric.label = {Label("listener", workers.front()->listeners[l]->listener)};
    metric.gauge.value = static_cast<double>(most) / static_cast<double>(std::max<int64_t>(fewest, 1));
    family.metric.push_back(std::move(metric));
  }
}

// The TLS families, over the listeners that have TLS (core::TlsStats::enabled): handshakes by
// worker, listener and result; the handshake duration histogram and the negotiated versions
// per listener, summed over workers.
void AddTls(std::vector<MetricFamily>& families,
            const std::vector<const core::WorkerStats*>& workers) {
  MetricFamily handshakes = Family("shoal_tls_handshakes_total",
                                   "TLS handshakes, by result (a connection closed before its "
                                   "handshake completed counts as failed).",
                                   MetricType::Counter);
  MetricFamily duration = Family("shoal_tls_handshake_duration_seconds",
                                 "Time from accept to a completed TLS handshake.",
                                 MetricType::Histogram);
  MetricFamily negotiated = Family("shoal_tls_negotiated_total",
                                   "Completed TLS handshakes, by negotiated protocol version.",
                                   MetricType::Counter);
  if (workers.empty()) return;
  for (size_t l = 0; l < workers.front()->listeners.size(); ++l) {
    const std::string& name = workers.front()->listeners[l]->listener;
    if (!workers.front()->listeners[l]->tls.enabled) continue;
    HistogramSum durations;
    std::array<uint64_t, core::kTlsVersionNames.size()> versions{};
    for (const core::WorkerStats* worker : workers) {
      const core::TlsStats& tls = worker->listeners[l]->tls;
      const std::string w = std::to_string(worker->worker);
      AddCounter(handshakes, {Label("worker", w), Label("listener", name), Label("result", "ok")},
                 tls.handshakes_ok.value());
      AddCounter(handshakes,
                 {Label("worker", w), Label("listener", name), Label("result", "failed")},
                 tls.handshakes_failed.value());
      durations.Add(tls.handshake_duration);
      for (size_t v = 0; v < versions.size(); ++v) versions[v] += tls.negotiated[v].value();
    }
    duration.metric.push_back(durations.ToMetric({Label("listener", name)}));
    for (size_t v = 0; v < versions.size(); ++v) {
      AddCounter(negotiated,
                 {Label("listener", name), Label("version", std::string(core::kTlsVersionNames[v]))},
                 versions[v]);
    }
  }
  if (handshakes.metric.empty()) return;
  for (MetricFamily* family : {&handshakes, &duration, &negotiated}) {
    families.push_back(std::move(*family));
  }
}

}  // namespace

std::string_view AcceptErrnoLabel(size_t slot) {
  return slot < std::size(kAcceptErrnoNames) ? kAcceptErrnoNames[slot] : "other";
}

WorkerStatsCollector::WorkerStatsCollector(std::vector<const core::WorkerStats*> workers)
    : workers_(std::move(workers)) {}

std::vector<MetricFamily> WorkerStatsCollector::Collect() const {
  MetricFamily accepted = Family("shoal_connections_accepted_total",
                                 "Connections accepted, including those closed at once for "
                                 "overload.",
                                 MetricType::Counter);
  MetricFamily active =
      Family("shoal_connections_active", "Connections open now.", MetricType::Gauge);
  MetricFamily closed =
      Family("shoal_connections_closed_total", "Connections closed, by reason.",
             MetricType::Counter);
  MetricFamily received = Family("shoal_bytes_received_total",
                                 "Bytes read from client connections.", MetricType::Counter);
  MetricFamily sent = Family("shoal_bytes_sent_total", "Bytes written to client connections.",
                             MetricType::Counter);
  MetricFamily requests =
      Family("shoal_requests_total", "Requests read: frames for echo and resp, requests for http.",
             MetricType::Counter);
  MetricFamily duration =
      Family("shoal_request_duration_seconds",
             "Time from a request fully read to its response fully written.",
             MetricType::Histogram);
  MetricFamily queue_bytes = Family("shoal_output_queue_bytes",
                                    "Output bytes queued on the worker's connections.",
                                    MetricType::Gauge);
  MetricFamily input_bytes = Family("shoal_input_buffer_bytes",
                                    "Bytes received from peers and not yet consumed on the worker.",
                                    MetricType::Gauge);
  MetricFamily overload = Family("shoal_overload_actions_total",
                                 "Actions the overload policy took, by action.",
                                 MetricType::Counter);
  MetricFamily pauses = Family("shoal_backpressure_pauses_total",
                               "Times the worker stopped reading a connection because of queued "
                               "output.",
                               MetricType::Counter);
  MetricFamily timers =
      Family("shoal_timers_active", "Timers scheduled on the worker's timer wheel.",
             MetricType::Gauge);
  MetricFamily loop_turn = Family("shoal_event_loop_duration_seconds",
                                  "Duration of one event loop turn (wait excluded).",
                                  MetricType::Histogram);
  MetricFamily accept_errors = Family("shoal_accept_errors_total",
                                      "Failed accept calls, by errno.", MetricType::Counter);

  // Per-listener request durations summed over workers, in listener order.
  std::vector<std::pair<std::string, HistogramSum>> durations;

  for (const core::WorkerStats* worker : workers_) {
    const std::string w = std::to_string(worker->worker);
    for (const auto& listener_ptr : worker->listeners) {
      const core::ListenerStats& listener = *listener_ptr;
      const std::string& l = listener.listener;
      AddCounter(accepted, {Label("worker", w), Label("listener", l)}, listener.accepted.value());
      AddGauge(active, {Label("worker", w), Label("listener", l)}, listener.active.value());
      for (size_t r = 0; r < core::kCloseReasonCount; ++r) {
        AddCounter(closed,
                   {Label("worker", w), Label("listener", l),
                    Label("reason",
                          std::string(core::CloseReasonName(static_cast<core::CloseReason>(r))))},
                   listener.closed[r].value());
      }
      AddCounter(received, {Label("worker", w), Label("listener", l)},
                 listener.bytes_received.value());
      AddCounter(sent, {Label("worker", w), Label("listener", l)}, listener.bytes_sent.value());
      AddCounter(requests, {Label("worker", w), Label("listener", l)}, listener.requests.value());
      for (size_t e = 0; e < listener.accept_errors.size(); ++e) {
        AddCounter(accept_errors,
                   {Label("worker", w), Label("listener", l),
                    Label("errno", std::string(AcceptErrnoLabel(e)))},
                   listener.accept_errors[e].value());
      }
      auto it = durations.begin();
      while (it != durations.end() && it->first != l) ++it;
      if (it == durations.end()) it = durations.insert(durations.end(), {l, HistogramSum()});
      it->second.Add(listener.request_duration);
    }
    AddGauge(queue_bytes, {Label("worker", w)}, worker->output_queue_bytes.value());
    AddGauge(input_bytes, {Label("worker", w)}, worker->input_buffer_bytes.value());
    for (size_t a = 0; a < core::kOverloadActionCount; ++a) {
      AddCounter(overload,
                 {Label("worker", w),
                  Label("action", std::string(core::OverloadActionName(
                                      static_cast<core::OverloadAction>(a))))},
                 worker->overload_actions[a].value());
    }
    AddCounter(pauses, {Label("worker", w)}, worker->backpressure_pauses.value());
    AddGauge(timers, {Label("worker", w)}, worker->timers_active.value());
    HistogramSum turn;
    turn.Add(worker->loop_turn);
    loop_turn.metric.push_back(turn.ToMetric({Label("worker", w)}));
  }
  for (const auto& [listener, histogram] : durations) {
    duration.metric.push_back(histogram.ToMetric({Label("listener", listener)}));
  }

  MetricFamily imbalance =
      Family("shoal_worker_connections_imbalance",
             "Per listener: the most active connections on one worker over the fewest (counted "
             "as at least 1).",
             MetricType::Gauge);
  AddImbalance(imbalance, workers_);

  std::vector<MetricFamily> families;
  families.reserve(15);
  for (MetricFamily* family :
       {&accepted, &active, &closed, &received, &sent, &requests, &duration, &queue_bytes,
        &input_bytes, &overload, &pauses, &timers, &loop_turn, &accept_errors, &imbalance}) {
    families.push_back(std::move(*family));
  }
  AddTls(families, workers_);
  return families;
}

}  // namespace shoal::metrics
