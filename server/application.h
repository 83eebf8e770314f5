// Application: the running shoal process. It turns a Config into a core::Server with one Protocol
// per worker and listener, runs the main thread's EventLoop with a signalfd (SIGTERM/SIGINT: drain
// gracefully, a second one exits at once; SIGHUP: reload the config file and apply what can change
// live), serves the admin endpoint (server/admin.h: /metrics over the workers' stats, /healthz,
// /readyz, /config) on its own thread at admin.address, and returns the process exit code.
//
// Shutdown order: on SIGTERM/SIGINT /readyz turns 503 first, then the workers drain; the admin
// endpoint keeps serving through the drain and stops after the workers.
//
// Threading: Create and Run on the main thread. Signals must be blocked in every thread, which
// Create does before any worker thread exists.
#ifndef SHOAL_SERVER_APPLICATION_H_
#define SHOAL_SERVER_APPLICATION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/event_loop.h"
#include "core/server.h"
#include "metrics/metrics.h"
#include "server/admin.h"
#include "server/config.h"
#include "server/protocols/registry.h"

namespace shoal::server {

inline constexpr int kExitOk = 0;
inline constexpr int kExitConfigError = 1;
inline constexpr int kExitRuntimeFailure = 2;

// The one mapping from the config onto core's option structs (which have no defaults of their
// own): every field set, the fixed constants of core/connection.h included.
// Maps the config's timeouts and backpressure onto a connection's settings.
core::ConnectionSettings ConnectionSettingsFrom(const Config& config);
// Builds the core::Server options (addresses parsed, workers resolved).
absl::StatusOr<core::ServerOptions> ServerOptionsFrom(const Config& config);

class Application {
 public:
  // `config_path` is re-read on SIGHUP; empty means the built-in default (SIGHUP then only logs).
  static absl::StatusOr<std::unique_ptr<Application>> Create(const Config& config,
                                                             std::string config_path);
  ~Application();

  // Starts the workers and serves until a drain completes. Returns the exit code.
  int Run();

 private:
  class SignalHandler;

  Application(const Config& config, std::string config_path);
  absl::Status Init();
  absl::Status InitAdmin();
  void OnSignal(int signal_number);
  void Reload();
  void ApplyLive(const Config& next);

  Config config_;
  std::string config_path_;
  std::unique_ptr<core::EventLoop> main_loop_;
  std::unique_ptr<core::Server> server_;
  std::shared_ptr<metrics::Metrics> metrics_;
  // Declared after server_ (destroyed first): its scrapes read server_'s worker stats.
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<SignalHandler> signals_;
  // Each worker's protocol instances (owned by its listeners), touched only on that worker's thread.
  std::vector<std::vector<protocols::LiveProtocol*>> protocols_;
  bool draining_ = false;
};

}  // namespace shoal::server

#endif  // SHOAL_SERVER_APPLICATION_H_
