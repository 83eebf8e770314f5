// Application's side of upgrades (see application.h): announcing that this process serves (pid
// file, ready line, metrics), and SIGUSR2 as the predecessor.
#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "server/application.h"
#include "server/upgrade/adoption.h"
#include "server/upgrade/pid_file.h"
#include "server/upgrade/service_notify.h"
#include "server/upgrade/successor.h"

namespace shoal::server {

void Application::InitUpgradeMetrics() {
  prometheus::Registry& registry = metrics_->registry();
  prometheus::BuildGauge()
      .Name("shoal_generation")
      .Help("1 for a fresh start, the predecessor's generation + 1 after each upgrade.")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(start_.lineage.generation));
  auto& upgrades = prometheus::BuildCounter()
                       .Name("shoal_upgrades_total")
                       .Help("Upgrades (SIGUSR2) by result, counted by the process that serves "
                             "afterwards and carried over to successors.")
                       .Register(registry);
  upgrades_succeeded_ = &upgrades.Add({{"result", "succeeded"}});
  upgrades_failed_ = &upgrades.Add({{"result", "failed"}});
  upgrades_succeeded_->Increment(static_cast<double>(start_.lineage.upgrades_succeeded));
  upgrades_failed_->Increment(static_cast<double>(start_.lineage.upgrades_failed));
}

void Application::AnnounceServing() {
  if (!start_.pid_file.empty()) {
    if (auto status = upgrade::WritePidFile(start_.pid_file, getpid()); !status.ok()) {
      spdlog::error("pid file: {}", std::string(status.message()));
    }
  }
  if (auto status = upgrade::NotifyServiceManager("READY=1\nMAINPID=" + std::to_string(getpid()));
      !status.ok()) {
    spdlog::warn("cannot notify the service manager: {}", std::string(status.message()));
  }
  if (!start_.ready_fd.valid()) return;
  if (surplus_inherited_ > 0) {
    std::string why = "--upgrade_tcp_migrate_req=false";
    if (start_.set_tcp_migrate_req && upgrade::EnableTcpMigrateReq(&why)) {
      spdlog::info("upgrade: {} fewer reuseport sockets than before; net.ipv4.tcp_migrate_req "
                   "is on, so their queued connections move to the remaining ones",
                   surplus_inherited_);
    } else {
      spdlog::info("upgrade: {} fewer reuseport sockets than before; without "
                   "net.ipv4.tcp_migrate_req ({}) the predecessor accepts their queues before "
                   "closing them",
                   surplus_inherited_, why);
    }
  }
  if (auto status = upgrade::ReportReady(std::move(start_.ready_fd), adopted_inherited_fds_);
      !status.ok()) {
    spdlog::warn("upgrade: cannot tell the predecessor this process is ready: {}",
                 std::string(status.message()));
  }
  spdlog::info("upgrade: generation {} serving (pid {})", start_.lineage.generation, getpid());
}

void Application::StartUpgrade() {
  if (upgrade_) {
    spdlog::warn("SIGUSR2: an upgrade is already in progress (successor pid {}); ignored",
                 upgrade_->successor_pid());
    return;
  }
  if (draining_ || successor_pid_ > 0) {
    spdlog::warn("SIGUSR2: this process is draining or has handed over; no upgrade");
    return;
  }
  upgrade::UpgradeAttempt::Launch launch;
  launch.binary = start_.binary;
  launch.argv = start_.argv;
  launch.ready_timeout_ns = absl::ToInt64Nanoseconds(start_.upgrade_ready_timeout);
  launch.lineage = upgrade::Lineage{start_.lineage.generation + 1,
                                    static_cast<int64_t>(upgrades_succeeded_->Value()) + 1,
                                    static_cast<int64_t>(upgrades_failed_->Value())};
  handed_.clear();
  const std::vector<std::vector<int>>& fds = server_->listening_fds();
  for (size_t l = 0; l < fds.size(); ++l) {
    for (size_t w = 0; w < fds[l].size(); ++w) {
      launch.sockets.push_back(upgrade::NamedSocket{config_.listeners[l].name, fds[l][w]});
      handed_.push_back(HandedSocket{false, l, static_cast<int>(w)});
    }
  }
  launch.sockets.push_back(upgrade::NamedSocket{upgrade::kAdminSocketName, admin_->listening_fd()});
  handed_.push_back(HandedSocket{true, 0, 0});

  auto attempt = upgrade::UpgradeAttempt::Start(
      *main_loop_, launch,
      [this](upgrade::UpgradeOutcome outcome) { OnUpgradeOutcome(std::move(outcome)); });
  if (!attempt.ok()) {
    upgrades_failed_->Increment();
    spdlog::error("SIGUSR2: upgrade failed, serving on: {}", attempt.status().ToString());
    return;
  }
  upgrade_ = std::move(*attempt);
  spdlog::info("SIGUSR2: upgrading: started {} (pid {}, generation {}) with {} sockets; "
               "serving until it is ready",
               launch.binary, upgrade_->successor_pid(), launch.lineage.generation,
               launch.sockets.size());
}

void Application::OnUpgradeOutcome(upgrade::UpgradeOutcome outcome) {
  const pid_t successor = upgrade_->successor_pid();
  main_loop_->Post([this] { upgrade_.reset(); });
  if (!outcome.ready) {
    upgrades_failed_->Increment();
    spdlog::error("upgrade failed, generation {} serves on: {}", start_.lineage.generation,
                  outcome.failure);
    if (!start_.pid_file.empty()) (void)upgrade::WritePidFile(start_.pid_file, getpid());
    return;
  }
  std::vector<bool> held(handed_.size(), false);
  for (size_t index : outcome.adopted) {
    if (index < held.size()) held[index] = true;
  }
  // With tcp_migrate_req the kernel moves a closed socket's queue to the rest of its group (when
  // the successor holds some of it), so nothing needs accepting here; otherwise the drain accepts
  // what sockets nobody else holds have queued before closing them.
  const bool migrate = upgrade::TcpMigrateReqEnabled();
  std::vector<bool> group_held(config_.listeners.size(), false);
  for (size_t i = 0; i < handed_.size(); ++i) {
    if (held[i] && !handed_[i].admin) group_held[handed_[i].listener] = true;
  }
  std::vector<std::vector<bool>> release(config_.listeners.size());
  for (size_t i = 0; i < handed_.size(); ++i) {
    if (handed_[i].admin) {
      if (held[i]) admin_->ReleaseListener();
      continue;
    }
    const size_t listener = handed_[i].listener;
    std::vector<bool>& by_worker = release[listener];
    by_worker.resize(static_cast<size_t>(handed_[i].worker) + 1, false);
    by_worker[static_cast<size_t>(handed_[i].worker)] =
        held[i] || (migrate && group_held[listener]);
  }
  server_->ReleaseListeners([&release](size_t listener, int worker) {
    return listener < release.size() && static_cast<size_t>(worker) < release[listener].size() &&
           release[listener][static_cast<size_t>(worker)];
  });
  spdlog::info("upgrade: successor pid {} is ready; accepting no more", successor);
  successor_pid_ = successor;
  main_loop_->timers().Schedule(&hand_over_grace_,
                                core::DeadlineAfter(main_loop_->now_ns(), kHandOverGraceNs));
}

void Application::HandOverGrace::OnExpire() {
  if (application_.draining_) return;
  application_.BeginDrain("upgrade: successor pid " +
                          std::to_string(application_.successor_pid_) + " serves");
}

}  // namespace shoal::server
