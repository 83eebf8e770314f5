#include "tests/tools/loadgen/throttled_echo_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "tests/support/client_socket.h"
#include "tests/support/echo_wire.h"
#include "tests/tools/loadgen/loopback_listener.h"

namespace shoal::testing {

namespace {

constexpr int kPollMs = 50;  // how often an idle server looks at stop_
constexpr auto kFrameDeadline = std::chrono::seconds(10);

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, kPollMs) > 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ThrottledEchoServer>> ThrottledEchoServer::Start(double rate) {
  std::unique_ptr<ThrottledEchoServer> server(new ThrottledEchoServer());
  auto listener = ListenOnLoopback();
  if (!listener.ok()) return listener.status();
  server->listener_ = std::move(listener->fd);
  server->port_ = listener->port;
  server->ns_per_frame_ = static_cast<int64_t>(1e9 / rate);
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

void ThrottledEchoServer::Serve() {
  while (!stop_.load()) {
    if (!Readable(listener_.get())) continue;
    core::ScopedFd client(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (client.valid()) ServeConnection(client.get());
  }
}

void ThrottledEchoServer::ServeConnection(int fd) {
  while (!stop_.load()) {
    if (!Readable(fd)) continue;
    auto header = ReadExactly(fd, 4, kFrameDeadline);
    if (!header.ok()) return;
    auto payload = ReadExactly(fd, DecodeFrameLength(*header), kFrameDeadline);
    if (!payload.ok()) return;
    // The throttle itself: this frame's slot, at most `rate` a second.
    next_slot_ns_ = std::max(next_slot_ns_ + ns_per_frame_, NowNs());
    std::this_thread::sleep_until(std::chrono::steady_clock::time_point(
        std::chrono::nanoseconds(next_slot_ns_)));
    if (!SendAll(fd, *header + *payload, kFrameDeadline).ok()) return;
  }
}

ThrottledEchoServer::~ThrottledEchoServer() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::string ThrottledEchoServer::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

}  // namespace shoal::testing
