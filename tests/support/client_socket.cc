#include "tests/support/client_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace shoal::testing {

namespace {

absl::Status Errno(int err, const std::string& what) { return core::ErrnoStatus(err, what); }

core::SocketAddress Loopback(uint16_t port) {
  core::SocketAddress address = *core::SocketAddress::Parse("127.0.0.1:0");
  address.set_port(port);
  return address;
}

absl::Status SetBlocking(int fd, bool blocking) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return Errno(errno, "fcntl(F_GETFL)");
  flags = blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK);
  if (fcntl(fd, F_SETFL, flags) != 0) return Errno(errno, "fcntl(F_SETFL)");
  return absl::OkStatus();
}

// Starts a non-blocking connect on a blocking-mode socket.
absl::Status StartConnect(int fd, uint16_t port) {
  if (auto status = SetBlocking(fd, false); !status.ok()) return status;
  core::SocketAddress address = Loopback(port);
  if (connect(fd, address.sockaddr_ptr(), address.length()) != 0 &&
      errno != EINPROGRESS) {
    return Errno(errno, "connect");
  }
  return absl::OkStatus();
}

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

std::string Progress(size_t done, size_t total) {
  return std::to_string(done) + " of " + std::to_string(total) + " bytes";
}

End EndNow(End end, End::Kind kind, int error = 0) {
  end.kind = kind;
  end.error = error;
  end.at = Clock::now();
  return end;
}

}  // namespace

absl::StatusOr<core::ScopedFd> NewClientSocket(const ClientOptions& options) {
  core::ScopedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno(errno, "socket");
  if (options.receive_buffer > 0) {
    if (auto s = core::SetReceiveBuffer(fd.get(), options.receive_buffer); !s.ok()) return s;
  }
  if (options.send_buffer > 0) {
    if (auto s = core::SetSendBuffer(fd.get(), options.send_buffer); !s.ok()) return s;
  }
  (void)core::SetTcpNoDelay(fd.get(), true);
  return fd;
}

absl::Status ConnectSocket(int fd, uint16_t port, Deadline deadline) {
  if (auto status = StartConnect(fd, port); !status.ok()) return status;
  for (;;) {
    pollfd p{fd, POLLOUT, 0};
    int n = poll(&p, 1, deadline.remaining_ms());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno(errno, "poll(connect)");
    if (n == 0) return absl::DeadlineExceededError("connect timed out");
    break;
  }
  int err = core::PendingError(fd);
  if (err != 0) return Errno(err, "connect");
  return SetBlocking(fd, true);
}

absl::StatusOr<core::ScopedFd> Connect(uint16_t port, Deadline deadline,
                                       const ClientOptions& options) {
  auto fd = NewClientSocket(options);
  if (!fd.ok()) return fd.status();
  if (auto status = ConnectSocket(fd->get(), port, deadline); !status.ok()) return status;
  return std::move(*fd);
}

absl::StatusOr<core::ScopedFd> ConnectFrom(std::string_view source, uint16_t port,
                                           Deadline deadline) {
  auto fd = NewClientSocket();
  if (!fd.ok()) return fd.status();
  sockaddr_in local{};
  local.sin_family = AF_INET;
  const std::string source_text(source);
  if (inet_pton(AF_INET, source_text.c_str(), &local.sin_addr) != 1 ||
      bind(fd->get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    return absl::InternalError("bind to " + source_text);
  }
  if (auto status = ConnectSocket(fd->get(), port, deadline); !status.ok()) return status;
  return fd;
}

absl::StatusOr<std::vector<core::ScopedFd>> ConnectMany(uint16_t port, size_t count,
                                                        Deadline deadline,
                                                        const ClientOptions& options) {
  std::vector<core::ScopedFd> fds;
  std::vector<pollfd> pending;
  fds.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    auto fd = NewClientSocket(options);
    if (!fd.ok()) return fd.status();
    if (auto status = StartConnect(fd->get(), port); !status.ok()) return status;
    pending.push_back(pollfd{fd->get(), POLLOUT, 0});
    fds.push_back(std::move(*fd));
  }
  size_t done = 0;
  std::vector<bool> connected(count, false);
  while (done < count) {
    int n = poll(pending.data(), pending.size(), deadline.remaining_ms());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno(errno, "poll(connect)");
    if (n == 0) {
      return absl::DeadlineExceededError("connect: " + std::to_string(count - done) + " of " +
                                         std::to_string(count) + " still pending");
    }
    for (size_t i = 0; i < count; ++i) {
      if (connected[i] || pending[i].revents == 0) continue;
      int err = core::PendingError(pending[i].fd);
      if (err != 0) return Errno(err, "connect #" + std::to_string(i));
      connected[i] = true;
      pending[i].fd = -pending[i].fd - 1;  // poll ignores negative fds
      ++done;
    }
  }
  for (auto& fd : fds) {
    if (auto status = SetBlocking(fd.get(), true); !status.ok()) return status;
  }
  return fds;
}

absl::StatusOr<OccupiedPort> OccupyLoopbackPort() {
  auto address = core::SocketAddress::Parse("127.0.0.1:0");
  if (!address.ok()) return address.status();
  core::ListenOptions options;
  options.backlog = 16;
  auto fd = core::Listen(*address, options);
  if (!fd.ok()) return fd.status();
  auto bound = core::LocalAddress(fd->get());
  if (!bound.ok()) return bound.status();
  return OccupiedPort{*std::move(fd), bound->port()};
}

absl::Status SendAll(int fd, std::string_view bytes, Deadline deadline) {
  const size_t total = bytes.size();
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && !WouldBlock(errno)) return Errno(errno, "send");
    pollfd p{fd, POLLOUT, 0};
    int ready = poll(&p, 1, deadline.remaining_ms());
    if (ready < 0 && errno != EINTR) return Errno(errno, "poll(send)");
    if (ready == 0) {
      return absl::DeadlineExceededError("send timed out: sent " +
                                         Progress(total - bytes.size(), total));
    }
  }
  return absl::OkStatus();
}

namespace {

// Reads into out[got..out->size()) until it is full; the status says why it stopped short.
absl::Status ReadInto(int fd, std::string* out, size_t* got, Deadline deadline) {
  const size_t n = out->size();
  while (*got < n) {
    ssize_t r = recv(fd, out->data() + *got, n - *got, MSG_DONTWAIT);
    if (r > 0) {
      *got += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) return absl::UnavailableError("EOF after " + Progress(*got, n));
    if (!WouldBlock(errno)) return Errno(errno, "recv after " + Progress(*got, n));
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, deadline.remaining_ms());
    if (ready < 0 && errno != EINTR) return Errno(errno, "poll(recv)");
    if (ready == 0) {
      return absl::DeadlineExceededError("recv timed out after " + Progress(*got, n));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadExactly(int fd, size_t n, Deadline deadline) {
  std::string out(n, '\0');
  size_t got = 0;
  if (auto status = ReadInto(fd, &out, &got, deadline); !status.ok()) return status;
  return out;
}

std::string ReadUpTo(int fd, size_t n, Deadline deadline) {
  std::string out(n, '\0');
  size_t got = 0;
  (void)ReadInto(fd, &out, &got, deadline);
  out.resize(got);
  return out;
}

std::string EndKindName(EndKind kind) {
  switch (kind) {
    case EndKind::kEof: return "EOF";
    case EndKind::kReset: return "ECONNRESET";
    case EndKind::kData: return "unexpected data";
    case EndKind::kTimeout: return "timeout";
    case EndKind::kError: return "error";
  }
  return "?";
}

EndKind WaitForEnd(int fd, Deadline deadline, std::string* data) {
  char buffer[4096];
  for (;;) {
    ssize_t r = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (r == 0) return EndKind::kEof;
    if (r > 0) {
      if (data != nullptr) data->append(buffer, static_cast<size_t>(r));
      return EndKind::kData;
    }
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return EndKind::kReset;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return EndKind::kError;
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, deadline.remaining_ms());
    if (ready == 0) return EndKind::kTimeout;
  }
}

std::string End::ToString() const {
  switch (kind) {
    case Kind::kEof:
      return "EOF after " + std::to_string(data_bytes) + " bytes";
    case Kind::kReset:
      return "reset after " + std::to_string(data_bytes) + " bytes";
    case Kind::kTimeout:
      return "still open (timeout) after " + std::to_string(data_bytes) + " bytes";
    case Kind::kError:
      return std::string("error ") + std::strerror(error);
  }
  return "?";
}

End ReadUntilEnd(int fd, Deadline deadline) {
  End end;
  char buffer[65536];
  for (;;) {
    ssize_t got = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (got > 0) {
      end.data_bytes += static_cast<size_t>(got);
      continue;
    }
    if (got == 0) return EndNow(end, End::Kind::kEof);
    if (errno == ECONNRESET) return EndNow(end, End::Kind::kReset, errno);
    if (!WouldBlock(errno)) return EndNow(end, End::Kind::kError, errno);
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, deadline.remaining_ms()) == 0) return EndNow(end, End::Kind::kTimeout);
  }
}

End WaitForEndWithoutReading(int fd, Deadline deadline) {
  // Only POLLRDHUP is asked for; POLLERR and POLLHUP are always reported. Pending data does not
  // wake this poll.
  pollfd p{fd, POLLRDHUP, 0};
  int ready = poll(&p, 1, deadline.remaining_ms());
  if (ready == 0) return EndNow({}, End::Kind::kTimeout);
  int error = core::PendingError(fd);
  if (error == ECONNRESET || (p.revents & POLLERR) != 0) {
    return EndNow({}, End::Kind::kReset, error);
  }
  return EndNow({}, End::Kind::kEof);
}

int PickFreePort() {
  core::ScopedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  core::SocketAddress address = Loopback(0);
  if (bind(fd.get(), address.sockaddr_ptr(), address.length()) != 0) return -1;
  auto bound = core::LocalAddress(fd.get());
  return bound.ok() ? bound->port() : -1;
}

}  // namespace shoal::testing
