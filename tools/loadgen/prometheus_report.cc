#include "tools/loadgen/prometheus_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "tools/loadgen/report.h"

namespace shoal::loadgen {

namespace {

std::string LabelValue(std::string_view text) {
  return absl::StrReplaceAll(absl::string_view(text.data(), text.size()),
                             {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

class Exposition {
 public:
  explicit Exposition(std::string labels) : labels_(std::move(labels)) {}

  void Family(std::string_view name, std::string_view type, std::string_view help) {
    absl::StrAppend(&out_, "# HELP ", absl::string_view(name.data(), name.size()), " ",
                    absl::string_view(help.data(), help.size()), "\n# TYPE ",
                    absl::string_view(name.data(), name.size()), " ",
                    absl::string_view(type.data(), type.size()), "\n");
  }
  void Sample(std::string_view name, double value, const std::string& extra_labels = "") {
    std::string labels = labels_;
    if (!extra_labels.empty()) absl::StrAppend(&labels, labels.empty() ? "" : ",", extra_labels);
    absl::StrAppend(&out_, absl::string_view(name.data(), name.size()), "{", labels, "} ",
                    absl::StrFormat("%.9g", value), "\n");
  }
  void One(std::string_view name, std::string_view type, std::string_view help, double value) {
    Family(name, type, help);
    Sample(name, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string labels_;
  std::string out_;
};

}  // namespace

std::string FormatPrometheus(const Result& r, const PrometheusExtras& extras) {
  Exposition e(absl::StrCat("protocol=\"", LabelValue(r.options.protocol), "\""));
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  e.One("loadgen_requests_scheduled_total", "counter", "Measured requests due.", d(r.scheduled()));
  e.One("loadgen_requests_sent_total", "counter", "Measured requests sent.", d(r.requests_sent));
  e.One("loadgen_requests_total", "counter", "Measured requests answered well.", d(r.requests));
  e.One("loadgen_requests_failed_total", "counter", "Measured requests answered with an error.",
        d(r.failed));
  e.One("loadgen_requests_lost_total", "counter",
        "Measured requests in flight when their connection failed.", d(r.lost));
  e.One("loadgen_requests_unsent_total", "counter", "Measured requests due but never sent.",
        d(r.unsent));
  e.One("loadgen_duration_seconds", "gauge", "The measurement window.", r.duration_s);
  e.One("loadgen_requests_per_second", "gauge", "Requests answered well per second.",
        r.requests_per_second());
  e.One("loadgen_connects_total", "counter", "Successful connects.", d(r.connects));
  e.One("loadgen_reconnects_total", "counter", "Connections closed by --reconnect_every.",
        d(r.reconnects));
  if (r.options.tls.enabled) {
    e.One("loadgen_tls_handshakes_total", "counter", "TLS handshakes completed.",
          d(r.tls.handshakes));
    e.One("loadgen_tls_handshakes_per_second", "gauge",
          "TLS handshakes completed per second of the window.", r.handshakes_per_second());
    e.Family("loadgen_tls_handshake_latency_seconds", "gauge",
             "TLS handshake latency at percentiles (quantile 1 is the maximum).");
    for (double q : {50.0, 99.0}) {
      e.Sample("loadgen_tls_handshake_latency_seconds",
               static_cast<double>(r.tls.latency.ValueAtPercentile(q)) / 1e9,
               absl::StrFormat("quantile=\"%g\"", q / 100));
    }
    e.Sample("loadgen_tls_handshake_latency_seconds", static_cast<double>(r.tls.latency.max()) / 1e9,
             "quantile=\"1\"");
  }
  e.Family("loadgen_errors_total", "counter", "Errors by kind.");
  r.errors.ForEachKind([&](std::string_view kind, uint64_t count) {
    e.Sample("loadgen_errors_total", d(count), absl::StrCat("kind=\"", std::string(kind), "\""));
  });
  e.Family("loadgen_latency_seconds", "gauge",
           "Corrected latency at percentiles (quantile 1 is the maximum).");
  for (double p : kReportPercentiles) {
    e.Sample("loadgen_latency_seconds", static_cast<double>(r.latency.ValueAtPercentile(p)) / 1e9,
             absl::StrFormat("quantile=\"%g\"", p / 100));
  }
  e.Sample("loadgen_latency_seconds", static_cast<double>(r.latency.max()) / 1e9, "quantile=\"1\"");
  if (auto cpu = r.server_cpu_us_per_request()) {
    e.One("loadgen_server_cpu_seconds", "gauge", "Server CPU time over the window.",
          *r.server_cpu_seconds);
    e.One("loadgen_server_cpu_microseconds_per_request", "gauge",
          "Server CPU microseconds per request answered well.", *cpu);
  }
  if (extras.max_rate) {
    e.Family("loadgen_max_rate", "gauge", "The highest rate (req/s) that met the SLO.");
    e.Sample("loadgen_max_rate", *extras.max_rate,
             absl::StrCat("slo=\"", LabelValue(extras.slo), "\""));
  }
  if (extras.assertions_passed) {
    e.One("loadgen_assertions_passed", "gauge", "1 when every --assert held.",
          *extras.assertions_passed ? 1 : 0);
  }
  return e.Take();
}

}  // namespace shoal::loadgen
