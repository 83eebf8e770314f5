// ClientConnection: one loadgen connection to one target, on one thread's EventLoop. It connects
// without blocking, writes requests (pipelined up to the depth), reads responses edge-triggered
// and hands them to its Codec, records latencies, and after an error closes and reconnects
// (see loadgen.h for the policy). It uses core/'s EventLoop, TimerWheel and sockets, not
// core::Connection (which is the server side).
//
// One core::Timer per connection serves every deadline it has, re-checked lazily when it fires:
// the connect timeout, the reconnect back-off, and the response timeout of the oldest request in
// flight (a response only records nothing; the timer re-arms from the new oldest when it fires).
//
// With TLS (RunPlan::tls) a connect is complete once the handshake is (kHandshaking in between,
// bounded by the connect timeout); reads and writes then go through the connection's TlsStream.
// The plaintext path only tests a pointer: it makes no virtual call.
//
// Threading: everything runs on the owning thread's loop. Ownership: the LoadThread owns its
// connections for the whole run (they are reused across reconnects, so pointers stay valid).
#ifndef SHOAL_TOOLS_LOADGEN_CLIENT_CONNECTION_H_
#define SHOAL_TOOLS_LOADGEN_CLIENT_CONNECTION_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/event_loop.h"
#include "core/socket.h"
#include "core/timer_wheel.h"
#include "tools/loadgen/codec.h"
#include "tools/loadgen/histogram.h"
#include "tools/loadgen/loadgen.h"
#include "tools/loadgen/pacer.h"
#include "tools/loadgen/timeline.h"
#include "tools/loadgen/tls_client_context.h"
#include "tools/loadgen/tls_stream.h"

namespace shoal::loadgen {

// The shape of the run, fixed once the load starts.
struct RunPlan {
  CodecOptions codec;
  int connections = 1;
  int pipeline = 1;
  bool open_loop = false;
  RateSchedule schedule;         // open loop: when each slot is due, from start_ns
  bool requests_mode = false;    // an exact count of measured requests
  int64_t timeout_ns = 0;
  int64_t connect_timeout_ns = 0;
  bool nodelay = true;
  bool timeline = false;
  int64_t reconnect_every = 0;   // > 0: requests per connection, then a new connection
  double ns_per_connect = 0;     // > 0: this thread's connect attempts are spaced this far apart
  const TlsClientContext* tls = nullptr;  // --tls: this thread's, owned by Run
  // Set when the load starts.
  int64_t start_ns = 0;          // warm-up begins (the open-loop schedule's origin)
  int64_t measure_start_ns = 0;  // requests intended from here on are measured...
  int64_t measure_end_ns = std::numeric_limits<int64_t>::max();  // ...until here
};

// Figures of one thread: written by its loop thread only; read by Run after the thread ends,
// except `live`, which Run reads while the load runs.
struct ThreadCounters {
  uint64_t requests = 0;
  uint64_t requests_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t verified = 0;
  uint64_t lost = 0;
  uint64_t failed = 0;
  uint64_t unsent = 0;
  uint64_t connects = 0;
  uint64_t reconnects = 0;
  int64_t last_measured_response_ns = 0;
  ErrorCounts errors;
  Histogram latency;
  Histogram latency_uncorrected;
  Timeline timeline;
  std::string first_connect_error;
  // --tls.
  uint64_t handshakes = 0;
  uint64_t handshakes_measured = 0;  // completed inside the measurement window
  uint64_t resumed = 0;
  Histogram handshake_latency;
  std::string tls_negotiated;        // of the first handshake
  std::string first_tls_error;

  // Single writer (relaxed load + store), read by the progress reporter.
  struct alignas(64) Live {
    std::atomic<uint64_t> completed{0};
    std::atomic<uint64_t> errors{0};
    std::atomic<uint64_t> bytes_received{0};
    std::atomic<int> open{0};
    std::atomic<uint64_t> handshakes_failed{0};
  } live;

  void CountError(uint64_t ErrorCounts::*kind);
};

inline void Bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

class ClientConnection;

// What a connection needs from its thread.
class ConnectionHost {
 public:
  virtual core::EventLoop& loop() = 0;
  virtual Pacer* pacer() = 0;  // open loop only
  virtual const RunPlan& plan() const = 0;
  virtual ThreadCounters& counters() = 0;
  // Scratch space for reads, shared by the thread's connections (one reads at a time).
  virtual char* read_scratch() = 0;
  virtual size_t read_scratch_bytes() const = 0;
  // The load phase has begun (requests may be sent).
  virtual bool load_started() const = 0;
  // The measurement window is over (duration mode): send nothing more.
  virtual bool stopping() const = 0;
  // The earliest time a connect attempt may start (the connect rate), reserved for the caller:
  // `now_ns` when unlimited.
  virtual int64_t ReserveConnectSlot(int64_t now_ns) = 0;
  // The first connect attempt of `connection` succeeded or failed.
  virtual void OnFirstConnectResolved(ClientConnection& connection) = 0;
  // `connection` will send nothing more and has nothing in flight (it may stay open).
  virtual void OnDone(ClientConnection& connection) = 0;

 protected:
  ~ConnectionHost() = default;
};

class ClientConnection final : private core::IoHandler,
                               private core::ReadyHandler,
                               private core::Timer,
                               private PacedClient {
 public:
  // `quota`: measured requests to send in requests mode (-1 otherwise). `tls_peer`: with TLS, what
  // the target's certificate is checked against (outlives the connection).
  ClientConnection(ConnectionHost& host, uint64_t id, const core::SocketAddress& target,
                   int64_t quota, const TlsPeer* tls_peer);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // First connect attempt.
  void Start();
  // The load phase began: start sending.
  void OnLoadStarted();
  // The measurement window ended: finish what is in flight, then report done.
  void OnStop();
  // Closes the socket and cancels every timer; the connection is then inert.
  void Shutdown();

  bool open() const { return state_ == State::kOpen; }
  bool done() const { return done_; }
  uint64_t id() const { return id_; }

 private:
  enum class State { kIdle, kConnecting, kHandshaking, kOpen, kClosed };
  // What one read or write on the socket (or through TLS) did.
  enum class Transfer { kMoved, kAgain, kEof, kReset, kBroken };

  struct InFlight {
    int64_t intended_ns;
    int64_t sent_ns;
    uint64_t seq;
    bool measured;
  };

  // A FIFO of requests in flight; capacity = pipeline depth.
  class InFlightQueue {
   public:
    explicit InFlightQueue(size_t capacity) : slots_(capacity) {}
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    InFlight& front() { return slots_[head_]; }
    void push(const InFlight& f) {
      slots_[(head_ + size_) % slots_.size()] = f;
      ++size_;
    }
    void pop() {
      head_ = (head_ + 1) % slots_.size();
      --size_;
    }
    void clear() { head_ = size_ = 0; }
    template <typename Fn>
    void ForEach(Fn fn) const {
      for (size_t i = 0; i < size_; ++i) fn(slots_[(head_ + i) % slots_.size()]);
    }

   private:
    std::vector<InFlight> slots_;
    size_t head_ = 0;
    size_t size_ = 0;
  };

  // The start of a response that arrived incomplete: [begin_, end_) of data_. Reads go to the
  // thread's scratch space and are decoded there; only an incomplete tail is kept here, so an idle
  // connection holds no read buffer.
  class InputBuffer {
   public:
    std::string_view view() const { return {data_.data() + begin_, end_ - begin_}; }
    size_t size() const { return end_ - begin_; }
    void Append(const char* data, size_t bytes);
    void Consume(size_t bytes);
    void Clear();

   private:
    std::vector<char> data_;
    size_t begin_ = 0;
    size_t end_ = 0;
  };

  void HandleEvents(uint32_t events) override;
  void HandleReady() override;
  void OnExpire() override;
  void OnPaceDue() override;

  // Connects now, or at the next connect slot the rate allows.
  void Connect();
  void ConnectNow();
  // TCP is connected: the handshake starts, or the connection is open.
  void OnConnected();
  void StartTls();
  void ContinueHandshake();
  void OnEstablished();
  void OnConnectFailed(int error);
  void OnHandshakeFailed(std::string_view reason);
  // A connect attempt failed (counted as `kind`): back off and retry, or give up.
  void ConnectAttemptFailed(uint64_t ErrorCounts::*kind);
  void HandleTlsEvents(uint32_t events);
  Transfer Receive(char* data, size_t capacity, size_t* moved);
  Transfer Send(const char* data, size_t size, size_t* moved);
  static Transfer FromTls(TlsIo io);
  // The error a failed transfer counts as (kEof while writing, kReset: reset; kBroken: protocol).
  static uint64_t ErrorCounts::*FailureKind(Transfer transfer);
  void ReadInput();
  void OnBytes(const char* data, size_t bytes);
  // Decodes the responses at the start of `input`; returns the bytes consumed. May fail the
  // connection (then the state is no longer kOpen).
  size_t Decode(std::string_view input);
  void OnEof();
  void TrySend();
  void Flush();
  // Counts the error, drops the socket and what is in flight, and reconnects (or is done).
  void Fail(uint64_t ErrorCounts::*kind);
  void CloseSocket();
  // reconnect_every: this socket has sent its share (send nothing more on it)...
  bool UsedUp() const;
  // ...and every answer is in: close it and open a new one.
  void Recycle();
  void ScheduleReconnect(int64_t delay_ns);
  void ArmTimer(int64_t deadline_ns);
  bool FinishedSending() const;
  void CheckDone();
  // Measured requests this connection was due to send and never will (counted once, when done).
  uint64_t Unsent() const;
  int64_t IntendedTime(uint64_t index) const;

  ConnectionHost& host_;
  const RunPlan& plan_;
  const uint64_t id_;
  const core::SocketAddress target_;
  const TlsPeer* const tls_peer_;
  core::ScopedFd fd_;
  std::unique_ptr<TlsStream> tls_;                 // while the socket is open, with TLS
  std::unique_ptr<TlsSessionSlot> tls_session_;    // --tls_resume: kept across reconnects
  int64_t tcp_connected_ns_ = 0;
  bool tls_read_wants_write_ = false;
  bool tls_write_wants_read_ = false;
  State state_ = State::kIdle;
  std::unique_ptr<Codec> codec_;
  InFlightQueue in_flight_;
  InputBuffer input_;
  std::string output_;
  size_t output_offset_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t sent_on_connection_ = 0;
  uint64_t schedule_index_ = 0;   // open loop: the next request's slot in the schedule
  int64_t quota_;                 // measured requests still to send; -1 = unlimited
  int64_t connect_started_ns_ = 0;
  int64_t reconnect_at_ns_ = 0;
  int consecutive_failures_ = 0;
  bool first_connect_reported_ = false;
  bool pace_pending_ = false;
  bool closing_by_server_ = false;  // http Connection: close was announced
  bool connect_slot_held_ = false;  // the pending reconnect timer is a reserved connect slot
  bool stop_sending_ = false;
  bool done_ = false;
};

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_CLIENT_CONNECTION_H_
