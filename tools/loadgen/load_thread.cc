#include "tools/loadgen/load_thread.h"

#include <sys/prctl.h>

#include <algorithm>

namespace shoal::loadgen {

namespace {
constexpr size_t kReadScratchBytes = 256 << 10;
constexpr int64_t kLoopTickNs = 1'000'000;
}  // namespace

LoadThread::LoadThread(const RunPlan& plan, RunControl& control)
    : plan_(plan),
      control_(control),
      counters_(std::make_unique<ThreadCounters>()),
      scratch_(kReadScratchBytes) {
  counters_->timeline = Timeline(plan.timeline);
}

LoadThread::~LoadThread() {
  Join();
  if (loop_ != nullptr) {
    // Normally done by Shutdown on the loop thread; this covers a run that never launched.
    for (auto& connection : connections_) connection->Shutdown();
    loop_->timers().Cancel(&end_timer_);
  }
  connections_.clear();
  pacer_.reset();
}

absl::Status LoadThread::Init() {
  core::EventLoop::Options options;
  options.tick_ns = kLoopTickNs;
  auto loop = core::EventLoop::Create(options);
  if (!loop.ok()) return loop.status();
  loop_ = std::move(*loop);
  if (plan_.open_loop) {
    auto pacer = Pacer::Create(*loop_);
    if (!pacer.ok()) return pacer.status();
    pacer_ = std::move(*pacer);
  }
  return absl::OkStatus();
}

void LoadThread::AddConnection(uint64_t id, const core::SocketAddress& target, int64_t quota,
                               const TlsPeer* tls_peer) {
  pending_.push_back({id, target, quota, tls_peer});
}

void LoadThread::Launch() {
  thread_ = std::thread([this] {
    // Precise pacer wake-ups: the default 50 us slack would show as open-loop latency.
    if (plan_.open_loop) prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    loop_->Run();
  });
}

void LoadThread::Join() {
  if (thread_.joinable()) thread_.join();
}

void LoadThread::BeginConnecting() {
  connections_.reserve(pending_.size());
  for (const auto& p : pending_) {
    connections_.push_back(std::make_unique<ClientConnection>(*this, p.id, p.target, p.quota,
                                                              p.tls_peer));
  }
  pending_.clear();
  if (connections_.empty()) {
    control_.Count(&RunControl::threads_connected);
    return;
  }
  StartPendingConnects();
}

void LoadThread::StartPendingConnects() {
  if (starting_) return;  // a connect that resolved at once: the outer loop goes on
  starting_ = true;
  while (started_ < connections_.size() &&
         started_ - resolved_ < static_cast<size_t>(kConnectBurst)) {
    connections_[started_++]->Start();
  }
  starting_ = false;
}

int64_t LoadThread::ReserveConnectSlot(int64_t now_ns) {
  if (plan_.ns_per_connect <= 0) return now_ns;
  const int64_t slot = std::max(now_ns, next_connect_slot_ns_);
  next_connect_slot_ns_ = slot + static_cast<int64_t>(plan_.ns_per_connect);
  return slot;
}

void LoadThread::OnFirstConnectResolved(ClientConnection&) {
  ++resolved_;
  StartPendingConnects();
  if (resolved_ == connections_.size()) control_.Count(&RunControl::threads_connected);
}

void LoadThread::BeginLoad(int64_t start_ns, int64_t measure_start_ns, int64_t measure_end_ns) {
  plan_.start_ns = start_ns;
  plan_.measure_start_ns = measure_start_ns;
  plan_.measure_end_ns = measure_end_ns;
  counters_->timeline.set_origin(start_ns);
  load_started_ = true;
  if (!plan_.requests_mode) loop_->timers().Schedule(&end_timer_, measure_end_ns);
  for (auto& connection : connections_) connection->OnLoadStarted();
  if (connections_.empty() && !finished_reported_) {
    finished_reported_ = true;
    control_.Count(&RunControl::threads_finished);
  }
}

void LoadThread::Stop() {
  stopping_ = true;
  for (auto& connection : connections_) connection->OnStop();
}

void LoadThread::OnDone(ClientConnection&) {
  ++done_;
  if (done_ == connections_.size() && !finished_reported_) {
    finished_reported_ = true;
    loop_->timers().Cancel(&end_timer_);
    control_.Count(&RunControl::threads_finished);
  }
}

void LoadThread::Shutdown() {
  loop_->timers().Cancel(&end_timer_);
  for (auto& connection : connections_) connection->Shutdown();
  loop_->Quit();
}

}  // namespace shoal::loadgen
