// AdminServer in process: its four endpoints over real loopback sockets through the project's
// HTTP implementation, /readyz flipping to 503 on SetDraining, /config following SetConfigYaml,
// and a scrape that sees the stats a worker wrote.
#include "core/stats.h"
#include "metrics/metrics.h"
#include "metrics/worker_stats_collector.h"
#include "server/admin.h"
#include "tests/support/default_options.h"
#include "tests/support/exposition.h"
#include "tests/support/http_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <memory>
#include <string>

namespace shoal::server {
namespace {

using shoal::testing::HttpGet;
using shoal::testing::HttpRequest;

AdminServer::Options DefaultAdminOptions() {
  AdminServer::Options options;
  options.tick_ns = shoal::testing::DefaultTickNs();
  options.settings = shoal::testing::DefaultConnectionSettings();
  return options;
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_ = std::make_shared<metrics::Metrics>();
    metrics::AddBuildInfo(metrics_->registry(), "9.9.9");
    metrics_->Add(std::make_shared<metrics::WorkerStatsCollector>(
        std::vector<const core::WorkerStats*>{&stats_}));
    AdminServer::Options options = DefaultAdminOptions();
    options.address = *core::SocketAddress::Parse("127.0.0.1:0");
    auto admin = AdminServer::Create(options, metrics_, "workers: 1\n");
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = std::move(*admin);
    ASSERT_TRUE(admin_->Start().ok());
    port_ = admin_->bound_address().port();
    ASSERT_GT(port_, 0);
  }

  core::WorkerStats stats_{0, {"echo"}};
  std::shared_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<AdminServer> admin_;
  int port_ = 0;
};

TEST_F(AdminServerTest, MetricsServesTheTextFormatWithItsContentType) {
  stats_.listeners[0]->requests.Add(12);
  auto response = HttpGet(port_, "/metrics");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type").value_or(""),
            "text/plain; version=0.0.4; charset=utf-8");
  auto e = shoal::testing::ParseExposition(response->body);
  EXPECT_TRUE(e.errors.empty());
  EXPECT_EQ(e.Value("shoal_build_info", {{"version", "9.9.9"}}), 1.0);
  EXPECT_EQ(e.Value("shoal_requests_total", {{"worker", "0"}, {"listener", "echo"}}), 12.0);
  // Each scrape reads the stats anew.
  stats_.listeners[0]->requests.Add(1);
  response = HttpGet(port_, "/metrics");
  ASSERT_TRUE(response.has_value());
  e = shoal::testing::ParseExposition(response->body);
  EXPECT_EQ(e.Value("shoal_requests_total", {{"worker", "0"}, {"listener", "echo"}}), 13.0);
}

TEST_F(AdminServerTest, HealthzAndReadyzUntilDraining) {
  auto healthz = HttpGet(port_, "/healthz");
  ASSERT_TRUE(healthz.has_value());
  EXPECT_EQ(healthz->status, 200);
  auto readyz = HttpGet(port_, "/readyz");
  ASSERT_TRUE(readyz.has_value());
  EXPECT_EQ(readyz->status, 200);
  EXPECT_FALSE(admin_->draining());

  admin_->SetDraining();
  readyz = HttpGet(port_, "/readyz");
  ASSERT_TRUE(readyz.has_value());
  EXPECT_EQ(readyz->status, 503);
  EXPECT_EQ(readyz->body, "draining\n");
  healthz = HttpGet(port_, "/healthz");
  ASSERT_TRUE(healthz.has_value());
  EXPECT_EQ(healthz->status, 200);
  auto metrics = HttpGet(port_, "/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_EQ(metrics->status, 200);
}

TEST_F(AdminServerTest, ConfigServesTheLatestYaml) {
  auto config = HttpGet(port_, "/config");
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->status, 200);
  EXPECT_EQ(config->Header("content-type").value_or(""), "application/yaml");
  EXPECT_EQ(config->body, "workers: 1\n");
  admin_->SetConfigYaml("workers: 4\n");
  config = HttpGet(port_, "/config");
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->body, "workers: 4\n");
}

TEST_F(AdminServerTest, QueryStringsHeadOtherMethodsAndUnknownPaths) {
  auto with_query = HttpGet(port_, "/healthz?verbose=1");
  ASSERT_TRUE(with_query.has_value());
  EXPECT_EQ(with_query->status, 200);
  auto head = HttpRequest(port_, "HEAD", "/metrics");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_GT(std::stoul(head->Header("content-length").value_or("")), 0u);
  auto post = HttpRequest(port_, "POST", "/metrics");
  ASSERT_TRUE(post.has_value());
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->Header("allow").value_or(""), "GET, HEAD");
  auto missing = HttpGet(port_, "/nope");
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, 404);
}

TEST_F(AdminServerTest, SecondServerOnTheSameAddressFailsToBind) {
  AdminServer::Options options = DefaultAdminOptions();
  options.address = admin_->bound_address();
  auto second = AdminServer::Create(options, metrics_, "");
  EXPECT_FALSE(second.ok());
}

TEST_F(AdminServerTest, StopIsIdempotentAndClosesTheListener) {
  admin_->Stop();
  admin_->Stop();
  EXPECT_FALSE(HttpGet(port_, "/healthz", std::chrono::milliseconds(2000)).has_value());
}

}  // namespace
}  // namespace shoal::server
