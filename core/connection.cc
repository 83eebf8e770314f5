#include "core/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace shoal::core {

namespace {
constexpr size_t kKeptInputCapacity = 64 * 1024;
constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;
}  // namespace

void Session::OnPeerShutdown() { connection().CloseAfterFlush(CloseReason::kPeerClosed); }

Connection::Connection(ConnectionOwner& owner, ScopedFd fd, ListenerStats& stats)
    : owner_(owner),
      fd_(std::move(fd)),
      stats_(stats),
      output_(&owner.chunk_pool()),
      last_activity_ns_(owner.loop().now_ns()) {}

Connection::~Connection() {
  owner_.loop().timers().Cancel(this);
  owner_.loop().CancelReady(this);
}

absl::Status Connection::Start(Protocol& protocol) {
  session_ = protocol.NewSession(*this);
  if (auto status = owner_.loop().Add(fd_.get(), kReadEvents, this); !status.ok()) return status;
  ArmDeadlineNoLaterThan(last_activity_ns_ + owner_.settings().idle_timeout_ns);
  return absl::OkStatus();
}

std::string Connection::PeerName() const {
  auto peer = PeerAddress(fd_.get());
  return peer.ok() ? peer->ToString() : "<unknown peer>";
}

void Connection::Send(std::string_view bytes) {
  // After CloseAfterFlush nothing more is answered: the FIN that follows the queue is final.
  if (state_ != State::kOpen || bytes.empty()) return;
  if (output_.empty()) last_write_progress_ns_ = now_ns();
  output_.Append(bytes);
}

void Connection::CountRequests(uint64_t n) {
  if (n == 0) return;
  stats_.requests.Add(n);
  requests_completed_ += n;
  if (!kStatsEnabled) return;
  if (requests_awaiting_flush_ == 0) awaiting_flush_since_ns_ = MonotonicNowNs();
  requests_awaiting_flush_ += n;
}

void Connection::ForwardInput(uint64_t bytes) {
  forward_remaining_ += bytes;
  if (output_.empty()) last_write_progress_ns_ = now_ns();
}

void Connection::CloseAfterFlush(CloseReason reason) {
  if (state_ != State::kOpen) return;
  state_ = State::kFlushing;
  pending_close_reason_ = reason;
  owner_.loop().CancelReady(this);
  if (output_.empty()) FinishFlushing();
}

void Connection::Close(CloseReason reason) {
  if (state_ == State::kClosed) return;
  // Once a close was decided, a reset while finishing it keeps the decided reason.
  if (state_ != State::kOpen && reason == CloseReason::kReset) reason = pending_close_reason_;
  state_ = State::kClosed;
  owner_.loop().Remove(fd_.get());
  owner_.loop().timers().Cancel(this);
  owner_.loop().CancelReady(this);
  output_.Clear();
  fd_.reset();
  stats_.CountClose(reason);
  stats_.active.Add(-1);
  owner_.OnConnectionClosed(this, reason);
}

void Connection::BeginDrain() {
  if (draining_) return;
  draining_ = true;
  if (state_ != State::kOpen) return;
  // Answer what has already arrived (a connection accepted during the drain may carry a request),
  // then close at the first request boundary.
  if (!reading_paused()) {
    readable_pending_ = true;
    ReadUntilBlockedOrBudget();
  } else {
    MaybeFinishDrain();
  }
}

void Connection::ResumeAfterBudget() {
  if (!paused_for_budget_) return;
  paused_for_budget_ = false;
  last_activity_ns_ = now_ns();
  ArmDeadlineNoLaterThan(last_activity_ns_ + owner_.settings().idle_timeout_ns);
  RestartReadDeadlineAfterPause();
  if (readable_pending_ && !reading_paused()) owner_.loop().QueueReady(this);
}

void Connection::HandleEvents(uint32_t events) {
  if (state_ == State::kClosed) return;
  if (events & EPOLLERR) {
    Close(CloseReason::kReset);
    return;
  }
  if (events & EPOLLOUT) {
    Flush();
    if (state_ == State::kClosed) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
    readable_pending_ = true;
    if (events & (EPOLLRDHUP | EPOLLHUP)) peer_fin_signalled_ = true;
    if (state_ == State::kLingering) {
      DiscardInput();
    } else if (state_ == State::kOpen && !reading_paused()) {
      ReadUntilBlockedOrBudget();
    }
  }
}

void Connection::HandleReady() {
  if (state_ == State::kOpen && !reading_paused()) ReadUntilBlockedOrBudget();
}

void Connection::ReadUntilBlockedOrBudget() {
  const ConnectionSettings& settings = owner_.settings();
  ChunkPool& pool = owner_.chunk_pool();
  size_t budget = settings.read_budget_bytes;
  uint64_t completed_before = requests_completed_;
  while (state_ == State::kOpen && readable_pending_ && !reading_paused() && budget > 0) {
    size_t room = static_cast<size_t>(
        std::min<uint64_t>(budget, WorkerBudgetRoom(settings, pool.queued_bytes())));
    if (room == 0) {
      paused_for_budget_ = true;
      owner_.OnBudgetBlocked(this);
      break;
    }
    size_t n = ReadOnce(room);
    if (n == 0) break;
    budget -= std::min(budget, n);
    // A drain ends the connection at the first request boundary: read no further.
    if (draining_ && forward_remaining_ == 0 && !session_->RequestInProgress()) break;
  }
  if (state_ == State::kClosed) return;
  if (state_ == State::kOpen && readable_pending_ && !reading_paused() && budget == 0) {
    owner_.loop().QueueReady(this);
  }
  bool in_progress =
      !peer_shut_down_ && (forward_remaining_ > 0 || session_->RequestInProgress());
  // The read deadline times the request now in progress: it restarts whenever a request
  // completed during this batch (the one in progress began after it).
  if (in_progress && (!request_in_progress_ || requests_completed_ != completed_before)) {
    request_started_ns_ = now_ns();
    ArmDeadlineNoLaterThan(request_started_ns_ + settings.read_timeout_ns);
  }
  request_in_progress_ = in_progress;
  Flush();
  if (state_ != State::kClosed) MaybeFinishDrain();
}

uint64_t Connection::WorkerBudgetRoom(const ConnectionSettings& settings,
                                      uint64_t worker_queued) const {
  // A connection with nothing queued has a peer that reads: it may always read one read budget,
  // so clients that read are served even while non-readers hold the whole budget.
  if (output_.empty()) {
    uint64_t cap = settings.worker_budget + settings.read_budget_bytes;
    return worker_queued >= cap ? 0 : cap - worker_queued;
  }
  if (worker_queued >= settings.worker_budget) return 0;
  // Under pressure, connections holding more than the low watermark pause first.
  if (worker_queued >= WorkerBudgetPressureThreshold(settings) &&
      output_.size() > settings.low_watermark) {
    return 0;
  }
  return settings.worker_budget - worker_queued;
}

bool Connection::BlockedByWorkerBudget(const ConnectionSettings& settings,
                                       uint64_t worker_queued) const {
  return WorkerBudgetRoom(settings, worker_queued) == 0;
}

size_t Connection::ReadOnce(size_t max_bytes) {
  long n;
  // (Not while draining: the drain stops reading at the end of the frame in flight.)
  if (forward_remaining_ > 0 && input_.empty() && !draining_ &&
      forward_remaining_ < OutputQueue::kMaxSpillQueueBytes && max_bytes > forward_remaining_) {
    // A short tail: read it into the output queue and, in the same call, what follows it into
    // the scratch space (pipelined frames), rather than a read for each.
    size_t tail = static_cast<size_t>(forward_remaining_);
    size_t spill_size = std::min(max_bytes - tail, owner_.read_scratch_bytes());
    size_t spilled = 0;
    n = output_.AppendFromFdWithSpill(fd_.get(), tail, owner_.read_scratch(), spill_size,
                                      &spilled);
    if (n > 0) {
      size_t queued = static_cast<size_t>(n) - spilled;
      NoteShortRead(static_cast<size_t>(n), tail + spill_size);
      if (output_.size() == queued) last_write_progress_ns_ = now_ns();
      stats_.bytes_received.Add(static_cast<uint64_t>(n));
      last_activity_ns_ = now_ns();
      forward_remaining_ -= queued;
      if (forward_remaining_ == 0) session_->OnForwardComplete();
      if (spilled > 0 && state_ == State::kOpen) {
        Deliver(std::string_view(owner_.read_scratch(), spilled), false);
      }
      CheckWatermarks();
      return state_ == State::kOpen ? static_cast<size_t>(n) : 0;
    }
  } else if (forward_remaining_ > 0 && input_.empty()) {
    n = output_.AppendFromFd(fd_.get(), std::min<uint64_t>(max_bytes, forward_remaining_));
    if (n > 0) {
      if (output_.size() == static_cast<size_t>(n)) last_write_progress_ns_ = now_ns();
      stats_.bytes_received.Add(static_cast<uint64_t>(n));
      last_activity_ns_ = now_ns();
      forward_remaining_ -= static_cast<uint64_t>(n);
      if (forward_remaining_ == 0) session_->OnForwardComplete();
      CheckWatermarks();
      return state_ == State::kOpen ? static_cast<size_t>(n) : 0;
    }
  } else if (input_.empty()) {
    size_t want = std::min(max_bytes, owner_.read_scratch_bytes());
    n = recv(fd_.get(), owner_.read_scratch(), want, 0);
    if (n > 0) {
      NoteShortRead(static_cast<size_t>(n), want);
      stats_.bytes_received.Add(static_cast<uint64_t>(n));
      last_activity_ns_ = now_ns();
      Deliver(std::string_view(owner_.read_scratch(), static_cast<size_t>(n)), false);
      return state_ == State::kOpen ? static_cast<size_t>(n) : 0;
    }
  } else {
    input_.EnsureWritable(std::min(max_bytes, owner_.read_scratch_bytes()));
    size_t want = std::min(max_bytes, input_.writable_bytes());
    n = recv(fd_.get(), input_.writable_data(), want, 0);
    if (n > 0) {
      NoteShortRead(static_cast<size_t>(n), want);
      input_.Commit(static_cast<size_t>(n));
      stats_.bytes_received.Add(static_cast<uint64_t>(n));
      last_activity_ns_ = now_ns();
      Deliver(input_.readable(), true);
      return state_ == State::kOpen ? static_cast<size_t>(n) : 0;
    }
  }
  if (n == 0) {
    HandlePeerShutdown();
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    readable_pending_ = false;
    return 0;
  }
  if (errno != EINTR) Close(CloseReason::kReset);
  return 0;
}

void Connection::NoteShortRead(size_t got, size_t wanted) {
  // Fewer bytes than asked for: the socket is drained, and with edge-triggered epoll the next
  // arrival raises a new event, so the read that would only return EAGAIN is skipped. Not after
  // the peer's FIN was signalled: that is only seen by reading on to EOF.
  if (got < wanted && !peer_fin_signalled_) readable_pending_ = false;
}

void Connection::Deliver(std::string_view data, bool data_is_in_input_buffer) {
  size_t consumed = session_->OnData(data);
  if (state_ == State::kClosed) return;
  if (data_is_in_input_buffer) {
    input_.Consume(consumed);
    input_.ShrinkIfEmpty(kKeptInputCapacity);
  } else if (consumed < data.size()) {
    input_.Append(data.substr(consumed));
  }
  CheckWatermarks();
}

void Connection::HandlePeerShutdown() {
  peer_shut_down_ = true;
  readable_pending_ = false;
  // A request still incomplete now can never complete: no read deadline runs for it.
  request_in_progress_ = false;
  if (state_ == State::kOpen) {
    session_->OnPeerShutdown();
  } else if (state_ == State::kLingering) {
    Close(pending_close_reason_);
  }
}

void Connection::DiscardInput() {
  char* scratch = owner_.read_scratch();
  for (;;) {
    ssize_t n = read(fd_.get(), scratch, owner_.read_scratch_bytes());
    if (n > 0) {
      stats_.bytes_received.Add(static_cast<uint64_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      readable_pending_ = false;
      return;
    }
    Close(pending_close_reason_);
    return;
  }
}

void Connection::Flush() {
  if (state_ == State::kClosed) return;
  if (!output_.empty()) {
    OutputQueue::WriteResult result = output_.WriteTo(fd_.get());
    if (result.written > 0) {
      stats_.bytes_sent.Add(result.written);
      last_activity_ns_ = last_write_progress_ns_ = now_ns();
    }
    if (result.error != 0) {
      Close(CloseReason::kReset);
      return;
    }
  }
  bool pending = !output_.empty();
  if (!pending && requests_awaiting_flush_ > 0 && forward_remaining_ == 0) {
    stats_.request_duration.ObserveNanos(MonotonicNowNs() - awaiting_flush_since_ns_,
                                         requests_awaiting_flush_);
    requests_awaiting_flush_ = 0;
  }
  UpdateWriteInterest(pending);
  if (state_ == State::kClosed) return;
  if (pending) {
    ArmDeadlineNoLaterThan(last_write_progress_ns_ + owner_.settings().write_timeout_ns);
  } else if (state_ == State::kFlushing) {
    FinishFlushing();
    return;
  }
  CheckWatermarks();
}

void Connection::FinishFlushing() {
  if (peer_shut_down_) {
    Close(pending_close_reason_);
    return;
  }
  if (::shutdown(fd_.get(), SHUT_WR) != 0) {
    Close(pending_close_reason_);
    return;
  }
  state_ = State::kLingering;
  linger_deadline_ns_ = now_ns() + owner_.settings().read_timeout_ns;
  ArmDeadlineNoLaterThan(linger_deadline_ns_);
  DiscardInput();
}

void Connection::UpdateWriteInterest(bool want_writable) {
  if (want_writable == write_interest_) return;
  write_interest_ = want_writable;
  uint32_t events = kReadEvents | (want_writable ? uint32_t{EPOLLOUT} : 0u);
  if (!owner_.loop().Modify(fd_.get(), events, this).ok()) Close(CloseReason::kReset);
}

void Connection::CheckWatermarks() {
  const ConnectionSettings& settings = owner_.settings();
  size_t queued = output_.size();
  if (!paused_for_watermark_ && queued > settings.high_watermark) {
    paused_for_watermark_ = true;
    owner_.worker_stats().backpressure_pauses.Add();
  } else if (paused_for_watermark_ && queued <= settings.low_watermark) {
    paused_for_watermark_ = false;
    owner_.worker_stats().backpressure_resumes.Add();
    RestartReadDeadlineAfterPause();
    // Bytes that arrived while paused raised no new edge: read them now.
    if (state_ == State::kOpen && readable_pending_ && !reading_paused()) {
      owner_.loop().QueueReady(this);
    }
  }
}

void Connection::RestartReadDeadlineAfterPause() {
  if (!request_in_progress_ || reading_paused()) return;
  request_started_ns_ = now_ns();
  ArmDeadlineNoLaterThan(request_started_ns_ + owner_.settings().read_timeout_ns);
}

void Connection::MaybeFinishDrain() {
  if (!draining_ || state_ != State::kOpen) return;
  if (forward_remaining_ > 0 || session_->RequestInProgress()) return;
  CloseAfterFlush(CloseReason::kShutdown);
}

void Connection::ArmDeadlineNoLaterThan(int64_t deadline) {
  if (!scheduled() || deadline < deadline_ns()) owner_.loop().timers().Schedule(this, deadline);
}

int64_t Connection::NextDeadline() const {
  const ConnectionSettings& settings = owner_.settings();
  int64_t next = INT64_MAX;
  if (state_ == State::kLingering) next = std::min(next, linger_deadline_ns_);
  if (!output_.empty()) {
    next = std::min(next, last_write_progress_ns_ + settings.write_timeout_ns);
  }
  // The read deadline does not run while we, not the peer, hold up reading.
  if (request_in_progress_ && !reading_paused()) {
    next = std::min(next, request_started_ns_ + settings.read_timeout_ns);
  }
  // Nor does the idle deadline while the worker budget holds up reading.
  if (output_.empty() && !request_in_progress_ && !paused_for_budget_) {
    next = std::min(next, last_activity_ns_ + settings.idle_timeout_ns);
  }
  return next;
}

void Connection::OnExpire() {
  if (state_ == State::kClosed) return;
  const ConnectionSettings& settings = owner_.settings();
  int64_t now = now_ns();
  if (state_ == State::kLingering && now >= linger_deadline_ns_) {
    Close(pending_close_reason_);
    return;
  }
  if (!output_.empty() && now - last_write_progress_ns_ >= settings.write_timeout_ns) {
    Close(CloseReason::kWriteTimeout);
    return;
  }
  if (request_in_progress_ && !reading_paused() &&
      now - request_started_ns_ >= settings.read_timeout_ns) {
    Close(CloseReason::kReadTimeout);
    return;
  }
  if (output_.empty() && !request_in_progress_ && !paused_for_budget_ &&
      now - last_activity_ns_ >= settings.idle_timeout_ns) {
    Close(state_ == State::kOpen ? CloseReason::kIdleTimeout : pending_close_reason_);
    return;
  }
  owner_.loop().timers().Schedule(this, NextDeadline());
}

}  // namespace shoal::core
