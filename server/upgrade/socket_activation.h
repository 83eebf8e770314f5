// systemd socket activation (sd_listen_fds(3)): LISTEN_PID must be this process, LISTEN_FDS
// sockets start at descriptor 3, LISTEN_FDNAMES names them (colon-separated; shoal wants listener
// names and "admin", set with FileDescriptorName= in the .socket unit). The variables are removed
// from the environment so no child sees them. Main thread, before any other thread starts.
#ifndef SHOAL_SERVER_UPGRADE_SOCKET_ACTIVATION_H_
#define SHOAL_SERVER_UPGRADE_SOCKET_ACTIVATION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "server/upgrade/handed_sockets.h"

namespace shoal::server::upgrade {

// The activated sockets; empty when LISTEN_FDS is absent or LISTEN_PID names another process.
// InvalidArgument for malformed values or sockets without names.
absl::StatusOr<std::vector<NamedSocket>> TakeSystemdSockets();

}  // namespace shoal::server::upgrade

#endif  // SHOAL_SERVER_UPGRADE_SOCKET_ACTIVATION_H_
