// AdminServer: the admin HTTP endpoint of docs/design.md, served by the project's one HTTP/1.1
// implementation (http::HttpProtocol with its own Router) on a separate single-worker core::Server,
// so it has its own thread and EventLoop and never runs on (or blocks) a serving worker:
//   GET /metrics  200, the Metrics in the text format 0.0.4 (Content-Type metrics::kTextContentType)
//   GET /healthz  200 "ok" while the process runs
//   GET /readyz   200 "ready" while serving, 503 "draining" once SetDraining() was called
//   GET /config   200, the effective config as YAML (application/yaml)
// Each also answers HEAD; other methods get 405, other paths 404.
//
// Admin clients cannot lock the endpoint out: it holds at most kMaxConnections connections,
// closes idle ones after kIdleTimeoutNs and slow requests after kReadTimeoutNs, and at the limit a new connection evicts
// the oldest one with nothing queued, so a liveness probe always gets in.
//
// The admin server is not drained with the main server: it keeps answering (with /readyz at 503)
// until Stop().
//
// Threading: Create, Start and Stop from the controlling thread. SetDraining and SetConfigYaml
// from any thread. The handlers run on the admin thread and only read atomics (the workers' stats,
// the draining flag) or take the config mutex.
#ifndef SHOAL_SERVER_ADMIN_H_
#define SHOAL_SERVER_ADMIN_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "core/server.h"
#include "core/socket.h"
#include "metrics/metrics.h"
#include "server/protocols/http/router.h"

namespace shoal::server {

class AdminServer {
 public:
  // The lock-out guards, fixed by design (not config keys).
  static constexpr int64_t kMaxConnections = 64;
  static constexpr int64_t kIdleTimeoutNs = 5'000'000'000;
  static constexpr int64_t kReadTimeoutNs = 2'000'000'000;
  static constexpr int kBacklog = 128;

  struct Options {
    core::SocketAddress address;  // port 0 = ephemeral (see bound_address())
    int64_t tick_ns{};            // must be set (the config's timeouts.tick)
    // The serving connections' settings (every field set); the admin endpoint replaces the idle
    // and read timeouts with its own.
    core::ConnectionSettings settings;
    // A listening socket to adopt instead of binding (core/inherited_socket.h); -1: bind.
    int adopted_fd = -1;
    // TLS on the admin endpoint; null = plaintext.
    std::shared_ptr<core::TlsContextHolder> tls = nullptr;
  };

  // Binds the admin listener (a bind failure is returned here). `metrics` is read at each scrape.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Create(
      const Options& options, std::shared_ptr<const metrics::Metrics> metrics,
      std::string config_yaml);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  absl::Status Start();
  // Closes the admin connections and joins the admin thread. Idempotent.
  void Stop();

  // The listening socket's descriptor (for handing it to a successor process), and giving it up
  // without accepting its queue once the successor holds it; open connections stay.
  int listening_fd() const;
  void ReleaseListener();

  // The bound address, with the real port when 0 was configured.
  const core::SocketAddress& bound_address() const;

  // /readyz answers 503 from now on.
  void SetDraining() { draining_.store(true, std::memory_order_release); }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  // Replaces what /config serves.
  void SetConfigYaml(std::string yaml);
  std::string config_yaml() const;

 private:
  AdminServer(std::shared_ptr<const metrics::Metrics> metrics, std::string config_yaml);
  std::shared_ptr<const http::Router> MakeRouter();

  std::shared_ptr<const metrics::Metrics> metrics_;
  std::atomic<bool> draining_{false};
  mutable std::mutex config_mutex_;
  std::string config_yaml_;
  std::unique_ptr<core::Server> server_;
};

}  // namespace shoal::server

#endif  // SHOAL_SERVER_ADMIN_H_
