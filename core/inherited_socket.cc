#include "core/inherited_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace shoal::core {

namespace {

int IntOption(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof(value);
  if (getsockopt(fd, level, name, &value, &length) != 0) return -1;
  return value;
}

bool SameIp(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family()) return false;
  if (a.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(a.sockaddr_ptr())->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(b.sockaddr_ptr())->sin_addr.s_addr;
  }
  return memcmp(&reinterpret_cast<const sockaddr_in6*>(a.sockaddr_ptr())->sin6_addr,
                &reinterpret_cast<const sockaddr_in6*>(b.sockaddr_ptr())->sin6_addr,
                sizeof(in6_addr)) == 0;
}

}  // namespace

absl::StatusOr<ScopedFd> AdoptListeningSocket(int fd, const SocketAddress& expected, int backlog) {
  const std::string which = "descriptor " + std::to_string(fd);
  if (IntOption(fd, SOL_SOCKET, SO_TYPE) != SOCK_STREAM ||
      IntOption(fd, SOL_SOCKET, SO_ACCEPTCONN) != 1) {
    return absl::FailedPreconditionError(which + " is not a listening TCP socket");
  }
  auto bound = LocalAddress(fd);
  if (!bound.ok()) return bound.status();
  if (!SameIp(*bound, expected) || (expected.port() != 0 && bound->port() != expected.port())) {
    return absl::FailedPreconditionError(which + " is bound to " + bound->ToString() +
                                         ", the config says " + expected.ToString());
  }
  ScopedFd copy(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!copy.valid()) return ErrnoStatus(errno, which + ": dup");
  if (auto status = SetNonBlocking(copy.get()); !status.ok()) return status;
  if (listen(copy.get(), backlog) != 0) return ErrnoStatus(errno, which + ": listen");
  return copy;
}

bool HasReusePort(int fd) { return IntOption(fd, SOL_SOCKET, SO_REUSEPORT) == 1; }

}  // namespace shoal::core
