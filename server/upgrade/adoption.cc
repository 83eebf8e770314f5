#include "server/upgrade/adoption.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_join.h"
#include "core/inherited_socket.h"

namespace shoal::server::upgrade {

namespace {

constexpr char kMigrateReqPath[] = "/proc/sys/net/ipv4/tcp_migrate_req";

bool FromSystemd(const InheritedSockets& inherited) {
  return inherited.source() == InheritedSockets::Source::kSystemd;
}

// The first socket's mismatch, if any (checked on a throwaway duplicate).
absl::Status Check(const std::vector<int>& fds, const core::SocketAddress& address) {
  for (int fd : fds) {
    auto copy = core::AdoptListeningSocket(fd, address, SOMAXCONN);
    if (!copy.ok()) return copy.status();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AdoptionPlan> PlanAdoption(InheritedSockets& inherited,
                                          core::ServerOptions& options,
                                          const core::SocketAddress& admin_address) {
  AdoptionPlan plan;
  if (inherited.empty()) return plan;
  const bool systemd = FromSystemd(inherited);
  for (core::ServerListenerOptions& spec : options.listeners) {
    std::vector<int> fds = inherited.Claim(spec.name);
    if (fds.empty()) continue;
    if (absl::Status status = Check(fds, spec.address); !status.ok()) {
      if (systemd) {
        return absl::FailedPreconditionError("socket activation: listener '" + spec.name +
                                             "': " + std::string(status.message()));
      }
      plan.notes.push_back("listener '" + spec.name + "': not adopting the predecessor's socket (" +
                           std::string(status.message()) + "); binding anew");
      continue;
    }
    if (spec.reuse_port && !core::HasReusePort(fds[0])) {
      spec.reuse_port = false;
      plan.notes.push_back("listener '" + spec.name +
                           "': the inherited socket has no SO_REUSEPORT; its workers share it");
    }
    const size_t keep = spec.reuse_port
                            ? std::min(fds.size(), static_cast<size_t>(options.workers))
                            : 1;
    spec.adopted_fds.assign(fds.begin(), fds.begin() + static_cast<std::ptrdiff_t>(keep));
    plan.adopted_fds.insert(plan.adopted_fds.end(), spec.adopted_fds.begin(),
                            spec.adopted_fds.end());
    plan.surplus += fds.size() - keep;
  }
  std::vector<int> admin = inherited.Claim(kAdminSocketName);
  if (!admin.empty()) {
    if (absl::Status status = Check({admin[0]}, admin_address); !status.ok()) {
      if (systemd) {
        return absl::FailedPreconditionError("socket activation: admin: " +
                                             std::string(status.message()));
      }
      plan.notes.push_back("admin: not adopting the predecessor's socket (" +
                           std::string(status.message()) + "); binding anew");
    } else {
      plan.admin_fd = admin[0];
      plan.adopted_fds.push_back(admin[0]);
    }
  }
  if (std::vector<std::string> unclaimed = inherited.Unclaimed(); !unclaimed.empty()) {
    std::vector<std::string> known;
    for (const core::ServerListenerOptions& spec : options.listeners) known.push_back(spec.name);
    known.push_back(kAdminSocketName);
    const std::string what = "sockets named " + absl::StrJoin(unclaimed, ", ") +
                             " match no listener (the config has " + absl::StrJoin(known, ", ") +
                             ")";
    if (systemd) return absl::FailedPreconditionError("socket activation: " + what);
    plan.notes.push_back("inherited " + what + "; the predecessor drains them");
  }
  return plan;
}

bool TcpMigrateReqEnabled() {
  std::ifstream in(kMigrateReqPath);
  int value = 0;
  return in >> value && value == 1;
}

bool EnableTcpMigrateReq(std::string* why) {
  if (TcpMigrateReqEnabled()) return true;
  std::ofstream out(kMigrateReqPath);
  out << "1\n";
  out.flush();
  if (!out || !TcpMigrateReqEnabled()) {
    *why = std::string(kMigrateReqPath) + ": " + strerror(errno);
    return false;
  }
  return true;
}

}  // namespace shoal::server::upgrade
