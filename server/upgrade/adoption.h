// Which inherited listening sockets the server adopts: each listener takes the sockets named like
// it (a reuseport listener one per worker, the rest are surplus; a shared listener the first), the
// admin endpoint the one named "admin"; what the config does not ask for is left to close.
//
// Sockets from systemd must match the config (address, family) and every one must be claimed:
// anything else is a config error with the reason. An inherited socket without SO_REUSEPORT makes
// its listener shared by the workers (more reuseport sockets could not join it). Sockets from a
// predecessor that no longer match (a listener's address changed) are not adopted: the new
// address is bound and the predecessor drains the old one.
//
// Main thread, at start.
#ifndef SHOAL_SERVER_UPGRADE_ADOPTION_H_
#define SHOAL_SERVER_UPGRADE_ADOPTION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/server.h"
#include "core/socket.h"
#include "server/upgrade/handed_sockets.h"

namespace shoal::server::upgrade {

struct AdoptionPlan {
  // Every inherited descriptor the plan uses (listeners' and admin's), to report as adopted.
  std::vector<int> adopted_fds;
  int admin_fd = -1;
  // Inherited reuseport sockets beyond the worker count (their queues must not be reset).
  size_t surplus = 0;
  // One line per decision worth logging.
  std::vector<std::string> notes;
};

// Fills `options.listeners[i].adopted_fds` (and may turn a listener shared, see above).
absl::StatusOr<AdoptionPlan> PlanAdoption(InheritedSockets& inherited,
                                          core::ServerOptions& options,
                                          const core::SocketAddress& admin_address);

// Sets net.ipv4.tcp_migrate_req so a closed reuseport socket's queued connections move to the
// others in its group; false when the process may not (the reason in `why`).
bool EnableTcpMigrateReq(std::string* why);
// Whether net.ipv4.tcp_migrate_req is on.
bool TcpMigrateReqEnabled();

}  // namespace shoal::server::upgrade

#endif  // SHOAL_SERVER_UPGRADE_ADOPTION_H_
