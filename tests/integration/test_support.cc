#include "tests/integration/test_support.h"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <sstream>
#include <thread>

#include "server/protocols/echo.h"

namespace shoal::integration {

namespace {

constexpr size_t kScratchBytes = 256 * 1024;

absl::Status Errno(int err, const std::string& what) { return core::ErrnoStatus(err, what); }

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
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
  sockaddr_in address = Loopback(port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 &&
      errno != EINPROGRESS) {
    return Errno(errno, "connect");
  }
  return absl::OkStatus();
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

int Deadline::remaining_ms() const {
  auto left = at_ - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  return static_cast<int>(std::chrono::ceil<milliseconds>(left).count());
}

std::function<bool()> StallDetector(std::function<uint64_t()> progress, Clock::duration timeout,
                                    bool* stalled) {
  auto last_value = std::make_shared<uint64_t>(progress());
  auto last_change = std::make_shared<Clock::time_point>(Clock::now());
  *stalled = false;
  return [=] {
    uint64_t value = progress();
    if (value != *last_value) {
      *last_value = value;
      *last_change = Clock::now();
      return false;
    }
    if (Clock::now() - *last_change >= timeout) {
      *stalled = true;
      return true;
    }
    return false;
  };
}

uint64_t ResidentBytes() {
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  int parsed = std::fscanf(statm, "%lu %lu", &size, &resident);
  std::fclose(statm);
  return parsed == 2 ? static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE))
                     : 0;
}

bool WaitFor(const std::function<bool()>& condition, Clock::duration timeout) {
  Deadline deadline = Deadline::In(timeout);
  for (;;) {
    if (condition()) return true;
    if (deadline.expired()) return condition();
    // Poll interval of the condition check (not a synchronisation sleep).
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// ---------------------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(const TestServerOptions& options) {
  auto address = core::SocketAddress::Parse("127.0.0.1:0");
  if (!address.ok()) return address.status();
  core::ServerOptions server_options;
  server_options.workers = options.workers;
  server_options.settings = options.settings;
  server_options.socket = options.socket;
  server_options.max_connections = options.max_connections;
  core::ServerListenerOptions listener;
  listener.name = "echo";
  listener.address = *address;
  listener.backlog = options.backlog;
  listener.reuse_port = true;
  server_options.listeners.push_back(listener);

  server::EchoSettings echo_settings;
  echo_settings.max_frame_bytes = options.max_frame_bytes;
  auto server = core::Server::Create(
      server_options, [echo_settings](size_t, int) -> std::unique_ptr<core::Protocol> {
        return std::make_unique<server::EchoProtocol>(echo_settings);
      });
  if (!server.ok()) return server.status();
  std::unique_ptr<TestServer> result(new TestServer());
  result->server_ = std::move(*server);
  if (result->server_->bound_addresses().size() != 1) {
    return absl::InternalError("expected exactly one bound address");
  }
  result->address_ = result->server_->bound_addresses()[0];
  if (result->address_.port() == 0) return absl::InternalError("bound port is 0");
  if (auto status = result->server_->Start(); !status.ok()) return status;
  return result;
}

TestServer::~TestServer() {
  if (server_) server_->Stop();
}

const core::WorkerStats& TestServer::worker_stats(int worker) const {
  return server_->workers()[static_cast<size_t>(worker)]->stats();
}

const core::ListenerStats& TestServer::listener_stats(int worker) const {
  return *worker_stats(worker).listeners[0];
}

uint64_t TestServer::accepted() const {
  uint64_t sum = 0;
  for (int w = 0; w < worker_count(); ++w) sum += listener_stats(w).accepted.value();
  return sum;
}

int64_t TestServer::active() const {
  int64_t sum = 0;
  for (int w = 0; w < worker_count(); ++w) sum += listener_stats(w).active.value();
  return sum;
}

uint64_t TestServer::closed(core::CloseReason reason) const {
  uint64_t sum = 0;
  for (int w = 0; w < worker_count(); ++w) {
    sum += listener_stats(w).closed[static_cast<size_t>(reason)].value();
  }
  return sum;
}

uint64_t TestServer::closed_total() const {
  uint64_t sum = 0;
  for (size_t r = 0; r < core::kCloseReasonCount; ++r) {
    sum += closed(static_cast<core::CloseReason>(r));
  }
  return sum;
}

uint64_t TestServer::requests() const {
  uint64_t sum = 0;
  for (int w = 0; w < worker_count(); ++w) sum += listener_stats(w).requests.value();
  return sum;
}

uint64_t TestServer::bytes_received() const {
  uint64_t sum = 0;
  for (int w = 0; w < worker_count(); ++w) sum += listener_stats(w).bytes_received.value();
  return sum;
}

uint64_t TestServer::bytes_sent() const {
  uint64_t sum = 0;
  for (int w = 0; w < worker_count(); ++w) sum += listener_stats(w).bytes_sent.value();
  return sum;
}

size_t AcceptErrorIndex(int err) {
  for (size_t i = 0; i < core::kCountedAcceptErrnos.size(); ++i) {
    if (core::kCountedAcceptErrnos[i] == err) return i;
  }
  return core::kCountedAcceptErrnos.size();
}

uint64_t TestServer::accept_errors(int err) const {
  uint64_t sum = 0;
  for (int w = 0; w < worker_count(); ++w) {
    sum += listener_stats(w).accept_errors[AcceptErrorIndex(err)].value();
  }
  return sum;
}

std::vector<uint64_t> TestServer::accepted_per_worker() const {
  std::vector<uint64_t> result;
  for (int w = 0; w < worker_count(); ++w) result.push_back(listener_stats(w).accepted.value());
  return result;
}

std::string TestServer::StatsSummary() const {
  std::ostringstream out;
  for (int w = 0; w < worker_count(); ++w) {
    const core::WorkerStats& ws = worker_stats(w);
    const core::ListenerStats& ls = listener_stats(w);
    out << "[worker " << w << ": accepted=" << ls.accepted.value()
        << " active=" << ls.active.value() << " requests=" << ls.requests.value()
        << " rx=" << ls.bytes_received.value() << " tx=" << ls.bytes_sent.value()
        << " queued=" << ws.output_queue_bytes.value()
        << " pauses=" << ws.backpressure_pauses.value()
        << " resumes=" << ws.backpressure_resumes.value() << " closed{";
    for (size_t r = 0; r < core::kCloseReasonCount; ++r) {
      uint64_t n = ls.closed[r].value();
      if (n != 0) out << core::CloseReasonName(static_cast<core::CloseReason>(r)) << "=" << n << " ";
    }
    out << "} accept_errors{";
    for (size_t i = 0; i < ls.accept_errors.size(); ++i) {
      uint64_t n = ls.accept_errors[i].value();
      if (n == 0) continue;
      if (i < core::kCountedAcceptErrnos.size()) {
        out << "errno" << core::kCountedAcceptErrnos[i] << "=" << n << " ";
      } else {
        out << "other=" << n << " ";
      }
    }
    out << "} turns=" << ws.loop_turn.count() << "] ";
  }
  return out.str();
}

// ---------------------------------------------------------------------------------------------

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

absl::Status WriteAll(int fd, std::string_view bytes, Deadline deadline) {
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return Errno(errno, "send");
    pollfd p{fd, POLLOUT, 0};
    int ready = poll(&p, 1, deadline.remaining_ms());
    if (ready < 0 && errno != EINTR) return Errno(errno, "poll(send)");
    if (ready == 0) {
      return absl::DeadlineExceededError("send timed out with " + std::to_string(bytes.size()) +
                                         " bytes unsent");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadExactly(int fd, size_t n, Deadline deadline) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(fd, out.data() + got, n - got, MSG_DONTWAIT);
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) {
      return absl::UnavailableError("EOF after " + std::to_string(got) + " of " +
                                    std::to_string(n) + " bytes");
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Errno(errno, "recv after " + std::to_string(got) + " of " + std::to_string(n) +
                              " bytes");
    }
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, deadline.remaining_ms());
    if (ready < 0 && errno != EINTR) return Errno(errno, "poll(recv)");
    if (ready == 0) {
      return absl::DeadlineExceededError("recv timed out after " + std::to_string(got) + " of " +
                                         std::to_string(n) + " bytes");
    }
  }
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

std::string EncodeFrameHeader(uint32_t length) {
  std::string header(4, '\0');
  header[0] = static_cast<char>(length >> 24);
  header[1] = static_cast<char>(length >> 16);
  header[2] = static_cast<char>(length >> 8);
  header[3] = static_cast<char>(length);
  return header;
}

std::string EncodeFrame(std::string_view payload) {
  std::string frame = EncodeFrameHeader(static_cast<uint32_t>(payload.size()));
  frame.append(payload.data(), payload.size());
  return frame;
}

rlim_t RaiseFdLimitToHard() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

// ---------------------------------------------------------------------------------------------

FrameStream::FrameStream(uint64_t seed, std::vector<uint32_t> payload_sizes)
    : seed_(SplitMix64(seed)), sizes_(std::move(payload_sizes)) {
  starts_.reserve(sizes_.size() + 1);
  uint64_t offset = 0;
  for (uint32_t size : sizes_) {
    starts_.push_back(offset);
    offset += server::kEchoHeaderBytes + size;
  }
  starts_.push_back(offset);
  total_ = offset;
}

FrameStream FrameStream::Random(uint64_t seed, size_t frames, uint32_t min_size,
                                uint32_t max_size) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint32_t> size(min_size, max_size);
  std::vector<uint32_t> sizes;
  sizes.reserve(frames);
  for (size_t i = 0; i < frames; ++i) sizes.push_back(size(rng));
  return FrameStream(seed, std::move(sizes));
}

FrameStream FrameStream::Fixed(uint64_t seed, uint32_t payload_size, uint64_t total_bytes) {
  uint64_t frame_bytes = server::kEchoHeaderBytes + payload_size;
  size_t frames = static_cast<size_t>((total_bytes + frame_bytes - 1) / frame_bytes);
  return FrameStream(seed, std::vector<uint32_t>(frames, payload_size));
}

uint64_t FrameStream::frame_start(size_t frame) const { return starts_[frame]; }

size_t FrameStream::FrameAt(uint64_t offset) const {
  // The last start <= offset (zero-length frames have distinct starts, 4 bytes apart).
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  return static_cast<size_t>(it - starts_.begin()) - 1;
}

bool FrameStream::IsFrameBoundary(uint64_t offset) const {
  return std::binary_search(starts_.begin(), starts_.end(), offset);
}

uint64_t FrameStream::FrameEnd(uint64_t offset) const { return starts_[FrameAt(offset) + 1]; }

void FrameStream::FillPayload(size_t frame, uint64_t index, char* out, size_t n) const {
  const uint64_t frame_key = SplitMix64(seed_ ^ (static_cast<uint64_t>(frame) << 1));
  while (n > 0) {
    uint64_t word = SplitMix64(frame_key + (index >> 3) * 0xD1B54A32D192ED03ull);
    size_t shift = static_cast<size_t>(index & 7);
    size_t take = std::min<size_t>(n, 8 - shift);
    for (size_t b = 0; b < take; ++b) {
      out[b] = static_cast<char>(word >> ((shift + b) * 8));
    }
    out += take;
    n -= take;
    index += take;
  }
}

void FrameStream::Fill(uint64_t offset, char* out, size_t n) const {
  if (n == 0) return;
  size_t frame = FrameAt(offset);
  while (n > 0) {
    uint64_t within = offset - starts_[frame];
    uint64_t frame_bytes = starts_[frame + 1] - starts_[frame];
    if (within >= frame_bytes) {
      ++frame;
      continue;
    }
    size_t take;
    if (within < server::kEchoHeaderBytes) {
      std::string header = EncodeFrameHeader(sizes_[frame]);
      take = std::min<size_t>(n, server::kEchoHeaderBytes - within);
      std::memcpy(out, header.data() + within, take);
    } else {
      take = static_cast<size_t>(std::min<uint64_t>(n, frame_bytes - within));
      FillPayload(frame, within - server::kEchoHeaderBytes, out, take);
    }
    out += take;
    offset += take;
    n -= take;
  }
}

size_t FrameStream::MatchPrefix(uint64_t offset, const char* data, size_t n) const {
  char expected[16 * 1024];
  size_t done = 0;
  while (done < n) {
    size_t take = std::min(n - done, sizeof(expected));
    Fill(offset + done, expected, take);
    if (std::memcmp(expected, data + done, take) != 0) {
      for (size_t i = 0; i < take; ++i) {
        if (expected[i] != data[done + i]) return done + i;
      }
    }
    done += take;
  }
  return n;
}

std::string FrameStream::Describe(uint64_t offset) const {
  if (offset >= total_) return "end of stream (offset " + std::to_string(offset) + ")";
  size_t frame = FrameAt(offset);
  uint64_t within = offset - starts_[frame];
  std::string where = within < server::kEchoHeaderBytes
                          ? "header byte " + std::to_string(within)
                          : "payload byte " + std::to_string(within - server::kEchoHeaderBytes);
  return "offset " + std::to_string(offset) + ": frame " + std::to_string(frame) + " of " +
         std::to_string(sizes_.size()) + " (payload " + std::to_string(sizes_[frame]) +
         " bytes), " + where;
}

// ---------------------------------------------------------------------------------------------

EchoDriver::EchoDriver()
    : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)), scratch_(new char[kScratchBytes]) {}

EchoDriver::~EchoDriver() = default;

size_t EchoDriver::Add(int fd, FrameStream stream) {
  Conn c;
  c.fd = fd;
  c.stream = std::move(stream);
  conns_.push_back(std::move(c));
  return conns_.size() - 1;
}

bool EchoDriver::Finished(const Conn& c) {
  if (c.failed() || c.eof) return true;
  return !c.expect_eof && c.received == c.stream.size();
}

bool EchoDriver::AllFinished() const {
  for (const Conn& c : conns_) {
    if (!Finished(c)) return false;
  }
  return true;
}

void EchoDriver::UpdateInterest(size_t i) {
  Conn& c = conns_[i];
  if (Finished(c)) {
    if (c.registered) {
      epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, c.fd, nullptr);
      c.registered = false;
    }
    return;
  }
  uint32_t events = 0;
  if (c.read_enabled) events |= EPOLLIN | EPOLLRDHUP;
  bool can_write = c.write_enabled && !c.write_shut && !c.eof &&
                   (c.sent < c.stream.size() || c.shutdown_after_write) &&
                   (!c.ping_pong || c.received == c.sent);
  if (can_write) events |= EPOLLOUT;
  if (c.registered && events == c.interest) return;
  epoll_event event{};
  event.events = events;
  event.data.u64 = i;
  if (!c.registered) {
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, c.fd, &event);
    c.registered = true;
  } else {
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, c.fd, &event);
  }
  c.interest = events;
}

void EchoDriver::DoWrite(Conn& c) {
  for (int rounds = 0; rounds < 4; ++rounds) {
    if (!c.write_enabled || c.write_shut || c.eof || c.failed()) return;
    if (c.sent == c.stream.size()) break;
    if (c.ping_pong && c.received != c.sent) return;
    uint64_t limit = c.stream.size();
    if (c.ping_pong) {
      limit = c.stream.FrameEnd(c.sent);
      size_t next = c.stream.FrameAt(c.sent) + 1;
      if (c.half_frame_ahead && next < c.stream.frame_count()) {
        uint64_t next_bytes = c.stream.frame_start(next + 1) - c.stream.frame_start(next);
        limit = c.stream.frame_start(next) + next_bytes / 2;
      }
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(kScratchBytes, limit - c.sent));
    c.stream.Fill(c.sent, scratch_.get(), want);
    ssize_t n = send(c.fd, scratch_.get(), want, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c.write_blocked = true;
        return;
      }
      c.error = errno;
      return;
    }
    c.sent += static_cast<uint64_t>(n);
    c.write_blocked = static_cast<size_t>(n) < want;
    if (c.write_blocked) return;
  }
  if (c.sent == c.stream.size() && c.shutdown_after_write && !c.write_shut) {
    if (shutdown(c.fd, SHUT_WR) != 0) c.error = errno;
    c.write_shut = true;
  }
}

void EchoDriver::DoRead(Conn& c) {
  for (int rounds = 0; rounds < 8; ++rounds) {
    if (c.failed() || c.eof) return;
    ssize_t n = recv(c.fd, scratch_.get(), kScratchBytes, MSG_DONTWAIT);
    if (n == 0) {
      c.eof = true;
      if (c.shutdown_on_eof && !c.write_shut) {
        shutdown(c.fd, SHUT_WR);
        c.write_shut = true;
      }
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) c.error = errno;
      return;
    }
    size_t got = static_cast<size_t>(n);
    if (c.received + got > c.stream.size()) {
      c.failure = "received " + std::to_string(c.received + got) + " bytes, more than the " +
                  std::to_string(c.stream.size()) + " sent";
      return;
    }
    if (c.received + got > c.sent) {
      c.failure = "received " + std::to_string(c.received + got) + " bytes, more than the " +
                  std::to_string(c.sent) + " sent so far";
      return;
    }
    size_t match = c.stream.MatchPrefix(c.received, scratch_.get(), got);
    if (match != got) {
      c.failure = "echoed byte differs at " + c.stream.Describe(c.received + match);
      return;
    }
    c.received += got;
    if (got < kScratchBytes) return;
  }
}

EchoDriver::Result EchoDriver::Run(Deadline deadline, const std::function<bool()>& stop) {
  std::vector<epoll_event> events(256);
  for (size_t i = 0; i < conns_.size(); ++i) UpdateInterest(i);
  for (;;) {
    if (AllFinished()) return Result::kAllFinished;
    if (stop && stop()) return Result::kStopped;
    if (deadline.expired()) return Result::kDeadline;
    int timeout = std::min(deadline.remaining_ms(), 5);
    int n = epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0 && errno == EINTR) continue;
    for (int e = 0; e < n; ++e) {
      size_t i = static_cast<size_t>(events[e].data.u64);
      Conn& c = conns_[i];
      uint32_t ev = events[e].events;
      if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && c.read_enabled) DoRead(c);
      if (ev & EPOLLOUT) DoWrite(c);
      if ((ev & (EPOLLERR | EPOLLHUP)) && !c.read_enabled && !c.failed()) {
        // Without reading, a hang-up would be reported again at once: record it and stop.
        int err = core::PendingError(c.fd);
        c.error = err != 0 ? err : EPIPE;
      }
      // A ping-pong connection that just got its echo may write the next frame at once.
      if (c.ping_pong && c.received == c.sent) DoWrite(c);
      UpdateInterest(i);
    }
  }
}

bool EchoDriver::SocketWritable(size_t i) const {
  pollfd p{conns_[i].fd, POLLOUT, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) != 0;
}

uint64_t EchoDriver::total_received() const {
  uint64_t sum = 0;
  for (const Conn& c : conns_) sum += c.received;
  return sum;
}

uint64_t EchoDriver::total_sent() const {
  uint64_t sum = 0;
  for (const Conn& c : conns_) sum += c.sent;
  return sum;
}

std::string EchoDriver::Summary() const {
  size_t finished = 0, failed = 0, eof = 0;
  std::ostringstream problems;
  int shown = 0;
  for (size_t i = 0; i < conns_.size(); ++i) {
    const Conn& c = conns_[i];
    if (Finished(c)) ++finished;
    if (c.eof) ++eof;
    bool bad = c.failed() || !Finished(c);
    if (c.failed()) ++failed;
    if (bad && shown < 5) {
      ++shown;
      problems << "\n  conn " << i << ": sent " << c.sent << "/" << c.stream.size()
               << " received " << c.received << (c.eof ? " EOF" : "")
               << (c.write_blocked ? " write-blocked" : "");
      if (c.error != 0) problems << " error: " << std::strerror(c.error);
      if (!c.failure.empty()) problems << " failure: " << c.failure;
    }
  }
  std::ostringstream out;
  out << conns_.size() << " connections: " << finished << " finished, " << failed << " failed, "
      << eof << " saw EOF; sent " << total_sent() << " received " << total_received()
      << problems.str();
  return out.str();
}

// ---------------------------------------------------------------------------------------------

absl::StatusOr<std::pair<core::ScopedFd, int>> ConnectAttributed(TestServer& server,
                                                                 Deadline deadline,
                                                                 const ClientOptions& options) {
  std::vector<uint64_t> before = server.accepted_per_worker();
  uint64_t before_total = server.accepted();
  auto fd = Connect(server.port(), deadline, options);
  if (!fd.ok()) return fd.status();
  auto remaining = deadline.at() - Clock::now();
  if (!WaitFor([&] { return server.accepted() > before_total; },
               std::max(remaining, Clock::duration::zero()))) {
    return absl::DeadlineExceededError("no worker accepted the connection");
  }
  std::vector<uint64_t> after = server.accepted_per_worker();
  int worker = -1;
  for (size_t w = 0; w < after.size(); ++w) {
    if (after[w] != before[w]) {
      if (worker >= 0 || after[w] != before[w] + 1) {
        return absl::InternalError("more than one connection accepted at once");
      }
      worker = static_cast<int>(w);
    }
  }
  return std::make_pair(std::move(*fd), worker);
}

absl::StatusOr<std::vector<std::vector<core::ScopedFd>>> ConnectBalanced(
    TestServer& server, size_t per_worker, Deadline deadline, const ClientOptions& options) {
  const size_t workers = static_cast<size_t>(server.worker_count());
  std::vector<std::vector<core::ScopedFd>> by_worker(workers);
  const size_t max_attempts = per_worker * workers * 20 + 100;
  for (size_t attempt = 0; attempt < max_attempts; ++attempt) {
    bool full = true;
    for (const auto& fds : by_worker) full = full && fds.size() >= per_worker;
    if (full) return by_worker;
    auto connected = ConnectAttributed(server, deadline, options);
    if (!connected.ok()) return connected.status();
    auto& slot = by_worker[static_cast<size_t>(connected->second)];
    if (slot.size() < per_worker) slot.push_back(std::move(connected->first));
    // else: the surplus connection closes here.
  }
  return absl::DeadlineExceededError("could not place " + std::to_string(per_worker) +
                                     " connections on every worker");
}

}  // namespace shoal::integration
