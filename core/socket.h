// Socket utilities: an owning file descriptor, IP socket addresses, and the socket options shoal
// uses. Free functions, no hidden state; every function may be called from any thread.
// Errors are absl::Status with errno turned into a message once, by ErrnoStatus.
#ifndef SHOAL_CORE_SOCKET_H_
#define SHOAL_CORE_SOCKET_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shoal::core {

// "what: strerror(err)" with a status code chosen from err.
absl::Status ErrnoStatus(int err, std::string_view what);

// Owns one file descriptor; closes it on destruction. Move-only.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept;
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// An IPv4 or IPv6 address with a port. Parse accepts numeric literals only (no name lookup, so it
// never blocks): "1.2.3.4:80", "0.0.0.0:7000", "[::1]:80", "[::]:7000", "[fe80::1%eth0]:80".
class SocketAddress {
 public:
  SocketAddress() = default;
  static absl::StatusOr<SocketAddress> Parse(std::string_view text);
  static SocketAddress FromSockaddr(const sockaddr* addr, socklen_t length);

  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  void set_port(uint16_t port);
  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }
  // "1.2.3.4:80" or "[::1]:80".
  std::string ToString() const;

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

// Plain values: backlog must be set (> 0); the others may stay zero/false.
struct ListenOptions {
  int backlog{};
  bool reuse_port{};
  // SO_RCVBUF / SO_SNDBUF set before listen(), inherited by accepted sockets (0 = kernel default).
  int receive_buffer{};
  int send_buffer{};
};

// A non-blocking, close-on-exec TCP listening socket bound to `address`. IPv6 wildcard sockets are
// dual-stack (IPV6_V6ONLY off).
absl::StatusOr<ScopedFd> Listen(const SocketAddress& address, const ListenOptions& options);

// Binds (and closes) a socket to `address` with SO_REUSEADDR but without SO_REUSEPORT: fails with
// EADDRINUSE when any socket already listens there, whatever its owner set.
absl::Status ProbeBind(const SocketAddress& address);

// A non-blocking, close-on-exec TCP socket with a connect() in progress (or done) to `address`.
absl::StatusOr<ScopedFd> ConnectNonBlocking(const SocketAddress& address);

absl::StatusOr<SocketAddress> LocalAddress(int fd);
absl::StatusOr<SocketAddress> PeerAddress(int fd);

absl::Status SetNonBlocking(int fd);
absl::Status SetTcpNoDelay(int fd, bool on);
absl::Status SetKeepAlive(int fd, bool on);
absl::Status SetReceiveBuffer(int fd, int bytes);
absl::Status SetSendBuffer(int fd, int bytes);
// The pending error of a socket (SO_ERROR), 0 if none.
int PendingError(int fd);

}  // namespace shoal::core

#endif  // SHOAL_CORE_SOCKET_H_
