// The descriptions that carry sockets between processes: the upgrade's environment variables and
// ready line, systemd's LISTEN_* variables, adoption checks against the config, and sd_notify.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "core/inherited_socket.h"
#include "core/socket.h"
#include "gtest/gtest.h"
#include "server/upgrade/adoption.h"
#include "server/upgrade/handed_sockets.h"
#include "server/upgrade/service_notify.h"
#include "server/upgrade/socket_activation.h"
#include "tests/support/default_options.h"

namespace shoal::server::upgrade {
namespace {

core::SocketAddress Loopback(uint16_t port) {
  return *core::SocketAddress::Parse("127.0.0.1:" + std::to_string(port));
}

TEST(HandedSocketsTest, SocketsRoundTripThroughTheEnvironmentFormat) {
  std::vector<NamedSocket> sockets = {{"web", 5}, {"web", 6}, {"admin", 9}};
  EXPECT_EQ(EncodeSockets(sockets), "web=5,web=6,admin=9");
  auto decoded = DecodeSockets("web=5,web=6,admin=9");
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->size(), 3u);
  EXPECT_EQ((*decoded)[1].name, "web");
  EXPECT_EQ((*decoded)[2].fd, 9);
  EXPECT_TRUE(DecodeSockets("").ok());
  EXPECT_FALSE(DecodeSockets("web").ok());
  EXPECT_FALSE(DecodeSockets("web=x").ok());
  EXPECT_FALSE(DecodeSockets("web=1").ok());  // stdin/stdout/stderr are never sockets handed over
}

TEST(HandedSocketsTest, LineageAndReadyLine) {
  auto lineage = DecodeLineage(EncodeLineage(Lineage{4, 3, 1}));
  ASSERT_TRUE(lineage.ok());
  EXPECT_EQ(lineage->generation, 4);
  EXPECT_EQ(lineage->upgrades_succeeded, 3);
  EXPECT_EQ(lineage->upgrades_failed, 1);
  EXPECT_FALSE(DecodeLineage("0,0,0").ok());
  EXPECT_FALSE(DecodeLineage("2,1").ok());

  EXPECT_EQ(EncodeReady({5, 7}), "ready 5,7\n");
  EXPECT_EQ(DecodeReady("ready 5,7\n"), (std::vector<int>{5, 7}));
  EXPECT_EQ(DecodeReady("ready \n"), std::vector<int>{});
  EXPECT_EQ(DecodeReady("ready 5,7"), std::nullopt);  // cut short: the successor died writing
  EXPECT_EQ(DecodeReady(""), std::nullopt);
}

TEST(SocketActivationTest, ReadsNamedSocketsForThisProcessAndClearsTheVariables) {
  setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
  setenv("LISTEN_FDS", "2", 1);
  setenv("LISTEN_FDNAMES", "web:admin", 1);
  auto sockets = TakeSystemdSockets();
  ASSERT_TRUE(sockets.ok()) << sockets.status();
  ASSERT_EQ(sockets->size(), 2u);
  EXPECT_EQ((*sockets)[0].name, "web");
  EXPECT_EQ((*sockets)[0].fd, 3);
  EXPECT_EQ((*sockets)[1].name, "admin");
  EXPECT_EQ((*sockets)[1].fd, 4);
  EXPECT_EQ(getenv("LISTEN_FDS"), nullptr);
  EXPECT_EQ(getenv("LISTEN_PID"), nullptr);
}

TEST(SocketActivationTest, IgnoresAnotherProcessesSocketsAndRejectsUnnamedOnes) {
  setenv("LISTEN_PID", std::to_string(getpid() + 1).c_str(), 1);
  setenv("LISTEN_FDS", "1", 1);
  auto other = TakeSystemdSockets();
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());

  setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
  setenv("LISTEN_FDS", "2", 1);
  setenv("LISTEN_FDNAMES", "web", 1);
  auto unnamed = TakeSystemdSockets();
  ASSERT_FALSE(unnamed.ok());
  EXPECT_NE(std::string(unnamed.status().message()).find("FileDescriptorName="),
            std::string::npos);
}

TEST(AdoptionTest, ChecksTheAddressAndTheSocketKind) {
  auto listening = core::Listen(Loopback(0), shoal::testing::DefaultListenOptions());
  ASSERT_TRUE(listening.ok());
  auto bound = core::LocalAddress(listening->get());
  ASSERT_TRUE(bound.ok());
  EXPECT_TRUE(core::AdoptListeningSocket(listening->get(), *bound, 128).ok());
  EXPECT_TRUE(core::AdoptListeningSocket(listening->get(), Loopback(0), 128).ok());
  auto elsewhere = core::AdoptListeningSocket(
      listening->get(), Loopback(static_cast<uint16_t>(bound->port() + 1)), 128);
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_NE(std::string(elsewhere.status().message()).find("is bound to " + bound->ToString()),
            std::string::npos);

  core::ScopedFd unconnected(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto not_listening = core::AdoptListeningSocket(unconnected.get(), Loopback(0), 128);
  ASSERT_FALSE(not_listening.ok());
  EXPECT_NE(std::string(not_listening.status().message()).find("not a listening TCP socket"),
            std::string::npos);
}

TEST(AdoptionTest, PlanTakesOneSocketPerWorkerAndReportsSurplus) {
  auto first = core::Listen(Loopback(0), shoal::testing::DefaultListenOptions());
  ASSERT_TRUE(first.ok());
  auto address = core::LocalAddress(first->get());
  ASSERT_TRUE(address.ok());
  auto second = core::Listen(*address, shoal::testing::DefaultListenOptions());
  ASSERT_TRUE(second.ok());
  InheritedSockets inherited(
      InheritedSockets::Source::kPredecessor,
      {{"web", fcntl(first->get(), F_DUPFD_CLOEXEC, 3)},
       {"web", fcntl(second->get(), F_DUPFD_CLOEXEC, 3)}});
  core::ServerOptions options;
  options.workers = 1;
  options.listeners.push_back(core::ServerListenerOptions{"web", *address, 128, true, false, {}});
  auto plan = PlanAdoption(inherited, options, Loopback(0));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(options.listeners[0].adopted_fds.size(), 1u);
  EXPECT_EQ(plan->surplus, 1u);
  EXPECT_EQ(plan->admin_fd, -1);
}

TEST(ServiceNotifyTest, SendsTheStateToNotifySocket) {
  core::ScopedFd receiver(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string name = "shoal-notify-test-" + std::to_string(getpid());
  memcpy(address.sun_path + 1, name.data(), name.size());
  ASSERT_EQ(bind(receiver.get(), reinterpret_cast<sockaddr*>(&address),
                 static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size())),
            0);
  setenv("NOTIFY_SOCKET", ("@" + name).c_str(), 1);
  ASSERT_TRUE(NotifyServiceManager("READY=1\nMAINPID=42").ok());
  unsetenv("NOTIFY_SOCKET");
  char buffer[64];
  ssize_t n = recv(receiver.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<size_t>(n)), "READY=1\nMAINPID=42");
  EXPECT_TRUE(NotifyServiceManager("READY=1").ok());  // no NOTIFY_SOCKET: nothing to do
}

}  // namespace
}  // namespace shoal::server::upgrade
