#include "tests/support/echo_client.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "tests/support/client_socket.h"
#include "tests/support/echo_wire.h"

namespace shoal::testing {

namespace {

constexpr size_t kScratchBytes = 256 * 1024;

}  // namespace

absl::Status PingPong(int fd, std::string_view payload, Deadline deadline) {
  std::string frame = EncodeFrame(payload);
  if (auto status = SendAll(fd, frame, deadline); !status.ok()) return status;
  auto echoed = ReadExactly(fd, frame.size(), deadline);
  if (!echoed.ok()) return echoed.status();
  if (*echoed != frame) return absl::DataLossError("echo differs from the frame sent");
  return absl::OkStatus();
}

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

uint64_t EchoDriver::received_by(const std::vector<size_t>& indexes) const {
  uint64_t sum = 0;
  for (size_t i : indexes) sum += conns_[i].received;
  return sum;
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

}  // namespace shoal::testing
