// End-to-end metrics and admin endpoint: the real shoal binary (echo on 127.0.0.1:0, admin on
// 127.0.0.1:0), real echo traffic, then /metrics checked by promtool and against what the test
// sent; /readyz during a SIGTERM drain; /config across a SIGHUP; an admin address in use.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_wire.h"
#include "tests/support/exposition.h"
#include "tests/support/http_client.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

constexpr int kStartMs = 20000;

// One /metrics scrape, parsed; the raw text in `raw` when given.
Exposition Scrape(int admin_port, std::string* raw = nullptr) {
  auto response = HttpGet(admin_port, "/metrics");
  EXPECT_TRUE(response.has_value());
  if (!response) return {};
  EXPECT_EQ(response->status, 200);
  if (raw != nullptr) *raw = response->body;
  Exposition exposition = ParseExposition(response->body);
  EXPECT_TRUE(exposition.errors.empty()) << exposition.errors.front();
  return exposition;
}

int Status(int admin_port, const std::string& path) {
  auto response = HttpGet(admin_port, path, milliseconds(5000));
  return response ? response->status : -1;
}

std::string Payload(size_t size, int seed) {
  std::string payload(size, '\0');
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>((i * 31 + seed) & 0xff);
  return payload;
}

TEST(MetricsE2eTest, KnownEchoTrafficIsCountedExactlyAndPassesPromtool) {
  const std::string promtool = FindOnPath("promtool").value_or("");
  ASSERT_FALSE(promtool.empty())
      << "promtool not found in PATH: install Debian's 'prometheus' package "
         "(bash tools/install-deps.sh)";
  CommandResult version = RunCommand({ShoalBinaryPath(), "--version"}, seconds(60));
  ASSERT_EQ(version.exit_code, 0);
  ASSERT_EQ(version.out.rfind("shoal ", 0), 0u) << version.out;
  const std::string version_label = version.out.substr(6, version.out.find('\n') - 6);

  Subprocess server(
      {ShoalBinaryPath(), "--config=" + WriteTempFile("metrics.yaml", EchoServerConfig(2))});
  ShoalPorts ports = WaitForPorts(server, milliseconds(kStartMs));
  ASSERT_TRUE(ports.started());

  // 8 connections, 5 pipelined frames each (sizes 0 .. 70000), every echo checked byte for byte.
  constexpr int kConnections = 8;
  constexpr int kClosedByClient = 3;
  const std::vector<size_t> sizes = {0, 1, 100, 5000, 70000};
  std::vector<int> fds;
  uint64_t bytes = 0;
  uint64_t frames = 0;
  for (int c = 0; c < kConnections; ++c) {
    auto connected = Connect(static_cast<uint16_t>(ports.listener));
  int fd = connected.ok() ? connected->release() : -1;
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
    std::string out;
    for (size_t f = 0; f < sizes.size(); ++f) {
      out += EncodeFrame(Payload(sizes[f], c * 10 + static_cast<int>(f)));
    }
    ASSERT_TRUE(SendAll(fd, out, seconds(10)).ok());
    ASSERT_EQ(ReadUpTo(fd, out.size(), milliseconds(10000)), out) << "connection " << c;
    bytes += out.size();
    frames += sizes.size();
  }
  for (int c = 0; c < kClosedByClient; ++c) close(fds[static_cast<size_t>(c)]);

  // The server sees the closes and finishes recording durations asynchronously: poll.
  Exposition e;
  std::string text;
  bool settled = WaitFor(
      [&] {
        e = Scrape(ports.admin, &text);
        return e.Sum("shoal_connections_closed_total") == kClosedByClient &&
               e.Sum("shoal_connections_active") == kConnections - kClosedByClient &&
               e.Sum("shoal_request_duration_seconds_count") == static_cast<double>(frames);
      }, milliseconds(10000));
  ASSERT_TRUE(settled) << text;

  CommandResult check = RunCommand({promtool, "check", "metrics"}, seconds(60), text);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << "\n" << text;

  auto response = HttpGet(ports.admin, "/metrics");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->Header("content-type").value_or(""),
            "text/plain; version=0.0.4; charset=utf-8");

  EXPECT_EQ(e.Sum("shoal_connections_accepted_total"), kConnections);
  EXPECT_EQ(e.Sum("shoal_connections_closed_total", {{"reason", "peer_closed"}}),
            kClosedByClient);
  for (const char* worker : {"0", "1"}) {
    std::map<std::string, std::string> labels = {{"worker", worker}, {"listener", "echo"}};
    double accepted = *e.Value("shoal_connections_accepted_total", labels);
    double closed = e.Sum("shoal_connections_closed_total", labels);
    double active = *e.Value("shoal_connections_active", labels);
    EXPECT_EQ(accepted - closed, active) << "worker " << worker;
    EXPECT_EQ(e.Find("shoal_connections_closed_total", labels).size(), 14u);
    EXPECT_EQ(e.Find("shoal_accept_errors_total", labels).size(), 7u);
    EXPECT_EQ(e.Sum("shoal_accept_errors_total", labels), 0.0);
    EXPECT_TRUE(
        e.Value("shoal_event_loop_duration_seconds_count", {{"worker", worker}}).has_value());
    EXPECT_TRUE(e.Value("shoal_output_queue_bytes", {{"worker", worker}}).has_value());
    EXPECT_TRUE(e.Value("shoal_input_buffer_bytes", {{"worker", worker}}).has_value());
    EXPECT_EQ(e.Find("shoal_overload_actions_total", {{"worker", worker}}).size(), 5u);
    EXPECT_TRUE(e.Value("shoal_backpressure_pauses_total", {{"worker", worker}}).has_value());
    EXPECT_TRUE(e.Value("shoal_timers_active", {{"worker", worker}}).has_value());
  }
  // (A worker that got none of the connections may not have turned its loop at all.)
  EXPECT_GT(e.Sum("shoal_event_loop_duration_seconds_count"), 0.0);
  EXPECT_EQ(e.Sum("shoal_bytes_received_total"), static_cast<double>(bytes));
  EXPECT_EQ(e.Sum("shoal_bytes_sent_total"), static_cast<double>(bytes));
  EXPECT_EQ(e.Sum("shoal_requests_total"), static_cast<double>(frames));
  EXPECT_EQ(e.Value("shoal_request_duration_seconds_bucket", {{"listener", "echo"}, {"le", "+Inf"}}),
            static_cast<double>(frames));
  EXPECT_EQ(e.Value("shoal_build_info", {{"version", version_label}}), 1.0);

  EXPECT_GE(*e.Value("process_open_fds"), kConnections - kClosedByClient);
  EXPECT_GT(*e.Value("process_max_fds"), 0.0);
  EXPECT_GT(*e.Value("process_resident_memory_bytes"), 0.0);
  EXPECT_GT(*e.Value("process_virtual_memory_bytes"), 0.0);
  EXPECT_GE(*e.Value("process_cpu_seconds_total"), 0.0);
  double now = static_cast<double>(time(nullptr));
  EXPECT_LE(*e.Value("process_start_time_seconds"), now + 1);
  EXPECT_GT(*e.Value("process_start_time_seconds"), now - 600);

  EXPECT_EQ(Status(ports.admin, "/healthz"), 200);
  EXPECT_EQ(Status(ports.admin, "/readyz"), 200);

  for (int c = kClosedByClient; c < kConnections; ++c) close(fds[static_cast<size_t>(c)]);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(milliseconds(15000)), 0) << server.err();
}

TEST(MetricsE2eTest, ReadyzIs503DuringDrainWhileAnInFlightFrameCompletes) {
  const std::string config =
      WriteTempFile("drain.yaml", EchoServerConfig(2, "timeouts:\n  read: 30s\n  drain: 30s\n"));
  Subprocess server({ShoalBinaryPath(), "--config=" + config});
  ShoalPorts ports = WaitForPorts(server, milliseconds(kStartMs));
  ASSERT_TRUE(ports.started());
  ASSERT_EQ(Status(ports.admin, "/readyz"), 200);

  // Hold a frame mid-way: its header and 3 of its 10 payload bytes.
  const std::string frame = EncodeFrame("0123456789");
  auto connected = Connect(static_cast<uint16_t>(ports.listener));
  int fd = connected.ok() ? connected->release() : -1;
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, frame.substr(0, 7), seconds(10)).ok());
  // The server must have read them (a connection with nothing read yet is idle and would be
  // closed by the drain at once).
  ASSERT_TRUE(WaitFor(
      [&] { return Scrape(ports.admin).Sum("shoal_bytes_received_total") == 7; },
      milliseconds(10000)));

  server.Signal(SIGTERM);
  ASSERT_TRUE(WaitFor([&] { return Status(ports.admin, "/readyz") == 503; }, milliseconds(10000)))
      << server.err();
  EXPECT_EQ(Status(ports.admin, "/healthz"), 200);
  Exposition during = Scrape(ports.admin);
  EXPECT_EQ(during.Sum("shoal_connections_active"), 1.0);
  EXPECT_EQ(during.Sum("shoal_requests_total"), 0.0);

  // The rest of the frame: its echo still comes back whole.
  ASSERT_TRUE(SendAll(fd, frame.substr(7), seconds(10)).ok());
  EXPECT_EQ(ReadUpTo(fd, frame.size(), milliseconds(10000)), frame);
  // Then the drained server closes the connection and exits 0.
  EXPECT_EQ(ReadUpTo(fd, 1, milliseconds(10000)), "");
  close(fd);
  EXPECT_EQ(server.Wait(milliseconds(15000)), 0) << server.err();
  EXPECT_EQ(Status(ports.admin, "/healthz"), -1);  // the admin endpoint is gone too
}

TEST(MetricsE2eTest, ConfigEndpointFollowsSighupReload) {
  const std::string path =
      WriteTempFile("reload.yaml", EchoServerConfig(2, "timeouts:\n  idle: 45s\n"));
  Subprocess server({ShoalBinaryPath(), "--config=" + path});
  ShoalPorts ports = WaitForPorts(server, milliseconds(kStartMs));
  ASSERT_GT(ports.admin, 0);
  auto config = HttpGet(ports.admin, "/config");
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->status, 200);
  EXPECT_NE(config->body.find("idle: 45s"), std::string::npos) << config->body;
  EXPECT_NE(config->body.find("address: \"127.0.0.1:0\""), std::string::npos) << config->body;

  WriteTempFile("reload.yaml", EchoServerConfig(2, "timeouts:\n  idle: 7s\n"));
  server.Signal(SIGHUP);
  std::string body;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto now = HttpGet(ports.admin, "/config");
        body = now ? now->body : "";
        return body.find("idle: 7s") != std::string::npos;
      }, milliseconds(10000)))
      << body;

  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(milliseconds(15000)), 0) << server.err();
}

TEST(MetricsE2eTest, AdminAddressInUseExitsTwoWithAReason) {
  auto blocker = OccupyLoopbackPort();
  ASSERT_TRUE(blocker.ok()) << blocker.status();
  const int port = blocker->port;

  Subprocess server({
      ShoalBinaryPath(), "--config=" + WriteTempFile("busy.yaml",
                                   "workers: 1\n"
                                   "listeners:\n"
                                   "  - name: echo\n"
                                   "    address: 127.0.0.1:0\n"
                                   "admin:\n"
                                   "  address: 127.0.0.1:" +
                                       std::to_string(port) + "\n")});
  EXPECT_EQ(server.Wait(milliseconds(15000)), 2) << server.err();
  EXPECT_NE(server.err().find("admin endpoint"), std::string::npos)
      << server.err();
}

}  // namespace
}  // namespace shoal::testing
