// Proves the bar "no heap allocation per frame in steady state for frames up to 64 KiB": counts
// operator new calls made on the worker thread while a client pipelines frames of 0..64 KiB.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <new>
#include <random>
#include <string>
#include <thread>

#include "core/server.h"
#include "tests/support/allocation_counter.h"
#include "server/protocols/echo/echo_protocol.h"
#include "tests/support/default_options.h"


namespace shoal::server {
namespace {

using ::shoal::testing::WorkerAllocations;

std::string Frame(size_t size, std::mt19937& random) {
  std::string frame(4 + size, '\0');
  uint32_t length = htonl(static_cast<uint32_t>(size));
  std::memcpy(frame.data(), &length, 4);
  for (size_t i = 4; i < frame.size(); ++i) frame[i] = static_cast<char>(random());
  return frame;
}

// Sends `frames` (pipelined, up to `window` bytes outstanding) and checks every echoed byte.
void Exchange(int fd, const std::vector<std::string>& frames) {
  std::string sent_all;
  for (const auto& frame : frames) sent_all += frame;
  size_t written = 0;
  std::string received;
  received.reserve(sent_all.size());
  char buffer[65536];
  while (received.size() < sent_all.size()) {
    pollfd p{fd, POLLIN, 0};
    if (written < sent_all.size() && written - received.size() < 512 * 1024) p.events |= POLLOUT;
    ASSERT_GT(poll(&p, 1, 10000), 0) << "stalled";
    if (p.revents & POLLOUT) {
      ssize_t n = send(fd, sent_all.data() + written,
                       std::min<size_t>(sent_all.size() - written, 65536), MSG_DONTWAIT);
      if (n > 0) written += static_cast<size_t>(n);
    }
    if (p.revents & POLLIN) {
      ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      ASSERT_GT(n, 0);
      received.append(buffer, static_cast<size_t>(n));
    }
  }
  ASSERT_TRUE(received == sent_all);
}

TEST(EchoAllocationTest, SteadyStateEchoDoesNotAllocatePerFrame) {
  core::ServerOptions options = ::shoal::testing::DefaultServerOptions();
  options.listeners.push_back({"echo", *core::SocketAddress::Parse("127.0.0.1:0"), 128, true});
  auto server = core::Server::Create(options, [](size_t, int) {
    return std::make_unique<EchoProtocol>(EchoSettingsFrom(shoal::server::Config::Default()));
  });
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Start().ok());

  const uint64_t at_start = WorkerAllocations(**server);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons((*server)->bound_addresses()[0].port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);

  std::mt19937 random(42);
  auto make_frames = [&](int count) {
    std::vector<std::string> frames;
    for (int i = 0; i < count; ++i) frames.push_back(Frame(random() % (64 * 1024 + 1), random));
    return frames;
  };
  Exchange(fd, make_frames(300));  // warm-up: buffers and the chunk pool reach their sizes
  Exchange(fd, make_frames(300));
  uint64_t before = WorkerAllocations(**server);
  ASSERT_GT(before, at_start) << "the counter must see the worker's allocations (accepting a "
                                 "connection allocates): is the counting operator new linked?";
  const int kFrames = 2000;
  Exchange(fd, make_frames(kFrames));
  uint64_t after = WorkerAllocations(**server);
  close(fd);
  EXPECT_LT(after - before, 20u) << "allocations on the worker thread for " << kFrames
                                 << " frames of 0..64 KiB";
  (*server)->Stop();
}

}  // namespace
}  // namespace shoal::server
