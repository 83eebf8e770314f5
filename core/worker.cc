#include "core/worker.h"

#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>

#include "core/thread_check.h"

namespace shoal::core {

namespace {

constexpr size_t kHandoffQueueCapacity = 1024;

// The process total is written when a worker's holding moved this much since it last wrote.
constexpr int64_t kPublishHeldBatchBytes = 64 << 10;
constexpr int64_t kOverloadRecheckNs = 20'000'000;

// A shed connection ends with a reset: its peer is not reading, so a FIN would wait behind the
// unsent bytes (and hold them in the kernel) for as long as the peer keeps its window shut.
void ResetOnClose(int fd) {
  linger abort{1, 0};
  (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
}

std::vector<std::string> ListenerNames(const std::vector<WorkerListener>& listeners) {
  std::vector<std::string> names;
  for (const auto& listener : listeners) names.push_back(listener.name);
  return names;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Worker>> Worker::Create(const Options& options,
                                                      std::vector<WorkerListener> listeners,
                                                      std::function<void(int)> on_drained) {
  if (auto status = CheckConnectionSettings(options.settings); !status.ok()) return status;
  EventLoop::Options loop_options;
  loop_options.tick_ns = options.tick_ns;
  auto loop = EventLoop::Create(loop_options);
  if (!loop.ok()) return loop.status();
  auto handoff = HandoffQueue::Create(kHandoffQueueCapacity);
  if (!handoff.ok()) return handoff.status();
  return std::unique_ptr<Worker>(new Worker(options, std::move(*loop), std::move(*handoff),
                                            std::move(listeners), std::move(on_drained)));
}

Worker::Worker(const Options& options, std::unique_ptr<EventLoop> loop,
               std::unique_ptr<HandoffQueue> handoff, std::vector<WorkerListener> listeners,
               std::function<void(int)> on_drained)
    : options_(options),
      loop_(std::move(loop)),
      handoff_(std::move(handoff)),
      listener_specs_(std::move(listeners)),
      on_drained_(std::move(on_drained)),
      stats_(options.index, ListenerNames(listener_specs_)),
      read_scratch_(new char[kReadScratchBytes]),
      proxy_readers_(*loop_,
                     {[this](ScopedFd fd, const SocketAddress& peer, size_t listener_index) {
                        ReleaseConnectionSlot();
                        Dispatch(std::move(fd), peer, listener_index);
                      },
                      [this](size_t listener_index, CloseReason reason) {
                        OnProxyHeaderFailed(listener_index, reason);
                      }}),
      effective_settings_(options.settings) {
  source_limiter_.set_limits(options.per_source);
  for (size_t l = 0; l < listener_specs_.size(); ++l) {
    stats_.listeners[l]->tls.enabled = listener_specs_[l].tls.has_value();
  }
  if (kStatsEnabled) loop_->set_turn_observer(this);
  loop_->set_turn_end_hook([this] {
    DestroyClosed();
    ApplyOverloadPolicy();
    ResumeBudgetBlocked();
  });
}

Worker::~Worker() {
  Stop();
  connections_.ForEach([this](Connection* connection) {
    connections_.Remove(connection);
    delete connection;
  });
  DestroyClosed();
  listeners_.clear();
  loop_->timers().Cancel(&drain_deadline_);
  loop_->timers().Cancel(&overload_recheck_);
  PublishHeld(0, true);
}

absl::Status Worker::Start() {
  for (size_t i = 0; i < listener_specs_.size(); ++i) {
    Listener::Options listener_options;
    listener_options.shared = listener_specs_[i].shared;
    AcceptHandler& accept_handler = *this;
    auto listener = std::make_unique<Listener>(*loop_, std::move(listener_specs_[i].fd), i,
                                               *stats_.listeners[i], accept_handler,
                                               ReserveFd::Process(), listener_options);
    if (auto status = listener->Start(); !status.ok()) return status;
    listeners_.push_back(std::move(listener));
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Worker::Run() {
  pthread_setname_np(pthread_self(), ("shoal-w" + std::to_string(options_.index)).c_str());
  if (options_.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(options_.cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  }
  auto attached = handoff_->Attach(
      *loop_,
      [this](ScopedFd fd, const SocketAddress& peer, size_t listener_index) {
        Serve(std::move(fd), peer, listener_index);
      },
      [this] { CheckDrained(); });
  // Without the wake-up nothing is handed here: peers find the queue closed.
  if (!attached.ok()) handoff_->Close();
  loop_->Run();
  // Hand-offs still queued are taken (and closed below); later ones stay with their acceptor.
  handoff_->Close();
  handoff_->Detach();
  // Whatever is still open when the loop stops is closed as a shutdown.
  proxy_readers_.CloseAll(CloseReason::kShutdown);
  connections_.ForEach([](Connection* connection) { connection->Close(CloseReason::kShutdown); });
  DestroyClosed();
  for (auto& listener : listeners_) listener.reset();
}

void Worker::Stop() {
  if (!thread_.joinable()) return;
  loop_->Quit();
  thread_.join();
}

void Worker::BeginDrain(int64_t deadline_ns) {
  loop_->Post([this, deadline_ns] { DrainOnLoop(deadline_ns); });
}

void Worker::ReleaseListeners(std::vector<bool> release) {
  loop_->Post([this, release = std::move(release)] {
    for (size_t i = 0; i < listeners_.size() && i < release.size(); ++i) {
      if (release[i]) listeners_[i]->Release();
    }
  });
}

void Worker::UpdateSettings(const ConnectionSettings& settings) {
  loop_->Post([this, settings] {
    options_.settings = settings;
    ApplyTimeoutScale();
    connections_.ForEach([](Connection* connection) { connection->ApplySettings(); });
    ResumeBudgetBlocked();
  });
}

void Worker::UpdateSourceLimits(const SourceLimits& limits) {
  loop_->Post([this, limits] { source_limiter_.set_limits(limits); });
}

void Worker::DrainOnLoop(int64_t deadline_ns) {
  SHOAL_ASSERT_IN_LOOP_THREAD(*loop_);
  if (draining_) return;
  draining_ = true;
  handoff_->Close();
  loop_->timers().Schedule(&drain_deadline_, deadline_ns);
  for (auto& listener : listeners_) listener->AcceptPendingAndClose();
  proxy_readers_.CloseAll(CloseReason::kShutdown);
  connections_.ForEach([](Connection* connection) { connection->BeginDrain(); });
  CheckDrained();
}

void Worker::ForceCloseAll() {
  SHOAL_ASSERT_IN_LOOP_THREAD(*loop_);
  connections_.ForEach([](Connection* connection) { connection->Close(CloseReason::kShutdown); });
  CheckDrained();
}

void Worker::CheckDrained() {
  if (!draining_ || drained_reported_ || !connections_.empty() || !handoff_->Idle()) return;
  drained_reported_ = true;
  loop_->timers().Cancel(&drain_deadline_);
  if (on_drained_) on_drained_(options_.index);
}

void Worker::OnAccepted(ScopedFd fd, const SocketAddress& peer, size_t listener_index) {
  SHOAL_ASSERT_IN_LOOP_THREAD(*loop_);
  if (listener_specs_[listener_index].proxy_protocol != ProxyProtocolMode::kOff) {
    ReadProxyHeader(std::move(fd), peer, listener_index);
    return;
  }
  Dispatch(std::move(fd), peer, listener_index);
}

void Worker::ReadProxyHeader(ScopedFd fd, const SocketAddress& socket_peer,
                             size_t listener_index) {
  const WorkerListener& spec = listener_specs_[listener_index];
  std::optional<CloseReason> refused;
  if (!spec.trusted_proxies.empty() && !AnyContains(spec.trusted_proxies, socket_peer)) {
    refused = CloseReason::kProxyProtocolError;
  } else if (draining_) {
    refused = CloseReason::kShutdown;
  } else if (!TakeConnectionSlot()) {
    refused = CloseReason::kOverload;
  }
  if (refused.has_value()) {
    ListenerStats& listener_stats = *stats_.listeners[listener_index];
    listener_stats.accepted.Add();
    listener_stats.CountClose(*refused);
    return;  // fd closes here
  }
  proxy_readers_.Start(std::move(fd), socket_peer, listener_index, spec.proxy_protocol,
                       effective_settings_.read_timeout_ns);
}

void Worker::OnProxyHeaderFailed(size_t listener_index, CloseReason reason) {
  ReleaseConnectionSlot();
  ListenerStats& listener_stats = *stats_.listeners[listener_index];
  listener_stats.accepted.Add();
  listener_stats.CountClose(reason);
}

void Worker::Dispatch(ScopedFd fd, const SocketAddress& peer, size_t listener_index) {
  ConnectionBalancer* balancer = listener_specs_[listener_index].balancer;
  if (balancer != nullptr) {
    const int self = options_.index;
    int target = self;
    if (draining_) {
      balancer->Add(self);
    } else {
      target = balancer->Assign(self);
    }
    if (target != self) {
      if (peers_[static_cast<size_t>(target)]->handoff_->TryPush(fd, peer, listener_index)) return;
      balancer->Release(target);
      balancer->Add(self);
    }
  }
  Serve(std::move(fd), peer, listener_index);
}

void Worker::Serve(ScopedFd fd, const SocketAddress& peer, size_t listener_index) {
  SHOAL_ASSERT_IN_LOOP_THREAD(*loop_);
  ListenerStats& listener_stats = *stats_.listeners[listener_index];
  listener_stats.accepted.Add();
  Admission admission{nullptr, listener_specs_[listener_index].balancer};
  if (std::optional<CloseReason> refused = Admit(peer, &admission.source)) {
    listener_stats.CountClose(*refused);
    if (admission.balancer != nullptr) admission.balancer->Release(options_.index);
    return;  // fd closes here
  }
  const AcceptedSocketOptions& socket = options_.socket;
  if (socket.tcp_nodelay) (void)SetTcpNoDelay(fd.get(), true);
  if (socket.keepalive) (void)SetKeepAlive(fd.get(), true);

  auto* connection = new Connection(*this, std::move(fd), listener_stats);
  if (listener_specs_[listener_index].proxy_protocol != ProxyProtocolMode::kOff) {
    connection->OverridePeer(peer);
  }
  connections_.PushBack(connection);
  if (admission.source != nullptr || admission.balancer != nullptr) {
    admissions_[connection] = admission;
  }
  listener_stats.active.Add(1);
  if (std::optional<TlsContextView>& tls = listener_specs_[listener_index].tls; tls.has_value()) {
    auto session = TlsSession::Create(tls->Get(), connection->fd());
    if (!session.ok()) {
      connection->Close(CloseReason::kTlsError);
      return;
    }
    connection->UseTls(*std::move(session));
  }
  if (!connection->Start(*listener_specs_[listener_index].protocol).ok()) {
    connection->Close(CloseReason::kReset);
    return;
  }
  if (draining_) connection->BeginDrain();
}

std::optional<CloseReason> Worker::Admit(const SocketAddress& peer,
                                         SourceLimiter::Entry** source) {
  if (!TakeConnectionSlot()) return CloseReason::kOverload;
  switch (source_limiter_.Admit(peer, loop_->now_ns(), source)) {
    case SourceLimiter::Verdict::kAdmit:
      return std::nullopt;
    case SourceLimiter::Verdict::kOverLimit:
      stats_.CountOverloadAction(OverloadAction::kSourceLimit);
      break;
    case SourceLimiter::Verdict::kOverRate:
      stats_.CountOverloadAction(OverloadAction::kSourceRate);
      break;
  }
  ReleaseConnectionSlot();
  return CloseReason::kSourceLimit;
}

bool Worker::TakeConnectionSlot() {
  if (options_.open_connections == nullptr) return true;
  int64_t open = options_.open_connections->fetch_add(1, std::memory_order_relaxed);
  if (options_.max_connections != nullptr &&
      open >= options_.max_connections->load(std::memory_order_relaxed) &&
      !(options_.evict_oldest_at_limit && EvictOldestIdle())) {
    ReleaseConnectionSlot();
    return false;
  }
  return true;
}

void Worker::ReleaseConnectionSlot() {
  if (options_.open_connections != nullptr) {
    options_.open_connections->fetch_sub(1, std::memory_order_relaxed);
  }
}

bool Worker::EvictOldestIdle() {
  constexpr int kLooked = 16;
  int looked = 0;
  Connection* victim = nullptr;
  connections_.ForEach([&](Connection* connection) {
    if (victim != nullptr || looked++ >= kLooked) return;
    if (!connection->closed() && connection->queued_output_bytes() == 0) victim = connection;
  });
  if (victim == nullptr) return false;
  victim->Close(CloseReason::kOverload);
  return true;
}

void Worker::OnConnectionClosed(Connection* connection, CloseReason reason) {
  SHOAL_ASSERT_IN_LOOP_THREAD(*loop_);
  connections_.Remove(connection);
  if (auto it = admissions_.find(connection); it != admissions_.end()) {
    if (it->second.source != nullptr) source_limiter_.Release(it->second.source);
    if (it->second.balancer != nullptr) it->second.balancer->Release(options_.index);
    admissions_.erase(it);
  }
  closed_.push_back(connection);
  budget_blocked_.Remove(connection);
  ReleaseConnectionSlot();
  (void)reason;  // counted by the connection in its listener's stats
  CheckDrained();
}

void Worker::OnBudgetBlocked(Connection* connection) {
  SHOAL_ASSERT_IN_LOOP_THREAD(*loop_);
  stats_.backpressure_pauses.Add();
  budget_blocked_.Add(connection);
  if (connection->queued_output_bytes() == 0) reader_starved_ = true;
}

void Worker::OnInputCapacityChanged(int64_t delta) {
  input_bytes_ += static_cast<uint64_t>(delta);
  stats_.input_buffer_bytes.Add(delta);
}

MemoryLimits Worker::memory_limits() const {
  const ConnectionSettings& settings = options_.settings;
  uint64_t process = settings.max_memory;
  if (process == 0) {
    uint64_t workers = static_cast<uint64_t>(std::max(1, options_.worker_count));
    process = 8 * settings.worker_budget * workers;
  }
  return {settings.worker_budget, process};
}

MemoryHeld Worker::MeasureHeld() {
  uint64_t held = held_bytes();
  PublishHeld(held, false);
  int64_t total = options_.held_bytes_total == nullptr
                      ? published_held_
                      : options_.held_bytes_total->load(std::memory_order_relaxed);
  // This worker's own unpublished change counts at once.
  total += static_cast<int64_t>(held) - published_held_;
  return {held, static_cast<uint64_t>(std::max<int64_t>(total, 0))};
}

void Worker::PublishHeld(uint64_t held, bool final) {
  int64_t delta = static_cast<int64_t>(held) - published_held_;
  if (delta == 0 || options_.held_bytes_total == nullptr) return;
  if (!final && std::llabs(delta) < kPublishHeldBatchBytes && held != 0) return;
  options_.held_bytes_total->fetch_add(delta, std::memory_order_relaxed);
  published_held_ = static_cast<int64_t>(held);
}

void Worker::ApplyOverloadPolicy() {
  SHOAL_ASSERT_IN_LOOP_THREAD(*loop_);
  MemoryLimits limits = memory_limits();
  MemoryHeld held = MeasureHeld();
  uint32_t pressure = MemoryPressure(limits, held);
  if (pressure <= kReduceTimeoutsPressure && accepting_ && timeout_scale_ == kFullTimeoutScale) {
    reader_starved_ = false;
    return;
  }
  bool waiting =
      reader_starved_ || ProcessOverLimit(limits, held) || (!accepting_ && AcceptQueued());
  OverloadDecision decision = DecideOverload(pressure, accepting_, waiting);
  reader_starved_ = false;
  if (decision.shed) {
    // A starved reader stays blocked until the shedding succeeds: retry for it.
    reader_starved_ = !ShedStalled(BytesToShed(limits, held)) && waiting;
    held = MeasureHeld();
    pressure = MemoryPressure(limits, held);
    decision = DecideOverload(pressure, accepting_, false);
  }
  SetAccepting(decision.accept);
  SetTimeoutScale(decision.timeout_scale);
  if ((!accepting_ || pressure >= kSaturatedPressure) && !overload_recheck_.scheduled()) {
    loop_->timers().Schedule(&overload_recheck_, loop_->now_ns() + kOverloadRecheckNs);
  }
}

bool Worker::ShedStalled(uint64_t bytes) {
  int64_t now = loop_->now_ns();
  if (bytes == 0) return true;
  if (now < next_shed_scan_ns_) return false;
  int64_t stalled_before = now - options_.settings.shed_stall_ns;
  shed_candidates_.clear();
  connections_.ForEach([&](Connection* connection) {
    if (connection->held_bytes() > 0 && connection->last_progress_ns() < stalled_before) {
      shed_candidates_.push_back(connection);
    }
  });
  std::sort(shed_candidates_.begin(), shed_candidates_.end(),
            [](const Connection* a, const Connection* b) {
              return a->held_bytes() > b->held_bytes();
            });
  uint64_t freed = 0;
  for (Connection* connection : shed_candidates_) {
    if (freed >= bytes) break;
    freed += connection->held_bytes();
    stats_.CountOverloadAction(OverloadAction::kShedConnection);
    ResetOnClose(connection->fd());
    connection->Close(CloseReason::kMemoryPressure);
  }
  shed_candidates_.clear();
  if (freed >= bytes) return true;
  next_shed_scan_ns_ = now + kOverloadRecheckNs;
  return false;
}

bool Worker::AcceptQueued() const {
  for (const auto& listener : listeners_) {
    if (listener->HasQueued()) return true;
  }
  return false;
}

void Worker::SetAccepting(bool accepting) {
  if (accepting == accepting_) return;
  accepting_ = accepting;
  if (!accepting) stats_.CountOverloadAction(OverloadAction::kStopAccept);
  for (auto& listener : listeners_) listener->SetPaused(!accepting);
}

void Worker::SetTimeoutScale(uint32_t scale) {
  if (scale == timeout_scale_) return;
  bool shorter = scale < timeout_scale_;
  timeout_scale_ = scale;
  ApplyTimeoutScale();
  if (!shorter) return;
  stats_.CountOverloadAction(OverloadAction::kReduceTimeouts);
  connections_.ForEach([](Connection* connection) { connection->ApplySettings(); });
}

void Worker::ApplyTimeoutScale() {
  const ConnectionSettings& configured = options_.settings;
  effective_settings_ = configured;
  effective_settings_.idle_timeout_ns = ScaleTimeout(configured.idle_timeout_ns, timeout_scale_);
  effective_settings_.read_timeout_ns = ScaleTimeout(configured.read_timeout_ns, timeout_scale_);
}

void Worker::ResumeBudgetBlocked() {
  SHOAL_ASSERT_IN_LOOP_THREAD(*loop_);
  if (budget_blocked_.empty()) return;
  budget_blocked_.ResumeUnblocked(BudgetLimits(options_.settings), held_bytes(),
                                  [this](Connection* connection) {
                                    stats_.backpressure_resumes.Add();
                                    connection->ResumeAfterBudget();
                                  });
}

void Worker::DestroyClosed() {
  for (Connection* connection : closed_) delete connection;
  closed_.clear();
}

void Worker::OnTurnEnd(int64_t turn_start_ns, int64_t turn_end_ns) {
  stats_.loop_turn.ObserveNanos(turn_end_ns - turn_start_ns);
  stats_.output_queue_bytes.Set(static_cast<int64_t>(chunk_pool_.queued_bytes()));
  stats_.timers_active.Set(static_cast<int64_t>(loop_->timers().size()));
}

}  // namespace shoal::core
