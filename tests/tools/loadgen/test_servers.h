// In-process servers for the loadgen tests, on 127.0.0.1 with an ephemeral port:
//  * shoal's own echo and http protocols on core::Server (what loadgen is for);
//  * a faulty echo protocol on core::Server that corrupts one byte of one frame, or swaps two
//    frames, on every connection (what --verify must catch);
//  * a blocking one-connection echo server that stalls once (what open-loop correction is for).
// Threading: create and stop from the test thread; the servers run on their own threads.
#ifndef SHOAL_TESTS_TOOLS_LOADGEN_TEST_SERVERS_H_
#define SHOAL_TESTS_TOOLS_LOADGEN_TEST_SERVERS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "core/server.h"
#include "core/socket.h"

namespace shoal::loadgen::testing {

enum class Fault {
  kNone,
  kCorruptByte,  // flips the last payload byte of frame number `fault_frame` (0-based)
  kSwapFrames,   // answers frames `fault_frame` and `fault_frame + 1` in swapped order
};

enum class Kind { kShoalEcho, kShoalHttp, kFaultyEcho };

class TestServer {
 public:
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(Kind kind, int workers = 1,
                                                           Fault fault = Fault::kNone,
                                                           uint64_t fault_frame = 3);
  ~TestServer();
  // "127.0.0.1:PORT"
  std::string address() const;
  // Frames seen by the faulty echo protocol (all connections).
  uint64_t frames() const { return frames_->load(); }
  uint64_t sessions() const { return sessions_->load(); }

 private:
  TestServer() = default;
  std::unique_ptr<core::Server> server_;
  std::shared_ptr<std::atomic<uint64_t>> frames_ = std::make_shared<std::atomic<uint64_t>>(0);
  std::shared_ptr<std::atomic<uint64_t>> sessions_ = std::make_shared<std::atomic<uint64_t>>(0);
};

// Accepts one connection and echoes its frames with blocking calls; before answering frame
// number `stall_frame` it waits `stall_ms` (a slow server, not a synchronisation). Exits when the
// client closes.
class StallingEchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<StallingEchoServer>> Start(uint64_t stall_frame,
                                                                   int stall_ms);
  ~StallingEchoServer();
  std::string address() const;

 private:
  StallingEchoServer() = default;
  void Serve();
  core::ScopedFd listener_;
  uint16_t port_ = 0;
  uint64_t stall_frame_ = 0;
  int stall_ms_ = 0;
  std::thread thread_;
};

}  // namespace shoal::loadgen::testing

#endif  // SHOAL_TESTS_TOOLS_LOADGEN_TEST_SERVERS_H_
