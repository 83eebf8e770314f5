// Benchmark (manual, not in CI): what well-behaved clients see across upgrades. Reconnecting,
// verifying echo clients (open loop) run one window against a server left alone, then the same
// window while the server is upgraded (SIGUSR2) every UPGRADE_BENCH_INTERVAL_MS, then alone again
// (after an unreported warm-up window); prints requests,
// errors by kind, p99 and max latency of both. Fails on any client error.
//   bazel test //tests/e2e:upgrade_latency_bench --test_output=streamed
// Environment: UPGRADE_BENCH_SECONDS (10), UPGRADE_BENCH_CONNECTIONS (16),
// UPGRADE_BENCH_INTERVAL_US (2000, per connection), UPGRADE_BENCH_REQUESTS_PER_CONNECTION (50),
// UPGRADE_BENCH_INTERVAL_MS (500).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/support/reconnecting_echo_load.h"
#include "tests/support/upgradable_shoal.h"

namespace shoal::testing {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atoi(value) : fallback;
}

ReconnectingLoadCounts RunWindow(const UpgradableShoal& shoal, UpgradableShoal* upgrade_me,
                                 int* upgrades) {
  ReconnectingLoadOptions options;
  options.port = static_cast<uint16_t>(shoal.ports().listener);
  options.connections = EnvInt("UPGRADE_BENCH_CONNECTIONS", 16);
  options.interval = std::chrono::microseconds(EnvInt("UPGRADE_BENCH_INTERVAL_US", 2000));
  options.requests_per_connection = EnvInt("UPGRADE_BENCH_REQUESTS_PER_CONNECTION", 50);
  const auto window = seconds(EnvInt("UPGRADE_BENCH_SECONDS", 10));
  const auto every = milliseconds(EnvInt("UPGRADE_BENCH_INTERVAL_MS", 500));
  ReconnectingEchoLoad load(options);
  load.Start();
  const auto end = Clock::now() + window;
  while (Clock::now() < end) {
    std::this_thread::sleep_until(std::min(Clock::now() + every, end));  // pacing, not syncing
    if (upgrade_me != nullptr && Clock::now() < end && upgrade_me->Upgrade(seconds(20))) {
      ++*upgrades;
    }
  }
  return load.Stop();
}

void Print(const char* label, const ReconnectingLoadCounts& counts, int upgrades) {
  std::printf("%-16s upgrades=%-3d %s\n", label, upgrades, counts.Summary().c_str());
}

TEST(UpgradeLatencyBench, ClientsAcrossUpgradesVersusNone) {
  UpgradableShoal shoal("bench", EchoServerConfig(2));
  ASSERT_TRUE(shoal.started()) << shoal.Log();
  int upgrades = 0;
  (void)RunWindow(shoal, nullptr, &upgrades);  // warm-up: threads, caches, the first connections
  ReconnectingLoadCounts quiet = RunWindow(shoal, nullptr, &upgrades);
  Print("no upgrade", quiet, 0);
  ReconnectingLoadCounts upgraded = RunWindow(shoal, &shoal, &upgrades);
  Print("with upgrades", upgraded, upgrades);
  ReconnectingLoadCounts quiet_again = RunWindow(shoal, nullptr, &upgrades);
  Print("no upgrade", quiet_again, 0);
  EXPECT_EQ(quiet.errors() + quiet_again.errors(), 0u) << quiet.Summary();
  EXPECT_EQ(upgraded.errors(), 0u) << upgraded.Summary();
  EXPECT_GT(upgrades, 0);
  EXPECT_TRUE(shoal.Stop(seconds(30)));
}

}  // namespace
}  // namespace shoal::testing
