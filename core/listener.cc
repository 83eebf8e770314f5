#include "core/listener.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "core/thread_check.h"

namespace shoal::core {

bool ReserveFd::Release() {
  if (!fd_.valid()) return false;
  fd_.reset();
  return true;
}

void ReserveFd::Reopen() {
  if (!fd_.valid()) fd_.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
}

Listener::Listener(EventLoop& loop, ScopedFd fd, size_t index, ListenerStats& stats,
                   AcceptHandler& handler, ReserveFd& reserve, const Options& options)
    : loop_(loop),
      fd_(std::move(fd)),
      index_(index),
      stats_(stats),
      handler_(handler),
      reserve_(reserve),
      options_(options) {}

Listener::~Listener() {
  loop_.timers().Cancel(this);
  loop_.CancelReady(this);
  if (fd_.valid()) loop_.Remove(fd_.get());
}

absl::Status Listener::Start() {
  uint32_t events = EPOLLIN | EPOLLET | (options_.shared ? uint32_t{EPOLLEXCLUSIVE} : 0u);
  return loop_.Add(fd_.get(), events, this);
}

void Listener::HandleEvents(uint32_t) {
  SHOAL_ASSERT_IN_LOOP_THREAD(loop_);
  if (fd_.valid() && !paused_ && !scheduled() && !AcceptSome(options_.accept_budget)) {
    loop_.QueueReady(this);
  }
}

void Listener::SetPaused(bool paused) {
  SHOAL_ASSERT_IN_LOOP_THREAD(loop_);
  if (paused_ == paused) return;
  paused_ = paused;
  // No edge announces what queued while paused.
  if (!paused_ && fd_.valid()) loop_.QueueReady(this);
}

bool Listener::HasQueued() const {
  if (!fd_.valid()) return false;
  pollfd poll_fd{fd_.get(), POLLIN, 0};
  return poll(&poll_fd, 1, 0) == 1 && (poll_fd.revents & POLLIN) != 0;
}

void Listener::HandleReady() { HandleEvents(EPOLLIN); }

void Listener::OnExpire() { HandleEvents(EPOLLIN); }

bool Listener::AcceptSome(size_t budget) {
  for (size_t i = 0; i < budget; ++i) {
    int fd = accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      handler_.OnAccepted(ScopedFd(fd), index_);
      continue;
    }
    int err = errno;
    switch (err) {
      case EAGAIN:
        return true;
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
        if (err != EINTR) stats_.CountAcceptError(err);
        continue;
      case EMFILE:
      case ENFILE:
        stats_.CountAcceptError(err);
        if (reserve_.Release()) {
          int doomed = accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
          if (doomed >= 0) close(doomed);
          reserve_.Reopen();
          if (doomed >= 0 && reserve_.held()) continue;
        }
        loop_.timers().Schedule(this, loop_.now_ns() + options_.retry_after_ns);
        return true;
      default:
        stats_.CountAcceptError(err);
        loop_.timers().Schedule(this, loop_.now_ns() + options_.retry_after_ns);
        return true;
    }
  }
  return false;
}

void Listener::AcceptPendingAndClose() {
  SHOAL_ASSERT_IN_LOOP_THREAD(loop_);
  if (!fd_.valid()) return;
  loop_.timers().Cancel(this);
  loop_.CancelReady(this);
  while (!AcceptSome(options_.accept_budget)) {
  }
  loop_.timers().Cancel(this);
  loop_.Remove(fd_.get());
  fd_.reset();
}

}  // namespace shoal::core
