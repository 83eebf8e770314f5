#include "core/listener.h"
#include <cstdio>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "core/thread_check.h"

namespace shoal::core {

ReserveFd& ReserveFd::Process() {
  static ReserveFd* const reserve = new ReserveFd();
  return *reserve;
}

void ReserveFd::ReopenLocked() {
  if (!fd_.valid()) fd_.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
  held_.store(fd_.valid(), std::memory_order_release);
}

void ReserveFd::RestoreIfLost() {
  if (held()) return;
  std::unique_lock<std::shared_mutex> lock(mutex_);
  ReopenLocked();
}

int ReserveFd::Accept(int listen_fd, sockaddr* peer, socklen_t* peer_length) {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return accept4(listen_fd, peer, peer_length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

ReserveFd::Shed ReserveFd::ShedOne(int listen_fd) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  ReopenLocked();
  if (!fd_.valid()) return Shed::kNoReserve;
  fd_.reset();
  held_.store(false, std::memory_order_release);
  int doomed = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  const int err = doomed < 0 ? errno : 0;
  if (doomed >= 0) close(doomed);
  ReopenLocked();
  if (err == EAGAIN) return Shed::kQueueEmpty;
  // Another thread took the slot the reserve freed: retry from the timer.
  if (err == EMFILE || err == ENFILE) return Shed::kNoReserve;
  return Shed::kOne;
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
    sockaddr_storage peer;
    socklen_t peer_length = sizeof(peer);
    int fd = reserve_.Accept(fd_.get(), reinterpret_cast<sockaddr*>(&peer), &peer_length);
    if (fd >= 0) {
      reserve_.RestoreIfLost();
      handler_.OnAccepted(ScopedFd(fd),
                          SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&peer),
                                                      peer_length),
                          index_);
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
        switch (reserve_.ShedOne(fd_.get())) {
          case ReserveFd::Shed::kOne: continue;
          case ReserveFd::Shed::kQueueEmpty: return true;
          case ReserveFd::Shed::kNoReserve: break;
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

void Listener::Release() {
  SHOAL_ASSERT_IN_LOOP_THREAD(loop_);
  if (!fd_.valid()) return;
  loop_.timers().Cancel(this);
  loop_.CancelReady(this);
  loop_.Remove(fd_.get());
  fd_.reset();
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
