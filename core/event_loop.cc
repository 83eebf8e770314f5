#include "core/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

namespace shoal::core {

int64_t MonotonicNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace {

int64_t WallSeconds() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return ts.tv_sec;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(const Options& options) {
  if (options.tick_ns <= 0) return absl::InvalidArgumentError("event loop: tick_ns must be > 0");
  ScopedFd epoll_fd(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd.valid()) return ErrnoStatus(errno, "epoll_create1");
  ScopedFd wake_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd.valid()) return ErrnoStatus(errno, "eventfd");
  int64_t now_ns = options.clock ? options.clock() : MonotonicNowNs();
  std::unique_ptr<EventLoop> loop(
      new EventLoop(std::move(epoll_fd), std::move(wake_fd), options, now_ns));
  if (auto status = loop->Add(loop->wake_fd_.get(), EPOLLIN | EPOLLET, loop.get()); !status.ok()) {
    return status;
  }
  return loop;
}

EventLoop::EventLoop(ScopedFd epoll_fd, ScopedFd wake_fd, const Options& options, int64_t now_ns)
    : epoll_fd_(std::move(epoll_fd)),
      wake_fd_(std::move(wake_fd)),
      options_(options),
      events_(static_cast<size_t>(kMaxEventsPerWait)),
      now_ns_(now_ns),
      wall_seconds_(WallSeconds()),
      timers_(options.tick_ns, now_ns) {
  owner_.store(std::this_thread::get_id());
}

EventLoop::~EventLoop() = default;

void EventLoop::Run() {
  owner_.store(std::this_thread::get_id());
  while (!quit_.load(std::memory_order_acquire)) RunOneTurn(/*may_wait=*/true);
  RunPostedTasks();
}

void EventLoop::Quit() {
  quit_.store(true, std::memory_order_release);
  if (!InLoopThread()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_.get(), &one, sizeof(one));
  }
}

void EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    tasks_.push_back(std::move(task));
  }
  tasks_pending_.store(true, std::memory_order_release);
  if (!InLoopThread()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_.get(), &one, sizeof(one));
  }
}

absl::Status EventLoop::Control(int operation, int fd, uint32_t events, IoHandler* handler) {
  epoll_event event{};
  event.events = events;
  event.data.ptr = handler;
  if (epoll_ctl(epoll_fd_.get(), operation, fd, &event) != 0) {
    return ErrnoStatus(errno, operation == EPOLL_CTL_ADD ? "epoll_ctl(ADD)" : "epoll_ctl(MOD)");
  }
  return absl::OkStatus();
}

absl::Status EventLoop::Add(int fd, uint32_t events, IoHandler* handler) {
  return Control(EPOLL_CTL_ADD, fd, events, handler);
}

absl::Status EventLoop::Modify(int fd, uint32_t events, IoHandler* handler) {
  SHOAL_ASSERT_IN_LOOP_THREAD(*this);
  return Control(EPOLL_CTL_MOD, fd, events, handler);
}

void EventLoop::Remove(int fd) { epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::QueueReady(ReadyHandler* handler) {
  SHOAL_ASSERT_IN_LOOP_THREAD(*this);
  if (!handler->linked()) ready_.PushBack(handler);
}

int64_t EventLoop::ReadClock() const {
  return options_.clock ? options_.clock() : MonotonicNowNs();
}

int64_t EventLoop::RefreshNow() {
  now_ns_ = ReadClock();
  wall_seconds_ = WallSeconds();
  return now_ns_;
}

int EventLoop::ComputeTimeoutMs() {
  if (!ready_.empty() || tasks_pending_.load(std::memory_order_acquire)) return 0;
  int64_t delay_ns = timers_.NextWorkDelayNs(now_ns_);
  if (delay_ns < 0) return -1;
  constexpr int64_t kMaxWaitMs = 60'000;
  if (delay_ns >= kMaxWaitMs * 1'000'000) return kMaxWaitMs;
  return static_cast<int>((delay_ns + 999'999) / 1'000'000);
}

void EventLoop::RunOneTurn(bool may_wait) {
  SHOAL_ASSERT_IN_LOOP_THREAD(*this);
  int timeout_ms = may_wait ? ComputeTimeoutMs() : 0;
  int count = epoll_wait(epoll_fd_.get(), events_.data(), static_cast<int>(events_.size()),
                         timeout_ms);
  int64_t turn_start = RefreshNow();
  for (int i = 0; i < count; ++i) {
    static_cast<IoHandler*>(events_[i].data.ptr)->HandleEvents(events_[i].events);
  }
  RunReadyList();
  RunPostedTasks();
  timers_.Advance(now_ns_);
  if (turn_end_hook_) turn_end_hook_();
  if (turn_observer_ != nullptr) turn_observer_->OnTurnEnd(turn_start, MonotonicNowNs());
}

void EventLoop::RunReadyList() {
  if (ready_.empty()) return;
  // Handlers queued while the list runs wait for the next turn, after new I/O events.
  for (size_t remaining = ready_.size(); remaining > 0; --remaining) {
    ReadyHandler* handler = ready_.PopFront();
    if (handler == nullptr) break;
    handler->HandleReady();
  }
}

void EventLoop::RunPostedTasks() {
  if (!tasks_pending_.load(std::memory_order_acquire)) return;
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    running_tasks_.swap(tasks_);
    tasks_pending_.store(false, std::memory_order_release);
  }
  for (auto& task : running_tasks_) task();
  running_tasks_.clear();
}

void EventLoop::HandleEvents(uint32_t) {
  uint64_t value;
  while (read(wake_fd_.get(), &value, sizeof(value)) > 0) {
  }
}

}  // namespace shoal::core
