// Listener: one listening socket registered with one worker's EventLoop (edge-triggered). On
// readiness it accepts with accept4(NONBLOCK|CLOEXEC) in a loop, at most `accept_budget` per turn
// (then it re-queues itself on the ready list), and hands each connection to its AcceptHandler.
//
// Descriptor exhaustion (EMFILE/ENFILE): the process keeps one reserve descriptor
// (ReserveFd::Process()); the listener closes it, accepts and immediately closes the pending
// connection, and reopens the reserve, so the queue drains and the edge-triggered listener never
// spins or stalls. If even that fails, it stops accepting and retries from a timer.
//
// Threading: the owning loop's thread only.
#ifndef SHOAL_CORE_LISTENER_H_
#define SHOAL_CORE_LISTENER_H_

#include <atomic>
#include <shared_mutex>
#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "core/event_loop.h"
#include "core/socket.h"
#include "core/stats.h"
#include "core/timer_wheel.h"

namespace shoal::core {

class AcceptHandler {
 public:
  // A new connection from `peer` accepted on listener `listener_index`.
  virtual void OnAccepted(ScopedFd fd, const SocketAddress& peer, size_t listener_index) = 0;

 protected:
  ~AcceptHandler() = default;
};

// A spare descriptor for the EMFILE/ENFILE trick. Thread-safe: every worker's listeners share the
// process's one (Process()); the mutex is taken only at EMFILE/ENFILE or after the reserve was
// lost. Between closing the connection it shed and reopening, another thread may take the freed
// slot: the reserve is then reopened on a later call (ShedOne or RestoreIfLost), never forgotten.
class ReserveFd {
 public:
  ReserveFd() { RestoreIfLost(); }
  static ReserveFd& Process();

  enum class Shed { kOne, kQueueEmpty, kNoReserve };
  // At EMFILE/ENFILE on `listen_fd`: frees the reserve, accepts one pending connection, closes it
  // and reopens the reserve.
  Shed ShedOne(int listen_fd);
  // Reopens the reserve if it was lost. Cheap (one atomic load) when it is held.
  void RestoreIfLost();
  bool held() const { return held_.load(std::memory_order_acquire); }
  // accept4 on `listen_fd` while no ShedOne runs, so a listener of another worker cannot take the
  // slot a shed just freed (the reserve would then be lost while that connection lives).
  int Accept(int listen_fd, sockaddr* peer, socklen_t* peer_length);

 private:
  void ReopenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // Shared by accepts, exclusive for a shed. std::shared_mutex: ThreadSanitizer sees it (Debian's
  // abseil is not built for it).
  std::shared_mutex mutex_;
  ScopedFd fd_ ABSL_GUARDED_BY(mutex_);
  std::atomic<bool> held_{false};
};

class Listener final : private IoHandler, private ReadyHandler, private Timer {
 public:
  // Fixed by design (not config keys): accepts per loop turn, and how long accepting pauses after
  // an accept error it cannot work through (descriptors exhausted with no reserve, or unexpected).
  static constexpr size_t kAcceptBudget = 64;
  static constexpr int64_t kRetryAfterNs = 100'000'000;

  struct Options {
    size_t accept_budget = kAcceptBudget;
    // The socket is shared with other workers' loops (reuseport off): register with
    // EPOLLEXCLUSIVE so one connection wakes one worker.
    bool shared = false;
    int64_t retry_after_ns = kRetryAfterNs;
  };

  Listener(EventLoop& loop, ScopedFd fd, size_t index, ListenerStats& stats,
           AcceptHandler& handler, ReserveFd& reserve, const Options& options);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  absl::Status Start();
  // Accepts every connection already queued (no budget), then deregisters and closes the socket.
  // Connections completing their handshake after this are refused by the kernel (or, with other
  // workers' reuseport sockets still open, go to them).
  void AcceptPendingAndClose();
  // Deregisters and closes this descriptor without accepting: for a socket another process also
  // holds, whose queue that process serves (the socket itself stays open).
  void Release();
  bool open() const { return fd_.valid(); }
  // While paused (the overload policy), connections stay queued in the kernel; resuming accepts
  // what queued meanwhile.
  void SetPaused(bool paused);
  bool paused() const { return paused_; }
  // Whether connections wait in the kernel's accept queue (one poll(2)).
  bool HasQueued() const;

 private:
  void HandleEvents(uint32_t events) override;
  void HandleReady() override;
  void OnExpire() override;
  // Accepts up to `budget` connections; returns true if the queue is known to be empty.
  bool AcceptSome(size_t budget);

  EventLoop& loop_;
  ScopedFd fd_;
  size_t index_;
  ListenerStats& stats_;
  AcceptHandler& handler_;
  ReserveFd& reserve_;
  Options options_;
  bool paused_ = false;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_LISTENER_H_
