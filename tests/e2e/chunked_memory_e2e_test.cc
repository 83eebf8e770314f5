// A chunked body costs about its decoded size, however it is framed. Over the real binary: three
// connections at once POST a body of max_frame_bytes (1 MiB) as 1-byte chunks with zero-padded
// sizes ("0000000000000001\r\nA\r\n", 21 MiB on the wire each). All three bodies are held at once
// (each client sends every data chunk, then all send the last chunk), each is echoed back intact,
// and the server's peak resident memory grows by at most about 2 x max_frame_bytes per connection
// (the decoded body and its echo) plus fixed slack. Buffering the raw framing costs ~31 MiB each.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/deadline.h"
#include "tests/support/http_client.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

constexpr size_t kMaxFrameBytes = 1 << 20;
constexpr int kConnections = 3;
constexpr uint64_t kMiB = 1 << 20;
// Allocator arenas of the two worker threads, read scratch, thread stacks touched for the first
// time: what the first requests cost whatever their size.
constexpr uint64_t kSlackBytes = 6 * kMiB;

// A field of /proc/PID/status in bytes ("VmRSS", "VmHWM"); 0 if absent.
uint64_t StatusBytes(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
  }
  return 0;
}

// Resets the peak resident size (VmHWM) to the current one.
bool ResetPeakResident(pid_t pid) {
  std::ofstream clear_refs("/proc/" + std::to_string(pid) + "/clear_refs");
  clear_refs << "5";
  clear_refs.flush();
  return clear_refs.good();
}

// 1-byte chunks, zero-padded sizes, `chunks` of them.
std::string PaddedChunks(size_t chunks) {
  std::string bytes;
  bytes.reserve(chunks * 21);
  for (size_t i = 0; i < chunks; ++i) bytes += "0000000000000001\r\nA\r\n";
  return bytes;
}

TEST(ChunkedMemoryE2e, PaddedOneByteChunksCostAboutTheDecodedSize) {
  const std::string config = WriteTempFile(
      "chunked_memory.yaml", ServerConfig("http", 2, "limits:\n  max_frame_bytes: 1MiB\n"));
  Subprocess shoal({ShoalBinaryPath(), "--config=" + config});
  ASSERT_TRUE(shoal.started());
  auto listening = shoal.WaitForStderrLine("listening: http", seconds(20));
  ASSERT_TRUE(listening.has_value()) << shoal.err();
  const auto port = static_cast<uint16_t>(PortFromListeningLine(*listening));

  ASSERT_TRUE(ResetPeakResident(shoal.pid()));
  const uint64_t resident_before = StatusBytes(shoal.pid(), "VmRSS");
  ASSERT_GT(resident_before, 0u);

  constexpr size_t kChunksPerSend = 4096;
  const std::string piece = PaddedChunks(kChunksPerSend);
  static_assert(kMaxFrameBytes % kChunksPerSend == 0);
  std::atomic<int> bodies_sent{0};
  std::vector<std::string> failures(kConnections);
  std::vector<std::thread> clients;
  for (int c = 0; c < kConnections; ++c) {
    clients.emplace_back([&, c] {
      const Deadline deadline = Deadline::In(seconds(60));
      RawClient client(port, deadline);
      std::string& failure = failures[static_cast<size_t>(c)];
      bool sent = client.connected() &&
                  client.Send("POST /echo HTTP/1.1\r\nHost: test\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n",
                              deadline);
      for (size_t i = 0; sent && i < kMaxFrameBytes / kChunksPerSend; ++i) {
        sent = client.Send(piece, deadline);
      }
      ++bodies_sent;
      // The last chunk only once every connection's data is out: all three bodies are held.
      if (!WaitFor([&] { return bodies_sent.load() == kConnections; }, deadline)) sent = false;
      if (!sent || !client.Send("0\r\n\r\n", deadline)) {
        failure = "send failed: " + client.last_error();
        return;
      }
      auto response = client.ReadResponse(false, deadline);
      if (!response) {
        failure = "no response: " + client.last_error();
      } else if (response->status != 200 || response->body != std::string(kMaxFrameBytes, 'A')) {
        failure = "status " + std::to_string(response->status) + ", body of " +
                  std::to_string(response->body.size()) + " bytes";
      }
    });
  }
  for (std::thread& client : clients) client.join();
  for (int c = 0; c < kConnections; ++c) EXPECT_EQ(failures[static_cast<size_t>(c)], "") << c;

  const uint64_t peak = StatusBytes(shoal.pid(), "VmHWM");
  const uint64_t growth = peak > resident_before ? peak - resident_before : 0;
  const uint64_t bound = kConnections * 2 * kMaxFrameBytes + kSlackBytes;
  EXPECT_LE(growth, bound) << "peak resident grew by " << growth / kMiB << " MiB (bound "
                           << bound / kMiB << " MiB)";
  std::cout << "peak resident growth: " << growth / 1024 << " KiB for " << kConnections
            << " bodies of " << kMaxFrameBytes / 1024 << " KiB\n";

  shoal.Signal(SIGTERM);
  EXPECT_EQ(shoal.Wait(seconds(20)), 0) << shoal.err();
}

}  // namespace
}  // namespace shoal::testing
