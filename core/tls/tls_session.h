// TlsSession: the server side of one TLS connection (one SSL object) on a non-blocking socket.
//
// Every operation returns at once: kWantRead / kWantWrite say which readiness to wait for before
// calling the same operation again, in either direction and in any phase (a read may need to
// write during the handshake or for a post-handshake message; a write retried after kWantWrite
// must offer at least the same bytes, which an output queue's unconsumed front does). The socket
// I/O uses recv/send with MSG_NOSIGNAL, so a peer gone away is kReset, never SIGPIPE.
//
// Decrypted bytes may stay inside OpenSSL after a read that filled the caller's buffer
// (has_buffered_input): an edge-triggered caller keeps reading until kWantRead.
//
// Threading: one thread (the connection's loop thread). The session holds its context alive.
#ifndef SHOAL_CORE_TLS_TLS_SESSION_H_
#define SHOAL_CORE_TLS_TLS_SESSION_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/tls/tls_context.h"
#include "core/transport.h"

typedef struct ssl_st SSL;

namespace shoal::core {

class TlsSession {
 public:
  // Binds a new server-side SSL to `fd` (which stays owned by the caller and must outlive it).
  static absl::StatusOr<std::unique_ptr<TlsSession>> Create(
      std::shared_ptr<const TlsContext> context, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Advances the handshake; kDone once it completed (then established() is true). A peer that
  // goes away once its ClientHello was answered is kError (a failed handshake), before that kReset.
  TransportResult Handshake();
  // The peer's ClientHello was answered: a peer that leaves now has aborted a handshake.
  bool ClientHelloAnswered() const;
  // Up to `size` decrypted bytes into `buffer`.
  TransportResult Read(char* buffer, size_t size);
  // Encrypts and sends up to `data.size()` bytes; kDone with the bytes taken (maybe fewer).
  TransportResult Write(std::string_view data);
  // Sends close_notify once (not before the handshake completed: then kDone at once).
  TransportResult SendCloseNotify();

  bool established() const { return established_; }
  bool has_buffered_input() const;
  // "TLSv1.2", "TLSv1.3", ...
  std::string_view version() const;
  // The last failure's reason (OpenSSL's error text), for a log line.
  const std::string& last_error() const { return last_error_; }

 private:
  TlsSession(std::shared_ptr<const TlsContext> context, SSL* ssl);
  TransportResult Outcome(int result);

  std::shared_ptr<const TlsContext> context_;
  SSL* ssl_;
  bool established_ = false;
  bool close_notify_sent_ = false;
  std::string last_error_;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_TLS_TLS_SESSION_H_
