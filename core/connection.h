// Connection: one accepted TCP connection on a worker's EventLoop, owning its socket, its unconsumed
// input, its OutputQueue, its deadlines and its protocol Session.
//
// Edge-triggered discipline: on readiness it reads until EAGAIN, but at most
// `settings.read_budget_bytes` per turn; past the budget it re-queues itself on the loop's ready list
// so other connections run first. EPOLLOUT is armed only while output is pending. Above the high
// watermark of queued output it stops reading (the peer feels TCP backpressure) and resumes below the
// low watermark, reading at once what arrived meanwhile (no edge will come for it). Deadlines are
// one intrusive timer, re-checked lazily: activity only records the time.
//
// Threading: every method runs on the owning worker's loop thread. The owner destroys a closed
// connection only after the loop turn in which it closed.
#ifndef SHOAL_CORE_CONNECTION_H_
#define SHOAL_CORE_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/buffer.h"
#include "core/close_reason.h"
#include "core/event_loop.h"
#include "core/intrusive_list.h"
#include "core/output_queue.h"
#include "core/protocol.h"
#include "core/socket.h"
#include "core/stats.h"
#include "core/timer_wheel.h"

namespace shoal::core {

// Per-worker settings a connection reads at the moment it needs them, so a change applied on the
// worker thread (SIGHUP) takes effect for every deadline scheduled from then on.
// The worker's queued output (all connections) is capped at worker_budget. From the pressure
// threshold (7/8 of the budget) on, connections holding more than low_watermark stop reading, so
// the room left goes to connections whose peers do read; at the budget every connection holding
// output stops, while one with nothing queued (its peer reads) may still read one read budget.
// A blocked connection resumes as soon as the same rule no longer blocks it.
struct ConnectionSettings {
  int64_t idle_timeout_ns = 60'000'000'000;
  int64_t read_timeout_ns = 10'000'000'000;
  int64_t write_timeout_ns = 30'000'000'000;
  uint64_t high_watermark = 1 << 20;
  uint64_t low_watermark = 256 << 10;
  uint64_t worker_budget = 256ull << 20;
  size_t read_budget_bytes = 256 << 10;
};

inline uint64_t WorkerBudgetPressureThreshold(const ConnectionSettings& settings) {
  return settings.worker_budget - settings.worker_budget / 8;
}

class Connection;

// What a connection needs from the worker that owns it.
class ConnectionOwner {
 public:
  virtual EventLoop& loop() = 0;
  virtual ChunkPool& chunk_pool() = 0;
  // Scratch space for reads, shared by the worker's connections (one runs at a time).
  virtual char* read_scratch() = 0;
  virtual size_t read_scratch_bytes() const = 0;
  virtual const ConnectionSettings& settings() const = 0;
  virtual WorkerStats& worker_stats() = 0;
  virtual void OnConnectionClosed(Connection* connection, CloseReason reason) = 0;
  // The worker's queued output reached its budget while `connection` wanted to read more.
  virtual void OnBudgetBlocked(Connection* connection) = 0;

 protected:
  ~ConnectionOwner() = default;
};

struct ConnectionListTag;

class Connection final : private IoHandler,
                         private ReadyHandler,
                         private Timer,
                         public IntrusiveListNode<ConnectionListTag> {
 public:
  Connection(ConnectionOwner& owner, ScopedFd fd, ListenerStats& stats);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers with the loop and creates the session. Call once, right after construction.
  absl::Status Start(Protocol& protocol);

  // --- For sessions ---
  // Queues bytes for the peer. Ignored once the connection is closing (CloseAfterFlush, Close).
  void Send(std::string_view bytes);
  // The next `bytes` input bytes go from the socket straight to the output queue (no copy through
  // user space), then Session::OnForwardComplete is called. Only from within Session::OnData,
  // which must consume all of `input` when it calls this.
  void ForwardInput(uint64_t bytes);
  // `n` requests were fully read. Their duration (read -> response fully written) is observed in
  // the listener's request_duration histogram when the output queue next empties.
  void CountRequests(uint64_t n);
  // Closes now; queued output is dropped.
  void Close(CloseReason reason);
  // Reads no more; closes once queued output is written (or the write deadline passes).
  void CloseAfterFlush(CloseReason reason);
  int64_t now_ns() const { return owner_.loop().now_ns(); }
  // "ip:port" of the peer, for log lines (a syscall: not for the hot path).
  std::string PeerName() const;
  int64_t wall_seconds() const { return owner_.loop().wall_seconds(); }

  // --- For the owner ---
  // Graceful drain: closes now if nothing is in flight, else once the request in flight is answered.
  void BeginDrain();
  // Whether the worker budget rule forbids this connection to read with `worker_queued` bytes
  // queued on the whole worker.
  bool BlockedByWorkerBudget(const ConnectionSettings& settings, uint64_t worker_queued) const;
  // Called by the owner when the rule no longer blocks it after OnBudgetBlocked.
  void ResumeAfterBudget();
  bool closed() const { return state_ == State::kClosed; }
  bool draining() const { return draining_; }
  size_t queued_output_bytes() const { return output_.size(); }
  bool reading_paused() const { return paused_for_watermark_ || paused_for_budget_; }
  int fd() const { return fd_.get(); }

 private:
  // kOpen -> kFlushing (CloseAfterFlush: no more requests are read) -> kLingering (our FIN is
  // sent; input is read and discarded until the peer's FIN, so unread bytes cannot turn our close
  // into a reset that destroys the replies in flight) -> kClosed.
  enum class State { kOpen, kFlushing, kLingering, kClosed };

  void HandleEvents(uint32_t events) override;
  void HandleReady() override;
  void OnExpire() override;

  void ReadUntilBlockedOrBudget();
  // Bytes read; 0 when reading should stop (EAGAIN, EOF, error, closed).
  size_t ReadOnce(size_t max_bytes);
  void Deliver(std::string_view data, bool data_is_in_input_buffer);
  void NoteShortRead(size_t got, size_t wanted);
  void HandlePeerShutdown();
  void DiscardInput();
  void FinishFlushing();
  void Flush();
  void UpdateWriteInterest(bool want_writable);
  void CheckWatermarks();
  void RestartReadDeadlineAfterPause();
  // Bytes this connection may read now under the worker budget rule (0: blocked).
  uint64_t WorkerBudgetRoom(const ConnectionSettings& settings, uint64_t worker_queued) const;
  void MaybeFinishDrain();
  void ArmDeadlineNoLaterThan(int64_t deadline_ns);
  int64_t NextDeadline() const;

  ConnectionOwner& owner_;
  ScopedFd fd_;
  ListenerStats& stats_;
  std::unique_ptr<Session> session_;
  Buffer input_;
  OutputQueue output_;
  State state_ = State::kOpen;
  CloseReason pending_close_reason_ = CloseReason::kPeerClosed;
  uint64_t forward_remaining_ = 0;
  int64_t last_activity_ns_ = 0;
  int64_t request_started_ns_ = 0;
  int64_t last_write_progress_ns_ = 0;
  int64_t linger_deadline_ns_ = 0;
  int64_t awaiting_flush_since_ns_ = 0;
  uint64_t requests_awaiting_flush_ = 0;
  uint64_t requests_completed_ = 0;
  bool request_in_progress_ = false;
  bool readable_pending_ = true;
  bool write_interest_ = false;
  bool paused_for_watermark_ = false;
  bool paused_for_budget_ = false;
  bool peer_shut_down_ = false;
  bool peer_fin_signalled_ = false;
  bool draining_ = false;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_CONNECTION_H_
