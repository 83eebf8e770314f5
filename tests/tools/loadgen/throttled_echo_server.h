// A blocking echo server that answers at most `rate` frames per second (what --find_max_rate must
// find): frame n is answered no earlier than its slot of a schedule at `rate` that restarts
// whenever the server falls idle, so below the rate it answers at once and above it a queue
// builds. It serves one connection at a time, any number in sequence, until destroyed (the
// destructor stops and joins its thread). Create and destroy from the test thread.
#ifndef SHOAL_TESTS_TOOLS_LOADGEN_THROTTLED_ECHO_SERVER_H_
#define SHOAL_TESTS_TOOLS_LOADGEN_THROTTLED_ECHO_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "core/socket.h"

namespace shoal::testing {

class ThrottledEchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<ThrottledEchoServer>> Start(double rate);
  ~ThrottledEchoServer();
  // "127.0.0.1:PORT"
  std::string address() const;

 private:
  ThrottledEchoServer() = default;
  void Serve();
  void ServeConnection(int fd);

  core::ScopedFd listener_;
  uint16_t port_ = 0;
  int64_t ns_per_frame_ = 0;
  int64_t next_slot_ns_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_TOOLS_LOADGEN_THROTTLED_ECHO_SERVER_H_
