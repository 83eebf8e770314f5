// Pacer: wakes clients at precise monotonic times, for the open loop. One timerfd per thread
// (registered on the thread's EventLoop) armed at the earliest pending time, and a min-heap of
// (time, client). The loop's own timer wheel would do, but epoll_wait's timeout has millisecond
// resolution and the wheel a tick of its own; a request sent up to a millisecond late would show
// as latency in the coordinated-omission-corrected figures. With the thread's timer slack at 1 ns
// (the load threads set it) a wake-up is typically a few microseconds late.
//
// Threading: the owning loop's thread only.
#ifndef SHOAL_TOOLS_LOADGEN_PACER_H_
#define SHOAL_TOOLS_LOADGEN_PACER_H_

#include <cstdint>
#include <memory>
#include <queue>
#include <vector>

#include "absl/status/statusor.h"
#include "core/event_loop.h"
#include "core/socket.h"

namespace shoal::loadgen {

class PacedClient {
 public:
  // The time given to Pacer::Schedule has come.
  virtual void OnPaceDue() = 0;

 protected:
  ~PacedClient() = default;
};

class Pacer final : private core::IoHandler {
 public:
  static absl::StatusOr<std::unique_ptr<Pacer>> Create(core::EventLoop& loop);
  ~Pacer();
  Pacer(const Pacer&) = delete;
  Pacer& operator=(const Pacer&) = delete;

  // Calls client->OnPaceDue() once, at `at_ns` (CLOCK_MONOTONIC) or soon after. A client may be
  // scheduled more than once; each entry fires. O(log n).
  void Schedule(PacedClient* client, int64_t at_ns);
  size_t pending() const { return heap_.size(); }

 private:
  struct Entry {
    int64_t at_ns;
    PacedClient* client;
    bool operator>(const Entry& other) const { return at_ns > other.at_ns; }
  };

  Pacer(core::EventLoop& loop, core::ScopedFd fd) : loop_(loop), fd_(std::move(fd)) {}
  void HandleEvents(uint32_t events) override;
  void Arm(int64_t at_ns);

  core::EventLoop& loop_;
  core::ScopedFd fd_;
  int64_t armed_at_ns_ = 0;  // 0: disarmed
  bool firing_ = false;      // inside HandleEvents: it re-arms once at the end
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
};

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_PACER_H_
