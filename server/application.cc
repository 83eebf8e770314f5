#include "server/application.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include <spdlog/spdlog.h>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"

#include "metrics/callback_metric.h"
#include "metrics/process_collector.h"
#include "metrics/worker_stats_collector.h"
#include "server/fd_limit.h"
#include "server/config/schema.h"
#include "server/logging.h"
#include "server/upgrade/adoption.h"
#include "server/upgrade/pid_file.h"
#include "server/version.h"

namespace shoal::server {

namespace {

int64_t ToNanos(absl::Duration duration) { return absl::ToInt64Nanoseconds(duration); }

core::SourceLimits SourceLimitsFrom(const Config& config) {
  return core::SourceLimits{config.limits.max_connections_per_source,
                            config.limits.connection_rate_per_source};
}

core::ProxyProtocolMode ProxyProtocolFrom(ProxyProtocol mode) {
  switch (mode) {
    case ProxyProtocol::kOff: return core::ProxyProtocolMode::kOff;
    case ProxyProtocol::kV1: return core::ProxyProtocolMode::kV1;
    case ProxyProtocol::kV2: return core::ProxyProtocolMode::kV2;
    case ProxyProtocol::kAny: return core::ProxyProtocolMode::kAny;
  }
  return core::ProxyProtocolMode::kOff;
}

core::Balance BalanceFrom(Balance balance) {
  switch (balance) {
    case Balance::kKernel: return core::Balance::kKernel;
    case Balance::kCpu: return core::Balance::kCpu;
    case Balance::kLeastConnections: return core::Balance::kLeastConnections;
  }
  return core::Balance::kKernel;
}

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR2);
  return set;
}

void ReportFdLimit(const Config& config, uint64_t workers) {
  auto limit = RaiseFdLimitToHard();
  if (!limit.ok()) {
    spdlog::warn("open files: {}", std::string(limit.status().message()));
    return;
  }
  if (limit->now != limit->before) {
    spdlog::info("open files: soft limit raised from {} to the hard limit {}", limit->before,
                 limit->now);
  }
  uint64_t needed =
      config.limits.max_connections + FdsBesideConnections(workers, config.listeners.size());
  if (needed > limit->now) {
    spdlog::warn(
        "open files: limits.max_connections {} needs about {} descriptors but the limit is {}; "
        "connections beyond about {} will be refused at accept (raise the hard limit: ulimit -Hn, "
        "LimitNOFILE=, or the container's nofile ulimit)",
        config.limits.max_connections, needed, limit->now,
        limit->now > needed - config.limits.max_connections
            ? limit->now - (needed - config.limits.max_connections)
            : 0);
  }
}

}  // namespace

core::ConnectionSettings ConnectionSettingsFrom(const Config& config) {
  core::ConnectionSettings settings;
  settings.idle_timeout_ns = ToNanos(config.timeouts.idle);
  settings.read_timeout_ns = ToNanos(config.timeouts.read);
  settings.write_timeout_ns = ToNanos(config.timeouts.write);
  settings.high_watermark = config.backpressure.high_watermark;
  settings.low_watermark = config.backpressure.low_watermark;
  settings.worker_budget = config.backpressure.worker_budget;
  settings.max_memory = config.limits.max_memory;
  settings.read_budget_bytes = core::kReadBudgetBytes;
  settings.linger_discard_bytes = core::kLingerDiscardBytes;
  settings.shed_stall_ns = core::kShedStallNs;
  settings.max_connection_age_ns = ToNanos(config.limits.max_connection_age);
  settings.max_connection_age_jitter_ns =
      settings.max_connection_age_ns / 100 *
      static_cast<int64_t>(config.limits.max_connection_age_jitter_percent);
  settings.max_requests_per_connection = config.limits.max_requests_per_connection;
  settings.max_input_bytes =
      config.limits.max_frame_bytes + config.limits.max_header_bytes + settings.read_budget_bytes;
  return settings;
}

absl::StatusOr<core::ServerOptions> ServerOptionsFrom(const Config& config) {
  core::ServerOptions options;
  options.workers = config.workers > 0 ? config.workers : core::OnlineCpuCount();
  options.cpu_affinity = config.cpu_affinity;
  options.tick_ns = ToNanos(config.timeouts.tick);
  options.settings = ConnectionSettingsFrom(config);
  options.max_connections = static_cast<int64_t>(config.limits.max_connections);
  options.per_source = SourceLimitsFrom(config);
  options.socket.tcp_nodelay = config.socket.tcp_nodelay;
  options.socket.keepalive = config.socket.keepalive;
  options.socket.receive_buffer = static_cast<int>(config.socket.rcvbuf);
  options.socket.send_buffer = static_cast<int>(config.socket.sndbuf);
  for (size_t l = 0; l < config.listeners.size(); ++l) {
    const ListenerConfig& listener = config.listeners[l];
    auto address = core::SocketAddress::Parse(listener.address);
    if (!address.ok()) return address.status();
    options.listeners.push_back(core::ServerListenerOptions{
        listener.name, *address, listener.backlog, listener.reuseport, listener.reuseport_join,
        /*adopted_fds=*/{}, BalanceFrom(listener.balance)});
    core::ServerListenerOptions& added = options.listeners.back();
    added.proxy_protocol = ProxyProtocolFrom(listener.proxy_protocol);
    for (const std::string& text : listener.trusted_proxies) {
      auto range = core::Cidr::Parse(text);
      if (!range.ok()) return range.status();
      added.trusted_proxies.push_back(*range);
    }
    auto tls = TlsFrom(listener.tls, "listeners[" + std::to_string(l) + "].tls.");
    if (!tls.ok()) return tls.status();
    added.tls = *std::move(tls);
  }
  return options;
}

absl::StatusOr<std::shared_ptr<core::TlsContextHolder>> TlsFrom(const ListenerTlsConfig& tls,
                                                                const std::string& key_prefix) {
  if (tls.certificate.empty() && tls.private_key.empty()) return nullptr;
  if (tls.certificate.empty() || tls.private_key.empty()) {
    return absl::InvalidArgumentError(key_prefix + (tls.certificate.empty() ? "certificate"
                                                                            : "private_key") +
                                      ": must be set with " + key_prefix +
                                      (tls.certificate.empty() ? "private_key" : "certificate"));
  }
  core::TlsOptions options{tls.certificate, tls.private_key,
                           tls.min_version == TlsMinVersion::k1_3 ? core::TlsVersion::k1_3
                                                                  : core::TlsVersion::k1_2,
                           tls.alpn};
  auto holder = core::TlsContextHolder::Create(options);
  if (!holder.ok()) {
    return absl::InvalidArgumentError(key_prefix + std::string(holder.status().message()));
  }
  return *std::move(holder);
}

class Application::SignalHandler final : public core::IoHandler {
 public:
  SignalHandler(Application& application, core::ScopedFd fd)
      : application_(application), fd_(std::move(fd)) {}
  int fd() const { return fd_.get(); }

  void HandleEvents(uint32_t) override {
    signalfd_siginfo info;
    while (read(fd_.get(), &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      application_.OnSignal(static_cast<int>(info.ssi_signo));
    }
  }

 private:
  Application& application_;
  core::ScopedFd fd_;
};

Application::Application(const Config& config, std::string config_path, StartContext start)
    : config_(config), config_path_(std::move(config_path)), start_(std::move(start)) {}

Application::~Application() {
  upgrade_.reset();
  if (main_loop_) main_loop_->timers().Cancel(&hand_over_grace_);
  if (admin_) admin_->Stop();
  if (server_) server_->Stop();
  if (signals_ && main_loop_) main_loop_->Remove(signals_->fd());
}

absl::StatusOr<std::unique_ptr<Application>> Application::Create(const Config& config,
                                                                  std::string config_path,
                                                                  StartContext start) {
  std::unique_ptr<Application> application(
      new Application(config, std::move(config_path), std::move(start)));
  if (auto status = application->Init(); !status.ok()) return status;
  return application;
}

absl::Status Application::Init() {

  sigset_t signals = HandledSignals();
  if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return absl::InternalError("pthread_sigmask failed");
  }
  signal(SIGPIPE, SIG_IGN);
  core::ScopedFd signal_fd(signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd.valid()) return core::ErrnoStatus(errno, "signalfd");

  core::EventLoop::Options loop_options;
  loop_options.tick_ns = ToNanos(config_.timeouts.tick);
  auto loop = core::EventLoop::Create(loop_options);
  if (!loop.ok()) return loop.status();
  main_loop_ = std::move(*loop);
  signals_ = std::make_unique<SignalHandler>(*this, std::move(signal_fd));
  if (auto status = main_loop_->Add(signals_->fd(), EPOLLIN, signals_.get()); !status.ok()) {
    return status;
  }

  auto options = ServerOptionsFrom(config_);
  if (!options.ok()) return options.status();
  for (const core::ServerListenerOptions& listener : options->listeners) {
    if (listener.tls != nullptr) tls_.push_back(listener.tls);
  }
  auto admin_address = core::SocketAddress::Parse(config_.admin.address);
  if (!admin_address.ok()) return admin_address.status();
  auto plan = upgrade::PlanAdoption(start_.inherited, *options, *admin_address);
  if (!plan.ok()) return plan.status();
  for (const std::string& note : plan->notes) spdlog::info("inherited sockets: {}", note);
  adopted_inherited_fds_ = plan->adopted_fds;
  surplus_inherited_ = plan->surplus;
  ReportFdLimit(config_, static_cast<uint64_t>(options->workers));
  protocols_.assign(static_cast<size_t>(options->workers), {});
  std::vector<const protocols::Registration*> registrations;
  for (const ListenerConfig& listener : config_.listeners) {
    const protocols::Registration* registration = protocols::Find(listener.protocol);
    if (registration == nullptr) {
      return absl::InvalidArgumentError("listener " + listener.name + ": unknown protocol '" +
                                        listener.protocol + "'");
    }
    registrations.push_back(registration);
  }
  auto server = core::Server::Create(
      *options, [&](size_t listener, int worker) -> std::unique_ptr<core::Protocol> {
        std::unique_ptr<protocols::LiveProtocol> protocol =
            registrations[listener]->make(config_, config_.listeners[listener]);
        protocols_[static_cast<size_t>(worker)].push_back(protocol.get());
        return protocol;
      });
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  absl::Status admin = InitAdmin(plan->admin_fd);
  // The server and the admin endpoint hold their own copies of what they adopted.
  start_.inherited = upgrade::InheritedSockets();
  return admin;
}

absl::Status Application::InitAdmin(int adopted_admin_fd) {
  metrics_ = std::make_shared<metrics::Metrics>();
  InitUpgradeMetrics();
  metrics::AddBuildInfo(metrics_->registry(), kVersion);
  std::vector<const core::WorkerStats*> worker_stats;
  for (const auto& worker : server_->workers()) worker_stats.push_back(&worker->stats());
  metrics_->Add(std::make_shared<metrics::WorkerStatsCollector>(std::move(worker_stats)));
  metrics_->Add(std::make_shared<metrics::ProcessCollector>());
  metrics_->Add(std::make_shared<metrics::CallbackMetric>(
      metrics::CallbackMetric::Kind::kCounter, "shoal_log_lines_dropped_total",
      "Log lines dropped because the log writer's queue was full (stderr not keeping up).",
      [] { return static_cast<double>(LogLinesDropped()); }));

  auto address = core::SocketAddress::Parse(config_.admin.address);
  if (!address.ok()) return address.status();
  AdminServer::Options options;
  options.address = *address;
  options.tick_ns = ToNanos(config_.timeouts.tick);
  options.adopted_fd = adopted_admin_fd;
  options.settings = ConnectionSettingsFrom(config_);
  auto tls = TlsFrom(config_.admin.tls, "admin.tls.");
  if (!tls.ok()) return tls.status();
  options.tls = *std::move(tls);
  if (options.tls != nullptr) tls_.push_back(options.tls);
  auto admin = AdminServer::Create(options, metrics_, ConfigToYaml(config_));
  if (!admin.ok()) {
    return absl::Status(admin.status().code(),
                        "admin endpoint: " + std::string(admin.status().message()));
  }
  admin_ = std::move(*admin);
  return absl::OkStatus();
}

int Application::Run() {
  if (auto status = server_->Start(); !status.ok()) {
    spdlog::error("cannot start workers: {}", status.ToString());
    return kExitRuntimeFailure;
  }
  if (auto status = admin_->Start(); !status.ok()) {
    spdlog::error("cannot start the admin endpoint: {}", status.ToString());
    return kExitRuntimeFailure;
  }
  for (size_t i = 0; i < config_.listeners.size(); ++i) {
    spdlog::info("listening: {} ({}) on {} with {} workers", config_.listeners[i].name,
                 config_.listeners[i].protocol,
                 server_->bound_addresses()[i].ToString(), server_->workers().size());
  }
  spdlog::info("admin: listening on {} (/metrics /healthz /readyz /config)",
               admin_->bound_address().ToString());
  AnnounceServing();
  main_loop_->Run();
  server_->Stop();
  admin_->Stop();
  if (!start_.pid_file.empty()) upgrade::RemovePidFileIfOurs(start_.pid_file, getpid());
  spdlog::info("shut down cleanly");
  FlushLogsFor(absl::Seconds(1));
  return kExitOk;
}

void Application::OnSignal(int signal_number) {
  if (signal_number == SIGHUP) {
    Reload();
    return;
  }
  if (signal_number == SIGUSR2) {
    StartUpgrade();
    return;
  }
  if (draining_) {
    spdlog::warn("second {} during drain: exiting now", strsignal(signal_number));
    FlushLogsFor(absl::Milliseconds(200));
    std::_Exit(kExitRuntimeFailure);
  }
  if (upgrade_) {
    spdlog::warn("{} during an upgrade: stopping the successor (pid {})",
                 strsignal(signal_number), upgrade_->successor_pid());
    upgrade_.reset();
  }
  BeginDrain(strsignal(signal_number));
}

void Application::BeginDrain(const std::string& why) {
  draining_ = true;
  // Not ready from now on: load balancers stop sending before any listener closes.
  admin_->SetDraining();
  int64_t deadline = core::DeadlineAfter(core::MonotonicNowNs(), ToNanos(config_.timeouts.drain));
  spdlog::info("{}: draining (deadline {})", why, FormatConfigDuration(config_.timeouts.drain));
  core::EventLoop* loop = main_loop_.get();
  server_->Drain(deadline, [loop] { loop->Quit(); });
}

void Application::Reload() {
  // Certificate and key files are re-read for new connections whatever the config file says.
  for (const std::shared_ptr<core::TlsContextHolder>& tls : tls_) {
    if (absl::Status status = tls->Reload(); !status.ok()) {
      spdlog::error("SIGHUP: TLS files rejected, the current certificate stays: {}",
                    std::string(status.message()));
    } else {
      spdlog::info("SIGHUP: reloaded TLS certificate {}", tls->options().certificate_path);
    }
  }
  if (config_path_.empty()) {
    spdlog::info("SIGHUP: running on the built-in default config; nothing to reload");
    return;
  }
  auto next = LoadConfigFile(config_path_);
  if (!next.ok()) {
    spdlog::error("SIGHUP: config rejected, the running config stays: {}",
                  std::string(next.status().message()));
    return;
  }
  ApplyLive(*next);
}

void Application::ApplyLive(const Config& next) {
  if (std::vector<std::string_view> ignored = schema::RestartKeysChanged(config_, next);
      !ignored.empty()) {
    spdlog::warn("SIGHUP: changes to {} need a restart and are ignored",
                 schema::JoinPaths(ignored));
  }
  Config applied = schema::WithLiveKeys(config_, next);
  (void)SetLogLevel(applied.logging.level);
  server_->UpdateSettings(ConnectionSettingsFrom(applied));
  server_->UpdateLimits(static_cast<int64_t>(applied.limits.max_connections),
                        SourceLimitsFrom(applied));
  auto shared = std::make_shared<const Config>(applied);
  for (size_t w = 0; w < server_->workers().size(); ++w) {
    server_->workers()[w]->event_loop().Post([protocols = protocols_[w], shared] {
      for (protocols::LiveProtocol* protocol : protocols) protocol->Apply(*shared);
    });
  }
  config_ = applied;
  admin_->SetConfigYaml(ConfigToYaml(config_));
  spdlog::info("SIGHUP: applied {}", schema::DescribeKeys(schema::Reload::kLive));
}

}  // namespace shoal::server
