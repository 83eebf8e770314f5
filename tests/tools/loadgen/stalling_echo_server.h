// A blocking one-connection echo server for the loadgen tests (what open-loop correction is for):
// it accepts one connection and echoes its frames; before answering frame number `stall_frame` it
// waits `stall_ms` (a slow server, not a synchronisation). Its thread exits when the client
// closes; the destructor joins it. Create and destroy from the test thread.
#ifndef SHOAL_TESTS_TOOLS_LOADGEN_STALLING_ECHO_SERVER_H_
#define SHOAL_TESTS_TOOLS_LOADGEN_STALLING_ECHO_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "core/socket.h"

namespace shoal::testing {

class StallingEchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<StallingEchoServer>> Start(uint64_t stall_frame,
                                                                   int stall_ms);
  ~StallingEchoServer();
  // "127.0.0.1:PORT"
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

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_TOOLS_LOADGEN_STALLING_ECHO_SERVER_H_
