// Closing and deadlines against peers that would hold a worker, over real sockets and worker
// threads: a drain is not held by an idle pooled client that never closes (graceful close sends
// FIN and finishes at once when no input is likely), and a timeout near the int64 range means
// never without spinning the worker.
#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

using core::CloseReason;

// CPU time (user + system, in clock ticks) of this process's thread named `name`; -1 if none.
int64_t ThreadCpuTicks(const std::string& name) {
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return -1;
  int64_t ticks = -1;
  while (dirent* entry = readdir(tasks)) {
    std::string dir = std::string("/proc/self/task/") + entry->d_name;
    std::string comm;
    std::getline(std::ifstream(dir + "/comm"), comm);
    if (comm != name) continue;
    std::string stat;
    std::getline(std::ifstream(dir + "/stat"), stat);
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    for (int i = 3; i < 14; ++i) fields >> field;
    int64_t utime = 0, stime = 0;
    fields >> utime >> stime;
    ticks = utime + stime;
    break;
  }
  closedir(tasks);
  return ticks;
}

TEST(HostileCloseIntegration, ADrainIsNotHeldByAnIdleClientThatNeverCloses) {
  constexpr auto kDrainTimeout = std::chrono::seconds(10);
  TestServerOptions options;
  options.workers = 2;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  // Pooled clients: connected, idle, never closing on their own.
  ASSERT_OK_AND_ASSIGN(auto idle, ConnectMany(s.port(), 4, seconds(5)));
  ASSERT_TRUE(WaitFor([&] { return s.active() == 4; }, seconds(5))) << s.StatsSummary();

  std::atomic<bool> drained{false};
  const Clock::time_point drain_started = Clock::now();
  s.server().Drain(core::MonotonicNowNs() +
                       std::chrono::duration_cast<std::chrono::nanoseconds>(kDrainTimeout).count(),
                   [&drained] { drained.store(true); });
  ASSERT_TRUE(WaitFor([&] { return drained.load(); }, kDrainTimeout + seconds(5)))
      << s.StatsSummary();
  const double drain_ms = MillisBetween(drain_started, Clock::now());
  EXPECT_LT(drain_ms, 2000.0) << "the drain waited for idle clients";
  RecordProperty("drain_ms", std::to_string(drain_ms));

  for (const auto& fd : idle) {
    End end = ReadUntilEnd(fd.get(), seconds(5));
    EXPECT_EQ(end.kind, End::Kind::kEof) << end.ToString();
    EXPECT_EQ(end.data_bytes, 0u);
  }
  EXPECT_EQ(s.closed(CloseReason::kShutdown), 4u) << s.StatsSummary();
}

TEST(HostileCloseIntegration, ATimeoutNearTheInt64RangeNeverFiresAndTheWorkerStaysQuiet) {
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  TestServerOptions options;
  options.workers = 1;
  options.settings.idle_timeout_ns = kNever;
  options.settings.read_timeout_ns = kNever - 1;
  options.settings.write_timeout_ns = kNever;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  ASSERT_OK_AND_ASSIGN(auto fd, Connect(s.port()));
  {
    absl::Status echoed = PingPong(fd.get(), "armed", seconds(5));
    ASSERT_TRUE(echoed.ok()) << echoed;
  }
  const int64_t before = ThreadCpuTicks("shoal-w0");
  ASSERT_GE(before, 0) << "no worker thread named shoal-w0";
  // The measurement window: the worker has one idle connection and nothing to do.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int64_t used_ticks = ThreadCpuTicks("shoal-w0") - before;
  const int64_t ticks_per_second = sysconf(_SC_CLK_TCK);
  EXPECT_LT(used_ticks * 1000 / ticks_per_second, 100) << "ms of worker CPU in 1 s: it spins";
  RecordProperty("worker_cpu_ticks_in_1s", std::to_string(used_ticks));

  absl::Status echoed = PingPong(fd.get(), "still open", seconds(5));
  ASSERT_TRUE(echoed.ok()) << echoed << "; " << s.StatsSummary();
  ASSERT_TRUE(s.Barrier());
  EXPECT_EQ(s.closed_total(), 0u) << s.StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
