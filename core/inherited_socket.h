// Listening sockets this process did not create: handed over by a predecessor at an upgrade or by
// systemd socket activation. Adoption checks that a descriptor really is a listening TCP socket on
// the address the config expects (family, IP, and port unless the config asks for port 0) before
// the server accepts on it, and makes it non-blocking and close-on-exec like the sockets Listen
// creates. Free functions, no hidden state; any thread.
#ifndef SHOAL_CORE_INHERITED_SOCKET_H_
#define SHOAL_CORE_INHERITED_SOCKET_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/socket.h"

namespace shoal::core {

// Checks `fd` against `expected` and returns a duplicate of it, non-blocking and close-on-exec,
// listening with `backlog` (listen() again only updates the backlog). The caller keeps `fd`.
// FailedPrecondition says what differs ("is not a listening TCP socket", "is bound to X, the
// config says Y").
absl::StatusOr<ScopedFd> AdoptListeningSocket(int fd, const SocketAddress& expected, int backlog);

// Whether SO_REUSEPORT is set on `fd` (false when it cannot be read).
bool HasReusePort(int fd);

}  // namespace shoal::core

#endif  // SHOAL_CORE_INHERITED_SOCKET_H_
