// The server's CPU per request: from /proc/PID/stat (the in-process test server is this process,
// so its CPU is ours) and from process_cpu_seconds_total served over HTTP by a one-shot server.
#include "tools/loadgen/server_cpu.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "tests/support/client_socket.h"
#include "tests/support/test_server.h"
#include "tests/tools/loadgen/loopback_listener.h"
#include "tools/loadgen/loadgen.h"

namespace shoal::loadgen {
namespace {

using testing::TestServer;

TEST(ServerCpuTest, ParsesProcessCpuSecondsFromAnExposition) {
  EXPECT_EQ(*ParseProcessCpuSeconds("# HELP process_cpu_seconds_total x\n"
                                    "# TYPE process_cpu_seconds_total counter\n"
                                    "process_cpu_seconds_total_other 9\n"
                                    "process_cpu_seconds_total 12.5\n"),
            12.5);
  EXPECT_EQ(*ParseProcessCpuSeconds("process_cpu_seconds_total{job=\"a\"} 3 1700000000\n"), 3);
  EXPECT_FALSE(ParseProcessCpuSeconds("process_open_fds 3\n").ok());
}

TEST(ServerCpuTest, ProcSamplerReadsThisProcess) {
  auto sampler = ProcCpuSampler(getpid());
  auto first = sampler();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GE(*first, 0);
  EXPECT_FALSE(ProcCpuSampler(-5)().ok());
}

TEST(ServerCpuTest, RunReportsTheServersCpuPerRequest) {
  auto server = TestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  Options options;
  options.targets = {(*server)->address_text()};
  options.connections = 4;
  options.pipeline = 8;
  options.duration_ns = 400'000'000;
  options.server_cpu = ProcCpuSampler(getpid());
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->server_cpu_seconds.has_value()) << result->server_cpu_error;
  // Client and server share this process: 400 ms of closed-loop load burns CPU in ticks of 10 ms.
  EXPECT_GT(*result->server_cpu_seconds, 0);
  EXPECT_LT(*result->server_cpu_seconds, 10);
  ASSERT_TRUE(result->server_cpu_us_per_request().has_value());
  EXPECT_GT(*result->server_cpu_us_per_request(), 0);
}

TEST(ServerCpuTest, MetricsSamplerScrapesAnHttpEndpoint) {
  auto listener = testing::ListenOnLoopback();
  ASSERT_TRUE(listener.ok());
  const std::string address = "127.0.0.1:" + std::to_string(listener->port);
  std::thread serve([fd = listener->fd.get()] {
    pollfd readable{fd, POLLIN, 0};  // the listener is non-blocking
    if (poll(&readable, 1, 10'000) != 1) return;
    core::ScopedFd client(accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (!client.valid()) return;
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = recv(client.get(), buffer, sizeof(buffer), 0);  // the sampler's own timeout
      if (n <= 0) return;
      request.append(buffer, static_cast<size_t>(n));
    }
    (void)testing::SendAll(client.get(),
                           "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                           "process_cpu_seconds_total 42.25\n",
                           testing::seconds(5));
  });
  auto value = MetricsCpuSampler("http://" + address + "/metrics")();
  serve.join();
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 42.25);
  EXPECT_FALSE(MetricsCpuSampler("ftp://x")().ok());
}

}  // namespace
}  // namespace shoal::loadgen
