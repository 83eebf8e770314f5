// End-to-end with a real Prometheus server: shoal (echo and admin on 127.0.0.1:0) after known echo
// traffic, Prometheus started on a free loopback port with a 1 s scrape interval against shoal's
// admin endpoint (job "shoal", storage in the test's temp dir); its HTTP API must report
// up{job="shoal"} == 1 and the exact request count within a bounded wait.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "tests/support/client_socket.h"
#include "tests/support/echo_wire.h"
#include "tests/support/http_client.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// The value of the first sample of an instant-vector answer of /api/v1/query, e.g.
// {"status":"success","data":{"resultType":"vector","result":[{"metric":{..},"value":[1.7e9,"1"]}]}}
std::optional<double> FirstSampleValue(const std::string& json) {
  if (json.find("\"status\":\"success\"") == std::string::npos) return std::nullopt;
  size_t value = json.find("\"value\":[");
  if (value == std::string::npos) return std::nullopt;
  size_t comma = json.find(',', value);
  if (comma == std::string::npos) return std::nullopt;
  size_t open = json.find('"', comma);
  size_t close = open == std::string::npos ? std::string::npos : json.find('"', open + 1);
  if (close == std::string::npos) return std::nullopt;
  return std::strtod(json.substr(open + 1, close - open - 1).c_str(), nullptr);
}

std::optional<double> Query(int prometheus_port, const std::string& promql, std::string* raw) {
  auto response =
      HttpGet(prometheus_port, "/api/v1/query?query=" + UrlEncode(promql), milliseconds(5000));
  if (!response || response->status != 200) return std::nullopt;
  *raw = response->body;
  return FirstSampleValue(response->body);
}

TEST(MetricsPrometheusE2eTest, RealPrometheusScrapesTheAdminEndpoint) {
  const std::string prometheus = FindOnPath("prometheus").value_or("");
  ASSERT_FALSE(prometheus.empty())
      << "prometheus not found in PATH: install Debian's 'prometheus' package "
         "(bash tools/install-deps.sh)";

  Subprocess shoal({ShoalBinaryPath(), "--config=" + WriteTempFile("shoal.yaml",
                                                                     "workers: 2\n"
                                                                     "listeners:\n"
                                                                     "  - name: echo\n"
                                                                     "    address: 127.0.0.1:0\n"
                                                                     "admin:\n"
                                                                     "  address: 127.0.0.1:0\n")});
  auto listening = shoal.WaitForStderrLine("listening:", milliseconds(20000));
  ASSERT_TRUE(listening.has_value()) << shoal.err();
  auto admin = shoal.WaitForStderrLine("admin: listening on", milliseconds(20000));
  ASSERT_TRUE(admin.has_value()) << shoal.err();
  const int echo_port = PortFromListeningLine(*listening);
  const int admin_port = PortFromListeningLine(*admin);

  // Known traffic before Prometheus first scrapes: 3 frames.
  auto connected = Connect(static_cast<uint16_t>(echo_port));
  int fd = connected.ok() ? connected->release() : -1;
  ASSERT_GE(fd, 0);
  const std::string frames = EncodeFrame("a") + EncodeFrame("") + EncodeFrame("xyz");
  ASSERT_TRUE(SendAll(fd, frames, seconds(10)).ok());
  ASSERT_EQ(ReadUpTo(fd, frames.size(), milliseconds(10000)), frames);

  const char* tmpdir = std::getenv("TEST_TMPDIR");
  const std::string data_dir = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/prometheus";
  const std::string config = WriteTempFile("prometheus.yml",
                                           "global:\n"
                                           "  scrape_interval: 1s\n"
                                           "  scrape_timeout: 1s\n"
                                           "  evaluation_interval: 1s\n"
                                           "scrape_configs:\n"
                                           "  - job_name: shoal\n"
                                           "    static_configs:\n"
                                           "      - targets: ['127.0.0.1:" +
                                               std::to_string(admin_port) + "']\n");
  const int prometheus_port = PickFreePort();
  ASSERT_GT(prometheus_port, 0);
  Subprocess server({prometheus, "--config.file=" + config, "--storage.tsdb.path=" + data_dir,
                       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port),
                       "--log.level=warn"});

  // Bounded wait: Prometheus starts, scrapes every second, and answers queries.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::optional<double> up;
  std::optional<double> requests;
  std::string raw_up;
  std::string raw_requests;
  while (std::chrono::steady_clock::now() < deadline) {
    up = Query(prometheus_port, "up{job=\"shoal\"}", &raw_up);
    requests = Query(prometheus_port, "sum(shoal_requests_total{job=\"shoal\"})", &raw_requests);
    if (up == 1.0 && requests.has_value() && *requests > 0) break;
    if (server.Wait(milliseconds(0)).has_value()) break;  // Prometheus died: stop waiting
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(up, 1.0) << raw_up << "\n" << server.err();
  ASSERT_TRUE(requests.has_value()) << raw_requests << "\n" << server.err();
  EXPECT_EQ(*requests, 3.0) << raw_requests;

  // A histogram family made it through too.
  std::string raw;
  EXPECT_EQ(Query(prometheus_port,
                  "sum(shoal_request_duration_seconds_count{job=\"shoal\",listener=\"echo\"})",
                  &raw),
            3.0)
      << raw;

  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(milliseconds(30000)), 0) << server.err();
  close(fd);
  shoal.Signal(SIGTERM);
  EXPECT_EQ(shoal.Wait(milliseconds(15000)), 0) << shoal.err();
}

}  // namespace
}  // namespace shoal::testing
