// Metrics: what /metrics serves. A prometheus-cpp Registry (for ordinary metric families such as
// shoal_build_info) plus Collectables that compute their families at scrape time (the per-worker
// stats, the process collector), serialized in the Prometheus text format 0.0.4.
//
// Threading: Add, Collect and SerializeText may be called from any thread; every Collectable added
// must itself be safe to Collect from any thread (the admin thread scrapes).
#ifndef SHOAL_METRICS_METRICS_H_
#define SHOAL_METRICS_METRICS_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace shoal::metrics {

// The Content-Type of the text exposition format 0.0.4.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // For families built with prometheus-cpp's builders (BuildGauge() etc.). Collected first.
  prometheus::Registry& registry() { return *registry_; }
  // Adds a Collectable; its families follow those of the collectables added before it.
  void Add(std::shared_ptr<const prometheus::Collectable> collectable);

  // Every family of the registry and of each collectable, in that order.
  std::vector<prometheus::MetricFamily> Collect() const;
  // Collect() in the text format 0.0.4.
  std::string SerializeText() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<const prometheus::Collectable>> collectables_;
};

// Adds the gauge shoal_build_info{version="<version>"} = 1 to `registry`.
void AddBuildInfo(prometheus::Registry& registry, std::string_view version);

}  // namespace shoal::metrics

#endif  // SHOAL_METRICS_METRICS_H_
