// WorkerStatsCollector: exact values after known events on directly constructed per-worker stats,
// cumulative histogram buckets at their boundaries, per-listener sums over workers, every close
// reason and accept errno present, and label escaping in the text output.
#include "core/close_reason.h"
#include "core/stats.h"
#include "metrics/metrics.h"
#include "metrics/worker_stats_collector.h"
#include "prometheus/metric_type.h"
#include "prometheus/text_serializer.h"
#include "tests/support/exposition.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace shoal::metrics {
namespace {

using shoal::testing::Exposition;
using shoal::testing::ParseExposition;

constexpr int64_t kMs = 1'000'000;

std::string Text(const WorkerStatsCollector& collector) {
  return prometheus::TextSerializer().Serialize(collector.Collect());
}

// A histogram's expected bucket counts: for each (label value, le), the count.
struct BucketCount {
  const char* label_value;
  const char* le;
  double count;
};

// Every bucket line of histogram `family` whose `label` has the given value holds the count.
void ExpectBuckets(const Exposition& e, const std::string& family, const std::string& label,
                   std::initializer_list<BucketCount> expected) {
  for (const BucketCount& b : expected) {
    EXPECT_EQ(e.Value(family + "_bucket", {{label, b.label_value}, {"le", b.le}}), b.count)
        << family << "{" << label << "=" << b.label_value << ", le=" << b.le << "}";
  }
}

class WorkerStatsCollectorTest : public ::testing::Test {
 protected:
  WorkerStatsCollectorTest()
      : w0_(0, {"echo", "web"}), w1_(1, {"echo", "web"}), collector_({&w0_, &w1_}) {}

  Exposition Scrape() const {
    Exposition exposition = ParseExposition(Text(collector_));
    EXPECT_TRUE(exposition.errors.empty()) << exposition.errors.front();
    return exposition;
  }

  core::WorkerStats w0_;
  core::WorkerStats w1_;
  WorkerStatsCollector collector_;
};

TEST_F(WorkerStatsCollectorTest, FamiliesHaveContractNamesTypesAndHelp) {
  std::vector<prometheus::MetricFamily> families = collector_.Collect();
  std::vector<std::pair<std::string, prometheus::MetricType>> expected = {
      {"shoal_connections_accepted_total", prometheus::MetricType::Counter},
      {"shoal_connections_active", prometheus::MetricType::Gauge},
      {"shoal_connections_closed_total", prometheus::MetricType::Counter},
      {"shoal_bytes_received_total", prometheus::MetricType::Counter},
      {"shoal_bytes_sent_total", prometheus::MetricType::Counter},
      {"shoal_requests_total", prometheus::MetricType::Counter},
      {"shoal_request_duration_seconds", prometheus::MetricType::Histogram},
      {"shoal_output_queue_bytes", prometheus::MetricType::Gauge},
      {"shoal_input_buffer_bytes", prometheus::MetricType::Gauge},
      {"shoal_overload_actions_total", prometheus::MetricType::Counter},
      {"shoal_backpressure_pauses_total", prometheus::MetricType::Counter},
      {"shoal_timers_active", prometheus::MetricType::Gauge},
      {"shoal_event_loop_duration_seconds", prometheus::MetricType::Histogram},
      {"shoal_accept_errors_total", prometheus::MetricType::Counter},
      {"shoal_worker_connections_imbalance", prometheus::MetricType::Gauge},
  };
  ASSERT_EQ(families.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(families[i].name, expected[i].first);
    EXPECT_EQ(families[i].type, expected[i].second) << families[i].name;
    EXPECT_FALSE(families[i].help.empty()) << families[i].name;
    EXPECT_EQ(families[i].help.find_first_of("\\\n"), std::string::npos) << families[i].name;
  }
}

TEST_F(WorkerStatsCollectorTest, ImbalanceIsMostOverFewestActiveCountingFewestAsAtLeastOne) {
  w0_.listeners[0]->active.Add(6);
  w1_.listeners[0]->active.Add(2);
  w0_.listeners[1]->active.Add(5);
  Exposition e = Scrape();
  EXPECT_EQ(e.Value("shoal_worker_connections_imbalance", {{"listener", "echo"}}), 3.0);
  EXPECT_EQ(e.Value("shoal_worker_connections_imbalance", {{"listener", "web"}}), 5.0);
  w1_.listeners[0]->active.Add(4);
  EXPECT_EQ(Scrape().Value("shoal_worker_connections_imbalance", {{"listener", "echo"}}), 1.0);
}

TEST_F(WorkerStatsCollectorTest, AllZeroSeriesArePresentBeforeAnyEvent) {
  Exposition e = Scrape();
  for (const char* worker : {"0", "1"}) {
    for (const char* listener : {"echo", "web"}) {
      std::map<std::string, std::string> labels = {{"worker", worker}, {"listener", listener}};
      EXPECT_EQ(e.Value("shoal_connections_accepted_total", labels), 0.0);
      EXPECT_EQ(e.Value("shoal_connections_active", labels), 0.0);
      EXPECT_EQ(e.Value("shoal_bytes_received_total", labels), 0.0);
      EXPECT_EQ(e.Value("shoal_bytes_sent_total", labels), 0.0);
      EXPECT_EQ(e.Value("shoal_requests_total", labels), 0.0);
      // Every close reason, every accept errno label: 9 and 7 series.
      EXPECT_EQ(e.Find("shoal_connections_closed_total", labels).size(), core::kCloseReasonCount);
      EXPECT_EQ(e.Find("shoal_accept_errors_total", labels).size(), 7u);
      for (size_t r = 0; r < core::kCloseReasonCount; ++r) {
        auto with_reason = labels;
        with_reason["reason"] =
            std::string(core::CloseReasonName(static_cast<core::CloseReason>(r)));
        EXPECT_EQ(e.Value("shoal_connections_closed_total", with_reason), 0.0)
            << with_reason["reason"];
      }
      for (const char* err :
           {"EMFILE", "ENFILE", "ENOBUFS", "ENOMEM", "EPERM", "ECONNABORTED", "other"}) {
        auto with_errno = labels;
        with_errno["errno"] = err;
        EXPECT_EQ(e.Value("shoal_accept_errors_total", with_errno), 0.0) << err;
      }
    }
    EXPECT_EQ(e.Value("shoal_output_queue_bytes", {{"worker", worker}}), 0.0);
    EXPECT_EQ(e.Value("shoal_input_buffer_bytes", {{"worker", worker}}), 0.0);
    EXPECT_EQ(e.Find("shoal_overload_actions_total", {{"worker", worker}}).size(),
              core::kOverloadActionCount);
    EXPECT_EQ(e.Sum("shoal_overload_actions_total", {{"worker", worker}}), 0.0);
    EXPECT_EQ(e.Value("shoal_backpressure_pauses_total", {{"worker", worker}}), 0.0);
    EXPECT_EQ(e.Value("shoal_timers_active", {{"worker", worker}}), 0.0);
    EXPECT_EQ(e.Value("shoal_event_loop_duration_seconds_count", {{"worker", worker}}), 0.0);
    EXPECT_EQ(e.Value("shoal_event_loop_duration_seconds_bucket",
                      {{"worker", worker}, {"le", "+Inf"}}),
              0.0);
  }
  EXPECT_EQ(e.Value("shoal_request_duration_seconds_count", {{"listener", "echo"}}), 0.0);
  EXPECT_EQ(e.Value("shoal_request_duration_seconds_count", {{"listener", "web"}}), 0.0);
  // Only the per-listener sum: no worker label on the request duration.
  EXPECT_TRUE(e.Find("shoal_request_duration_seconds_count", {{"worker", "0"}}).empty());
}

TEST_F(WorkerStatsCollectorTest, CountersAndGaugesAfterKnownEvents) {
  core::ListenerStats& echo0 = *w0_.listeners[0];
  core::ListenerStats& web1 = *w1_.listeners[1];
  // Worker 0, echo: 5 accepted, 2 closed by the peer, 1 idle timeout, 1 frame too large.
  echo0.accepted.Add(5);
  echo0.active.Add(5);
  echo0.CountClose(core::CloseReason::kPeerClosed);
  echo0.CountClose(core::CloseReason::kPeerClosed);
  echo0.CountClose(core::CloseReason::kIdleTimeout);
  echo0.CountClose(core::CloseReason::kFrameTooLarge);
  echo0.active.Add(-4);
  echo0.bytes_received.Add(1234);
  echo0.bytes_sent.Add(1200);
  echo0.requests.Add(17);
  echo0.CountAcceptError(EMFILE);
  echo0.CountAcceptError(EMFILE);
  echo0.CountAcceptError(ECONNABORTED);
  echo0.CountAcceptError(EINVAL);  // not distinguished: "other"
  // Worker 1, web: 3 accepted, 3 open.
  web1.accepted.Add(3);
  web1.active.Add(3);
  web1.bytes_received.Add(99);
  web1.requests.Add(2);
  web1.CountClose(core::CloseReason::kOverload);
  w1_.output_queue_bytes.Set(65536);
  w1_.backpressure_pauses.Add(7);
  w1_.timers_active.Set(42);

  Exposition e = Scrape();
  std::map<std::string, std::string> e0 = {{"worker", "0"}, {"listener", "echo"}};
  std::map<std::string, std::string> w1 = {{"worker", "1"}, {"listener", "web"}};
  EXPECT_EQ(e.Value("shoal_connections_accepted_total", e0), 5.0);
  EXPECT_EQ(e.Value("shoal_connections_active", e0), 1.0);
  EXPECT_EQ(e.Value("shoal_bytes_received_total", e0), 1234.0);
  EXPECT_EQ(e.Value("shoal_bytes_sent_total", e0), 1200.0);
  EXPECT_EQ(e.Value("shoal_requests_total", e0), 17.0);
  auto closed = [&](std::map<std::string, std::string> labels, const char* reason) {
    labels["reason"] = reason;
    return e.Value("shoal_connections_closed_total", labels);
  };
  EXPECT_EQ(closed(e0, "peer_closed"), 2.0);
  EXPECT_EQ(closed(e0, "idle_timeout"), 1.0);
  EXPECT_EQ(closed(e0, "frame_too_large"), 1.0);
  EXPECT_EQ(closed(e0, "shutdown"), 0.0);
  EXPECT_EQ(e.Sum("shoal_connections_closed_total", e0), 4.0);
  auto accept_errors = [&](std::map<std::string, std::string> labels, const char* err) {
    labels["errno"] = err;
    return e.Value("shoal_accept_errors_total", labels);
  };
  EXPECT_EQ(accept_errors(e0, "EMFILE"), 2.0);
  EXPECT_EQ(accept_errors(e0, "ECONNABORTED"), 1.0);
  EXPECT_EQ(accept_errors(e0, "other"), 1.0);
  EXPECT_EQ(accept_errors(e0, "ENFILE"), 0.0);

  EXPECT_EQ(e.Value("shoal_connections_accepted_total", w1), 3.0);
  EXPECT_EQ(e.Value("shoal_connections_active", w1), 3.0);
  EXPECT_EQ(e.Value("shoal_bytes_received_total", w1), 99.0);
  EXPECT_EQ(e.Value("shoal_requests_total", w1), 2.0);
  EXPECT_EQ(closed(w1, "overload"), 1.0);
  // The other (worker, listener) pairs saw nothing.
  EXPECT_EQ(e.Value("shoal_connections_accepted_total", {{"worker", "1"}, {"listener", "echo"}}),
            0.0);
  EXPECT_EQ(e.Value("shoal_requests_total", {{"worker", "0"}, {"listener", "web"}}), 0.0);

  EXPECT_EQ(e.Value("shoal_output_queue_bytes", {{"worker", "1"}}), 65536.0);
  EXPECT_EQ(e.Value("shoal_output_queue_bytes", {{"worker", "0"}}), 0.0);
  EXPECT_EQ(e.Value("shoal_backpressure_pauses_total", {{"worker", "1"}}), 7.0);
  EXPECT_EQ(e.Value("shoal_timers_active", {{"worker", "1"}}), 42.0);
}

TEST_F(WorkerStatsCollectorTest, LargeCountersKeepEveryDigit) {
  w0_.listeners[0]->bytes_sent.Add(1ull << 52);  // exact in a double
  w0_.listeners[0]->bytes_sent.Add(3);
  std::string text = Text(collector_);
  EXPECT_NE(text.find("shoal_bytes_sent_total{worker=\"0\",listener=\"echo\"} 4503599627370499\n"),
            std::string::npos)
      << text;
}

TEST_F(WorkerStatsCollectorTest, RequestDurationIsSummedPerListenerWithCumulativeBuckets) {
  // Bounds include 0.001 and 0.0025: a value exactly on a bound belongs to that bucket.
  w0_.listeners[0]->request_duration.ObserveNanos(1 * kMs);      // le 0.001
  w0_.listeners[0]->request_duration.ObserveNanos(1 * kMs + 1);  // le 0.0025
  w1_.listeners[0]->request_duration.ObserveNanos(1 * kMs, 3);   // le 0.001, three requests
  w1_.listeners[0]->request_duration.ObserveNanos(20'000 * kMs); // 20 s: +Inf only
  w1_.listeners[1]->request_duration.ObserveNanos(5);            // le 1e-05 on "web"

  Exposition e = Scrape();
  ExpectBuckets(e, "shoal_request_duration_seconds", "listener",
                {{"echo", "1e-05", 0},
                 {"echo", "0.0005", 0},
                 {"echo", "0.001", 4},
                 {"echo", "0.0025", 5},
                 {"echo", "0.005", 5},
                 {"echo", "10", 5},
                 {"echo", "+Inf", 6},
                 {"web", "1e-05", 1},
                 {"web", "+Inf", 1}});
  EXPECT_EQ(e.Value("shoal_request_duration_seconds_count", {{"listener", "echo"}}), 6.0);
  EXPECT_NEAR(*e.Value("shoal_request_duration_seconds_sum", {{"listener", "echo"}}),
              0.001 + 0.001000001 + 0.003 + 20.0, 1e-9);
  EXPECT_EQ(e.Value("shoal_request_duration_seconds_count", {{"listener", "web"}}), 1.0);

  // Every bound of core's buckets is a bucket line, counts never decrease, +Inf last.
  std::vector<double> bounds = core::LatencyBucketsSeconds();
  auto lines = e.Find("shoal_request_duration_seconds_bucket", {{"listener", "echo"}});
  ASSERT_EQ(lines.size(), bounds.size() + 1);
  double previous = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& le = lines[i]->labels.at("le");
    if (i < bounds.size()) {
      EXPECT_DOUBLE_EQ(std::stod(le), bounds[i]);
    } else {
      EXPECT_EQ(le, "+Inf");
    }
    EXPECT_GE(lines[i]->value, previous);
    previous = lines[i]->value;
  }
}

TEST_F(WorkerStatsCollectorTest, EventLoopDurationIsPerWorker) {
  w0_.loop_turn.ObserveNanos(10'000);  // exactly 1e-05
  w0_.loop_turn.ObserveNanos(10'001);  // le 2.5e-05
  w1_.loop_turn.ObserveNanos(300 * kMs, 2);
  Exposition e = Scrape();
  ExpectBuckets(e, "shoal_event_loop_duration_seconds", "worker",
                {{"0", "1e-05", 1}, {"0", "2.5e-05", 2}, {"0", "+Inf", 2}, {"1", "0.25", 0},
                 {"1", "0.5", 2}});
  EXPECT_EQ(e.Value("shoal_event_loop_duration_seconds_count", {{"worker", "1"}}), 2.0);
  EXPECT_NEAR(*e.Value("shoal_event_loop_duration_seconds_sum", {{"worker", "1"}}), 0.6, 1e-12);
}

TEST(WorkerStatsCollectorEscapingTest, ListenerLabelValuesAreEscaped) {
  // The config restricts listener names, but the collector must not depend on that.
  core::WorkerStats stats(3, {"we\"ird\\name\nx"});
  stats.listeners[0]->requests.Add(9);
  WorkerStatsCollector collector({&stats});
  std::string text = Text(collector);
  EXPECT_NE(text.find("shoal_requests_total{worker=\"3\",listener=\"we\\\"ird\\\\name\\nx\"} 9\n"),
            std::string::npos)
      << text;
  Exposition e = ParseExposition(text);
  EXPECT_TRUE(e.errors.empty());
  EXPECT_EQ(e.Value("shoal_requests_total", {{"worker", "3"}, {"listener", "we\"ird\\name\nx"}}),
            9.0);
}

TEST(AcceptErrnoLabelTest, NamesEverySlot) {
  EXPECT_EQ(AcceptErrnoLabel(0), "EMFILE");
  EXPECT_EQ(AcceptErrnoLabel(1), "ENFILE");
  EXPECT_EQ(AcceptErrnoLabel(2), "ENOBUFS");
  EXPECT_EQ(AcceptErrnoLabel(3), "ENOMEM");
  EXPECT_EQ(AcceptErrnoLabel(4), "EPERM");
  EXPECT_EQ(AcceptErrnoLabel(5), "ECONNABORTED");
  EXPECT_EQ(AcceptErrnoLabel(6), "other");
  // Each counted errno lands in the slot of its name.
  core::ListenerStats stats("l");
  for (int err : {ENOBUFS, ENOBUFS, EPERM}) stats.CountAcceptError(err);
  EXPECT_EQ(stats.accept_errors[2].value(), 2u);
  EXPECT_EQ(stats.accept_errors[4].value(), 1u);
}

TEST(MetricsTest, BuildInfoRegistryAndCollectablesInOrder) {
  core::WorkerStats stats(0, {"echo"});
  stats.listeners[0]->accepted.Add(2);
  Metrics metrics;
  AddBuildInfo(metrics.registry(), "1.2.3");
  metrics.Add(std::make_shared<WorkerStatsCollector>(std::vector<const core::WorkerStats*>{&stats}));
  std::vector<prometheus::MetricFamily> families = metrics.Collect();
  ASSERT_GE(families.size(), 2u);
  EXPECT_EQ(families[0].name, "shoal_build_info");
  EXPECT_EQ(families[1].name, "shoal_connections_accepted_total");
  std::string text = metrics.SerializeText();
  EXPECT_NE(text.find("# TYPE shoal_build_info gauge\nshoal_build_info{version=\"1.2.3\"} 1\n"),
            std::string::npos)
      << text;
  Exposition e = ParseExposition(text);
  EXPECT_TRUE(e.errors.empty());
  EXPECT_EQ(e.Value("shoal_connections_accepted_total", {{"worker", "0"}, {"listener", "echo"}}),
            2.0);
  EXPECT_EQ(kTextContentType, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace shoal::metrics
