// Figures for BENCHMARKS.md "Connection balancing" (2 workers, echo, loopback, in one process):
//  1. per-worker spread (max - min, and max / min) at 8, 64 and 1000 connections opened at once
//     from one client thread, for each balance mode;
//  2. server CPU per connection under churn (connect, one echo round trip, close; 2 client
//     threads; 16 long-lived connections held meanwhile), least_connections against kernel,
//     alternating rounds. Server CPU is the time the worker threads (shoal-w*) ran, from
//     /proc/self/task/*/schedstat.
// Usage: bazel run -c opt //tests/integration:balance_bench -- [seconds per churn round, default 3]
#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/server.h"
#include "tests/integration/balance_spread.h"
#include "tests/support/client_socket.h"
#include "tests/support/echo_client.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

constexpr int kWorkers = 2;

const char* ModeName(core::Balance mode) {
  switch (mode) {
    case core::Balance::kKernel: return "kernel";
    case core::Balance::kCpu: return "cpu";
    case core::Balance::kLeastConnections: return "least_connections";
  }
  return "?";
}

std::unique_ptr<TestServer> StartServer(core::Balance mode) {
  TestServerOptions options;
  options.workers = kWorkers;
  options.balance = mode;
  auto server = TestServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "server: %s\n", std::string(server.status().message()).c_str());
    std::exit(1);
  }
  return std::move(*server);
}

int64_t WorkerCpuNs() {
  int64_t total = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string task = std::string("/proc/self/task/") + entry->d_name;
    std::string name;
    std::getline(std::ifstream(task + "/comm"), name);
    if (name.rfind("shoal-w", 0) != 0) continue;
    int64_t ns = 0;
    std::ifstream(task + "/schedstat") >> ns;
    total += ns;
  }
  closedir(dir);
  return total;
}

void PrintSpread() {
  std::printf("| connections | mode | trials | max-min mean | max-min worst | max/min mean | "
              "max/min worst |\n| --- | --- | --- | --- | --- | --- | --- |\n");
  for (size_t connections : {size_t{8}, size_t{64}, size_t{1000}}) {
    const int trials = connections == 1000 ? 20 : 200;
    for (core::Balance mode :
         {core::Balance::kKernel, core::Balance::kCpu, core::Balance::kLeastConnections}) {
      auto server = StartServer(mode);
      double difference_sum = 0, ratio_sum = 0, ratio_worst = 0;
      int64_t difference_worst = 0;
      for (int t = 0; t < trials; ++t) {
        auto spread = TrialSpread(*server, connections);
        if (!spread.ok()) {
          std::fprintf(stderr, "spread: %s\n", std::string(spread.status().message()).c_str());
          server.reset();
          std::exit(1);
        }
        difference_sum += static_cast<double>(spread->difference());
        difference_worst = std::max(difference_worst, spread->difference());
        ratio_sum += spread->ratio();
        ratio_worst = std::max(ratio_worst, spread->ratio());
      }
      std::printf("| %zu | %s | %d | %.2f | %lld | %.2f | %.2f |\n", connections, ModeName(mode),
                  trials, difference_sum / trials, static_cast<long long>(difference_worst),
                  ratio_sum / trials, ratio_worst);
    }
  }
}

struct ChurnRound {
  uint64_t connections = 0;
  int64_t server_cpu_ns = 0;
  double seconds = 0;
  double cpu_us_per_connection() const {
    return static_cast<double>(server_cpu_ns) / 1e3 / static_cast<double>(connections);
  }
};

ChurnRound Churn(core::Balance mode, double seconds_per_round) {
  auto server = StartServer(mode);
  auto held = ConnectMany(server->port(), 16, seconds(5));
  if (!held.ok() || !WaitFor([&] { return server->active() == 16; }, seconds(5))) std::exit(1);
  std::atomic<uint64_t> done{0};
  std::atomic<bool> failed{false};
  const int64_t cpu_before = WorkerCpuNs();
  const Clock::time_point start = Clock::now();
  const Clock::time_point stop =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(seconds_per_round));
  std::vector<std::thread> clients;
  for (int c = 0; c < 2; ++c) {
    clients.emplace_back([&] {
      while (Clock::now() < stop && !failed) {
        auto fd = Connect(server->port(), seconds(5));
        if (!fd.ok() || !PingPong(fd->get(), "churn", seconds(5)).ok()) {
          failed = true;
          return;
        }
        done.fetch_add(1);
      }
    });
  }
  for (auto& client : clients) client.join();
  const uint64_t total = done.load();
  if (failed || !WaitFor([&] { return server->closed_total() == total; }, seconds(10))) {
    std::fprintf(stderr, "churn failed: %s\n", server->StatsSummary().c_str());
    std::exit(1);
  }
  ChurnRound round;
  round.connections = total;
  round.server_cpu_ns = WorkerCpuNs() - cpu_before;
  round.seconds = MillisBetween(start, Clock::now()) / 1e3;
  return round;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void PrintChurn(double seconds_per_round) {
  constexpr int kRounds = 5;
  std::vector<double> kernel, least;
  std::printf("\n| round | mode | connections/s | server CPU us per connection |\n"
              "| --- | --- | --- | --- |\n");
  for (int r = 0; r < kRounds; ++r) {
    for (core::Balance mode : {core::Balance::kKernel, core::Balance::kLeastConnections}) {
      ChurnRound round = Churn(mode, seconds_per_round);
      std::printf("| %d | %s | %.0f | %.2f |\n", r + 1, ModeName(mode),
                  static_cast<double>(round.connections) / round.seconds,
                  round.cpu_us_per_connection());
      (mode == core::Balance::kKernel ? kernel : least).push_back(round.cpu_us_per_connection());
    }
  }
  std::printf("\nmedian server CPU per connection: kernel %.2f us, least_connections %.2f us, "
              "ratio %.3f\n",
              Median(kernel), Median(least), Median(least) / Median(kernel));
}

}  // namespace
}  // namespace shoal::testing

int main(int argc, char** argv) {
  const double seconds_per_round = argc > 1 ? std::atof(argv[1]) : 3.0;
  shoal::testing::PrintSpread();
  shoal::testing::PrintChurn(seconds_per_round);
  return 0;
}
