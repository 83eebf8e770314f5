// systemd socket activation of the real binary through systemd-socket-activate (Debian's systemd
// package): sockets adopted by name (the listener's and "admin"), connections made before the
// server started all answered, and sockets that do not match the config refused with the reason.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/client_socket.h"
#include "tests/support/echo_wire.h"
#include "tests/support/http_client.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

std::string Address(int port) { return "127.0.0.1:" + std::to_string(port); }

std::string Config(int workers, int echo_port, int admin_port) {
  return "workers: " + std::to_string(workers) +
         "\nlisteners:\n  - name: echo\n    address: " + Address(echo_port) +
         "\n    protocol: echo\nadmin:\n  address: " + Address(admin_port) + "\n";
}

std::vector<std::string> Activate(const std::vector<int>& ports, const std::string& names,
                                  const std::string& config_path) {
  std::optional<std::string> activate = FindOnPath("systemd-socket-activate");
  std::vector<std::string> argv = {activate.value_or("systemd-socket-activate")};
  for (int port : ports) argv.push_back("--listen=" + Address(port));
  argv.push_back("--fdname=" + names);
  argv.push_back(ShoalBinaryPath());
  argv.push_back("--config=" + config_path);
  return argv;
}

class SocketActivationE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // tools/install-deps.sh installs it (Debian package systemd): missing means a broken set-up,
    // not a reason to pass without checking.
    ASSERT_TRUE(FindOnPath("systemd-socket-activate"))
        << "systemd-socket-activate is not installed: run tools/install-deps.sh";
  }
};

TEST_F(SocketActivationE2eTest, ConnectionsMadeBeforeTheServerStartsAreAnswered) {
  const int echo_port = PickFreePort();
  const int admin_port = PickFreePort();
  const std::string config = WriteTempFile("activated.yaml", Config(2, echo_port, admin_port));
  Subprocess shoal(Activate({echo_port, admin_port}, "echo:admin", config));
  ASSERT_TRUE(shoal.WaitForStderrLine("Listening on", seconds(10)) ||
              WaitFor([&] { return Connect(static_cast<uint16_t>(echo_port), seconds(1)).ok(); },
                      seconds(10)))
      << shoal.err();

  // The first connection starts shoal; all of them wait in the socket's queue until it serves.
  auto clients = ConnectMany(static_cast<uint16_t>(echo_port), 30, seconds(5));
  ASSERT_TRUE(clients.ok()) << clients.status();
  std::vector<std::string> frames;
  for (size_t i = 0; i < clients->size(); ++i) {
    frames.push_back(EncodeFrame("early-" + std::to_string(i)));
    ASSERT_TRUE(SendAll((*clients)[i].get(), frames.back(), seconds(5)).ok());
  }
  for (size_t i = 0; i < clients->size(); ++i) {
    auto answer = ReadExactly((*clients)[i].get(), frames[i].size(), seconds(20));
    ASSERT_TRUE(answer.ok()) << "connection " << i << ": " << answer.status() << "\n"
                             << shoal.err();
    EXPECT_EQ(*answer, frames[i]);
  }
  auto metrics = HttpGet(admin_port, "/metrics", seconds(5));
  ASSERT_TRUE(metrics) << shoal.err();
  EXPECT_EQ(metrics->status, 200);
  EXPECT_TRUE(shoal.WaitForStderrLine("workers share it", seconds(5))) << shoal.err();
  clients->clear();
  shoal.Signal(SIGTERM);
  EXPECT_EQ(shoal.Wait(seconds(20)), 0) << shoal.err();
}

// shoal started by the activation of a connection to `activated_port` must exit non-zero with
// `message` on stderr.
void ExpectRefused(int activated_port, const std::string& names, const std::string& config,
                   const std::string& message) {
  Subprocess shoal(Activate({activated_port}, names, config));
  ASSERT_TRUE(WaitFor(
      [&] { return Connect(static_cast<uint16_t>(activated_port), seconds(1)).ok(); },
      seconds(10)));
  std::optional<int> status = shoal.Wait(seconds(20));
  ASSERT_TRUE(status.has_value()) << shoal.err();
  EXPECT_NE(*status, 0);
  EXPECT_NE(shoal.err().find(message), std::string::npos) << shoal.err();
}

TEST_F(SocketActivationE2eTest, SocketOnAnotherAddressThanTheConfigIsRefused) {
  const int activated_port = PickFreePort();
  ExpectRefused(activated_port, "echo",
                WriteTempFile("mismatch.yaml", Config(1, PickFreePort(), PickFreePort())),
                "socket activation: listener 'echo': descriptor 3 is bound to " +
                    Address(activated_port));
}

TEST_F(SocketActivationE2eTest, SocketNamedLikeNoListenerIsRefused) {
  const int activated_port = PickFreePort();
  ExpectRefused(activated_port, "web",
                WriteTempFile("unnamed.yaml", Config(1, activated_port, PickFreePort())),
                "sockets named web match no listener (the config has echo, admin)");
}

}  // namespace
}  // namespace shoal::testing
