// End-to-end: the real shoal binary as a child process, over real sockets.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "tests/support/client_socket.h"
#include "tests/support/echo_wire.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

TEST(ShoalBinaryTest, VersionPrintsAndExitsZero) {
  Subprocess server({ShoalBinaryPath(), "--version"});
  EXPECT_EQ(server.Wait(milliseconds(10000)), 0);
}

// The README's run command: the built-in default (echo on 0.0.0.0:7000).
TEST(ShoalBinaryTest, BuiltInDefaultEchoesOnPort7000AndStopsOnSigterm) {
  Subprocess server({ShoalBinaryPath(), });
  auto line = server.WaitForStderrLine("listening:", milliseconds(20000));
  ASSERT_TRUE(line.has_value()) << server.err();
  EXPECT_NE(line->find("0.0.0.0:7000"), std::string::npos) << *line;
  auto connected = Connect(static_cast<uint16_t>(7000));
  int fd = connected.ok() ? connected->release() : -1;
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, EncodeFrame("hello"), seconds(10)).ok());
  EXPECT_EQ(ReadUpTo(fd, 9, milliseconds(10000)), EncodeFrame("hello"));
  close(fd);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(milliseconds(15000)), 0) << server.err();
}

TEST(ShoalBinaryTest, CheckConfigOnBrokenFileExitsOneNamingLineAndColumn) {
  std::string path = WriteTempFile("broken.yaml",
                                   "workers: 2\n"
                                   "timeouts:\n"
                                   "  idel: 5s\n");
  Subprocess server({ShoalBinaryPath(), "--config=" + path, "--check_config"});
  EXPECT_EQ(server.Wait(milliseconds(10000)), 1);
  const std::string& err = server.err();
  EXPECT_NE(err.find("broken.yaml:3:3"), std::string::npos) << err;
  EXPECT_NE(err.find("timeouts.idel"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean 'idle'"), std::string::npos) << err;
}

TEST(ShoalBinaryTest, CheckConfigOnValidFileExitsZero) {
  std::string path = WriteTempFile("valid.yaml", EchoServerConfig(2, "timeouts:\n  idle: 5s\n"));
  Subprocess server({ShoalBinaryPath(), "--config=" + path, "--check_config"});
  EXPECT_EQ(server.Wait(milliseconds(10000)), 0) << server.err();
}

TEST(ShoalBinaryTest, PortInUseExitsTwoWithClearMessage) {
  auto blocker = OccupyLoopbackPort();
  ASSERT_TRUE(blocker.ok()) << blocker.status();
  const int port = blocker->port;

  std::string path = WriteTempFile(
      "in_use.yaml", "listeners:\n  - name: echo\n    address: 127.0.0.1:" +
                         std::to_string(port) +
                         "\n    protocol: echo\nadmin:\n  address: 127.0.0.1:0\n");
  Subprocess server({ShoalBinaryPath(), "--config=" + path});
  EXPECT_EQ(server.Wait(milliseconds(10000)), 2);
  EXPECT_NE(server.err().find("Address already in use"), std::string::npos)
      << server.err();
  EXPECT_NE(server.err().find(std::to_string(port)), std::string::npos)
      << server.err();
}

// SIGTERM while clients pipeline: every echo a client receives is complete and exact, each
// connection ends with a clean EOF (no reset), and the process exits 0 well within the drain.
TEST(ShoalBinaryTest, SigtermUnderLoadFinishesFramesInFlightAndExitsZero) {
  std::string path = WriteTempFile("drain.yaml", EchoServerConfig(2, "timeouts:\n  drain: 5s\n"));
  Subprocess server({ShoalBinaryPath(), "--config=" + path});
  int port = WaitForPorts(server).listener;
  ASSERT_GT(port, 0);

  constexpr int kClients = 16;
  std::atomic<int> started{0};
  std::atomic<long> frames_echoed{0};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto connected = Connect(static_cast<uint16_t>(port));
  int fd = connected.ok() ? connected->release() : -1;
      if (fd < 0) {
        failures[c] = "connect failed";
        return;
      }
      std::mt19937 random(static_cast<uint32_t>(c));
      started.fetch_add(1);
      for (int round = 0; round < 100000; ++round) {
        std::vector<std::string> frames;
        std::string batch;
        for (int i = 0; i < 8; ++i) {
          std::string payload(random() % 4096, '\0');
          for (auto& ch : payload) ch = static_cast<char>(random());
          frames.push_back(EncodeFrame(payload));
          batch += frames.back();
        }
        // The server may have closed its side already.
        if (!SendAll(fd, batch, seconds(10)).ok()) break;
        for (const std::string& frame : frames) {
          std::string got = ReadUpTo(fd, frame.size(), milliseconds(10000));
          if (got.empty()) {
            // EOF: must be clean, not a reset.
            char byte;
            ssize_t n = recv(fd, &byte, 1, 0);
            if (n < 0) failures[c] = "connection reset: " + std::string(strerror(errno));
            close(fd);
            return;
          }
          if (got != frame) {
            failures[c] = "truncated or corrupted echo: got " + std::to_string(got.size()) +
                          " of " + std::to_string(frame.size()) + " bytes";
            close(fd);
            return;
          }
          frames_echoed.fetch_add(1);
        }
      }
      failures[c] = "server never closed the connection";
      close(fd);
    });
  }
  auto wait_start = std::chrono::steady_clock::now();
  while ((started.load() < kClients || frames_echoed.load() < 2000) &&
         std::chrono::steady_clock::now() - wait_start < std::chrono::seconds(20)) {
    std::this_thread::yield();
  }
  ASSERT_GE(frames_echoed.load(), 2000) << "load never got going";
  auto signalled = std::chrono::steady_clock::now();
  server.Signal(SIGTERM);
  auto code = server.Wait(milliseconds(10000));
  auto took = std::chrono::steady_clock::now() - signalled;
  for (auto& client : clients) client.join();
  EXPECT_EQ(code, 0) << server.err();
  EXPECT_LT(took, std::chrono::seconds(5)) << "must finish within timeouts.drain";
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(failures[c], "") << "client " << c;
}

TEST(ShoalBinaryTest, SighupWithInvalidFileIsRejectedAndServingContinues) {
  std::string path = WriteTempFile("reload.yaml", EchoServerConfig(2));
  Subprocess server({ShoalBinaryPath(), "--config=" + path});
  int port = WaitForPorts(server).listener;
  ASSERT_GT(port, 0);
  auto connected = Connect(static_cast<uint16_t>(port));
  int fd = connected.ok() ? connected->release() : -1;
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, EncodeFrame("before"), seconds(10)).ok());
  ASSERT_EQ(ReadUpTo(fd, 10, milliseconds(10000)), EncodeFrame("before"));

  WriteTempFile("reload.yaml", EchoServerConfig(2, "timeouts:\n  idle: soon\n"));
  server.Signal(SIGHUP);
  ASSERT_TRUE(server.WaitForStderrLine("config rejected", milliseconds(10000)).has_value())
      << server.err();
  EXPECT_NE(server.err().find("reload.yaml:9:9"), std::string::npos)
      << server.err();
  ASSERT_TRUE(SendAll(fd, EncodeFrame("after"), seconds(10)).ok());
  EXPECT_EQ(ReadUpTo(fd, 9, milliseconds(10000)), EncodeFrame("after"));
  close(fd);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(milliseconds(15000)), 0) << server.err();
}

}  // namespace
}  // namespace shoal::testing
