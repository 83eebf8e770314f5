#include "core/server.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/inherited_socket.h"

namespace shoal::core {

int OnlineCpuCount() {
  long count = sysconf(_SC_NPROCESSORS_ONLN);
  return count > 0 ? static_cast<int>(count) : 1;
}

namespace {

int64_t OpenDescriptorCount() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int64_t count = 0;
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  return std::max<int64_t>(0, count - 3);  // ".", ".." and the directory's own descriptor
}

absl::Status CheckNotServedElsewhere(const ServerListenerOptions& spec) {
  if (!spec.reuse_port || spec.reuseport_join || spec.address.port() == 0 ||
      !spec.adopted_fds.empty()) {
    return absl::OkStatus();
  }
  absl::Status probe = ProbeBind(spec.address);
  if (probe.ok()) return probe;
  return absl::FailedPreconditionError(
      "listener '" + spec.name + "': " + spec.address.ToString() +
      " is already served by another process (" + std::string(probe.message()) +
      "); set listeners[].reuseport_join: true to share it");
}

// Reuseport group member (receiving CPU mod workers) takes the connection; members are numbered
// in the order they listened, which is worker order.
absl::Status AttachCpuSteering(int fd, int workers) {
  sock_filter code[] = {
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_CPU)},
      {BPF_ALU | BPF_MOD | BPF_K, 0, 0, static_cast<uint32_t>(workers)},
      {BPF_RET | BPF_A, 0, 0, 0},
  };
  sock_fprog program{static_cast<unsigned short>(sizeof(code) / sizeof(code[0])), code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof(program)) != 0) {
    return ErrnoStatus(errno, "SO_ATTACH_REUSEPORT_CBPF");
  }
  return absl::OkStatus();
}

absl::Status CheckBalance(const ServerListenerOptions& spec) {
  if (spec.balance == Balance::kCpu && !spec.reuse_port) {
    return absl::InvalidArgumentError("listener '" + spec.name +
                                      "': balance cpu needs reuseport (one socket per worker)");
  }
  return absl::OkStatus();
}

}  // namespace

int64_t DescriptorConnectionCap(int workers, size_t listeners) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return INT64_MAX;
  // Per worker: epoll, eventfd, one socket per listener; plus the reserve and some slack for logs,
  // /proc reads and the admin endpoint.
  constexpr int64_t kSlack = 16;
  const int64_t reserved = OpenDescriptorCount() +
                           static_cast<int64_t>(workers) * (2 + static_cast<int64_t>(listeners)) +
                           kSlack;
  return std::max<int64_t>(1, static_cast<int64_t>(limit.rlim_cur) - reserved);
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const ServerOptions& options,
                                                      const ProtocolFactory& protocols) {
  std::unique_ptr<Server> server(new Server());
  int worker_count = options.workers > 0 ? options.workers : OnlineCpuCount();
  std::vector<std::vector<WorkerListener>> per_worker(static_cast<size_t>(worker_count));
  server->descriptor_cap_ = DescriptorConnectionCap(worker_count, options.listeners.size());
  server->max_connections_.store(std::min(options.max_connections, server->descriptor_cap_));
  for (const ServerListenerOptions& spec : options.listeners) {
    if (auto status = CheckNotServedElsewhere(spec); !status.ok()) return status;
    if (auto status = CheckBalance(spec); !status.ok()) return status;
  }
  bool pin_workers = options.cpu_affinity;

  for (size_t l = 0; l < options.listeners.size(); ++l) {
    const ServerListenerOptions& spec = options.listeners[l];
    SocketAddress address = spec.address;
    ListenOptions listen_options{spec.backlog, spec.reuse_port, options.socket.receive_buffer,
                                 options.socket.send_buffer};
    server->listening_fds_.emplace_back();
    ConnectionBalancer* balancer = nullptr;
    if (spec.balance == Balance::kLeastConnections) {
      server->balancers_.push_back(std::make_unique<ConnectionBalancer>(worker_count));
      balancer = server->balancers_.back().get();
    }
    for (int w = 0; w < worker_count; ++w) {
      WorkerListener listener;
      listener.name = spec.name;
      listener.protocol = protocols(l, w);
      if (spec.tls != nullptr) listener.tls.emplace(spec.tls);
      if (w == 0 || spec.reuse_port) {
        const bool adopt = static_cast<size_t>(w) < spec.adopted_fds.size();
        auto fd = adopt ? AdoptListeningSocket(spec.adopted_fds[static_cast<size_t>(w)],
                                               address, spec.backlog)
                        : Listen(address, listen_options);
        if (!fd.ok()) {
          return absl::Status(fd.status().code(), "listener '" + spec.name + "' on " +
                                                      spec.address.ToString() + ": " +
                                                      std::string(fd.status().message()));
        }
        if (w == 0) {
          auto bound = LocalAddress(fd->get());
          if (!bound.ok()) return bound.status();
          address = *bound;
          server->bound_addresses_.push_back(address);
        }
        server->listening_fds_.back().push_back(fd->get());
        listener.fd = std::move(*fd);
      } else {
        int duplicate = fcntl(per_worker[0][l].fd.get(), F_DUPFD_CLOEXEC, 0);
        if (duplicate < 0) return ErrnoStatus(errno, "dup listener");
        listener.fd = ScopedFd(duplicate);
      }
      listener.shared = !spec.reuse_port;
      listener.balancer = balancer;
      listener.proxy_protocol = spec.proxy_protocol;
      listener.trusted_proxies = spec.trusted_proxies;
      per_worker[static_cast<size_t>(w)].push_back(std::move(listener));
    }
    if (spec.balance == Balance::kCpu) {
      if (auto status = AttachCpuSteering(per_worker[0][l].fd.get(), worker_count); !status.ok()) {
        return absl::Status(status.code(),
                            "listener '" + spec.name + "': " + std::string(status.message()));
      }
      pin_workers = true;
    }
  }

  int cpus = OnlineCpuCount();
  for (int w = 0; w < worker_count; ++w) {
    Worker::Options worker_options;
    worker_options.index = w;
    worker_options.cpu = pin_workers ? w % cpus : -1;
    worker_options.tick_ns = options.tick_ns;
    worker_options.settings = options.settings;
    worker_options.socket = options.socket;
    worker_options.open_connections = &server->open_connections_;
    worker_options.max_connections = &server->max_connections_;
    worker_options.evict_oldest_at_limit = options.evict_oldest_at_limit;
    worker_options.per_source = options.per_source;
    worker_options.held_bytes_total = &server->held_bytes_;
    worker_options.worker_count = worker_count;
    Server* raw = server.get();
    auto worker = Worker::Create(worker_options, std::move(per_worker[static_cast<size_t>(w)]),
                                 [raw](int index) { raw->OnWorkerDrained(index); });
    if (!worker.ok()) return worker.status();
    server->workers_.push_back(std::move(*worker));
  }
  std::vector<Worker*> peers;
  for (auto& worker : server->workers_) peers.push_back(worker.get());
  for (auto& worker : server->workers_) worker->SetPeers(peers);
  return server;
}

Server::~Server() { Stop(); }

absl::Status Server::Start() {
  for (auto& worker : workers_) {
    if (auto status = worker->Start(); !status.ok()) return status;
  }
  started_ = true;
  return absl::OkStatus();
}

void Server::Drain(int64_t deadline_ns, std::function<void()> on_drained) {
  {
    std::lock_guard<std::mutex> lock(drain_mutex_);
    on_drained_ = std::move(on_drained);
  }
  for (auto& worker : workers_) worker->BeginDrain(deadline_ns);
}

void Server::ReleaseListeners(
    const std::function<bool(size_t listener, int worker)>& held_elsewhere) {
  for (auto& worker : workers_) {
    std::vector<bool> release;
    for (size_t l = 0; l < listening_fds_.size(); ++l) {
      release.push_back(held_elsewhere(l, listening_fds_[l].size() == 1 ? 0 : worker->index()));
    }
    worker->ReleaseListeners(std::move(release));
  }
}

void Server::OnWorkerDrained(int) {
  if (workers_drained_.fetch_add(1) + 1 != static_cast<int>(workers_.size())) return;
  std::function<void()> done;
  {
    std::lock_guard<std::mutex> lock(drain_mutex_);
    done.swap(on_drained_);
  }
  if (done) done();
}

void Server::UpdateSettings(const ConnectionSettings& settings) {
  for (auto& worker : workers_) worker->UpdateSettings(settings);
}

void Server::UpdateLimits(int64_t max_connections, const SourceLimits& per_source) {
  max_connections_.store(std::min(max_connections, descriptor_cap_), std::memory_order_relaxed);
  for (auto& worker : workers_) worker->UpdateSourceLimits(per_source);
}

void Server::Stop() {
  for (auto& worker : workers_) worker->Stop();
}

}  // namespace shoal::core
