#include "metrics/callback_metric.h"

#include <utility>

namespace shoal::metrics {

CallbackMetric::CallbackMetric(Kind kind, std::string name, std::string help,
                               std::function<double()> value)
    : kind_(kind), name_(std::move(name)), help_(std::move(help)), value_(std::move(value)) {}

std::vector<prometheus::MetricFamily> CallbackMetric::Collect() const {
  prometheus::MetricFamily family;
  family.name = name_;
  family.help = help_;
  prometheus::ClientMetric metric;
  if (kind_ == Kind::kCounter) {
    family.type = prometheus::MetricType::Counter;
    metric.counter.value = value_();
  } else {
    family.type = prometheus::MetricType::Gauge;
    metric.gauge.value = value_();
  }
  family.metric.push_back(std::move(metric));
  return {std::move(family)};
}

}  // namespace shoal::metrics
