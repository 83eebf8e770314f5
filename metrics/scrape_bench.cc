// The cost of one /metrics scrape without the HTTP part: collecting N workers' stats into
// prometheus-cpp families, the process collector, and serializing everything as text.
//   bazel run -c opt //metrics:scrape_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "core/stats.h"
#include "metrics/metrics.h"
#include "metrics/process_collector.h"
#include "metrics/worker_stats_collector.h"

namespace shoal::metrics {
namespace {

struct Fixture {
  Fixture(int workers, int listeners) {
    std::vector<std::string> names;
    for (int l = 0; l < listeners; ++l) names.push_back("listener" + std::to_string(l));
    for (int w = 0; w < workers; ++w) {
      stats.push_back(std::make_unique<core::WorkerStats>(w, names));
      for (auto& listener : stats.back()->listeners) {
        listener->accepted.Add(1000);
        listener->requests.Add(123456789);
        for (int i = 0; i < 1000; ++i) listener->request_duration.ObserveNanos(i * 1000);
      }
      pointers.push_back(stats.back().get());
    }
  }
  std::vector<std::unique_ptr<core::WorkerStats>> stats;
  std::vector<const core::WorkerStats*> pointers;
};

void BM_CollectWorkerStats(benchmark::State& state) {
  Fixture fixture(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  WorkerStatsCollector collector(fixture.pointers);
  for (auto _ : state) benchmark::DoNotOptimize(collector.Collect());
}
BENCHMARK(BM_CollectWorkerStats)->ArgNames({"workers", "listeners"})->Args({1, 1})->Args({8, 1})
    ->Args({8, 3})->Args({32, 1});

void BM_ProcessCollector(benchmark::State& state) {
  ProcessCollector collector;
  for (auto _ : state) benchmark::DoNotOptimize(collector.Collect());
}
BENCHMARK(BM_ProcessCollector);

// What the /metrics handler does: every family, serialized. Reports the body size.
void BM_FullScrapeText(benchmark::State& state) {
  Fixture fixture(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  Metrics metrics;
  AddBuildInfo(metrics.registry(), "bench");
  metrics.Add(std::make_shared<WorkerStatsCollector>(fixture.pointers));
  metrics.Add(std::make_shared<ProcessCollector>());
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = metrics.SerializeText();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_FullScrapeText)->ArgNames({"workers", "listeners"})->Args({1, 1})->Args({8, 1})
    ->Args({8, 3})->Args({32, 1});

}  // namespace
}  // namespace shoal::metrics
