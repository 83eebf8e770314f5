#include "core/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "core/thread_check.h"

namespace shoal::core {

namespace {
constexpr size_t kKeptInputCapacity = 64 * 1024;
constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;

// Uniform in [0, bound], from a per-thread splitmix64 stream (spreading closes, not secrecy).
int64_t Jitter(int64_t bound) {
  if (bound <= 0) return 0;
  thread_local uint64_t state = static_cast<uint64_t>(MonotonicNowNs());
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<int64_t>(z % (static_cast<uint64_t>(bound) + 1));
}

// The close that follows sends RST, not FIN (SO_LINGER with a zero timeout).
void ResetOnClose(int fd) {
  linger abort{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
}
}  // namespace

Connection::Connection(ConnectionOwner& owner, ScopedFd fd, ListenerStats& stats)
    : owner_(owner), fd_(std::move(fd)), stats_(stats), output_(&owner.chunk_pool()) {
  clock_.last_activity_ns = owner.loop().now_ns();
}

Connection::~Connection() {
  owner_.loop().timers().Cancel(this);
  owner_.loop().timers().Cancel(&session_timer_);
  owner_.loop().CancelReady(this);
}

absl::Status Connection::Start(Protocol& protocol) {
  SHOAL_ASSERT_IN_LOOP_THREAD(owner_.loop());
  session_ = protocol.NewSession(*this);
  const ConnectionSettings& settings = owner_.settings();
  if (settings.max_connection_age_ns > 0) {
    lifetime_.end_at_ns =
        DeadlineAfter(now_ns(), DeadlineAfter(settings.max_connection_age_ns,
                                              Jitter(settings.max_connection_age_jitter_ns)));
  }
  if (auto status = owner_.loop().Add(fd_.get(), kReadEvents, this); !status.ok()) return status;
  if (tls_ != nullptr) StartTls();
  ArmDeadline();
  return absl::OkStatus();
}

std::string Connection::PeerName() const {
  if (peer_override_ != nullptr) return peer_override_->ToString();
  auto peer = PeerAddress(fd_.get());
  return peer.ok() ? peer->ToString() : "<unknown peer>";
}

void Connection::Send(std::string_view bytes) {
  // After CloseAfterFlush nothing more is answered: the FIN that follows the queue is final.
  if (closing_.state != State::kOpen || bytes.empty()) return;
  if (output_.empty()) clock_.last_write_progress_ns = now_ns();
  output_.Append(bytes);
}

void Connection::CountRequests(uint64_t n) {
  if (n == 0) return;
  stats_.requests.Add(n);
  timing_.completed += n;
  const uint64_t max_requests = owner_.settings().max_requests_per_connection;
  if (max_requests > 0 && timing_.completed >= max_requests) MarkEnding();
  if (!kStatsEnabled) return;
  if (timing_.awaiting_flush == 0) timing_.awaiting_flush_since_ns = MonotonicNowNs();
  timing_.awaiting_flush += n;
}

void Connection::ForwardInput(uint64_t bytes) {
  input_state_.forward_remaining += bytes;
  if (output_.empty()) clock_.last_write_progress_ns = now_ns();
}

void Connection::CloseAfterFlush(CloseReason reason) {
  if (closing_.state != State::kOpen) return;
  closing_.state = State::kFlushing;
  // A session announcing the last reply (max_age) of a connection that is ending for a drain
  // closes it for the drain's reason.
  if (reason == CloseReason::kMaxAge && lifetime_.ending && closing_.draining) {
    reason = closing_.drain_reason;
  }
  closing_.pending_reason = reason;
  owner_.loop().CancelReady(this);
  if (output_.empty()) FinishFlushing();
}

void Connection::Close(CloseReason reason) {
  SHOAL_ASSERT_IN_LOOP_THREAD(owner_.loop());
  if (closing_.state == State::kClosed) return;
  // Once a close was decided, a reset while finishing it keeps the decided reason.
  if (closing_.state != State::kOpen && reason == CloseReason::kReset) {
    reason = closing_.pending_reason;
  }
  closing_.state = State::kClosed;
  if (Handshaking()) stats_.tls.handshakes_failed.Add();
  if (input_.capacity() > 0) {
    owner_.OnInputCapacityChanged(-static_cast<int64_t>(input_.capacity()));
  }
  owner_.loop().Remove(fd_.get());
  owner_.loop().timers().Cancel(this);
  owner_.loop().timers().Cancel(&session_timer_);
  owner_.loop().CancelReady(this);
  output_.Clear();
  // Forwarding cut short: the output ends inside a unit (session.h, ForwardInput).
  if (input_state_.forward_remaining > 0) ResetOnClose(fd_.get());
  fd_.reset();
  stats_.CountClose(reason);
  stats_.active.Add(-1);
  owner_.OnConnectionClosed(this, reason);
}

void Connection::StartTimer(int64_t delay_ns) {
  if (closing_.state != State::kOpen) return;
  owner_.loop().timers().Schedule(&session_timer_, DeadlineAfter(now_ns(), delay_ns));
}

void Connection::OnSessionTimer() {
  SHOAL_ASSERT_IN_LOOP_THREAD(owner_.loop());
  if (closing_.state != State::kOpen) return;
  session_->OnTimer();
  if (closing_.state == State::kClosed) return;
  // A request the session held back may be in progress now: its read deadline starts.
  const bool in_progress = !input_state_.peer_shut_down &&
                           (input_state_.forward_remaining > 0 || session_->RequestInProgress());
  if (in_progress) clock_.request_started_ns = now_ns();
  clock_.request_in_progress = in_progress;
  ArmDeadline();
  Flush();
  if (closing_.state != State::kClosed) MaybeFinishDrain();
}

bool Connection::LastReply() {
  ++lifetime_.replies_announced;
  const uint64_t max_requests = owner_.settings().max_requests_per_connection;
  return lifetime_.ending ||
         (max_requests > 0 && lifetime_.replies_announced >= max_requests);
}

void Connection::MarkEnding() {
  lifetime_.ending = true;
  if (closing_.draining) return;
  closing_.draining = true;
  closing_.drain_reason = CloseReason::kMaxAge;
}

int64_t Connection::LifetimeCheckNs() const {
  if (closing_.state != State::kOpen) return INT64_MAX;
  if (!lifetime_.ending) return lifetime_.end_at_ns;
  // Ending with a request in flight: the read loop ends it at the request's end.
  if (clock_.request_in_progress || input_state_.forward_remaining > 0) return INT64_MAX;
  return DeadlineAfter(std::max(clock_.last_input_ns, clock_.last_activity_ns), kRecentInputNs);
}

void Connection::CheckLifetime(int64_t now) {
  if (now < LifetimeCheckNs()) return;
  if (clock_.request_in_progress || input_state_.forward_remaining > 0) {
    // The reply to the request in flight is the last (HTTP: LastReply says so).
    lifetime_.ending = true;
    BeginGracefulEnd(CloseReason::kMaxAge);
  } else if (!lifetime_.ending &&
             (clock_.last_input_ns >= now - kRecentInputNs || !output_.empty())) {
    // The peer may be about to send its next request: answer that one last.
    MarkEnding();
  } else {
    lifetime_.ending = true;
    CloseAfterFlush(closing_.draining ? closing_.drain_reason : CloseReason::kMaxAge);
  }
}

void Connection::BeginDrain() {
  SHOAL_ASSERT_IN_LOOP_THREAD(owner_.loop());
  const bool idle_between_requests = closing_.state == State::kOpen && !closing_.draining &&
                                     !clock_.request_in_progress &&
                                     input_state_.forward_remaining == 0 && !Handshaking();
  if (idle_between_requests && clock_.last_input_ns >= now_ns() - kRecentInputNs) {
    lifetime_.ending = true;
    closing_.draining = true;
    closing_.drain_reason = CloseReason::kShutdown;
    ArmDeadline();
    return;
  }
  BeginGracefulEnd(CloseReason::kShutdown);
}

void Connection::BeginGracefulEnd(CloseReason reason) {
  SHOAL_ASSERT_IN_LOOP_THREAD(owner_.loop());
  if (closing_.draining) return;
  closing_.draining = true;
  closing_.drain_reason = reason;
  if (closing_.state != State::kOpen) return;
  // Answer what has already arrived (a connection accepted during the drain may carry a request),
  // then close at the first request boundary.
  if (!reading_paused()) {
    input_state_.readable_pending = true;
    ReadUntilBlockedOrBudget();
  } else {
    MaybeFinishDrain();
  }
}

void Connection::ResumeAfterBudget() {
  SHOAL_ASSERT_IN_LOOP_THREAD(owner_.loop());
  if (!pause_.for_budget) return;
  pause_.for_budget = false;
  clock_.last_activity_ns = now_ns();
  ArmDeadline();
  RestartReadDeadlineAfterPause();
  if (input_state_.readable_pending && !reading_paused()) owner_.loop().QueueReady(this);
}

void Connection::ApplySettings() {
  SHOAL_ASSERT_IN_LOOP_THREAD(owner_.loop());
  if (closing_.state == State::kClosed) return;
  int64_t next = EvaluateDeadlines(now_ns()).next_ns;
  if (next == INT64_MAX) {
    owner_.loop().timers().Cancel(this);
  } else if (!scheduled() || next != deadline_ns()) {
    owner_.loop().timers().Schedule(this, next);
  }
  CheckWatermarks();
}

void Connection::HandleEvents(uint32_t events) {
  SHOAL_ASSERT_IN_LOOP_THREAD(owner_.loop());
  if (closing_.state == State::kClosed) return;
  if (events & EPOLLERR) {
    // A reset that ends a handshake already under way (a client rejecting our certificate sends
    // an alert, then often a reset) is a failed handshake, whichever arrived first.
    Close(Handshaking() && tls_->ClientHelloAnswered() ? CloseReason::kTlsError
                                                       : CloseReason::kReset);
    return;
  }
  if (tls_ != nullptr) events = RouteTlsRetries(events);
  if (events & EPOLLOUT) {
    Flush();
    if (closing_.state == State::kClosed) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
    input_state_.readable_pending = true;
    if (events & (EPOLLRDHUP | EPOLLHUP)) input_state_.peer_fin_signalled = true;
    if (closing_.state == State::kLingering) {
      // Already queued: its budgeted discard runs from the ready list.
      if (!ReadyHandler::linked()) DiscardInput();
    } else if (closing_.state == State::kOpen && !reading_paused()) {
      ReadUntilBlockedOrBudget();
    }
  }
}

void Connection::HandleReady() {
  SHOAL_ASSERT_IN_LOOP_THREAD(owner_.loop());
  if (closing_.state == State::kLingering) {
    DiscardInput();
  } else if (closing_.state == State::kOpen && !reading_paused()) {
    ReadUntilBlockedOrBudget();
  }
}

void Connection::ReadUntilBlockedOrBudget() {
  const ConnectionSettings& settings = owner_.settings();
  size_t budget = settings.read_budget_bytes;
  uint64_t completed_before = timing_.completed;
  while (closing_.state == State::kOpen && input_state_.readable_pending && !reading_paused() &&
         budget > 0) {
    size_t room = static_cast<size_t>(std::min<uint64_t>(
        budget, WorkerBudgetRoom(BudgetLimits(settings), owner_.held_bytes(), output_.size())));
    if (room == 0) {
      pause_.for_budget = true;
      owner_.OnBudgetBlocked(this);
      break;
    }
    ReadResult result = ReadOnce(room);
    if (result.status != ReadResult::Status::kData) break;
    budget -= std::min(budget, result.bytes);
    // A drain ends the connection at the first request boundary: read no further.
    if (closing_.draining && input_state_.forward_remaining == 0 &&
        !session_->RequestInProgress()) {
      break;
    }
  }
  if (closing_.state == State::kClosed) return;
  if (closing_.state == State::kOpen && input_state_.readable_pending && !reading_paused() &&
      budget == 0) {
    owner_.loop().QueueReady(this);
  }
  bool in_progress = !input_state_.peer_shut_down &&
                     (input_state_.forward_remaining > 0 || session_->RequestInProgress() ||
                      Handshaking());
  // The read deadline times the request now in progress: it restarts whenever a request
  // completed during this batch (the one in progress began after it).
  if (in_progress && (!clock_.request_in_progress || timing_.completed != completed_before)) {
    clock_.request_started_ns = now_ns();
    clock_.request_in_progress = true;
    ArmDeadline();
  }
  clock_.request_in_progress = in_progress;
  Flush();
  if (closing_.state != State::kClosed) MaybeFinishDrain();
}

ReadResult Connection::ReadOnce(size_t max_bytes) {
  ReadPlan plan = PlanRead(max_bytes);
  if (closing_.state == State::kClosed) return {ReadResult::Status::kError, 0};
  if (tls_ != nullptr) return ReadOnceTls(plan);
  size_t rest_received = 0;
  long n = Receive(plan, &rest_received);
  if (n <= 0) return ReadFailed(n);
  size_t received = static_cast<size_t>(n);
  AccountRead(plan, received, rest_received);
  return {ReadResult::Status::kData, received};
}

Connection::ReadPlan Connection::PlanRead(size_t max_bytes) {
  ReadPlan plan;
  const uint64_t forward = input_state_.forward_remaining;
  const size_t scratch_bytes = owner_.read_scratch_bytes();
  if (forward > 0 && input_.empty()) {
    // A short tail is read into the output queue together with what follows it (pipelined
    // frames) into the scratch space, rather than a read for each. Not while draining: the drain
    // stops reading at the end of the frame in flight.
    if (!closing_.draining && forward < OutputQueue::kMaxSpillQueueBytes && max_bytes > forward) {
      plan.to_output = static_cast<size_t>(forward);
      plan.rest = owner_.read_scratch();
      plan.rest_bytes = std::min(max_bytes - plan.to_output, scratch_bytes);
      plan.short_read_drains = true;
    } else {
      plan.to_output = static_cast<size_t>(std::min<uint64_t>(max_bytes, forward));
    }
  } else if (input_.empty()) {
    plan.rest = owner_.read_scratch();
    plan.rest_bytes = std::min(max_bytes, scratch_bytes);
    plan.short_read_drains = true;
  } else {
    const uint64_t max_input = owner_.settings().max_input_bytes;
    size_t limit = max_bytes;
    if (max_input > 0) {
      size_t room = input_.readable_bytes() >= max_input
                        ? 0
                        : static_cast<size_t>(max_input - input_.readable_bytes());
      if (room == 0) {
        Close(CloseReason::kMemoryPressure);
        return plan;
      }
      limit = std::min(limit, room);
    }
    size_t capacity_before = input_.capacity();
    input_.EnsureWritable(std::min(limit, scratch_bytes),
                          max_input > 0 ? static_cast<size_t>(max_input) : SIZE_MAX);
    AccountInputCapacity(capacity_before);
    plan.rest = input_.writable_data();
    plan.rest_bytes = std::min(limit, input_.writable_bytes());
    plan.rest_in_input = true;
    plan.short_read_drains = true;
  }
  return plan;
}

long Connection::Receive(const ReadPlan& plan, size_t* rest_received) {
  for (;;) {
    long n;
    if (plan.to_output > 0 && plan.rest_bytes > 0) {
      n = output_.AppendFromFdWithSpill(fd_.get(), plan.to_output, plan.rest, plan.rest_bytes,
                                        rest_received);
    } else if (plan.to_output > 0) {
      n = output_.AppendFromFd(fd_.get(), plan.to_output);
    } else {
      n = recv(fd_.get(), plan.rest, plan.rest_bytes, 0);
      if (n > 0) *rest_received = static_cast<size_t>(n);
    }
    if (n >= 0 || errno != EINTR) return n;
  }
}

void Connection::AccountRead(const ReadPlan& plan, size_t received, size_t rest_received) {
  // Fewer bytes than asked for: the socket is drained, and with edge-triggered epoll the next
  // arrival raises a new event, so the read that would only return EAGAIN is skipped. Not after
  // the peer's FIN was signalled: that is only seen by reading on to EOF.
  if (plan.short_read_drains && received < plan.to_output + plan.rest_bytes &&
      !input_state_.peer_fin_signalled) {
    input_state_.readable_pending = false;
  }
  stats_.bytes_received.Add(received);
  clock_.last_activity_ns = clock_.last_input_ns = now_ns();
  size_t forwarded = received - rest_received;
  if (forwarded > 0) {
    if (output_.size() == forwarded) clock_.last_write_progress_ns = now_ns();
    input_state_.forward_remaining -= forwarded;
    if (input_state_.forward_remaining == 0) session_->OnForwardComplete();
  }
  if (plan.rest_in_input) {
    input_.Commit(rest_received);
    Deliver(input_.readable(), true);
  } else if (rest_received > 0 && closing_.state == State::kOpen) {
    Deliver(std::string_view(plan.rest, rest_received), false);
  }
  if (plan.to_output > 0) CheckWatermarks();
}

ReadResult Connection::ReadFailed(long result) {
  if (result == 0) {
    HandlePeerShutdown();
    return {ReadResult::Status::kEof, 0};
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    input_state_.readable_pending = false;
    return {ReadResult::Status::kWouldBlock, 0};
  }
  Close(CloseReason::kReset);
  return {ReadResult::Status::kError, 0};
}

void Connection::Deliver(std::string_view data, bool data_is_in_input_buffer) {
  size_t consumed = session_->OnData(data);
  if (closing_.state == State::kClosed) return;
  size_t capacity_before = input_.capacity();
  if (data_is_in_input_buffer) {
    input_.Consume(consumed);
    input_.ShrinkIfEmpty(kKeptInputCapacity);
  } else if (consumed < data.size()) {
    input_.Append(data.substr(consumed));
  }
  AccountInputCapacity(capacity_before);
  CheckWatermarks();
}

void Connection::AccountInputCapacity(size_t capacity_before) {
  if (input_.capacity() == capacity_before) return;
  owner_.OnInputCapacityChanged(static_cast<int64_t>(input_.capacity()) -
                                static_cast<int64_t>(capacity_before));
}

int64_t Connection::last_progress_ns() const {
  if (closing_.state == State::kClosed) return INT64_MAX;
  if (!output_.empty()) return clock_.last_write_progress_ns;
  if (input_.capacity() == 0) return INT64_MAX;
  return clock_.request_in_progress ? clock_.request_started_ns : clock_.last_activity_ns;
}

void Connection::HandlePeerShutdown() {
  input_state_.peer_shut_down = true;
  input_state_.readable_pending = false;
  // A request still incomplete now can never complete: no read deadline runs for it.
  clock_.request_in_progress = false;
  if (closing_.state == State::kOpen) {
    session_->OnPeerShutdown();
  } else if (closing_.state == State::kLingering) {
    Close(closing_.pending_reason);
  }
}

void Connection::DiscardInput() {
  const ConnectionSettings& settings = owner_.settings();
  char* scratch = owner_.read_scratch();
  size_t budget = settings.read_budget_bytes;
  for (;;) {
    if (clock_.linger_discarded_bytes >= settings.linger_discard_bytes) {
      Close(closing_.pending_reason);
      return;
    }
    if (budget == 0) {
      owner_.loop().QueueReady(this);
      return;
    }
    uint64_t allowed = std::min<uint64_t>(
        settings.linger_discard_bytes - clock_.linger_discarded_bytes, budget);
    ssize_t n = read(fd_.get(), scratch,
                     static_cast<size_t>(std::min<uint64_t>(allowed, owner_.read_scratch_bytes())));
    if (n > 0) {
      stats_.bytes_received.Add(static_cast<uint64_t>(n));
      clock_.linger_discarded_bytes += static_cast<uint64_t>(n);
      budget -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      input_state_.readable_pending = false;
      return;
    }
    Close(closing_.pending_reason);
    return;
  }
}

void Connection::Flush() {
  if (closing_.state == State::kClosed) return;
  if (!output_.empty()) {
    OutputQueue::WriteResult result = tls_ != nullptr ? WriteTls() : output_.WriteTo(fd_.get());
    if (result.written > 0) {
      stats_.bytes_sent.Add(result.written);
      clock_.last_activity_ns = clock_.last_write_progress_ns = now_ns();
    }
    if (result.error != 0) {
      Close(result.error == kTlsProtocolError ? CloseReason::kTlsError : CloseReason::kReset);
      return;
    }
  }
  bool pending = !output_.empty();
  if (!pending && timing_.awaiting_flush > 0 && input_state_.forward_remaining == 0) {
    stats_.request_duration.ObserveNanos(MonotonicNowNs() - timing_.awaiting_flush_since_ns,
                                         timing_.awaiting_flush);
    timing_.awaiting_flush = 0;
  }
  UpdateWriteInterest(WantsWritable());
  if (closing_.state == State::kClosed) return;
  if (pending) {
    ArmDeadline();
  } else if (closing_.state == State::kFlushing) {
    FinishFlushing();
    return;
  }
  CheckWatermarks();
}

bool Connection::UnreadInputLikely() {
  if (input_state_.peer_shut_down) return false;
  if (!input_.empty() || input_state_.forward_remaining > 0 || session_->RequestInProgress() ||
      (tls_ != nullptr && tls_->has_buffered_input())) {
    return true;
  }
  if (clock_.last_input_ns >= now_ns() - kRecentInputNs) return true;
  char byte;
  ssize_t n = recv(fd_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n > 0;
}

void Connection::FinishFlushing() {
  if (tls_ != nullptr && input_state_.forward_remaining == 0 && !SendCloseNotify()) return;
  // Unfinished forwarding closes without our FIN (an RST): a clean EOF after part of a
  // forwarded request would look like a complete answer.
  if (input_state_.peer_shut_down || input_state_.forward_remaining > 0) {
    Close(closing_.pending_reason);
    return;
  }
  const bool linger = UnreadInputLikely();
  if (::shutdown(fd_.get(), SHUT_WR) != 0 || !linger) {
    Close(closing_.pending_reason);
    return;
  }
  closing_.state = State::kLingering;
  clock_.linger_started_ns = now_ns();
  ArmDeadline();
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
  if (!pause_.for_watermark && queued > settings.high_watermark) {
    pause_.for_watermark = true;
    owner_.worker_stats().backpressure_pauses.Add();
  } else if (pause_.for_watermark && queued <= settings.low_watermark) {
    pause_.for_watermark = false;
    owner_.worker_stats().backpressure_resumes.Add();
    RestartReadDeadlineAfterPause();
    // Bytes that arrived while paused raised no new edge: read them now.
    if (closing_.state == State::kOpen && input_state_.readable_pending && !reading_paused()) {
      owner_.loop().QueueReady(this);
    }
  }
}

void Connection::RestartReadDeadlineAfterPause() {
  if (!clock_.request_in_progress || reading_paused()) return;
  clock_.request_started_ns = now_ns();
  ArmDeadline();
}

void Connection::MaybeFinishDrain() {
  if (!closing_.draining || closing_.state != State::kOpen) return;
  if (input_state_.forward_remaining > 0 || session_->RequestInProgress() || Handshaking()) return;
  CloseAfterFlush(closing_.drain_reason);
}

Connection::DeadlineCheck Connection::EvaluateDeadlines(int64_t now) const {
  const ConnectionSettings& settings = owner_.settings();
  DeadlineCheck check;
  // Rules in the order their expiry is checked: the first expired one decides the close.
  auto rule = [&](bool running, int64_t deadline_ns, CloseReason reason) {
    if (!running) return;
    check.next_ns = std::min(check.next_ns, deadline_ns);
    if (!check.expired && now >= deadline_ns) check.expired = reason;
  };
  const bool output_pending = !output_.empty();
  rule(closing_.state == State::kLingering,
       DeadlineAfter(clock_.linger_started_ns, settings.read_timeout_ns), closing_.pending_reason);
  rule(output_pending, DeadlineAfter(clock_.last_write_progress_ns, settings.write_timeout_ns),
       CloseReason::kWriteTimeout);
  // The read deadline does not run while we, not the peer, hold up reading.
  rule(clock_.request_in_progress && !reading_paused(),
       DeadlineAfter(clock_.request_started_ns, settings.read_timeout_ns),
       CloseReason::kReadTimeout);
  // Nor does the idle deadline while the worker budget holds up reading.
  rule(!output_pending && !clock_.request_in_progress && !pause_.for_budget,
       DeadlineAfter(clock_.last_activity_ns, settings.idle_timeout_ns),
       closing_.state == State::kOpen ? CloseReason::kIdleTimeout : closing_.pending_reason);
  return check;
}

void Connection::ArmDeadline() {
  int64_t next = std::min(EvaluateDeadlines(now_ns()).next_ns, LifetimeCheckNs());
  if (next == INT64_MAX) return;
  if (!scheduled() || next < deadline_ns()) owner_.loop().timers().Schedule(this, next);
}

void Connection::OnExpire() {
  SHOAL_ASSERT_IN_LOOP_THREAD(owner_.loop());
  if (closing_.state == State::kClosed) return;
  DeadlineCheck check = EvaluateDeadlines(now_ns());
  if (check.expired) {
    Close(*check.expired);
    return;
  }
  CheckLifetime(now_ns());
  if (closing_.state == State::kClosed) return;
  int64_t next = std::min(EvaluateDeadlines(now_ns()).next_ns, LifetimeCheckNs());
  if (next != INT64_MAX) owner_.loop().timers().Schedule(this, next);
}

absl::Status CheckConnectionSettings(const ConnectionSettings& settings) {
  const std::pair<const char*, bool> must_be_positive[] = {
      {"idle_timeout_ns", settings.idle_timeout_ns > 0},
      {"read_timeout_ns", settings.read_timeout_ns > 0},
      {"write_timeout_ns", settings.write_timeout_ns > 0},
      {"read_budget_bytes", settings.read_budget_bytes > 0},
      {"linger_discard_bytes", settings.linger_discard_bytes > 0},
      {"shed_stall_ns", settings.shed_stall_ns > 0},
  };
  for (const auto& [name, positive] : must_be_positive) {
    if (!positive) {
      return absl::InvalidArgumentError(std::string("connection settings: ") + name +
                                        " must be set (> 0)");
    }
  }
  return absl::OkStatus();
}

}  // namespace shoal::core
