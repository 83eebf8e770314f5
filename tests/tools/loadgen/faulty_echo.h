// A faulty echo protocol for the loadgen tests (what --verify must catch): on every connection it
// corrupts one byte of one frame, swaps two frames, replays the first or
// drops the connection, and counts frames and sessions. Plug it
// into a TestServer through TestServerOptions::factory.
// Threading: the counters are atomics, read from the test thread while the workers run; the
// FaultyEcho must outlive the server it was plugged into.
#ifndef SHOAL_TESTS_TOOLS_LOADGEN_FAULTY_ECHO_H_
#define SHOAL_TESTS_TOOLS_LOADGEN_FAULTY_ECHO_H_

#include <atomic>
#include <cstdint>

#include "core/server.h"

namespace shoal::testing {

enum class Fault {
  kNone,
  kCorruptByte,  // flips the last payload byte of frame number `fault_frame` (0-based)
  kSwapFrames,   // answers frames `fault_frame` and `fault_frame + 1` in swapped order
  kReplayFirst,  // answers every frame with the connection's first frame (a stale cache)
  kDropAt,       // closes the connection, unanswered, at frame number `fault_frame`
};

class FaultyEcho {
 public:
  explicit FaultyEcho(Fault fault = Fault::kNone, uint64_t fault_frame = 3)
      : fault_(fault), fault_frame_(fault_frame) {}
  core::ProtocolFactory factory();
  // Frames seen and sessions made (all connections).
  uint64_t frames() const { return frames_.load(); }
  uint64_t sessions() const { return sessions_.load(); }

 private:
  Fault fault_;
  uint64_t fault_frame_;
  std::atomic<uint64_t> frames_{0};
  std::atomic<uint64_t> sessions_{0};
};

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_TOOLS_LOADGEN_FAULTY_ECHO_H_
