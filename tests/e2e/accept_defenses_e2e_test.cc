// Accept-side defenses over the real binary: a second shoal on a port another process serves exits
// 2 with a one-line message naming the address (unless listeners[].reuseport_join), and the admin
// endpoint keeps answering /healthz while 10,000 idle admin connections are attempted.
#include <signal.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/client_socket.h"
#include "tests/support/http_client.h"
#include "tests/support/process_resources.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

std::string EchoOnPort(int port, bool join) {
  return "workers: 2\n"
         "listeners:\n"
         "  - name: echo\n"
         "    address: 127.0.0.1:" +
         std::to_string(port) +
         "\n"
         "    protocol: echo\n" +
         (join ? "    reuseport_join: true\n" : "") +
         "admin:\n"
         "  address: 127.0.0.1:0\n";
}

void StopCleanly(Subprocess& shoal) {
  shoal.Signal(SIGTERM);
  EXPECT_EQ(shoal.Wait(seconds(20)), std::optional<int>(0)) << shoal.err();
}

TEST(SecondInstance, RefusedWithExit2NamingTheAddressUnlessReuseportJoin) {
  const int port = PickFreePort();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  Subprocess first({ShoalBinaryPath(), "--config=" + WriteTempFile("first.yaml",
                                                                    EchoOnPort(port, false))});
  ASSERT_EQ(WaitForPorts(first).listener, port) << first.err();

  Subprocess second({ShoalBinaryPath(), "--config=" + WriteTempFile("second.yaml",
                                                                     EchoOnPort(port, false))});
  EXPECT_EQ(second.Wait(seconds(20)), std::optional<int>(2)) << second.err();
  EXPECT_NE(second.err().find(address + " is already served by another process"),
            std::string::npos)
      << second.err();
  EXPECT_NE(second.err().find("reuseport_join"), std::string::npos) << second.err();

  Subprocess joined({ShoalBinaryPath(), "--config=" + WriteTempFile("joined.yaml",
                                                                     EchoOnPort(port, true))});
  EXPECT_EQ(WaitForPorts(joined).listener, port) << joined.err();
  StopCleanly(joined);
  StopCleanly(first);
}

TEST(AdminFlood, HealthzAnswersWhileTenThousandIdleAdminConnectionsAreAttempted) {
  RaiseFdLimitToHard();
  Subprocess shoal({ShoalBinaryPath(), "--config=" + WriteTempFile("admin.yaml",
                                                                    EchoServerConfig(1))});
  const ShoalPorts ports = WaitForPorts(shoal);
  ASSERT_GT(ports.admin, 0) << shoal.err();
  const uint16_t admin = static_cast<uint16_t>(ports.admin);

  // 100 waves of 100 connections that send nothing; at most 4 waves open at once (the oldest is
  // closed), a /healthz probe after every fifth wave.
  constexpr int kWaves = 100;
  constexpr size_t kWave = 100;
  constexpr auto kProbeBound = std::chrono::seconds(2);
  std::deque<std::vector<core::ScopedFd>> open;
  size_t attempted = 0;
  int probes = 0;
  double worst_ms = 0;
  for (int wave = 1; wave <= kWaves; ++wave) {
    auto fds = ConnectMany(admin, kWave, seconds(20));
    ASSERT_TRUE(fds.ok()) << "wave " << wave << ": " << fds.status();
    attempted += kWave;
    open.push_back(std::move(*fds));
    if (open.size() > 4) open.pop_front();
    if (wave % 5 != 0) continue;
    const auto start = Clock::now();
    auto health = HttpGet(ports.admin, "/healthz", Deadline::In(kProbeBound));
    const double ms = MillisBetween(start, Clock::now());
    worst_ms = std::max(worst_ms, ms);
    ++probes;
    ASSERT_TRUE(health.has_value()) << "probe " << probes << " after " << attempted
                                    << " idle connections got no answer in " << ms << " ms";
    EXPECT_EQ(health->status, 200);
  }
  std::printf("FIGURES admin_flood: %zu idle admin connections attempted, %d /healthz probes, "
              "all 200, worst %.1f ms\n",
              attempted, probes, worst_ms);
  EXPECT_EQ(probes, 20);
  open.clear();
  StopCleanly(shoal);
}

}  // namespace
}  // namespace shoal::testing
