// SessionContext: everything a protocol Session may ask of the connection it serves, and nothing
// more (no descriptor, no epoll, no owner-side controls such as drain or budget resumption).
//
// Threading: called only from the owning worker's loop thread, from within Session callbacks or
// code they run. Each call is O(1) apart from PeerName (a syscall) and Send (a copy of `bytes`).
#ifndef SHOAL_CORE_SESSION_H_
#define SHOAL_CORE_SESSION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/close_reason.h"

namespace shoal::core {

class SessionContext {
 public:
  // Queues bytes for the peer. Ignored once the connection is closing (CloseAfterFlush, Close).
  virtual void Send(std::string_view bytes) = 0;

  // Forwarding: the next `bytes` input bytes go from the socket straight to the output queue, in
  // order after what was Sent before, without passing through the session (no copy through user
  // space); Session::OnForwardComplete is called once the last of them is queued. Call only from
  // within Session::OnData, which must then consume all of the `input` it was given; calls add up.
  // While bytes are being forwarded the connection counts as having a request in progress. A
  // connection that closes before all of them are queued (the peer's FIN, a deadline, the end of a
  // drain) ends with a reset (RST) instead of a FIN, after writing to the socket what was queued
  // where that close flushes: its output stops inside a unit the peer could not otherwise tell
  // was cut short.
  virtual void ForwardInput(uint64_t bytes) = 0;

  // `n` requests were fully read. Their duration (read -> response fully written) is observed in
  // the listener's request_duration histogram when the output queue next empties.
  virtual void CountRequests(uint64_t n) = 0;

  // For a protocol whose replies can announce the end (HTTP's `Connection: close`): call once per
  // reply as it is written. True when this reply is to be the connection's last (its max age
  // passed, or this reply reaches limits.max_requests_per_connection): the session then says so in
  // the reply and calls CloseAfterFlush(CloseReason::kMaxAge). Protocols that never call it end
  // after a complete reply with FIN.
  virtual bool LastReply() = 0;

  // Closes now; queued output is dropped.
  virtual void Close(CloseReason reason) = 0;
  // Reads no more requests; closes once queued output is written (or the write deadline passes).
  virtual void CloseAfterFlush(CloseReason reason) = 0;

  // Calls Session::OnTimer once, `delay_ns` (>= 0) from now, on the worker's timer wheel (so up
  // to one tick late); a later call replaces a pending one. Output the session Sends from OnTimer
  // is written as after OnData. Nothing fires once the connection is closing.
  virtual void StartTimer(int64_t delay_ns) = 0;

  // Monotonic nanoseconds and wall-clock seconds, both cached at the start of the loop turn.
  virtual int64_t now_ns() const = 0;
  virtual int64_t wall_seconds() const = 0;
  // "ip:port" of the peer, for log lines (a syscall: not for the hot path).
  virtual std::string PeerName() const = 0;

 protected:
  ~SessionContext() = default;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_SESSION_H_
