// The interface between core/ and a protocol. core/ moves bytes; a Session gives them meaning.
// A Protocol makes one Session per connection. Sessions run on their connection's worker thread
// only and never see a file descriptor or epoll: they talk to their connection through the narrow
// SessionContext (core/session.h).
#ifndef SHOAL_CORE_PROTOCOL_H_
#define SHOAL_CORE_PROTOCOL_H_

#include <cstddef>
#include <memory>
#include <string_view>

#include "core/session.h"

namespace shoal::core {

class Session {
 public:
  virtual ~Session() = default;

  // `input` is every received byte not yet consumed, oldest first. Returns how many leading bytes
  // were consumed; the rest is presented again, with newer bytes appended, on the next call.
  virtual size_t OnData(std::string_view input) = 0;

  // The bytes announced with SessionContext::ForwardInput have all been forwarded to the output.
  virtual void OnForwardComplete() {}

  // The timer started with SessionContext::StartTimer is due.
  virtual void OnTimer() {}

  // The peer sent FIN: no more input will arrive. Complete requests already consumed are still
  // answered; the default closes the connection once its output is flushed.
  virtual void OnPeerShutdown() { connection().CloseAfterFlush(CloseReason::kPeerClosed); }

  // True while a request (frame) has started arriving but is not complete: the read deadline runs
  // and a graceful drain waits for it.
  virtual bool RequestInProgress() const = 0;

 protected:
  explicit Session(SessionContext& connection) : connection_(connection) {}
  SessionContext& connection() const { return connection_; }

 private:
  SessionContext& connection_;
};

// One Protocol instance per worker and listener: it may hold per-worker state (caches, settings),
// touched only on that worker's thread.
class Protocol {
 public:
  virtual ~Protocol() = default;
  virtual std::unique_ptr<Session> NewSession(SessionContext& connection) = 0;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_PROTOCOL_H_
