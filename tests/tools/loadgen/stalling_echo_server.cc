#include "tests/tools/loadgen/stalling_echo_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <string>

#include "tests/support/client_socket.h"
#include "tests/support/echo_wire.h"
#include "tests/tools/loadgen/loopback_listener.h"

namespace shoal::testing {

namespace {

// The client may pause for as long as it likes between frames: the server waits for it.
constexpr auto kPatience = std::chrono::hours(1);

}  // namespace

absl::StatusOr<std::unique_ptr<StallingEchoServer>> StallingEchoServer::Start(uint64_t stall_frame,
                                                                              int stall_ms) {
  std::unique_ptr<StallingEchoServer> server(new StallingEchoServer());
  auto listener = ListenOnLoopback();
  if (!listener.ok()) return listener.status();
  server->listener_ = std::move(listener->fd);
  server->port_ = listener->port;
  server->stall_frame_ = stall_frame;
  server->stall_ms_ = stall_ms;
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

void StallingEchoServer::Serve() {
  pollfd p{listener_.get(), POLLIN, 0};
  if (poll(&p, 1, 30'000) <= 0) return;
  core::ScopedFd client(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!client.valid()) return;
  for (uint64_t index = 0;; ++index) {
    auto header = ReadExactly(client.get(), 4, kPatience);
    if (!header.ok()) return;
    auto payload = ReadExactly(client.get(), DecodeFrameLength(*header), kPatience);
    if (!payload.ok()) return;
    if (index == stall_frame_) std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms_));
    if (!SendAll(client.get(), *header + *payload, kPatience).ok()) return;
  }
}

StallingEchoServer::~StallingEchoServer() {
  if (thread_.joinable()) thread_.join();
}

std::string StallingEchoServer::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

}  // namespace shoal::testing
