// sd_notify(3) without libsystemd: when systemd started the service with Type=notify it sets
// NOTIFY_SOCKET; a process that serves sends "READY=1" and "MAINPID=<its pid>", so after an
// upgrade systemd follows the successor as the service's main process (the unit needs
// NotifyAccess=all, since the successor is not the process systemd started). No-op without
// NOTIFY_SOCKET. Any thread; best effort (failures are returned for logging).
#ifndef SHOAL_SERVER_UPGRADE_SERVICE_NOTIFY_H_
#define SHOAL_SERVER_UPGRADE_SERVICE_NOTIFY_H_

#include <string_view>

#include "absl/status/status.h"

namespace shoal::server::upgrade {

absl::Status NotifyServiceManager(std::string_view state);

}  // namespace shoal::server::upgrade

#endif  // SHOAL_SERVER_UPGRADE_SERVICE_NOTIFY_H_
