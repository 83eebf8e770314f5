// Connection: one accepted TCP connection on a worker's EventLoop, owning its socket, its unconsumed
// input, its OutputQueue, its deadlines and its protocol Session.
//
// Edge-triggered discipline: on readiness it reads until EAGAIN, but at most
// `settings.read_budget_bytes` per turn; past the budget it re-queues itself on the loop's ready list
// so other connections run first. EPOLLOUT is armed only while output is pending. Above the high
// watermark of queued output it stops reading (the peer feels TCP backpressure) and resumes below the
// low watermark, reading at once what arrived meanwhile (no edge will come for it). Deadlines are
// one intrusive timer, re-checked lazily: activity only records the time. Deadline sums saturate:
// a timeout too large for the int64 clock means never.
//
// Closing gracefully (CloseAfterFlush, drain) sends our FIN after the queued output and lingers,
// discarding input, only while unread input is likely (bytes waiting, a request in progress, or
// input received within the last kRecentInputNs): closing over unread input would reset the
// connection and destroy the replies in flight. Otherwise the socket closes at once. Lingering
// reads go through the same per-turn read budget as normal reads, and end at the peer's FIN, at
// the linger deadline (read_timeout after our FIN) or after `linger_discard_bytes`, whichever first.
//
// Lifetime: past its age (drawn at Start) or its request limit a connection ends like a drain, at
// the first request boundary (reason max_age): a request in flight is answered first. An idle
// connection past its age closes with FIN at once, unless input arrived within kRecentInputNs: its
// next request may be on the way, so that request is answered last (HTTP with Connection: close,
// through SessionContext::LastReply), or it closes once that input is no longer recent.
//
// TLS (UseTls before Start; connection_tls.cc): the handshake runs first, timed like a request by
// the read deadline (expiry: read_timeout); a failed handshake closes with tls_error, as does a
// peer that resets or closes once its ClientHello was answered (before that: reset), and every
// close before the handshake completed counts as a failed handshake. Reads drain what OpenSSL holds (they stop only at WANT_READ, never at a short
// read), the read budget counts decrypted bytes, and a read or write that needs the other
// direction (WANT_WRITE / WANT_READ) waits for that readiness. Queued output stays counted until
// OpenSSL reports its record written, so watermarks and the worker budget see every byte not yet
// on the wire. A graceful close sends close_notify before the FIN; bytes counts are plaintext.
//
// Sessions see the connection only as a SessionContext (core/session.h); the methods below are for
// the owner (the worker) and tests.
//
// Threading: every method runs on the owning worker's loop thread. The owner destroys a closed
// connection only after the loop turn in which it closed.
#ifndef SHOAL_CORE_CONNECTION_H_
#define SHOAL_CORE_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/buffer.h"
#include "core/close_reason.h"
#include "core/event_loop.h"
#include "core/intrusive_list.h"
#include "core/output_queue.h"
#include "core/protocol.h"
#include "core/session.h"
#include "core/socket.h"
#include "core/stats.h"
#include "core/timer_wheel.h"
#include "core/tls/tls_session.h"
#include "core/transport.h"
#include "core/worker_budget.h"

namespace shoal::core {

// Fixed by design, not config keys (the mapping from the config copies them into the settings):
// what one connection may read per loop turn before yielding to the others,
inline constexpr size_t kReadBudgetBytes = 256 << 10;
// what a lingering close discards at most: well above what a peer that stops at our FIN can have
// in flight (socket buffers: a few MiB),
inline constexpr uint64_t kLingerDiscardBytes = 64 << 20;
// and how long a holder must have made no progress to count as stalled under memory pressure.
inline constexpr int64_t kShedStallNs = 250'000'000;

// Per-worker settings a connection reads at the moment it needs them; after a change on the worker
// thread (SIGHUP) the owner calls ApplySettings on every connection. worker_budget,
// low_watermark and read_budget_bytes feed the worker budget rule (core/worker_budget.h).
// max_input_bytes bounds a connection's unconsumed input (0 = unbounded): a session that consumes
// nothing of that much input is closed (memory_pressure). max_memory bounds the bytes the whole
// process holds for peers (0 = 8 x worker_budget x workers) and shed_stall_ns says which holders
// count as stalled; see core/overload.h.
//
// A plain value with no defaults of its own: every field must be set (zero timeouts or a zero read
// budget would close or stall every connection). The shoal binary fills it from the config
// (server/application.h, ConnectionSettingsFrom), tests from tests/support/default_options.h.
struct ConnectionSettings {
  int64_t idle_timeout_ns{};
  int64_t read_timeout_ns{};
  int64_t write_timeout_ns{};
  uint64_t high_watermark{};
  uint64_t low_watermark{};
  uint64_t worker_budget{};
  size_t read_budget_bytes{};
  uint64_t linger_discard_bytes{};
  uint64_t max_input_bytes{};
  uint64_t max_memory{};
  int64_t shed_stall_ns{};
  // Lifetime (close reason max_age, ended gracefully at a request boundary): the age is drawn at
  // accept as max_connection_age_ns plus a uniform jitter up to max_connection_age_jitter_ns
  // (0 = no age limit); max_requests_per_connection is read at each request (0 = no limit).
  int64_t max_connection_age_ns{};
  int64_t max_connection_age_jitter_ns{};
  uint64_t max_requests_per_connection{};
};

// InvalidArgument naming the first field that is zero where zero is never meant (the timeouts and
// the read budget); OK otherwise.
absl::Status CheckConnectionSettings(const ConnectionSettings& settings);

inline WorkerBudgetLimits BudgetLimits(const ConnectionSettings& settings) {
  return {settings.worker_budget, settings.read_budget_bytes, settings.low_watermark};
}

inline uint64_t WorkerBudgetPressureThreshold(const ConnectionSettings& settings) {
  return WorkerBudgetPressureThreshold(settings.worker_budget);
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
  // The bytes the worker holds for its peers (output queued plus input buffers), which the
  // budget rule is applied to.
  virtual uint64_t held_bytes() { return chunk_pool().queued_bytes(); }
  // A connection's input buffer grew or shrank by `delta` bytes of capacity.
  virtual void OnInputCapacityChanged(int64_t delta) { (void)delta; }

 protected:
  ~ConnectionOwner() = default;
};

struct ConnectionListTag;

// The outcome of one read from the socket.
struct ReadResult {
  enum class Status {
    kData,        // `bytes` > 0 were read and handed on
    kWouldBlock,  // EAGAIN: nothing more until the next edge
    kEof,         // the peer's FIN
    kError,       // the connection was reset (and is now closed)
  };
  Status status = Status::kWouldBlock;
  size_t bytes = 0;
};

class Connection final : private SessionContext,
                         private IoHandler,
                         private ReadyHandler,
                         private Timer,
                         public IntrusiveListNode<ConnectionListTag>,
                         public BudgetBlockedNode {
 public:
  Connection(ConnectionOwner& owner, ScopedFd fd, ListenerStats& stats);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Makes the connection speak TLS through `tls` (bound to this connection's fd). Before Start.
  void UseTls(std::unique_ptr<TlsSession> tls) { tls_ = std::move(tls); }
  // Registers with the loop and creates the session. Call once, right after construction.
  absl::Status Start(Protocol& protocol);
  // Closes now; queued output is dropped.
  void Close(CloseReason reason) override;
  // Graceful drain (reason shutdown): once the request in flight is answered, or now if nothing is
  // in flight. A connection idle between requests whose input arrived within kRecentInputNs is
  // treated like one past its age: its next request may already be on the way, so that one is
  // answered last (HTTP: Connection: close), or it closes once the input is no longer recent;
  // closing at once would lose that request to our FIN.
  void BeginDrain();
  // Called by the owner when the worker budget rule no longer blocks it after OnBudgetBlocked.
  void ResumeAfterBudget();
  // Called by the owner after its settings changed: deadlines and watermarks are re-evaluated
  // against them now (an expired deadline fires on the loop's next timer pass).
  void ApplySettings();
  bool closed() const { return closing_.state == State::kClosed; }
  bool draining() const { return closing_.draining; }
  size_t queued_output_bytes() const { return output_.size(); }
  // Memory held for the peer: input buffer capacity plus queued output.
  uint64_t held_bytes() const { return input_.capacity() + output_.size(); }
  // When the connection last made progress with what it holds: its last write progress while
  // output is queued, else the start of the request its input holds. INT64_MAX when it holds
  // nothing (never a shedding candidate).
  int64_t last_progress_ns() const;
  bool reading_paused() const { return pause_.any(); }
  int fd() const { return fd_.get(); }
  // The client's address when it is not the socket's peer (a PROXY protocol header's source).
  void OverridePeer(const SocketAddress& peer) {
    peer_override_ = std::make_unique<SocketAddress>(peer);
  }

 private:
  // kOpen -> kFlushing (CloseAfterFlush: no more requests are read) -> kLingering (our FIN is
  // sent; input is read and discarded until the peer's FIN, so unread bytes cannot turn our close
  // into a reset that destroys the replies in flight) -> kClosed.
  enum class State { kOpen, kFlushing, kLingering, kClosed };

  // Input received this recently may be followed by more already in flight.
  static constexpr int64_t kRecentInputNs = 250'000'000;

  // The close machine.
  struct Closing {
    State state = State::kOpen;
    CloseReason pending_reason = CloseReason::kPeerClosed;  // once past kOpen
    bool draining = false;
    CloseReason drain_reason = CloseReason::kShutdown;  // while draining
  };
  // When the connection ends of age, and whether it is past its age or request limit.
  struct Lifetime {
    int64_t end_at_ns = INT64_MAX;
    uint64_t replies_announced = 0;
    bool ending = false;
  };
  // Why reading is held up by us rather than by the peer.
  struct ReadPause {
    bool for_watermark = false;
    bool for_budget = false;
    bool any() const { return for_watermark || for_budget; }
  };
  // What the socket is known to hold, and how much of the input goes straight to the output.
  struct InputState {
    bool readable_pending = true;  // bytes (or the FIN) may be waiting: no edge will announce them
    bool peer_fin_signalled = false;
    bool peer_shut_down = false;   // the FIN was read
    uint64_t forward_remaining = 0;
  };
  // The times the deadlines run from; which deadline runs when is EvaluateDeadlines' business.
  struct DeadlineClock {
    int64_t last_activity_ns = 0;
    int64_t last_input_ns = INT64_MIN;
    int64_t request_started_ns = 0;
    int64_t last_write_progress_ns = 0;
    int64_t linger_started_ns = 0;
    uint64_t linger_discarded_bytes = 0;
    bool request_in_progress = false;
  };
  // Requests read but not yet fully answered, for the request_duration histogram.
  struct RequestTiming {
    uint64_t completed = 0;
    uint64_t awaiting_flush = 0;
    int64_t awaiting_flush_since_ns = 0;
  };
  struct DeadlineCheck {
    int64_t next_ns = INT64_MAX;             // the earliest running deadline
    std::optional<CloseReason> expired;      // the close an expired deadline means, if any
  };
  // Where one read puts the bytes: the first `to_output` go to the output queue (forwarding), the
  // rest to `rest` (the read scratch space or the input buffer's free space).
  struct ReadPlan {
    size_t to_output = 0;
    char* rest = nullptr;
    size_t rest_bytes = 0;
    bool rest_in_input = false;
    // A read that returns fewer bytes than planned shows the socket drained.
    bool short_read_drains = false;
  };

  // SessionContext (see core/session.h for the contract).
  void Send(std::string_view bytes) override;
  void ForwardInput(uint64_t bytes) override;
  void CountRequests(uint64_t n) override;
  bool LastReply() override;
  void CloseAfterFlush(CloseReason reason) override;
  void StartTimer(int64_t delay_ns) override;
  int64_t now_ns() const override { return owner_.loop().now_ns(); }
  int64_t wall_seconds() const override { return owner_.loop().wall_seconds(); }
  std::string PeerName() const override;

  void HandleEvents(uint32_t events) override;
  void HandleReady() override;
  void OnExpire() override;

  void ReadUntilBlockedOrBudget();
  ReadResult ReadOnce(size_t max_bytes);
  ReadPlan PlanRead(size_t max_bytes);
  long Receive(const ReadPlan& plan, size_t* rest_received);
  void AccountRead(const ReadPlan& plan, size_t received, size_t rest_received);
  ReadResult ReadFailed(long result);
  void Deliver(std::string_view data, bool data_is_in_input_buffer);
  // Reports the input buffer's capacity change since `capacity_before` to the owner.
  void AccountInputCapacity(size_t capacity_before);
  void HandlePeerShutdown();
  void DiscardInput();
  bool UnreadInputLikely();
  void FinishFlushing();
  void Flush();
  void UpdateWriteInterest(bool want_writable);
  void CheckWatermarks();
  void RestartReadDeadlineAfterPause();
  void MaybeFinishDrain();
  void BeginGracefulEnd(CloseReason reason);
  // Ends at the next request boundary the read loop reaches, without reading now.
  void MarkEnding();
  // The next time the lifetime rule needs a look (INT64_MAX: none), and that look.
  int64_t LifetimeCheckNs() const;
  void CheckLifetime(int64_t now);
  // The one statement of the deadline rules, used both to arm the timer and when it fires.
  DeadlineCheck EvaluateDeadlines(int64_t now) const;
  void ArmDeadline();

  // The session's timer (SessionContext::StartTimer), apart from the deadline timer.
  class SessionTimer final : public Timer {
   public:
    explicit SessionTimer(Connection& connection) : connection_(connection) {}
    ~SessionTimer() override = default;

   private:
    void OnExpire() override { connection_.OnSessionTimer(); }
    Connection& connection_;
  };
  void OnSessionTimer();

  // TLS (connection_tls.cc). What a stalled TLS operation waits for in the other direction.
  struct TlsWait {
    bool read_wants_write = false;
    bool write_wants_read = false;
  };
  // WriteResult::error of a TLS protocol error (errno values are positive).
  static constexpr int kTlsProtocolError = -1;
  bool Handshaking() const { return tls_ != nullptr && !tls_->established(); }
  bool WantsWritable() const { return !output_.empty() || tls_wait_.read_wants_write; }
  void StartTls();
  // Turns readiness for a stalled TLS operation into readiness for the operation itself.
  uint32_t RouteTlsRetries(uint32_t events);
  ReadResult ReadOnceTls(ReadPlan plan);
  ReadResult TlsReadFailed(TransportResult result);
  void OnHandshakeDone();
  OutputQueue::WriteResult WriteTls();
  // Sends close_notify; false while it waits for EPOLLOUT (FinishFlushing then runs again).
  bool SendCloseNotify();

  ConnectionOwner& owner_;
  ScopedFd fd_;
  ListenerStats& stats_;
  std::unique_ptr<Session> session_;
  Buffer input_;
  OutputQueue output_;
  Closing closing_;
  ReadPause pause_;
  InputState input_state_;
  DeadlineClock clock_;
  RequestTiming timing_;
  Lifetime lifetime_;
  bool write_interest_ = false;
  std::unique_ptr<TlsSession> tls_;
  TlsWait tls_wait_;
  int64_t tls_started_ns_ = 0;
  SessionTimer session_timer_{*this};
  std::unique_ptr<SocketAddress> peer_override_;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_CONNECTION_H_
