#include "tools/loadgen/client_connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace shoal::loadgen {

namespace {

constexpr size_t kReadBudgetBytes = 1 << 20;     // per event, then yield to other connections
constexpr int64_t kReconnectBackoffNs = 100'000'000;
constexpr int kMaxConsecutiveFailures = 10;      // requests mode: then the connection gives up
constexpr size_t kKeepInputCapacity = 256 << 10;

}  // namespace

void ThreadCounters::CountError(uint64_t ErrorCounts::*kind) {
  errors.*kind += 1;
  timeline.CountError(core::MonotonicNowNs(), kind);
  Bump(live.errors);
}

void ClientConnection::InputBuffer::Append(const char* data, size_t bytes) {
  if (data_.size() - end_ < bytes) {
    if (begin_ > 0) {
      std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (data_.size() - end_ < bytes) data_.resize(std::max(end_ + bytes, data_.size() * 2));
  }
  std::memcpy(data_.data() + end_, data, bytes);
  end_ += bytes;
}

void ClientConnection::InputBuffer::Consume(size_t bytes) {
  begin_ += bytes;
  if (begin_ == end_) Clear();
}

void ClientConnection::InputBuffer::Clear() {
  begin_ = end_ = 0;
  if (data_.capacity() > kKeepInputCapacity) std::vector<char>().swap(data_);
}

ClientConnection::ClientConnection(ConnectionHost& host, uint64_t id,
                                   const core::SocketAddress& target, int64_t quota,
                                   const TlsPeer* tls_peer)
    : host_(host),
      plan_(host.plan()),
      id_(id),
      target_(target),
      tls_peer_(tls_peer),
      in_flight_(static_cast<size_t>(std::max(plan_.pipeline, 1))),
      quota_(quota) {}

ClientConnection::~ClientConnection() { Shutdown(); }

void ClientConnection::Start() { Connect(); }

void ClientConnection::Connect() {
  const int64_t now = core::MonotonicNowNs();
  const int64_t slot = connect_slot_held_ ? now : host_.ReserveConnectSlot(now);
  connect_slot_held_ = false;
  if (slot <= now) {
    ConnectNow();
    return;
  }
  state_ = State::kIdle;
  connect_slot_held_ = true;
  reconnect_at_ns_ = slot;
  ArmTimer(slot);
}

void ClientConnection::ConnectNow() {
  state_ = State::kConnecting;
  sent_on_connection_ = 0;
  connect_started_ns_ = core::MonotonicNowNs();
  codec_ = MakeCodec(plan_.codec, id_);
  auto fd = core::ConnectNonBlocking(target_);
  if (!fd.ok()) {
    ThreadCounters& counters = host_.counters();
    if (counters.first_connect_error.empty()) {
      counters.first_connect_error = std::string(fd.status().message());
    }
    OnConnectFailed(0);
    return;
  }
  fd_ = std::move(*fd);
  if (plan_.nodelay) (void)core::SetTcpNoDelay(fd_.get(), true);
  if (auto status = host_.loop().Add(fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this);
      !status.ok()) {
    fd_.reset();
    OnConnectFailed(0);
    return;
  }
  ArmTimer(connect_started_ns_ + plan_.connect_timeout_ns);
}

void ClientConnection::OnConnected() {
  if (plan_.tls != nullptr) {
    StartTls();
  } else {
    OnEstablished();
  }
}

void ClientConnection::StartTls() {
  tcp_connected_ns_ = core::MonotonicNowNs();
  if (plan_.tls->resume() && tls_session_ == nullptr) {
    tls_session_ = std::make_unique<TlsSessionSlot>();
  }
  auto stream = TlsStream::Start(*plan_.tls, fd_.get(), *tls_peer_, tls_session_.get());
  if (!stream.ok()) {
    OnHandshakeFailed(std::string(stream.status().message()));
    return;
  }
  tls_ = std::move(*stream);
  state_ = State::kHandshaking;
  ContinueHandshake();
}

void ClientConnection::ContinueHandshake() {
  const TlsIo io = tls_->Handshake();
  if (io == TlsIo::kWantRead || io == TlsIo::kWantWrite) return;  // both edges are watched
  if (io != TlsIo::kDone) {
    OnHandshakeFailed(io == TlsIo::kClosed ? "the server closed the connection" : tls_->error());
    return;
  }
  ThreadCounters& counters = host_.counters();
  const int64_t now = core::MonotonicNowNs();
  ++counters.handshakes;
  if (host_.load_started() && now >= plan_.measure_start_ns && now < plan_.measure_end_ns) {
    ++counters.handshakes_measured;
  }
  if (tls_->resumed()) ++counters.resumed;
  counters.handshake_latency.Record(now - tcp_connected_ns_);
  if (counters.tls_negotiated.empty()) counters.tls_negotiated = tls_->negotiated();
  OnEstablished();
}

void ClientConnection::OnHandshakeFailed(std::string_view reason) {
  ThreadCounters& counters = host_.counters();
  if (counters.first_tls_error.empty()) {
    counters.first_tls_error =
        absl::StrCat("TLS handshake with ", target_.ToString(), ": ",
                     absl::string_view(reason.data(), reason.size()));
  }
  Bump(counters.live.handshakes_failed);
  ConnectAttemptFailed(&ErrorCounts::tls_handshake);
}

void ClientConnection::OnEstablished() {
  state_ = State::kOpen;
  ThreadCounters& counters = host_.counters();
  ++counters.connects;
  counters.live.open.store(counters.live.open.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
  host_.loop().timers().Cancel(this);
  if (!first_connect_reported_) {
    first_connect_reported_ = true;
    host_.OnFirstConnectResolved(*this);
  }
  if (state_ == State::kOpen) TrySend();
}

void ClientConnection::OnConnectFailed(int error) {
  ThreadCounters& counters = host_.counters();
  if (error != 0 && counters.first_connect_error.empty()) {
    counters.first_connect_error = absl::StrCat("connect ", target_.ToString(), ": ",
                                                std::strerror(error));
  }
  ConnectAttemptFailed(&ErrorCounts::connect);
}

void ClientConnection::ConnectAttemptFailed(uint64_t ErrorCounts::*kind) {
  host_.counters().CountError(kind);
  CloseSocket();
  ++consecutive_failures_;
  if (!first_connect_reported_) {
    first_connect_reported_ = true;
    host_.OnFirstConnectResolved(*this);
  }
  if (plan_.requests_mode && consecutive_failures_ >= kMaxConsecutiveFailures) {
    stop_sending_ = true;
  }
  if (FinishedSending()) {
    CheckDone();
    return;
  }
  ScheduleReconnect(kReconnectBackoffNs);
}

void ClientConnection::ScheduleReconnect(int64_t delay_ns) {
  if (delay_ns <= 0) {
    Connect();
    return;
  }
  state_ = State::kIdle;
  reconnect_at_ns_ = core::MonotonicNowNs() + delay_ns;
  ArmTimer(reconnect_at_ns_);
}

void ClientConnection::ArmTimer(int64_t at_ns) {
  if (scheduled() && deadline_ns() <= at_ns) return;
  host_.loop().timers().Schedule(this, at_ns);
}

void ClientConnection::OnExpire() {
  const int64_t now = host_.loop().now_ns();
  switch (state_) {
    case State::kConnecting:
    case State::kHandshaking:
      if (now < connect_started_ns_ + plan_.connect_timeout_ns) {
        ArmTimer(connect_started_ns_ + plan_.connect_timeout_ns);
      } else if (state_ == State::kHandshaking) {
        OnHandshakeFailed("timed out");
      } else {
        OnConnectFailed(ETIMEDOUT);
      }
      break;
    case State::kIdle:
      if (reconnect_at_ns_ == 0) break;
      if (now < reconnect_at_ns_) {
        ArmTimer(reconnect_at_ns_);
        break;
      }
      reconnect_at_ns_ = 0;
      if (FinishedSending()) {
        CheckDone();
      } else {
        Connect();
      }
      break;
    case State::kOpen:
      if (!in_flight_.empty()) {
        const int64_t deadline = in_flight_.front().sent_ns + plan_.timeout_ns;
        if (now >= deadline) {
          Fail(&ErrorCounts::timeout);
        } else {
          ArmTimer(deadline);
        }
      }
      break;
    case State::kClosed:
      break;
  }
}

void ClientConnection::HandleEvents(uint32_t events) {
  if (state_ == State::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    int error = core::PendingError(fd_.get());
    if (error == 0 && (events & (EPOLLERR | EPOLLHUP)) != 0 && (events & EPOLLOUT) == 0) {
      error = ECONNREFUSED;
    }
    if (error != 0) {
      OnConnectFailed(error);
      return;
    }
    OnConnected();
    if (tls_ != nullptr) events |= EPOLLIN;  // the handshake may have read records past its end
  } else if (state_ == State::kHandshaking) {
    ContinueHandshake();
    events |= EPOLLIN;
  }
  if (state_ != State::kOpen) return;
  if (tls_ != nullptr) {
    HandleTlsEvents(events);
    return;
  }
  if ((events & EPOLLOUT) != 0 && output_offset_ < output_.size()) {
    Flush();
    if (state_ != State::kOpen) return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) ReadInput();
}

// Under TLS a read may wait for the socket to be writable and a write for it to be readable:
// each direction retries on the other's edge too.
void ClientConnection::HandleTlsEvents(uint32_t events) {
  const bool readable = (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  const bool writable = (events & EPOLLOUT) != 0;
  if (output_offset_ < output_.size() && (writable || (readable && tls_write_wants_read_))) {
    Flush();
    if (state_ != State::kOpen) return;
  }
  if (readable || (writable && tls_read_wants_write_)) ReadInput();
}

void ClientConnection::HandleReady() { ReadInput(); }

uint64_t ErrorCounts::*ClientConnection::FailureKind(Transfer transfer) {
  return transfer == Transfer::kBroken ? &ErrorCounts::protocol : &ErrorCounts::reset;
}

ClientConnection::Transfer ClientConnection::FromTls(TlsIo io) {
  switch (io) {
    case TlsIo::kDone:
      return Transfer::kMoved;
    case TlsIo::kWantRead:
    case TlsIo::kWantWrite:
      return Transfer::kAgain;
    case TlsIo::kClosed:
      return Transfer::kEof;
    case TlsIo::kReset:
      return Transfer::kReset;
    case TlsIo::kFailed:
      break;
  }
  return Transfer::kBroken;
}

ClientConnection::Transfer ClientConnection::Receive(char* data, size_t capacity, size_t* moved) {
  if (tls_ != nullptr) {
    const TlsIo io = tls_->Read(data, capacity, moved);
    tls_read_wants_write_ = io == TlsIo::kWantWrite;
    return FromTls(io);
  }
  for (;;) {
    const ssize_t n = recv(fd_.get(), data, capacity, 0);
    if (n > 0) {
      *moved = static_cast<size_t>(n);
      return Transfer::kMoved;
    }
    if (n == 0) return Transfer::kEof;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? Transfer::kAgain : Transfer::kReset;
  }
}

ClientConnection::Transfer ClientConnection::Send(const char* data, size_t size, size_t* moved) {
  if (tls_ != nullptr) {
    const TlsIo io = tls_->Write(data, size, moved);
    tls_write_wants_read_ = io == TlsIo::kWantRead;
    return FromTls(io);
  }
  for (;;) {
    const ssize_t n = send(fd_.get(), data, size, MSG_NOSIGNAL);
    if (n > 0) {
      *moved = static_cast<size_t>(n);
      return Transfer::kMoved;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? Transfer::kAgain
                                                               : Transfer::kReset;
  }
}

void ClientConnection::ReadInput() {
  char* scratch = host_.read_scratch();
  const size_t scratch_bytes = host_.read_scratch_bytes();
  size_t total = 0;
  while (state_ == State::kOpen) {
    size_t n = 0;
    const Transfer transfer = Receive(scratch, scratch_bytes, &n);
    switch (transfer) {
      case Transfer::kMoved:
        total += n;
        Bump(host_.counters().live.bytes_received, n);
        OnBytes(scratch, n);
        if (total >= kReadBudgetBytes && state_ == State::kOpen) {
          host_.loop().QueueReady(this);
          return;
        }
        continue;
      case Transfer::kAgain:
        return;
      case Transfer::kEof:
        OnEof();
        return;
      case Transfer::kReset:
      case Transfer::kBroken:
        Fail(FailureKind(transfer));
        return;
    }
  }
}

void ClientConnection::OnBytes(const char* data, size_t bytes) {
  if (input_.size() == 0) {
    size_t used = Decode(std::string_view(data, bytes));
    if (state_ == State::kOpen && used < bytes) input_.Append(data + used, bytes - used);
  } else {
    input_.Append(data, bytes);
    size_t used = Decode(input_.view());
    if (state_ == State::kOpen) input_.Consume(used);
  }
  if (state_ == State::kOpen) TrySend();
}

void ClientConnection::Recycle() {
  CloseSocket();
  ++host_.counters().reconnects;
  if (FinishedSending()) {
    CheckDone();
  } else {
    Connect();
  }
}

size_t ClientConnection::Decode(std::string_view input) {
  ThreadCounters& counters = host_.counters();
  const int64_t now = core::MonotonicNowNs();
  size_t position = 0;
  while (position < input.size()) {
    if (in_flight_.empty()) {
      Fail(&ErrorCounts::protocol);  // bytes nobody asked for
      return position;
    }
    const InFlight request = in_flight_.front();
    Codec::Decoded decoded = codec_->DecodeResponse(input.substr(position), request.seq);
    if (decoded.status == Codec::Status::kIncomplete) break;
    if (decoded.status == Codec::Status::kProtocolError) {
      Fail(&ErrorCounts::protocol);
      return position;
    }
    in_flight_.pop();
    position += decoded.consumed;
    Bump(counters.live.completed);
    if (decoded.close_after) closing_by_server_ = true;
    if (decoded.status == Codec::Status::kMismatch ||
        decoded.status == Codec::Status::kBadStatus) {
      if (request.measured) ++counters.failed;
      if (decoded.status == Codec::Status::kBadStatus) {
        counters.CountError(&ErrorCounts::status);
        continue;
      }
      Fail(&ErrorCounts::mismatch);
      return position;
    }
    consecutive_failures_ = 0;
    if (plan_.codec.verify) ++counters.verified;
    if (request.measured) {
      counters.latency.Record(now - request.intended_ns);
      counters.timeline.RecordResponse(now, now - request.intended_ns);
      counters.latency_uncorrected.Record(now - request.sent_ns);
      ++counters.requests;
      counters.bytes_received += decoded.consumed;
      counters.last_measured_response_ns = now;
    }
  }
  return position;
}

void ClientConnection::OnEof() {
  if (closing_by_server_ && in_flight_.empty()) {
    // The server said it would close (http Connection: close): not an error.
    CloseSocket();
    if (FinishedSending()) {
      CheckDone();
    } else {
      Connect();
    }
    return;
  }
  Fail(&ErrorCounts::eof);
}

void ClientConnection::OnPaceDue() {
  pace_pending_ = false;
  TrySend();
}

int64_t ClientConnection::IntendedTime(uint64_t index) const {
  const uint64_t slot = id_ + index * static_cast<uint64_t>(plan_.connections);
  const int64_t offset = plan_.schedule.SlotOffsetNs(slot);
  if (offset == RateSchedule::kNever) return RateSchedule::kNever;
  return plan_.start_ns + offset;
}

bool ClientConnection::UsedUp() const {
  return plan_.reconnect_every > 0 &&
         sent_on_connection_ >= static_cast<uint64_t>(plan_.reconnect_every);
}

bool ClientConnection::FinishedSending() const {
  if (stop_sending_ || quota_ == 0) return true;
  // Open loop: an open connection still owes every request scheduled inside the window, however
  // late it gets to send it (the lateness is in the corrected latency). Anything else is over.
  return host_.stopping() && !(plan_.open_loop && state_ == State::kOpen);
}

void ClientConnection::TrySend() {
  if (state_ != State::kOpen || done_ || !host_.load_started() || closing_by_server_) {
    CheckDone();
    return;
  }
  if (UsedUp() && in_flight_.empty() && !FinishedSending()) {
    Recycle();
    return;
  }
  ThreadCounters& counters = host_.counters();
  const int64_t now = core::MonotonicNowNs();
  const size_t depth = static_cast<size_t>(plan_.pipeline);
  bool wrote = false;
  while (in_flight_.size() < depth && quota_ != 0 && !stop_sending_) {
    if (UsedUp()) break;
    if (!plan_.open_loop && now >= plan_.measure_end_ns) {  // closed loop: the window is over
      stop_sending_ = true;
      break;
    }
    int64_t intended = now;
    if (plan_.open_loop) {
      intended = IntendedTime(schedule_index_);
      if (intended >= plan_.measure_end_ns) {
        stop_sending_ = true;
        break;
      }
      if (intended > now) {
        if (!pace_pending_) {
          pace_pending_ = true;
          host_.pacer()->Schedule(this, intended);
        }
        break;
      }
    }
    const bool measured = intended >= plan_.measure_start_ns;
    if (measured && quota_ > 0) --quota_;
    codec_->AppendRequest(next_seq_, output_);
    in_flight_.push({intended, now, next_seq_, measured});
    ++next_seq_;
    ++schedule_index_;
    ++sent_on_connection_;
    if (measured) {
      ++counters.requests_sent;
      counters.bytes_sent += codec_->request_bytes();
    }
    wrote = true;
  }
  if (wrote) {
    Flush();
    if (state_ == State::kOpen && !in_flight_.empty()) ArmTimer(now + plan_.timeout_ns);
  }
  CheckDone();
}

void ClientConnection::Flush() {
  while (output_offset_ < output_.size()) {
    size_t n = 0;
    const Transfer transfer =
        Send(output_.data() + output_offset_, output_.size() - output_offset_, &n);
    if (transfer == Transfer::kMoved) {
      output_offset_ += n;
      continue;
    }
    if (transfer != Transfer::kAgain) Fail(FailureKind(transfer));
    return;  // kAgain: EPOLLOUT (or, under TLS, EPOLLIN) will follow
  }
  output_.clear();
  output_offset_ = 0;
}

void ClientConnection::Fail(uint64_t ErrorCounts::*kind) {
  ThreadCounters& counters = host_.counters();
  counters.CountError(kind);
  in_flight_.ForEach([&counters](const InFlight& f) {
    if (f.measured) ++counters.lost;
  });
  CloseSocket();
  ++consecutive_failures_;
  if (plan_.requests_mode && consecutive_failures_ >= kMaxConsecutiveFailures) {
    stop_sending_ = true;
  }
  if (done_ || FinishedSending()) {
    CheckDone();
    return;
  }
  ScheduleReconnect(consecutive_failures_ > 1 ? kReconnectBackoffNs : 0);
}

void ClientConnection::CloseSocket() {
  if (tls_ != nullptr) {
    if (state_ == State::kOpen) tls_->Close();
    tls_.reset();
  }
  tls_read_wants_write_ = tls_write_wants_read_ = false;
  if (fd_.valid()) {
    host_.loop().Remove(fd_.get());
    fd_.reset();
  }
  if (state_ == State::kOpen) {
    auto& open = host_.counters().live.open;
    open.store(open.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }
  if (state_ != State::kClosed) state_ = State::kIdle;
  host_.loop().CancelReady(this);
  host_.loop().timers().Cancel(this);
  reconnect_at_ns_ = 0;
  in_flight_.clear();
  input_.Clear();
  output_.clear();
  output_offset_ = 0;
  closing_by_server_ = false;
}

void ClientConnection::CheckDone() {
  if (done_ || !host_.load_started() || !in_flight_.empty()) return;
  if (!FinishedSending()) return;
  done_ = true;
  host_.counters().unsent += Unsent();
  if (state_ != State::kOpen) {
    host_.loop().timers().Cancel(this);  // no reconnect
    if (state_ == State::kIdle) reconnect_at_ns_ = 0;
  }
  host_.OnDone(*this);
}

uint64_t ClientConnection::Unsent() const {
  if (plan_.requests_mode) return quota_ > 0 ? static_cast<uint64_t>(quota_) : 0;
  if (!plan_.open_loop) return 0;
  uint64_t unsent = 0;
  for (uint64_t index = schedule_index_;; ++index) {
    const int64_t intended = IntendedTime(index);
    if (intended >= plan_.measure_end_ns) break;
    if (intended >= plan_.measure_start_ns) ++unsent;
  }
  return unsent;
}

void ClientConnection::OnLoadStarted() {
  TrySend();
  CheckDone();
}

void ClientConnection::OnStop() {
  TrySend();  // sees stopping(): sends nothing, reports done once nothing is in flight
}

void ClientConnection::Shutdown() {
  CloseSocket();
  state_ = State::kClosed;
  done_ = true;
}

}  // namespace shoal::loadgen
