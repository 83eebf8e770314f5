#include "core/tls/tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/status/status.h"

namespace shoal::core {
namespace {

int SocketOf(BIO* bio) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio))); }

bool Transient(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

int SocketWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  ssize_t n = send(SocketOf(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && Transient(errno)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int SocketRead(BIO* bio, char* buffer, int size) {
  BIO_clear_retry_flags(bio);
  ssize_t n = recv(SocketOf(bio), buffer, static_cast<size_t>(size), MSG_DONTWAIT);
  if (n < 0 && Transient(errno)) BIO_set_retry_read(bio);
  return static_cast<int>(n);
}

long SocketControl(BIO*, int command, long, void*) {
  return command == BIO_CTRL_FLUSH || command == BIO_CTRL_PUSH || command == BIO_CTRL_POP ? 1
                                                                                          : 0;
}

// recv/send with MSG_NOSIGNAL: OpenSSL's socket BIO writes with write(2), which raises SIGPIPE.
BIO_METHOD* SocketMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "shoal socket");
    BIO_meth_set_write(m, SocketWrite);
    BIO_meth_set_read(m, SocketRead);
    BIO_meth_set_ctrl(m, SocketControl);
    return m;
  }();
  return method;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsSession>> TlsSession::Create(
    std::shared_ptr<const TlsContext> context, int fd) {
  ERR_clear_error();
  SSL* ssl = SSL_new(context->ssl_ctx());
  BIO* bio = ssl != nullptr ? BIO_new(SocketMethod()) : nullptr;
  if (bio == nullptr) {
    SSL_free(ssl);
    return absl::ResourceExhaustedError("SSL_new: " + TakeOpenSslErrors("failed"));
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsSession>(new TlsSession(std::move(context), ssl));
}

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, SSL* ssl)
    : context_(std::move(context)), ssl_(ssl) {}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TransportResult TlsSession::Outcome(int result) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
      return {TransportStatus::kWantRead, 0};
    case SSL_ERROR_WANT_WRITE:
      return {TransportStatus::kWantWrite, 0};
    case SSL_ERROR_ZERO_RETURN:
      return {TransportStatus::kClosed, 0};
    case SSL_ERROR_SYSCALL: {
      int err = errno;
      last_error_ = TakeOpenSslErrors(err != 0 ? std::string(strerror(err)) : "unexpected eof");
      // A FIN where no record was due reads as the end of the stream.
      return {result == 0 || err == 0 ? TransportStatus::kClosed : TransportStatus::kReset, 0};
    }
    default:
      last_error_ = TakeOpenSslErrors("protocol error");
      return {TransportStatus::kError, 0};
  }
}

TransportResult TlsSession::Handshake() {
  if (established_) return {};
  ERR_clear_error();
  int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    established_ = true;
    return {};
  }
  TransportResult outcome = Outcome(result);
  if (outcome.status == TransportStatus::kClosed || outcome.status == TransportStatus::kReset) {
    // A peer that leaves after its ClientHello was answered aborted the handshake (a client that
    // rejects our certificate sends an alert, then often a reset because our flight is unread):
    // a TLS failure however the socket ended. Before that it only went away.
    outcome.status = ClientHelloAnswered() ? TransportStatus::kError : TransportStatus::kReset;
  }
  return outcome;
}

bool TlsSession::ClientHelloAnswered() const { return SSL_get_state(ssl_) != TLS_ST_BEFORE; }

TransportResult TlsSession::Read(char* buffer, size_t size) {
  ERR_clear_error();
  size_t read = 0;
  int result = SSL_read_ex(ssl_, buffer, size, &read);
  if (result == 1) return {TransportStatus::kDone, read};
  return Outcome(result);
}

TransportResult TlsSession::Write(std::string_view data) {
  ERR_clear_error();
  size_t written = 0;
  int result = SSL_write_ex(ssl_, data.data(), data.size(), &written);
  if (result == 1) return {TransportStatus::kDone, written};
  TransportResult outcome = Outcome(result);
  if (outcome.status == TransportStatus::kClosed) outcome.status = TransportStatus::kReset;
  return outcome;
}

TransportResult TlsSession::SendCloseNotify() {
  if (!established_ || close_notify_sent_) return {};
  ERR_clear_error();
  int result = SSL_shutdown(ssl_);
  if (result >= 0) {
    close_notify_sent_ = true;
    return {};
  }
  TransportResult outcome = Outcome(result);
  if (outcome.status != TransportStatus::kWantWrite) close_notify_sent_ = true;
  return outcome;
}

bool TlsSession::has_buffered_input() const { return SSL_has_pending(ssl_) == 1; }

std::string_view TlsSession::version() const { return SSL_get_version(ssl_); }

}  // namespace shoal::core
