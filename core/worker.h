// Worker: one thread running one EventLoop that owns its listeners (one socket per configured
// listener: its own SO_REUSEPORT socket, or a shared one), its connections, its ChunkPool, its
// read scratch space, its per-listener Protocol instances and its WorkerStats.
//
// Memory: the worker counts every byte it holds for peers (output queued, input buffer capacity)
// and publishes its total to the process-wide sum in batches at loop-turn end. At each turn end
// it applies the overload policy (core/overload.h) to the pressure measured: it sheds the largest
// stalled holders at saturation while service waits (close reason memory_pressure, ended with a
// reset), pauses its listeners while saturated, and scales idle/read timeouts down under
// pressure, re-arming existing deadlines.
// Each action is counted in WorkerStats::overload_actions.
//
// Balancing (`least_connections` listeners, those with a ConnectionBalancer): the worker that
// accepts a connection asks the balancer for the least-loaded worker and, if that is another,
// hands the descriptor over through that worker's HandoffQueue (core/handoff_queue.h); a full or
// closed queue leaves it with the acceptor. Admission (the process-wide cap and the per-source
// limits) happens once, on the worker that serves the connection, so each limiter is touched only
// by its own thread. A draining worker hands nothing off and refuses hand-offs (its queue closes);
// a drain finishes only once no hand-off to it is in flight.
//
// PROXY protocol (listeners with a proxy_protocol mode): a connection from a source outside the
// listener's trusted_proxies (empty = any) is closed at accept (proxy_protocol_error); the others
// first go through a ProxyHeaderReader (core/proxy_header_reader.h), holding a slot of the
// process-wide connection count meanwhile, under the read timeout. Everything after the header
// (balancing, the per-source limits, the Connection's peer name) sees the address it carries.
// A draining worker closes a connection accepted before its header was read (shutdown).
//
// Threading: Start, BeginDrain, UpdateSettings and Stop may be called from any thread; they post
// to the worker's loop. stats() may be read from any thread (see core/stats.h). SetPeers before
// Start, from the thread that created the workers. Everything else runs on the worker thread.
#ifndef SHOAL_CORE_WORKER_H_
#define SHOAL_CORE_WORKER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/cidr.h"
#include "core/connection.h"
#include "core/connection_balancer.h"
#include "core/event_loop.h"
#include "core/handoff_queue.h"
#include "core/intrusive_list.h"
#include "core/listener.h"
#include "core/overload.h"
#include "core/output_queue.h"
#include "core/protocol.h"
#include "core/proxy_header.h"
#include "core/proxy_header_reader.h"
#include "core/source_limiter.h"
#include "core/stats.h"
#include "core/tls/tls_context_holder.h"
#include "core/worker_budget.h"

namespace shoal::core {

// Socket options for connections. tcp_nodelay and keepalive are set on each accepted socket; the
// buffer sizes are set on the listening socket before listen() (tcp(7): that is where they take
// effect, and accepted sockets inherit them), by Server.
struct AcceptedSocketOptions {
  bool tcp_nodelay{};
  bool keepalive{};
  int receive_buffer{};  // 0 = kernel default
  int send_buffer{};
};

struct WorkerListener {
  std::string name;
  ScopedFd fd;
  bool shared = false;
  std::unique_ptr<Protocol> protocol;
  // Shared by every worker's copy of a least_connections listener; null for the other modes.
  ConnectionBalancer* balancer = nullptr;
  ProxyProtocolMode proxy_protocol = ProxyProtocolMode::kOff;
  std::vector<Cidr> trusted_proxies;  // empty = any source
  // This worker's view of the listener's TLS context; empty for plaintext.
  std::optional<TlsContextView> tls;
};

class Worker final : private ConnectionOwner, private AcceptHandler, private TurnObserver {
 public:
  struct Options {
    int index = 0;
    int cpu = -1;  // pin to this CPU when >= 0
    int64_t tick_ns{};  // must be set
    ConnectionSettings settings;  // every field must be set
    AcceptedSocketOptions socket;
    // Process-wide count of open connections and its (live) limit, shared by all workers; a new
    // connection beyond the limit is closed at accept (null limit: none).
    std::atomic<int64_t>* open_connections = nullptr;
    const std::atomic<int64_t>* max_connections = nullptr;
    // At the limit, close the oldest connection with nothing queued to make room instead of the
    // new one (for the admin endpoint, where a new probe matters more than an idle keep-alive).
    bool evict_oldest_at_limit = false;
    SourceLimits per_source;
    // Process-wide bytes held for peers, shared by all workers (written in batches), and the
    // number of workers sharing it (for the default max_memory).
    std::atomic<int64_t>* held_bytes_total = nullptr;
    int worker_count{};
  };

  // Where a connection's read lands before it is copied into its input buffer.
  static constexpr size_t kReadScratchBytes = 64 * 1024;

  // `on_drained` runs on the worker thread once a drain has closed every listener and connection.
  static absl::StatusOr<std::unique_ptr<Worker>> Create(const Options& options,
                                                       std::vector<WorkerListener> listeners,
                                                       std::function<void(int)> on_drained);
  ~Worker();

  // The workers hand-offs may go to, indexed by worker (this one included).
  void SetPeers(std::vector<Worker*> peers) { peers_ = std::move(peers); }
  absl::Status Start();
  // Stop accepting (after accepting what is queued), close idle connections, let the others finish
  // their request in flight, and force-close what remains at `deadline_ns` (monotonic).
  void BeginDrain(int64_t deadline_ns);
  // Listener i with release[i] stops accepting and closes its descriptor without accepting what is
  // queued (another process holds the same socket and serves the queue). Posted like BeginDrain.
  void ReleaseListeners(std::vector<bool> release);
  // Applied on the worker thread to every connection in one loop turn (deadlines, watermarks).
  void UpdateSettings(const ConnectionSettings& settings);
  void UpdateSourceLimits(const SourceLimits& limits);
  // Quits the loop (closing every connection) and joins the thread.
  void Stop();

  int index() const { return options_.index; }
  const WorkerStats& stats() const { return stats_; }
  EventLoop& event_loop() { return *loop_; }

 private:
  // Wakes the loop to re-apply the policy while saturated (stalled holders become sheddable with
  // time alone, with no event to announce it).
  class OverloadRecheck final : public Timer {
   private:
    void OnExpire() override {}
  };

  class DrainDeadline final : public Timer {
   public:
    explicit DrainDeadline(Worker& worker) : worker_(worker) {}
    ~DrainDeadline() override = default;

   private:
    void OnExpire() override { worker_.ForceCloseAll(); }
    Worker& worker_;
  };

  // What admission took for a connection, given back when it closes.
  struct Admission {
    SourceLimiter::Entry* source = nullptr;
    ConnectionBalancer* balancer = nullptr;
  };

  Worker(const Options& options, std::unique_ptr<EventLoop> loop,
         std::unique_ptr<HandoffQueue> handoff, std::vector<WorkerListener> listeners,
         std::function<void(int)> on_drained);

  // ConnectionOwner
  EventLoop& loop() override { return *loop_; }
  ChunkPool& chunk_pool() override { return chunk_pool_; }
  char* read_scratch() override { return read_scratch_.get(); }
  size_t read_scratch_bytes() const override { return kReadScratchBytes; }
  const ConnectionSettings& settings() const override { return effective_settings_; }
  WorkerStats& worker_stats() override { return stats_; }
  void OnConnectionClosed(Connection* connection, CloseReason reason) override;
  void OnBudgetBlocked(Connection* connection) override;
  uint64_t held_bytes() override { return chunk_pool_.queued_bytes() + input_bytes_; }
  void OnInputCapacityChanged(int64_t delta) override;
  // AcceptHandler
  void OnAccepted(ScopedFd fd, const SocketAddress& peer, size_t listener_index) override;
  // TurnObserver
  void OnTurnEnd(int64_t turn_start_ns, int64_t turn_end_ns) override;

  void Run();
  // The balancer's choice of worker, then Serve there.
  void Dispatch(ScopedFd fd, const SocketAddress& peer, size_t listener_index);
  void ReadProxyHeader(ScopedFd fd, const SocketAddress& socket_peer, size_t listener_index);
  void OnProxyHeaderFailed(size_t listener_index, CloseReason reason);
  // Serves a connection this worker accepted or was handed: admission, then a Connection.
  void Serve(ScopedFd fd, const SocketAddress& peer, size_t listener_index);
  void DrainOnLoop(int64_t deadline_ns);
  void ForceCloseAll();
  void DestroyClosed();
  void ResumeBudgetBlocked();
  void CheckDrained();
  // Admission at accept: the process-wide limit (evicting if so configured), then the source's.
  std::optional<CloseReason> Admit(const SocketAddress& peer, SourceLimiter::Entry** source);
  bool EvictOldestIdle();
  // A slot of the process-wide connection count (false: at the limit); given back by Release.
  bool TakeConnectionSlot();
  void ReleaseConnectionSlot();
  MemoryLimits memory_limits() const;
  MemoryHeld MeasureHeld();
  void PublishHeld(uint64_t held, bool final);
  void ApplyOverloadPolicy();
  // Closes the largest holders stalled for settings.shed_stall_ns until `bytes` are freed;
  // whether it freed that much.
  bool ShedStalled(uint64_t bytes);
  void SetAccepting(bool accepting);
  bool AcceptQueued() const;
  void SetTimeoutScale(uint32_t scale);
  void ApplyTimeoutScale();

  Options options_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<HandoffQueue> handoff_;
  std::vector<Worker*> peers_;
  std::vector<WorkerListener> listener_specs_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::function<void(int)> on_drained_;
  WorkerStats stats_;
  ChunkPool chunk_pool_;
  std::unique_ptr<char[]> read_scratch_;
  SourceLimiter source_limiter_;
  absl::flat_hash_map<Connection*, Admission> admissions_;
  IntrusiveList<Connection, ConnectionListTag> connections_;
  ProxyHeaderReaders proxy_readers_;
  std::vector<Connection*> closed_;
  BudgetBlockedList<Connection> budget_blocked_;
  // The settings connections see: options_.settings with timeouts scaled by the policy.
  ConnectionSettings effective_settings_;
  uint64_t input_bytes_ = 0;
  int64_t published_held_ = 0;
  bool accepting_ = true;
  // A connection with nothing queued (its peer reads) was blocked by the budget rule.
  bool reader_starved_ = false;
  uint32_t timeout_scale_ = kFullTimeoutScale;
  int64_t next_shed_scan_ns_ = 0;
  std::vector<Connection*> shed_candidates_;
  OverloadRecheck overload_recheck_;
  DrainDeadline drain_deadline_{*this};
  bool draining_ = false;
  bool drained_reported_ = false;
  std::thread thread_;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_WORKER_H_
