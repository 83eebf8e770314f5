#include "tests/integration/deadlines/deadline_test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>

#include "server/protocols/echo.h"

namespace shoal::deadlines_test {

namespace {

// Milliseconds left until `deadline`, rounded up, at least 0.
int RemainingMs(Clock::time_point deadline) {
  auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  return static_cast<int>(std::chrono::ceil<milliseconds>(left).count());
}

}  // namespace

double MillisBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// ---------------------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<EchoServer>> EchoServer::Start(const EchoServerOptions& options) {
  core::ServerOptions server_options;
  server_options.workers = options.workers;
  server_options.tick_ns = options.tick_ns;
  server_options.settings = options.settings;
  server_options.socket = options.socket;
  auto address = core::SocketAddress::Parse("127.0.0.1:0");
  if (!address.ok()) return address.status();
  server_options.listeners.push_back({"echo", *address, 1024, true});
  auto server = core::Server::Create(server_options, [](size_t, int) {
    return std::make_unique<server::EchoProtocol>(server::EchoSettings{1 << 20});
  });
  if (!server.ok()) return server.status();
  std::unique_ptr<EchoServer> result(new EchoServer());
  result->server_ = std::move(*server);
  result->port_ = result->server_->bound_addresses()[0].port();
  if (auto status = result->server_->Start(); !status.ok()) return status;
  return result;
}

EchoServer::~EchoServer() {
  if (server_) server_->Stop();
}

uint64_t EchoServer::closed(core::CloseReason reason) const {
  uint64_t sum = 0;
  for (const auto& worker : server_->workers()) {
    sum += worker->stats().listeners[0]->closed[static_cast<size_t>(reason)].value();
  }
  return sum;
}

uint64_t EchoServer::closed_total() const {
  uint64_t sum = 0;
  for (size_t r = 0; r < core::kCloseReasonCount; ++r) {
    sum += closed(static_cast<core::CloseReason>(r));
  }
  return sum;
}

int64_t EchoServer::active() const {
  int64_t sum = 0;
  for (const auto& worker : server_->workers()) sum += worker->stats().listeners[0]->active.value();
  return sum;
}

std::string EchoServer::StatsSummary() {
  std::string out = Barrier(milliseconds(1000)) ? "" : "(workers busy) ";
  out += "accepted/active/closed:";
  uint64_t accepted = 0;
  for (const auto& worker : server_->workers()) {
    accepted += worker->stats().listeners[0]->accepted.value();
  }
  out += " accepted=" + std::to_string(accepted) + " active=" + std::to_string(active());
  for (size_t r = 0; r < core::kCloseReasonCount; ++r) {
    auto reason = static_cast<core::CloseReason>(r);
    if (uint64_t n = closed(reason); n > 0) {
      out += " " + std::string(core::CloseReasonName(reason)) + "=" + std::to_string(n);
    }
  }
  return out;
}

bool EchoServer::Barrier(milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  std::vector<std::future<void>> done;
  for (const auto& worker : server_->workers()) {
    // Shared: if we give up, the task still finds its promise alive when it runs.
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    worker->event_loop().Post([promise] { promise->set_value(); });
  }
  for (auto& future : done) {
    if (future.wait_until(deadline) != std::future_status::ready) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

absl::StatusOr<core::ScopedFd> Connect(uint16_t port, int receive_buffer) {
  core::ScopedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return core::ErrnoStatus(errno, "socket");
  if (receive_buffer > 0 &&
      setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer)) != 0) {
    return core::ErrnoStatus(errno, "SO_RCVBUF");
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Loopback: the handshake completes inside connect() (or fails at once).
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return core::ErrnoStatus(errno, "connect");
  }
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

std::string EncodeFrameHeader(uint32_t length) {
  uint32_t big_endian = htonl(length);
  return std::string(reinterpret_cast<const char*>(&big_endian), 4);
}

std::string EncodeFrame(std::string_view payload) {
  return EncodeFrameHeader(static_cast<uint32_t>(payload.size())) + std::string(payload);
}

absl::Status SendAll(int fd, std::string_view bytes, milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return core::ErrnoStatus(errno, "send");
    }
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, RemainingMs(deadline)) == 0) {
      return absl::DeadlineExceededError("send: sent " + std::to_string(done) + " of " +
                                         std::to_string(bytes.size()) + " bytes");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadExactly(int fd, size_t n, milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  std::string out;
  char buffer[65536];
  while (out.size() < n) {
    ssize_t got = recv(fd, buffer, std::min(sizeof(buffer), n - out.size()), MSG_DONTWAIT);
    if (got > 0) {
      out.append(buffer, static_cast<size_t>(got));
      continue;
    }
    if (got == 0) {
      return absl::UnavailableError("EOF after " + std::to_string(out.size()) + " of " +
                                    std::to_string(n) + " bytes");
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return core::ErrnoStatus(errno, "recv");
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, RemainingMs(deadline)) == 0) {
      return absl::DeadlineExceededError("recv: got " + std::to_string(out.size()) + " of " +
                                         std::to_string(n) + " bytes");
    }
  }
  return out;
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

End WaitForEnd(int fd, milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  End end;
  char buffer[65536];
  for (;;) {
    ssize_t got = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (got > 0) {
      end.data_bytes += static_cast<size_t>(got);
      continue;
    }
    if (got == 0) {
      end.kind = End::Kind::kEof;
      end.at = Clock::now();
      return end;
    }
    if (errno == ECONNRESET) {
      end.kind = End::Kind::kReset;
      end.error = errno;
      end.at = Clock::now();
      return end;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      end.kind = End::Kind::kError;
      end.error = errno;
      end.at = Clock::now();
      return end;
    }
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, RemainingMs(deadline)) == 0) {
      end.kind = End::Kind::kTimeout;
      end.at = Clock::now();
      return end;
    }
  }
}

End WaitForEndWithoutReading(int fd, milliseconds timeout) {
  End end;
  // Only POLLRDHUP is asked for; POLLERR and POLLHUP are always reported. Pending data does not
  // wake this poll.
  pollfd p{fd, POLLRDHUP, 0};
  int ready = poll(&p, 1, static_cast<int>(timeout.count()));
  end.at = Clock::now();
  if (ready == 0) {
    end.kind = End::Kind::kTimeout;
    return end;
  }
  int error = core::PendingError(fd);
  if (error == ECONNRESET || (p.revents & POLLERR) != 0) {
    end.kind = End::Kind::kReset;
    end.error = error;
  } else {
    end.kind = End::Kind::kEof;
  }
  return end;
}

absl::Status PingPong(int fd, std::string_view payload, milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  std::string frame = EncodeFrame(payload);
  if (auto status = SendAll(fd, frame, timeout); !status.ok()) return status;
  auto echoed = ReadExactly(fd, frame.size(),
                            std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
  if (!echoed.ok()) return echoed.status();
  if (*echoed != frame) return absl::DataLossError("echo differs from the frame sent");
  return absl::OkStatus();
}

}  // namespace shoal::deadlines_test
