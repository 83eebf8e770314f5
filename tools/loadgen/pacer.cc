#include "tools/loadgen/pacer.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>

namespace shoal::loadgen {

absl::StatusOr<std::unique_ptr<Pacer>> Pacer::Create(core::EventLoop& loop) {
  core::ScopedFd fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!fd.valid()) return core::ErrnoStatus(errno, "timerfd_create");
  std::unique_ptr<Pacer> pacer(new Pacer(loop, std::move(fd)));
  if (auto status = loop.Add(pacer->fd_.get(), EPOLLIN | EPOLLET, pacer.get()); !status.ok()) {
    return status;
  }
  return pacer;
}

Pacer::~Pacer() { loop_.Remove(fd_.get()); }

void Pacer::Schedule(PacedClient* client, int64_t at_ns) {
  heap_.push({at_ns, client});
  if (!firing_ && (armed_at_ns_ == 0 || at_ns < armed_at_ns_)) Arm(at_ns);
}

void Pacer::Arm(int64_t at_ns) {
  itimerspec spec{};
  // 0 would disarm the timer: a past time fires at once.
  if (at_ns <= 0) at_ns = 1;
  spec.it_value.tv_sec = at_ns / 1'000'000'000;
  spec.it_value.tv_nsec = at_ns % 1'000'000'000;
  timerfd_settime(fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_at_ns_ = at_ns;
}

void Pacer::HandleEvents(uint32_t) {
  uint64_t expirations;
  while (read(fd_.get(), &expirations, sizeof(expirations)) > 0) {
  }
  armed_at_ns_ = 0;
  firing_ = true;
  int64_t now = core::MonotonicNowNs();
  // Entries scheduled by OnPaceDue for a time already past are taken in this same pass.
  while (!heap_.empty() && heap_.top().at_ns <= now) {
    PacedClient* client = heap_.top().client;
    heap_.pop();
    client->OnPaceDue();
    if (!heap_.empty() && heap_.top().at_ns > now) now = core::MonotonicNowNs();
  }
  firing_ = false;
  if (!heap_.empty()) Arm(heap_.top().at_ns);
}

}  // namespace shoal::loadgen
