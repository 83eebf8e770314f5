// Connection's TLS transport: the handshake, reads and writes through the TlsSession, and
// close_notify. The plaintext path never enters this file.
#include <algorithm>
#include <cerrno>
#include <string_view>

#include "core/connection.h"

namespace shoal::core {

void Connection::StartTls() {
  tls_started_ns_ = MonotonicNowNs();
  // The handshake is timed like a request: by the read deadline, from accept.
  clock_.request_in_progress = true;
  clock_.request_started_ns = now_ns();
}

uint32_t Connection::RouteTlsRetries(uint32_t events) {
  if ((events & EPOLLOUT) && tls_wait_.read_wants_write) {
    tls_wait_.read_wants_write = false;
    events |= EPOLLIN;
  }
  if ((events & EPOLLIN) && tls_wait_.write_wants_read) {
    tls_wait_.write_wants_read = false;
    events |= EPOLLOUT;
  }
  return events;
}

ReadResult Connection::ReadOnceTls(ReadPlan plan) {
  if (!tls_->established()) {
    TransportResult handshake = tls_->Handshake();
    if (handshake.status != TransportStatus::kDone) return TlsReadFailed(handshake);
    OnHandshakeDone();
  }
  // Only WANT_READ shows that nothing more is buffered, in the socket or in OpenSSL.
  plan.short_read_drains = false;
  TransportResult result;
  size_t rest_received = 0;
  if (plan.to_output > 0) {
    char* scratch = owner_.read_scratch();
    result = tls_->Read(scratch, std::min(plan.to_output, owner_.read_scratch_bytes()));
    if (result.status == TransportStatus::kDone) {
      output_.Append(std::string_view(scratch, result.bytes));
    }
    plan.rest_bytes = 0;
  } else {
    result = tls_->Read(plan.rest, plan.rest_bytes);
    rest_received = result.bytes;
  }
  if (result.status != TransportStatus::kDone) return TlsReadFailed(result);
  AccountRead(plan, result.bytes, rest_received);
  return {ReadResult::Status::kData, result.bytes};
}

ReadResult Connection::TlsReadFailed(TransportResult result) {
  switch (result.status) {
    case TransportStatus::kWantWrite:
      tls_wait_.read_wants_write = true;
      UpdateWriteInterest(true);
      [[fallthrough]];
    case TransportStatus::kWantRead:
    case TransportStatus::kDone:
      input_state_.readable_pending = false;
      return {ReadResult::Status::kWouldBlock, 0};
    case TransportStatus::kClosed:
      HandlePeerShutdown();
      return {ReadResult::Status::kEof, 0};
    case TransportStatus::kReset:
      Close(CloseReason::kReset);
      return {ReadResult::Status::kError, 0};
    case TransportStatus::kError:
      Close(CloseReason::kTlsError);
      return {ReadResult::Status::kError, 0};
  }
  return {ReadResult::Status::kError, 0};
}

void Connection::OnHandshakeDone() {
  stats_.tls.handshakes_ok.Add();
  stats_.tls.handshake_duration.ObserveNanos(MonotonicNowNs() - tls_started_ns_);
  stats_.tls.CountNegotiated(tls_->version());
  // The first request's read deadline starts with its first byte, the idle deadline now.
  clock_.request_in_progress = false;
  clock_.last_activity_ns = now_ns();
}

OutputQueue::WriteResult Connection::WriteTls() {
  OutputQueue::WriteResult written;
  while (!output_.empty()) {
    // After WANT_WRITE the same front bytes (or more of them) are offered again, as OpenSSL needs.
    TransportResult result = tls_->Write(output_.front());
    if (result.status == TransportStatus::kDone) {
      output_.Consume(result.bytes);
      written.written += result.bytes;
      continue;
    }
    if (result.status == TransportStatus::kWantRead) tls_wait_.write_wants_read = true;
    if (result.status == TransportStatus::kWantWrite ||
        result.status == TransportStatus::kWantRead) {
      written.would_block = true;
    } else {
      written.error = result.status == TransportStatus::kError ? kTlsProtocolError : EPIPE;
    }
    break;
  }
  return written;
}

bool Connection::SendCloseNotify() {
  if (tls_->SendCloseNotify().status != TransportStatus::kWantWrite) return true;
  UpdateWriteInterest(true);
  return false;
}

}  // namespace shoal::core
