// The PROXY protocol against real senders and the real binary: HAProxy 2.6 in TCP mode with
// `send-proxy-v2` in front of an http listener with per-source limits (the limit applies to each
// client's own address, which shoal only learns from the header: every connection reaches it from
// HAProxy's 127.0.0.1), and curl --haproxy-protocol (v1) straight at a v1 listener.
#include <poll.h>
#include <sys/socket.h>

#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/exposition.h"
#include "tests/support/http_client.h"
#include "tests/support/http_wire.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

constexpr char kRequest[] = "GET /plaintext HTTP/1.1\r\nHost: proxied\r\n\r\n";

std::string ShoalConfig(std::string_view proxy_protocol, std::string_view extra) {
  return "workers: 1\nlisteners:\n  - name: web\n    address: 127.0.0.1:0\n    protocol: http\n"
         "    proxy_protocol: " +
         std::string(proxy_protocol) + "\n    trusted_proxies: [127.0.0.1/32]\n" +
         "admin:\n  address: 127.0.0.1:0\n" + std::string(extra);
}

// Sends one request on `fd` and reads its response; nullopt when the connection ends first.
std::optional<HttpResponse> RoundTrip(int fd, Deadline deadline) {
  if (!SendAll(fd, kRequest, deadline).ok()) return std::nullopt;
  std::string received;
  while (!deadline.expired()) {
    HttpResponse response;
    size_t consumed = 0;
    switch (ParseResponse(received, false, &response, &consumed)) {
      case ParseOutcome::kDone: return response;
      case ParseOutcome::kMalformed: return std::nullopt;
      case ParseOutcome::kNeedMore: break;
    }
    pollfd readable{fd, POLLIN, 0};
    if (poll(&readable, 1, deadline.remaining_ms()) <= 0) return std::nullopt;
    char buffer[4096];
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return std::nullopt;
    received.append(buffer, static_cast<size_t>(n));
  }
  return std::nullopt;
}

double ClosedTotal(int admin_port, const std::string& reason) {
  auto metrics = HttpGet(admin_port, "/metrics");
  EXPECT_TRUE(metrics.has_value());
  if (!metrics.has_value()) return -1;
  return ParseExposition(metrics->body).Sum("shoal_connections_closed_total", {{"reason", reason}});
}

struct Shoal {
  explicit Shoal(const std::string& config)
      : process({ShoalBinaryPath(), "--config=" + WriteTempFile("proxy_e2e.yaml", config)}) {
    ports = WaitForPorts(process);
  }
  Subprocess process;
  ShoalPorts ports;
};

TEST(ProxyProtocolE2e, HaproxySendProxyV2CarriesEachClientsAddressToThePerSourceLimit) {
  auto haproxy_path = FindOnPath("haproxy");
  ASSERT_TRUE(haproxy_path.has_value()) << "haproxy is installed by tools/install-deps.sh";
  Shoal shoal(ShoalConfig("v2", "limits:\n  max_connections_per_source: 1\n"));
  ASSERT_TRUE(shoal.ports.started()) << shoal.process.err();

  const int front = PickFreePort();
  ASSERT_GT(front, 0);
  const std::string haproxy_config =
      "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n"
      "frontend front\n  bind 127.0.0.1:" + std::to_string(front) +
      "\n  default_backend shoal\n"
      "backend shoal\n  server s 127.0.0.1:" + std::to_string(shoal.ports.listener) +
      " send-proxy-v2\n";
  Subprocess haproxy(
      {*haproxy_path, "-f", WriteTempFile("proxy_e2e_haproxy.cfg", haproxy_config), "-db"});
  ASSERT_TRUE(haproxy.started());
  const auto port = static_cast<uint16_t>(front);
  ASSERT_TRUE(WaitFor([&] { return Connect(port, milliseconds(200)).ok(); }, seconds(20)))
      << haproxy.err();

  // Two client hosts, one connection each, held open: each is its own source.
  auto first = ConnectFrom("127.0.0.2", port);
  auto second = ConnectFrom("127.0.0.3", port);
  ASSERT_TRUE(first.ok() && second.ok());
  auto first_reply = RoundTrip(first->get(), seconds(10));
  auto second_reply = RoundTrip(second->get(), seconds(10));
  ASSERT_TRUE(first_reply.has_value()) << shoal.process.err() << haproxy.err();
  ASSERT_TRUE(second_reply.has_value()) << shoal.process.err() << haproxy.err();
  EXPECT_EQ(first_reply->status, 200);
  EXPECT_EQ(second_reply->status, 200);

  // A second connection from the first host is over its limit, and only that one.
  auto again = ConnectFrom("127.0.0.2", port);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(RoundTrip(again->get(), seconds(10)).has_value());
  EXPECT_EQ(ClosedTotal(shoal.ports.admin, "source_limit"), 1);
  EXPECT_EQ(ClosedTotal(shoal.ports.admin, "proxy_protocol_error"), 0);
  auto still = RoundTrip(first->get(), seconds(10));
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->status, 200);
}

TEST(ProxyProtocolE2e, CurlHaproxyProtocolV1IsServedAndAPlainRequestRefused) {
  auto curl = FindOnPath("curl");
  ASSERT_TRUE(curl.has_value());
  Shoal shoal(ShoalConfig("v1", ""));
  ASSERT_TRUE(shoal.ports.started()) << shoal.process.err();
  const std::string url = "http://127.0.0.1:" + std::to_string(shoal.ports.listener) + "/plaintext";

  CommandResult proxied =
      RunCommand({*curl, "-sS", "--max-time", "10", "--haproxy-protocol", url}, seconds(20));
  EXPECT_EQ(proxied.exit_code, 0) << proxied.err;
  EXPECT_EQ(proxied.out, "Hello, World!");

  CommandResult plain = RunCommand({*curl, "-sS", "--max-time", "10", url}, seconds(20));
  EXPECT_NE(plain.exit_code, 0) << "a request without a header must not be served";
  EXPECT_EQ(ClosedTotal(shoal.ports.admin, "proxy_protocol_error"), 1);
}

}  // namespace
}  // namespace shoal::testing
