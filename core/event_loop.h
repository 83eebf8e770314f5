// EventLoop: one epoll instance in edge-triggered use, an eventfd for wake-ups, a queue of tasks
// posted from other threads, a ready list for handlers that stopped early for fairness, a cached
// monotonic clock and a TimerWheel.
//
// Threading: an EventLoop is run by exactly one thread (the one that calls Run). Post, Quit and
// InLoopThread may be called from any thread; everything else only from the loop thread (or
// before Run starts; until then the creating thread counts as the loop thread). Loop-only entry
// points assert it in checked builds (core/thread_check.h). One loop turn is: wait (timeout from the ready list, posted tasks and the
// timer wheel), update the clock, dispatch I/O events, run the ready list, run posted tasks,
// advance the timer wheel, then the turn-end hook.
#ifndef SHOAL_CORE_EVENT_LOOP_H_
#define SHOAL_CORE_EVENT_LOOP_H_

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/base/thread_annotations.h"
#include "core/intrusive_list.h"
#include "core/socket.h"
#include "core/thread_check.h"
#include "core/timer_wheel.h"

namespace shoal::core {

// Receives the epoll event mask for a file descriptor registered with EventLoop::Add.
class IoHandler {
 public:
  virtual void HandleEvents(uint32_t events) = 0;

 protected:
  ~IoHandler() = default;
};

struct ReadyListTag;
// A handler that can ask to be called again later in the same loop turn (after the current batch
// of I/O events): how a connection that hit its per-event read budget yields to the others.
class ReadyHandler : public IntrusiveListNode<ReadyListTag> {
 public:
  virtual void HandleReady() = 0;

 protected:
  ~ReadyHandler() = default;
};

// Observes each loop turn; used for loop-turn statistics. Called on the loop thread.
class TurnObserver {
 public:
  virtual void OnTurnEnd(int64_t turn_start_ns, int64_t turn_end_ns) = 0;

 protected:
  ~TurnObserver() = default;
};

class EventLoop : private IoHandler {
 public:
  // Events taken from one epoll_wait.
  static constexpr int kMaxEventsPerWait = 256;

  struct Options {
    // The timer wheel resolution; must be set (> 0; the config's timeouts.tick).
    int64_t tick_ns{};
    // The monotonic clock in nanoseconds, read once per turn; empty means MonotonicNowNs. A seam
    // for tests that check deadline logic without sleeping.
    std::function<int64_t()> clock;
  };

  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(const Options& options);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs turns on the calling thread until Quit. Binds the loop to the calling thread.
  void Run();
  // Runs one turn without waiting for events (loop thread only): for tests that drive the loop.
  void PollOnce() { RunOneTurn(/*may_wait=*/false); }
  // Any thread: Run returns after the current turn.
  void Quit();
  // Any thread: runs `task` on the loop thread in a later turn, in posting order.
  void Post(std::function<void()> task);
  bool InLoopThread() const { return std::this_thread::get_id() == owner_.load(); }

  absl::Status Add(int fd, uint32_t events, IoHandler* handler);
  absl::Status Modify(int fd, uint32_t events, IoHandler* handler);
  void Remove(int fd);

  // Calls handler->HandleReady() after this turn's I/O events (or in the next turn if called while
  // the ready list is being run). Idempotent while queued. O(1).
  void QueueReady(ReadyHandler* handler);
  void CancelReady(ReadyHandler* handler) { ready_.Remove(handler); }

  // Monotonic nanoseconds (Options::clock) cached at the start of the turn, and wall-clock seconds
  // since the epoch.
  int64_t now_ns() const { return now_ns_; }
  int64_t wall_seconds() const { return wall_seconds_; }
  int64_t RefreshNow();

  TimerWheel& timers() { return timers_; }
  void set_turn_observer(TurnObserver* observer) { turn_observer_ = observer; }
  void set_turn_end_hook(std::function<void()> hook) { turn_end_hook_ = std::move(hook); }

 private:
  EventLoop(ScopedFd epoll_fd, ScopedFd wake_fd, const Options& options, int64_t now_ns);
  void HandleEvents(uint32_t events) override;  // the wake-up eventfd
  absl::Status Control(int operation, int fd, uint32_t events, IoHandler* handler);
  int64_t ReadClock() const;
  void RunOneTurn(bool may_wait);
  int ComputeTimeoutMs();
  void RunPostedTasks();
  void RunReadyList();

  ScopedFd epoll_fd_;
  ScopedFd wake_fd_;
  Options options_;
  std::vector<epoll_event> events_;
  std::atomic<std::thread::id> owner_{};
  std::atomic<bool> quit_{false};

  // std::mutex, not absl::Mutex: Debian's abseil is not built for ThreadSanitizer, which then
  // cannot see absl::Mutex and reports false races; pthread mutexes it intercepts.
  std::mutex tasks_mutex_;
  std::vector<std::function<void()>> tasks_ ABSL_GUARDED_BY(tasks_mutex_);
  std::vector<std::function<void()>> running_tasks_;
  std::atomic<bool> tasks_pending_{false};

  IntrusiveList<ReadyHandler, ReadyListTag> ready_;
  int64_t now_ns_ = 0;
  int64_t wall_seconds_ = 0;
  TimerWheel timers_;
  TurnObserver* turn_observer_ = nullptr;
  std::function<void()> turn_end_hook_;
};

int64_t MonotonicNowNs();

}  // namespace shoal::core

#endif  // SHOAL_CORE_EVENT_LOOP_H_
