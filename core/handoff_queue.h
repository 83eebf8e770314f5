// HandoffQueue: accepted connections handed from any worker to one receiving worker.
//
// A bounded lock-free multi-producer single-consumer ring (a sequence number per cell, after
// Vyukov's bounded queue) plus an eventfd the receiver's loop watches as its wake-up. A producer
// writes the eventfd only when no wake-up is already pending, so a burst of hand-offs costs one
// write and one wake. The descriptor belongs to exactly one thread at a time: the producer until
// TryPush succeeds, the queue until the receiver pops it, the receiver after.
//
// Closing (the receiver's drain): after Close no TryPush succeeds, and Idle tells the receiver
// when no producer is still inside TryPush and nothing is queued, so a drain cannot finish while
// a hand-off to it is in flight. Producers that find it closed keep the connection.
//
// Threading: TryPush from any thread; Attach, Detach, Close, Idle and the delivery from the
// receiver's loop thread only. TryPush and a pop are O(1); capacity is fixed at Create.
#ifndef SHOAL_CORE_HANDOFF_QUEUE_H_
#define SHOAL_CORE_HANDOFF_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "core/event_loop.h"
#include "core/socket.h"

namespace shoal::core {

class HandoffQueue final : private IoHandler {
 public:
  // Receives one handed-off connection on the receiver's loop thread.
  using Receiver =
      std::function<void(ScopedFd fd, const SocketAddress& peer, size_t listener_index)>;

  // `capacity` is rounded up to a power of two.
  static absl::StatusOr<std::unique_ptr<HandoffQueue>> Create(size_t capacity);
  // Closes every descriptor still queued.
  ~HandoffQueue();
  HandoffQueue(const HandoffQueue&) = delete;
  HandoffQueue& operator=(const HandoffQueue&) = delete;

  // Registers the wake-up with `loop`; `receiver` gets each connection popped, and `after_batch`
  // runs once after each batch of deliveries.
  absl::Status Attach(EventLoop& loop, Receiver receiver, std::function<void()> after_batch);
  void Detach();

  // Any thread: queues `fd` (taking it) and wakes the receiver. False when full or closed; `fd`
  // then stays with the caller.
  bool TryPush(ScopedFd& fd, const SocketAddress& peer, size_t listener_index);

  // Receiver: refuse hand-offs from now on, then deliver what is queued.
  void Close();
  bool Idle() const;

 private:
  struct Item {
    int fd = -1;
    SocketAddress peer;
    size_t listener_index = 0;
  };
  struct Cell {
    std::atomic<uint64_t> sequence{0};
    Item item;
  };

  HandoffQueue(ScopedFd wake_fd, size_t capacity);
  bool Enqueue(const Item& item);
  bool Dequeue(Item* item);
  void DeliverAll();
  void HandleEvents(uint32_t events) override;

  ScopedFd wake_fd_;
  std::unique_ptr<Cell[]> cells_;
  uint64_t mask_;
  EventLoop* loop_ = nullptr;
  Receiver receiver_;
  std::function<void()> after_batch_;
  alignas(64) std::atomic<uint64_t> enqueue_position_{0};
  std::atomic<int> producers_inside_{0};
  std::atomic<bool> closed_{false};
  std::atomic<bool> wake_pending_{false};
  alignas(64) uint64_t dequeue_position_ = 0;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_HANDOFF_QUEUE_H_
