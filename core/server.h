// Server: binds every configured listener, starts N workers, drains and stops them.
//
// Binding: with reuseport each worker gets its own socket for each listener; worker 0 binds first
// and, if the configured port is 0, the others bind to the port it got, so all share one port.
// Without reuseport one socket is shared by all workers (EPOLLEXCLUSIVE). Before binding a
// reuseport listener to a fixed port, a probe bind without SO_REUSEPORT checks that no other
// socket already listens there: another process would silently take a share of the connections,
// so Create fails (FailedPrecondition) unless the listener has `reuseport_join`.
//
// Balancing (`balance` per listener): kernel leaves the choice to the SO_REUSEPORT hash; cpu
// attaches a classic BPF program (SO_ATTACH_REUSEPORT_CBPF) that picks the socket of worker
// (receiving CPU mod workers) and pins worker i to CPU i (as cpu_affinity does), so a connection is
// served on the CPU that processed its packets (exact when workers == online CPUs; needs
// reuseport); least_connections gives every worker's copy of the listener one shared
// ConnectionBalancer and lets workers hand connections over (core/worker.h).
//
// Connection cap: limits.max_connections, lowered to what RLIMIT_NOFILE (read at Create) leaves
// room for, so EMFILE stays rare; live through UpdateLimits, in force for the next accept.
//
// Threading: Create/Start/Stop from one controlling thread (the main thread). Drain,
// UpdateSettings and the accessors may be called from any thread.
#ifndef SHOAL_CORE_SERVER_H_
#define SHOAL_CORE_SERVER_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/base/thread_annotations.h"
#include "core/cidr.h"
#include "core/connection.h"
#include "core/protocol.h"
#include "core/proxy_header.h"
#include "core/socket.h"
#include "core/tls/tls_context_holder.h"
#include "core/worker.h"

namespace shoal::core {

enum class Balance { kKernel, kCpu, kLeastConnections };

// Plain values without defaults of their own: the shoal binary fills them from the config
// (server/application.h, ServerOptionsFrom), tests from tests/support/default_options.h.
struct ServerListenerOptions {
  std::string name;
  SocketAddress address;
  int backlog{};  // must be set (> 0)
  bool reuse_port{};
  // Share the port with sockets of other processes already bound to it (reuseport only).
  bool reuseport_join = false;
  // Listening sockets to use instead of binding (see core/inherited_socket.h): worker w takes the
  // w-th (a shared listener only the first); workers beyond them bind as usual, joining the same
  // port. Create duplicates them; the caller keeps and closes its own descriptors.
  std::vector<int> adopted_fds = {};
  Balance balance = Balance::kKernel;
  // A PROXY protocol header is required first on every connection (kOff: none), from a source
  // in trusted_proxies (empty = any); see core/worker.h.
  ProxyProtocolMode proxy_protocol{};
  std::vector<Cidr> trusted_proxies = {};
  // TLS on every connection of the listener; null = plaintext. Reload it to change the
  // certificate for new connections.
  std::shared_ptr<TlsContextHolder> tls = nullptr;
};

struct ServerOptions {
  int workers{};  // 0 = one per online CPU
  bool cpu_affinity{};
  std::vector<ServerListenerOptions> listeners;
  int64_t tick_ns{};  // must be set
  ConnectionSettings settings;  // every field must be set
  AcceptedSocketOptions socket;
  int64_t max_connections{};  // must be set: 0 refuses every connection
  SourceLimits per_source;
  // See Worker::Options::evict_oldest_at_limit.
  bool evict_oldest_at_limit{};
};

// Makes the Protocol for listener `listener_index` on worker `worker_index`.
using ProtocolFactory =
    std::function<std::unique_ptr<Protocol>(size_t listener_index, int worker_index)>;

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Create(const ServerOptions& options,
                                                       const ProtocolFactory& protocols);
  ~Server();

  absl::Status Start();
  // Begins a graceful drain on every worker; `on_drained` runs (on some worker thread) once every
  // worker has closed its listeners and connections, at the latest at `deadline_ns`.
  void Drain(int64_t deadline_ns, std::function<void()> on_drained);
  // Stops accepting on every listening socket `held_elsewhere(listener, worker)` says another
  // process also holds, without accepting what is queued and without closing the socket for that
  // process (only this process's descriptor closes). Other sockets stay open until Drain accepts
  // what they have queued and closes them. Runs on each worker's thread before a later Drain.
  void ReleaseListeners(const std::function<bool(size_t listener, int worker)>& held_elsewhere);
  void UpdateSettings(const ConnectionSettings& settings);
  // The new limits apply to the next accept; open connections are not closed.
  void UpdateLimits(int64_t max_connections, const SourceLimits& per_source);
  // Stops every worker's loop and joins the threads. Open connections are closed.
  void Stop();

  // The bound address of each listener (with the real port when 0 was configured).
  const std::vector<SocketAddress>& bound_addresses() const { return bound_addresses_; }
  const std::vector<std::unique_ptr<Worker>>& workers() const { return workers_; }
  // For each listener, the descriptor of each distinct listening socket, by worker (one for a
  // shared listener). Valid until the listeners close (a drain, ReleaseListeners or Stop).
  const std::vector<std::vector<int>>& listening_fds() const { return listening_fds_; }
  int64_t open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  // The cap in force: limits.max_connections, at most what the descriptor limit leaves room for.
  int64_t max_connections() const { return max_connections_.load(std::memory_order_relaxed); }
  // Bytes held for peers by every worker, as last published by each (batched at loop-turn end).
  int64_t held_bytes() const { return held_bytes_.load(std::memory_order_relaxed); }

 private:
  Server() = default;
  void OnWorkerDrained(int worker_index);

  // One per least_connections listener; declared first so it outlives the workers using it.
  std::vector<std::unique_ptr<ConnectionBalancer>> balancers_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<SocketAddress> bound_addresses_;
  std::vector<std::vector<int>> listening_fds_;
  std::atomic<int64_t> open_connections_{0};
  std::atomic<int64_t> max_connections_{0};
  int64_t descriptor_cap_ = 0;
  // Written by workers in batches only (core/worker.h), on its own cache line.
  alignas(64) std::atomic<int64_t> held_bytes_{0};
  std::atomic<int> workers_drained_{0};
  std::mutex drain_mutex_;
  std::function<void()> on_drained_ ABSL_GUARDED_BY(drain_mutex_);
  bool started_ = false;
};

// Online CPUs, at least 1.
int OnlineCpuCount();

// Connections that fit under the soft RLIMIT_NOFILE beside the descriptors already open and those
// `workers` workers with `listeners` listeners each will open (at least 1).
int64_t DescriptorConnectionCap(int workers, size_t listeners);

}  // namespace shoal::core

#endif  // SHOAL_CORE_SERVER_H_
