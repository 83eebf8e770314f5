// Application: the running shoal process. It turns a Config into a core::Server with one Protocol
// per worker and listener, runs the main thread's EventLoop with a signalfd (SIGTERM/SIGINT: drain
// gracefully, a second one exits at once; SIGHUP: reload the config file and apply what can change
// live; SIGUSR2: zero-downtime upgrade), serves the admin endpoint (server/admin.h: /metrics over
// the workers' stats, /healthz, /readyz, /config) on its own thread at admin.address, and returns
// the process exit code.
//
// Upgrade (docs/upgrade.md): SIGUSR2 starts the binary at the path this one was started from, with
// the same arguments, handing it every listening socket (server/upgrade/). Once it reports ready
// this process gives up the sockets it holds (without accepting their queues, and without closing
// them for the successor), accepts what is queued on sockets the successor did not adopt, and
// drains as on SIGTERM. A successor that exits or is not ready in time is counted as a failed
// upgrade and this process serves on. One upgrade at a time. At start, sockets from a predecessor
// or from systemd socket activation are adopted by name instead of bound.
//
// Shutdown order: on SIGTERM/SIGINT /readyz turns 503 first, then the workers drain; the admin
// endpoint keeps serving through the drain and stops after the workers.
//
// Threading: Create and Run on the main thread. Signals must be blocked in every thread, which
// Create does before any worker thread exists.
#ifndef SHOAL_SERVER_APPLICATION_H_
#define SHOAL_SERVER_APPLICATION_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/event_loop.h"
#include "core/server.h"
#include "metrics/metrics.h"
#include "server/admin.h"
#include "server/config.h"
#include "server/protocols/registry.h"
#include "server/upgrade/handed_sockets.h"
#include "server/upgrade/upgrade_attempt.h"

namespace prometheus {
class Counter;
}

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
// The TLS context of a listener (null when its certificate and key are empty), its files read
// now; errors start with `key_prefix` ("listeners[0].tls.") and name the file.
absl::StatusOr<std::shared_ptr<core::TlsContextHolder>> TlsFrom(const ListenerTlsConfig& tls,
                                                                const std::string& key_prefix);

// How this process was started: what an upgrade needs to start the next one, and what the
// previous one (or systemd) handed over.
struct StartContext {
  std::string binary;  // the path this binary was started from
  std::vector<std::string> argv;
  std::string pid_file;  // empty: none
  absl::Duration upgrade_ready_timeout = absl::Seconds(30);
  bool set_tcp_migrate_req = true;
  upgrade::InheritedSockets inherited;
  core::ScopedFd ready_fd;  // valid when a predecessor started this process
  upgrade::Lineage lineage;
};

class Application {
 public:
  // `config_path` is re-read on SIGHUP; empty means the built-in default (SIGHUP then only logs).
  static absl::StatusOr<std::unique_ptr<Application>> Create(const Config& config,
                                                             std::string config_path,
                                                             StartContext start = {});
  ~Application();

  // Starts the workers and serves until a drain completes. Returns the exit code.
  int Run();

 private:
  class SignalHandler;

  // Which of this process's listening sockets a handed socket is.
  struct HandedSocket {
    bool admin = false;
    size_t listener = 0;
    int worker = 0;
  };

  // After a hand-over, connections accepted just before the sockets were released get this long
  // for their first request to arrive before the drain closes idle connections.
  static constexpr int64_t kHandOverGraceNs = 200'000'000;
  class HandOverGrace final : public core::Timer {
   public:
    explicit HandOverGrace(Application& application) : application_(application) {}
    ~HandOverGrace() override = default;

   private:
    void OnExpire() override;
    Application& application_;
  };

  Application(const Config& config, std::string config_path, StartContext start);
  absl::Status Init();
  absl::Status InitAdmin(int adopted_admin_fd);
  void InitUpgradeMetrics();
  // After the workers and the admin endpoint serve: the pid file, then the ready line.
  void AnnounceServing();
  void OnSignal(int signal_number);
  void BeginDrain(const std::string& why);
  void StartUpgrade();
  void OnUpgradeOutcome(upgrade::UpgradeOutcome outcome);
  void Reload();
  void ApplyLive(const Config& next);

  Config config_;
  std::string config_path_;
  StartContext start_;
  std::vector<int> adopted_inherited_fds_;
  size_t surplus_inherited_ = 0;
  std::unique_ptr<core::EventLoop> main_loop_;
  std::unique_ptr<core::Server> server_;
  std::shared_ptr<metrics::Metrics> metrics_;
  // Declared after server_ (destroyed first): its scrapes read server_'s worker stats.
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<SignalHandler> signals_;
  // Each worker's protocol instances (owned by its listeners), touched only on that worker's thread.
  std::vector<std::vector<protocols::LiveProtocol*>> protocols_;
  // The listeners' TLS contexts, re-read on SIGHUP.
  std::vector<std::shared_ptr<core::TlsContextHolder>> tls_;
  bool draining_ = false;
  std::unique_ptr<upgrade::UpgradeAttempt> upgrade_;
  std::vector<HandedSocket> handed_;
  HandOverGrace hand_over_grace_{*this};
  pid_t successor_pid_ = -1;
  prometheus::Counter* upgrades_succeeded_ = nullptr;
  prometheus::Counter* upgrades_failed_ = nullptr;
};

}  // namespace shoal::server

#endif  // SHOAL_SERVER_APPLICATION_H_
