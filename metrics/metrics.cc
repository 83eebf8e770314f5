#include "metrics/metrics.h"

#include "prometheus/gauge.h"
#include "prometheus/text_serializer.h"

namespace shoal::metrics {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}

void Metrics::Add(std::shared_ptr<const prometheus::Collectable> collectable) {
  std::lock_guard<std::mutex> lock(mutex_);
  collectables_.push_back(std::move(collectable));
}

std::vector<prometheus::MetricFamily> Metrics::Collect() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  std::vector<std::shared_ptr<const prometheus::Collectable>> collectables;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    collectables = collectables_;
  }
  for (const auto& collectable : collectables) {
    std::vector<prometheus::MetricFamily> more = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  return families;
}

std::string Metrics::SerializeText() const {
  return prometheus::TextSerializer().Serialize(Collect());
}

void AddBuildInfo(prometheus::Registry& registry, std::string_view version) {
  prometheus::BuildGauge()
      .Name("shoal_build_info")
      .Help("Build information of the running shoal binary; the value is always 1.")
      .Register(registry)
      .Add({{"version", std::string(version)}})
      .Set(1);
}

}  // namespace shoal::metrics
