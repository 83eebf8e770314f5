#include "server/admin.h"

#include <utility>

#include "server/protocols/http/http_protocol.h"

namespace shoal::server {

AdminServer::AdminServer(std::shared_ptr<const metrics::Metrics> metrics, std::string config_yaml)
    : metrics_(std::move(metrics)), config_yaml_(std::move(config_yaml)) {}

AdminServer::~AdminServer() { Stop(); }

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Create(
    const Options& options, std::shared_ptr<const metrics::Metrics> metrics,
    std::string config_yaml) {
  std::unique_ptr<AdminServer> admin(new AdminServer(std::move(metrics), std::move(config_yaml)));
  core::ServerOptions server_options;
  server_options.workers = 1;
  server_options.tick_ns = options.tick_ns;
  server_options.max_connections = kMaxConnections;
  server_options.evict_oldest_at_limit = true;
  server_options.settings = options.settings;
  server_options.settings.idle_timeout_ns = kIdleTimeoutNs;
  server_options.settings.read_timeout_ns = kReadTimeoutNs;
  // A shared (not SO_REUSEPORT) socket: a second process on the same admin address must fail to
  // bind rather than split the scrapes with us.
  core::ServerListenerOptions listener{"admin", options.address, kBacklog, /*reuse_port=*/false,
                                      /*reuseport_join=*/false, {}};
  if (options.adopted_fd >= 0) listener.adopted_fds.push_back(options.adopted_fd);
  listener.tls = options.tls;
  server_options.listeners.push_back(std::move(listener));
  std::shared_ptr<const http::Router> router = admin->MakeRouter();
  auto server = core::Server::Create(
      server_options, [&router](size_t, int) -> std::unique_ptr<core::Protocol> {
        return std::make_unique<http::HttpProtocol>(http::Limits{}, router);
      });
  if (!server.ok()) return server.status();
  admin->server_ = std::move(*server);
  return admin;
}

int AdminServer::listening_fd() const { return server_->listening_fds()[0][0]; }

void AdminServer::ReleaseListener() {
  server_->ReleaseListeners([](size_t, int) { return true; });
}

std::shared_ptr<const http::Router> AdminServer::MakeRouter() {
  auto router = std::make_shared<http::Router>();
  router->Add(http::Method::kGet, "/metrics",
              [this](const http::Request&, http::Response& response) {
                response.storage = metrics_->SerializeText();
                response.content_type = metrics::kTextContentType;
                response.body = response.storage;
              });
  router->Add(http::Method::kGet, "/healthz", [](const http::Request&, http::Response& response) {
    response.body = "ok\n";
  });
  router->Add(http::Method::kGet, "/readyz",
              [this](const http::Request&, http::Response& response) {
                if (draining()) {
                  response.status = 503;
                  response.body = "draining\n";
                } else {
                  response.body = "ready\n";
                }
              });
  router->Add(http::Method::kGet, "/config",
              [this](const http::Request&, http::Response& response) {
                response.storage = config_yaml();
                response.content_type = "application/yaml";
                response.body = response.storage;
              });
  return router;
}

absl::Status AdminServer::Start() { return server_->Start(); }

void AdminServer::Stop() {
  if (server_) server_->Stop();
}

const core::SocketAddress& AdminServer::bound_address() const {
  return server_->bound_addresses().front();
}

void AdminServer::SetConfigYaml(std::string yaml) {
  std::lock_guard<std::mutex> lock(config_mutex_);
  config_yaml_ = std::move(yaml);
}

std::string AdminServer::config_yaml() const {
  std::lock_guard<std::mutex> lock(config_mutex_);
  return config_yaml_;
}

}  // namespace shoal::server
