#include "tests/support/reconnecting_echo_load.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tests/support/echo_wire.h"

namespace shoal::testing {

namespace {

using Clock = std::chrono::steady_clock;

enum class Outcome { kAnswered, kClosedBeforeAnswer, kReset, kTimeout, kMismatch };

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count() + 1));
}

// A connected blocking socket, or -errno.
int Connect(uint16_t port, Clock::time_point deadline) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int err = 0;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      err = poll(&p, 1, RemainingMs(deadline)) == 1 ? 0 : ETIMEDOUT;
      socklen_t length = sizeof(int);
      int pending = 0;
      if (err == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length) == 0) err = pending;
    }
  }
  if (err != 0) {
    close(fd);
    return -err;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

Outcome RoundTrip(int fd, const std::string& frame, Clock::time_point deadline,
                  std::string* why) {
  size_t sent = 0;
  std::string answer;
  while (answer.size() < frame.size()) {
    short events = POLLIN | (sent < frame.size() ? POLLOUT : 0);
    pollfd p{fd, events, 0};
    int ready = poll(&p, 1, RemainingMs(deadline));
    if (ready == 0) return Outcome::kTimeout;
    if (ready < 0) continue;
    if (sent < frame.size() && (p.revents & POLLOUT)) {
      ssize_t n = send(fd, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) {
        if (errno == EPIPE || errno == ECONNRESET) return Outcome::kReset;
        *why = std::string("send: ") + strerror(errno);
        return Outcome::kReset;
      }
      if (n > 0) sent += static_cast<size_t>(n);
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[4096];
      ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n == 0) {
        if (answer.empty()) return Outcome::kClosedBeforeAnswer;
        *why = "EOF after " + std::to_string(answer.size()) + " of " +
               std::to_string(frame.size()) + " bytes";
        return Outcome::kMismatch;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        *why = std::string("recv: ") + strerror(errno);
        return Outcome::kReset;
      }
      answer.append(buffer, static_cast<size_t>(n));
    }
  }
  if (answer != frame) {
    *why = "the answer differs from the request";
    return Outcome::kMismatch;
  }
  return Outcome::kAnswered;
}

}  // namespace

struct ReconnectingEchoLoad::Client {
  ReconnectingLoadCounts counts;
  std::vector<double> latencies_ms;
};

std::string ReconnectingLoadCounts::Summary() const {
  return "requests=" + std::to_string(requests) + " connects=" + std::to_string(connects) +
         " connect_errors=" + std::to_string(connect_errors) + " resets=" +
         std::to_string(resets) + " timeouts=" + std::to_string(timeouts) + " mismatches=" +
         std::to_string(mismatches) + " retried_after_close=" +
         std::to_string(retried_after_close) + " p99_ms=" + std::to_string(p99_latency_ms) +
         " max_ms=" + std::to_string(max_latency_ms) +
         (first_error.empty() ? "" : " first_error=" + first_error);
}

ReconnectingEchoLoad::ReconnectingEchoLoad(const ReconnectingLoadOptions& options)
    : options_(options) {}

ReconnectingEchoLoad::~ReconnectingEchoLoad() {
  if (!threads_.empty()) Stop();
}

void ReconnectingEchoLoad::Start() {
  for (int i = 0; i < options_.connections; ++i) {
    threads_.emplace_back([this, i] { RunClient(i); });
  }
}

ReconnectingLoadCounts ReconnectingEchoLoad::Stop() {
  stop_.store(true);
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  if (!latencies_ms_.empty()) {
    std::sort(latencies_ms_.begin(), latencies_ms_.end());
    totals_.p99_latency_ms = latencies_ms_[latencies_ms_.size() * 99 / 100];
    totals_.max_latency_ms = latencies_ms_.back();
  }
  return totals_;
}

void ReconnectingEchoLoad::RunClient(int index) {
  Client client;
  ReconnectingLoadCounts& counts = client.counts;
  auto note = [&counts](const std::string& what) {
    if (counts.first_error.empty()) counts.first_error = what;
  };
  const auto interval = std::chrono::duration_cast<Clock::duration>(options_.interval);
  // Spread the clients' schedules over one interval.
  Clock::time_point due = Clock::now() + interval * index / std::max(1, options_.connections);
  uint64_t sequence = 0;
  std::string pending_frame;
  while (!stop_.load(std::memory_order_relaxed)) {
    const int fd = Connect(options_.port, Clock::now() + options_.timeout);
    if (fd < 0) {
      ++counts.connect_errors;
      note(std::string("connect: ") + strerror(-fd));
      std::this_thread::sleep_until(due);
      due += interval;
      continue;
    }
    ++counts.connects;
    bool reconnect = false;
    for (int i = 0; i < options_.requests_per_connection && !reconnect &&
                    !stop_.load(std::memory_order_relaxed);) {
      if (pending_frame.empty()) {
        std::string payload = std::to_string(index) + ":" + std::to_string(sequence++) + ":";
        payload.resize(std::max(payload.size(), options_.payload_bytes),
                       static_cast<char>('a' + sequence % 26));
        pending_frame = EncodeFrame(payload);
        std::this_thread::sleep_until(due);
      }
      std::string why;
      Outcome outcome = RoundTrip(fd, pending_frame, Clock::now() + options_.timeout, &why);
      switch (outcome) {
        case Outcome::kAnswered:
          client.latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - due).count());
          ++counts.requests;
          requests_.fetch_add(1, std::memory_order_relaxed);
          pending_frame.clear();
          due += interval;
          ++i;
          continue;
        case Outcome::kClosedBeforeAnswer:
          ++counts.retried_after_close;
          break;
        case Outcome::kReset:
          ++counts.resets;
          note(why.empty() ? "reset" : why);
          pending_frame.clear();
          due += interval;
          break;
        case Outcome::kTimeout:
          ++counts.timeouts;
          note("timeout");
          pending_frame.clear();
          due += interval;
          break;
        case Outcome::kMismatch:
          ++counts.mismatches;
          note(why);
          pending_frame.clear();
          due += interval;
          break;
      }
      reconnect = true;
    }
    close(fd);
  }
  Merge(client);
}

void ReconnectingEchoLoad::Merge(const Client& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  const ReconnectingLoadCounts& c = client.counts;
  totals_.requests += c.requests;
  totals_.connects += c.connects;
  totals_.connect_errors += c.connect_errors;
  totals_.resets += c.resets;
  totals_.timeouts += c.timeouts;
  totals_.mismatches += c.mismatches;
  totals_.retried_after_close += c.retried_after_close;
  if (totals_.first_error.empty()) totals_.first_error = c.first_error;
  latencies_ms_.insert(latencies_ms_.end(), client.latencies_ms.begin(), client.latencies_ms.end());
}

}  // namespace shoal::testing
