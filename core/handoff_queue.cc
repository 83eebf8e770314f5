#include "core/handoff_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <bit>
#include <cerrno>

namespace shoal::core {

absl::StatusOr<std::unique_ptr<HandoffQueue>> HandoffQueue::Create(size_t capacity) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "eventfd for the hand-off queue");
  return std::unique_ptr<HandoffQueue>(
      new HandoffQueue(ScopedFd(fd), std::bit_ceil(std::max<size_t>(capacity, 2))));
}

HandoffQueue::HandoffQueue(ScopedFd wake_fd, size_t capacity)
    : wake_fd_(std::move(wake_fd)), cells_(new Cell[capacity]), mask_(capacity - 1) {
  for (uint64_t i = 0; i < capacity; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
}

HandoffQueue::~HandoffQueue() {
  Item item;
  while (Dequeue(&item)) close(item.fd);
}

absl::Status HandoffQueue::Attach(EventLoop& loop, Receiver receiver,
                                  std::function<void()> after_batch) {
  receiver_ = std::move(receiver);
  after_batch_ = std::move(after_batch);
  loop_ = &loop;
  // Registering reports a wake-up written before (epoll checks readiness at EPOLL_CTL_ADD).
  return loop.Add(wake_fd_.get(), EPOLLIN | EPOLLET, this);
}

void HandoffQueue::Detach() {
  if (loop_ == nullptr) return;
  loop_->Remove(wake_fd_.get());
  loop_ = nullptr;
}

bool HandoffQueue::TryPush(ScopedFd& fd, const SocketAddress& peer, size_t listener_index) {
  producers_inside_.fetch_add(1, std::memory_order_seq_cst);
  bool pushed = !closed_.load(std::memory_order_seq_cst) &&
                Enqueue(Item{fd.get(), peer, listener_index});
  // Leave before waking: a receiver woken by this push then sees no producer inside.
  producers_inside_.fetch_sub(1, std::memory_order_seq_cst);
  if (!pushed) return false;
  fd.release();
  if (!wake_pending_.exchange(true, std::memory_order_seq_cst)) {
    uint64_t one = 1;
    (void)!write(wake_fd_.get(), &one, sizeof(one));
  }
  return true;
}

void HandoffQueue::Close() {
  closed_.store(true, std::memory_order_seq_cst);
  DeliverAll();
}

bool HandoffQueue::Idle() const {
  if (producers_inside_.load(std::memory_order_seq_cst) != 0) return false;
  const Cell& cell = cells_[dequeue_position_ & mask_];
  return cell.sequence.load(std::memory_order_acquire) != dequeue_position_ + 1;
}

bool HandoffQueue::Enqueue(const Item& item) {
  uint64_t position = enqueue_position_.load(std::memory_order_relaxed);
  for (;;) {
    Cell& cell = cells_[position & mask_];
    uint64_t sequence = cell.sequence.load(std::memory_order_acquire);
    int64_t lag = static_cast<int64_t>(sequence - position);
    if (lag == 0) {
      if (enqueue_position_.compare_exchange_weak(position, position + 1,
                                                  std::memory_order_relaxed)) {
        cell.item = item;
        cell.sequence.store(position + 1, std::memory_order_release);
        return true;
      }
    } else if (lag < 0) {
      return false;  // full
    } else {
      position = enqueue_position_.load(std::memory_order_relaxed);
    }
  }
}

bool HandoffQueue::Dequeue(Item* item) {
  Cell& cell = cells_[dequeue_position_ & mask_];
  if (cell.sequence.load(std::memory_order_acquire) != dequeue_position_ + 1) return false;
  *item = cell.item;
  cell.sequence.store(dequeue_position_ + mask_ + 1, std::memory_order_release);
  ++dequeue_position_;
  return true;
}

void HandoffQueue::DeliverAll() {
  Item item;
  while (Dequeue(&item)) receiver_(ScopedFd(item.fd), item.peer, item.listener_index);
  if (after_batch_) after_batch_();
}

void HandoffQueue::HandleEvents(uint32_t) {
  // Consume the wake-up first, then clear the flag, then pop: a push that found the flag set
  // before the clearing is seen by the pops (the exchange synchronizes with its own), and a push
  // after it writes the eventfd again. Clearing before consuming could swallow a wake-up whose
  // flag then stays set, silencing every later push.
  uint64_t count;
  (void)!read(wake_fd_.get(), &count, sizeof(count));  // takes the whole counter at once
  wake_pending_.exchange(false, std::memory_order_seq_cst);
  DeliverAll();
}

}  // namespace shoal::core
