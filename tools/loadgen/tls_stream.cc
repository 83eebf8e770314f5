#include "tools/loadgen/tls_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace shoal::loadgen {

TlsSessionSlot::~TlsSessionSlot() { SSL_SESSION_free(session_); }

void TlsSessionSlot::Store(SSL_SESSION* session) {
  SSL_SESSION_free(session_);
  session_ = session;
}

absl::StatusOr<std::unique_ptr<TlsStream>> TlsStream::Start(const TlsClientContext& context,
                                                            int fd, const TlsPeer& peer,
                                                            TlsSessionSlot* slot) {
  ERR_clear_error();
  SSL* ssl = SSL_new(context.get());
  if (ssl == nullptr) return absl::InternalError(TakeOpenSslError("SSL_new failed"));
  std::unique_ptr<TlsStream> stream(new TlsStream(ssl));
  bool ok = SSL_set_fd(ssl, fd) == 1;
  SSL_set_connect_state(ssl);
  if (ok && !peer.sni.empty()) ok = SSL_set_tlsext_host_name(ssl, peer.sni.c_str()) == 1;
  if (ok && context.verifying() && !peer.check_host.empty()) {
    ok = SSL_set1_host(ssl, peer.check_host.c_str()) == 1;
  }
  if (ok && context.verifying() && !peer.check_ip.empty()) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), peer.check_ip.c_str()) == 1;
  }
  if (ok && slot != nullptr) {
    SSL_set_app_data(ssl, slot);
    if (slot->get() != nullptr) ok = SSL_set_session(ssl, slot->get()) == 1;
  }
  if (!ok) return absl::InternalError(TakeOpenSslError("TLS set-up failed"));
  return stream;
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

TlsIo TlsStream::Outcome(int rc) {
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
      return TlsIo::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsIo::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return TlsIo::kClosed;
    case SSL_ERROR_SYSCALL:
      broken_ = true;
      if (ERR_peek_error() == 0 && saved_errno == 0) return TlsIo::kClosed;
      error_ = TakeOpenSslError(saved_errno != 0 ? std::strerror(saved_errno) : "I/O error");
      return TlsIo::kReset;
    default: {
      broken_ = true;
      error_ = TakeOpenSslError("");
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) absl::StrAppend(&error_, " (", X509_verify_cert_error_string(verify), ")");
      return TlsIo::kFailed;
    }
  }
}

TlsIo TlsStream::Handshake() {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  return rc == 1 ? TlsIo::kDone : Outcome(rc);
}

TlsIo TlsStream::Read(char* data, size_t capacity, size_t* moved) {
  *moved = 0;
  return SSL_read_ex(ssl_, data, capacity, moved) == 1 ? TlsIo::kDone : Outcome(0);
}

TlsIo TlsStream::Write(const char* data, size_t size, size_t* moved) {
  *moved = 0;
  return SSL_write_ex(ssl_, data, size, moved) == 1 ? TlsIo::kDone : Outcome(0);
}

void TlsStream::Close() {
  if (broken_ || SSL_is_init_finished(ssl_) != 1) return;
  (void)SSL_shutdown(ssl_);  // queues close_notify and writes what the socket takes
  ERR_clear_error();
}

bool TlsStream::resumed() const { return SSL_session_reused(ssl_) == 1; }

std::string TlsStream::negotiated() const {
  return absl::StrCat(SSL_get_version(ssl_), " ", SSL_get_cipher_name(ssl_));
}

}  // namespace shoal::loadgen
