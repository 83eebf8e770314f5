// CallbackMetric: one unlabelled counter or gauge whose value a callback computes at scrape time,
// for process-wide figures that live outside the workers' stats (log lines dropped, generation).
//
// Threading: the callback runs on the scraping thread and must be safe to call from any thread.
#ifndef SHOAL_METRICS_CALLBACK_METRIC_H_
#define SHOAL_METRICS_CALLBACK_METRIC_H_

#include <functional>
#include <string>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace shoal::metrics {

class CallbackMetric final : public prometheus::Collectable {
 public:
  enum class Kind { kCounter, kGauge };
  CallbackMetric(Kind kind, std::string name, std::string help, std::function<double()> value);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Kind kind_;
  std::string name_;
  std::string help_;
  std::function<double()> value_;
};

}  // namespace shoal::metrics

#endif  // SHOAL_METRICS_CALLBACK_METRIC_H_
