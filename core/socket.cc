#include "core/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shoal::core {

absl::Status ErrnoStatus(int err, std::string_view what) {
  std::string message = std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case EADDRINUSE:
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      return absl::ResourceExhaustedError(message);
    case EINVAL:
    case EAFNOSUPPORT:
    case EADDRNOTAVAIL:
      return absl::InvalidArgumentError(message);
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

ScopedFd& ScopedFd::operator=(ScopedFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int ScopedFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void ScopedFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

absl::StatusOr<SocketAddress> SocketAddress::Parse(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        "invalid address '" + std::string(text) + "': " + std::string(why) +
        " (expected IPv4:port like 0.0.0.0:7000 or [IPv6]:port like [::]:7000)");
  };
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return invalid("missing ']'");
    host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') return invalid("missing ':port'");
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid("missing ':port'");
    host = std::string(text.substr(0, colon));
    if (host.find(':') != std::string::npos) return invalid("IPv6 addresses need brackets");
    port_text = text.substr(colon + 1);
  }
  uint32_t port = 0;
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(absl::string_view(port_text.data(), port_text.size()), &port) || port > 65535) {
    return invalid("port must be a number from 0 to 65535");
  }
  SocketAddress address;
  if (text.front() != '[') {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage_);
    if (host.empty() || inet_pton(AF_INET, host.c_str(), &v4->sin_addr) != 1) {
      return invalid("not a numeric IPv4 address");
    }
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    address.length_ = sizeof(sockaddr_in);
    return address;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage_);
  std::string zone;
  size_t percent = host.find('%');
  if (percent != std::string::npos) {
    zone = host.substr(percent + 1);
    host.resize(percent);
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) != 1) {
    return invalid("not a numeric IPv6 address");
  }
  if (!zone.empty()) {
    unsigned index = if_nametoindex(zone.c_str());
    if (index == 0 && !absl::SimpleAtoi(zone, &index)) return invalid("unknown IPv6 zone");
    v6->sin6_scope_id = index;
  }
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(static_cast<uint16_t>(port));
  address.length_ = sizeof(sockaddr_in6);
  return address;
}

SocketAddress SocketAddress::FromSockaddr(const sockaddr* addr, socklen_t length) {
  SocketAddress address;
  length = std::min<socklen_t>(length, sizeof(address.storage_));
  std::memcpy(&address.storage_, addr, length);
  address.length_ = length;
  return address;
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

void SocketAddress::set_port(uint16_t port) {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

std::string SocketAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text,
              sizeof(text));
    return absl::StrCat(text, ":", port());
  }
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text,
              sizeof(text));
    return absl::StrCat("[", text, "]:", port());
  }
  return "<unknown address family>";
}

namespace {

absl::Status SetIntOption(int fd, int level, int name, int value, std::string_view what) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) != 0) return ErrnoStatus(errno, what);
  return absl::OkStatus();
}

}  // namespace

namespace {

// A TCP socket for binding to `address`: SO_REUSEADDR, SO_REUSEPORT if asked, dual-stack for IPv6.
absl::StatusOr<ScopedFd> SocketToBind(const SocketAddress& address, bool reuse_port) {
  ScopedFd fd(socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd.valid()) return ErrnoStatus(errno, "socket");
  if (auto s = SetIntOption(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)");
      !s.ok()) {
    return s;
  }
  if (reuse_port) {
    if (auto s = SetIntOption(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1, "setsockopt(SO_REUSEPORT)");
        !s.ok()) {
      return s;
    }
  }
  if (address.family() == AF_INET6) {
    if (auto s = SetIntOption(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 0, "setsockopt(IPV6_V6ONLY)");
        !s.ok()) {
      return s;
    }
  }
  return fd;
}

}  // namespace

absl::Status ProbeBind(const SocketAddress& address) {
  auto fd = SocketToBind(address, /*reuse_port=*/false);
  if (!fd.ok()) return fd.status();
  if (bind(fd->get(), address.sockaddr_ptr(), address.length()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("bind ", address.ToString()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ScopedFd> Listen(const SocketAddress& address, const ListenOptions& options) {
  if (options.backlog <= 0) return absl::InvalidArgumentError("listen: backlog must be > 0");
  auto socket_or = SocketToBind(address, options.reuse_port);
  if (!socket_or.ok()) return socket_or.status();
  ScopedFd fd = std::move(*socket_or);
  if (options.receive_buffer > 0) {
    if (auto s = SetReceiveBuffer(fd.get(), options.receive_buffer); !s.ok()) return s;
  }
  if (options.send_buffer > 0) {
    if (auto s = SetSendBuffer(fd.get(), options.send_buffer); !s.ok()) return s;
  }
  if (bind(fd.get(), address.sockaddr_ptr(), address.length()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("bind ", address.ToString()));
  }
  if (listen(fd.get(), options.backlog) != 0) {
    return ErrnoStatus(errno, absl::StrCat("listen ", address.ToString()));
  }
  return fd;
}

absl::StatusOr<ScopedFd> ConnectNonBlocking(const SocketAddress& address) {
  ScopedFd fd(socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd.valid()) return ErrnoStatus(errno, "socket");
  if (connect(fd.get(), address.sockaddr_ptr(), address.length()) != 0 && errno != EINPROGRESS) {
    return ErrnoStatus(errno, absl::StrCat("connect ", address.ToString()));
  }
  return fd;
}

absl::StatusOr<SocketAddress> LocalAddress(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return ErrnoStatus(errno, "getsockname");
  }
  return SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&storage), length);
}

absl::StatusOr<SocketAddress> PeerAddress(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return ErrnoStatus(errno, "getpeername");
  }
  return SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&storage), length);
}

absl::Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "fcntl(O_NONBLOCK)");
  }
  return absl::OkStatus();
}

absl::Status SetTcpNoDelay(int fd, bool on) {
  return SetIntOption(fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0, "setsockopt(TCP_NODELAY)");
}

absl::Status SetKeepAlive(int fd, bool on) {
  return SetIntOption(fd, SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0, "setsockopt(SO_KEEPALIVE)");
}

absl::Status SetReceiveBuffer(int fd, int bytes) {
  return SetIntOption(fd, SOL_SOCKET, SO_RCVBUF, bytes, "setsockopt(SO_RCVBUF)");
}

absl::Status SetSendBuffer(int fd, int bytes) {
  return SetIntOption(fd, SOL_SOCKET, SO_SNDBUF, bytes, "setsockopt(SO_SNDBUF)");
}

int PendingError(int fd) {
  int error = 0;
  socklen_t length = sizeof(error);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

}  // namespace shoal::core
