// TlsStream: the client TLS state of one connection (an OpenSSL SSL on a connected, non-blocking
// socket): the handshake, then reads and writes of plaintext. Every call does what the socket
// allows now and says what it waits for: kWantRead / kWantWrite mean "call again after the socket
// is readable / writable", in either direction (a read may need to write, a write to read).
// Read returns kData until OpenSSL holds no more decrypted bytes and the socket has none, so a
// caller that reads until kWantRead never leaves records buffered inside OpenSSL under
// edge-triggered epoll.
//
// TlsSessionSlot keeps the last session the server gave a connection (its tickets), so the next
// connection of the same ClientConnection can resume it (TlsOptions::resume).
//
// Threading: one loop thread per stream and per slot.
#ifndef SHOAL_TOOLS_LOADGEN_TLS_STREAM_H_
#define SHOAL_TOOLS_LOADGEN_TLS_STREAM_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tools/loadgen/tls_client_context.h"

using SSL = struct ssl_st;
using SSL_SESSION = struct ssl_session_st;

namespace shoal::loadgen {

class TlsSessionSlot {
 public:
  TlsSessionSlot() = default;
  ~TlsSessionSlot();
  TlsSessionSlot(const TlsSessionSlot&) = delete;
  TlsSessionSlot& operator=(const TlsSessionSlot&) = delete;

  // Takes ownership of `session` (replacing the one kept).
  void Store(SSL_SESSION* session);
  SSL_SESSION* get() const { return session_; }

 private:
  SSL_SESSION* session_ = nullptr;
};

enum class TlsIo {
  kDone,       // handshake finished / bytes moved (*moved > 0)
  kWantRead,
  kWantWrite,
  kClosed,     // the peer closed (close_notify, or the connection ended without it)
  kReset,      // a socket error (ECONNRESET, EPIPE, ...)
  kFailed,     // a TLS failure (alert, verification, bad record): error() says which
};

class TlsStream {
 public:
  // A stream on connected socket `fd` (not owned) to `peer`; with `slot`, its session is resumed
  // when it holds one and the new sessions are stored there.
  static absl::StatusOr<std::unique_ptr<TlsStream>> Start(const TlsClientContext& context,
                                                          int fd, const TlsPeer& peer,
                                                          TlsSessionSlot* slot);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  TlsIo Handshake();
  // Up to `capacity` plaintext bytes into `data`; *moved = bytes read.
  TlsIo Read(char* data, size_t capacity, size_t* moved);
  // Plaintext from `data`; *moved = bytes taken (a record at a time). After kWant*, call again
  // with the same bytes first (more may follow them; the buffer may have moved).
  TlsIo Write(const char* data, size_t size, size_t* moved);
  // Sends close_notify if the connection is still good (without waiting for the peer's).
  void Close();

  bool resumed() const;
  // "TLSv1.3 TLS_AES_128_GCM_SHA256" once the handshake is done.
  std::string negotiated() const;
  // Why the last kFailed happened.
  const std::string& error() const { return error_; }

 private:
  explicit TlsStream(SSL* ssl) : ssl_(ssl) {}
  TlsIo Outcome(int rc);

  SSL* ssl_;
  std::string error_;
  bool broken_ = false;
};

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_TLS_STREAM_H_
